-- varint.lua - shared prelude: the unsigned LEB128 varints of the wallet's packed fields, L
-- (wallet_lots.lua) and M (wallet_months.lua); embedded before both (CMakeLists.txt,
-- LGW_LUA_VARINT). C reads and writes the same: gateway/gw_varint.h.
--
-- Seven bits a byte, least significant first, the high bit set on every byte but the last. A
-- value stays below 2^53 (exact as a Lua number): 8 bytes at most. One local table (a script's
-- main chunk has room for 200 locals only).
local VARINT = {MAX = 2 ^ 53}

-- The varint at position p of s: value, next position; nil when truncated, over 8 bytes or
-- not below 2^53.
function VARINT.get(s, p)
    local v, mul = 0, 1
    for k = 0, 7 do
        local b = s:byte(p + k)
        if not b then return nil end
        v = v + (b % 128) * mul
        if b < 128 then
            if v >= VARINT.MAX then return nil end
            return v, p + k + 1
        end
        mul = mul * 128
    end
    return nil
end

-- Appends the varint of v (an integer >= 0; saturated below 2^53) to the table of strings out.
function VARINT.put(out, v)
    if v >= VARINT.MAX then v = VARINT.MAX - 1 end
    repeat
        local b = v % 128
        v = (v - b) / 128
        out[#out + 1] = string.char(v > 0 and b + 128 or b)
    until v == 0
end
-- ------------------------------------------------------------------ end of the varints' prelude
