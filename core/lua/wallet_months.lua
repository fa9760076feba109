-- wallet_months.lua - the wallet's activity months, packed in its one field M (docs/data-model.md,
-- section 1). A prelude (CMakeLists.txt, lgw_embed_text PRELUDE, after core/lua/varint.lua) of
-- the scripts that read or write them: lua/commit.lua and lua/tier.lua. C reads the same
-- format: gateway/gw_months.h.
--
-- M: one record per local month, month ascending (strictly), each record
--   u16 big-endian month index: (year - 1970) * 12 + month - 1 (202611 -> 682)
--   zigzag LEB128 varint of the points earned (a reversal may leave a month below 0)
--   unsigned LEB128 varint of the currency spent, in thousandths
-- A varint has 8 bytes at most and its value stays below 2^53 (exact as a Lua number); larger
-- sums saturate there. The fields m:YYYYMM = "earned,spend" of the releases before are summed
-- with M's month by the readers and folded into M by the first write of activity.
-- One local table (a script's main chunk has room for 200 locals only).
local WM = {MAX = VARINT.MAX}

-- YYYYMM <-> month index
function WM.index(ym) return (math.floor(ym / 100) - 1970) * 12 + ym % 100 - 1 end
function WM.ym(i) return (1970 + math.floor(i / 12)) * 100 + i % 12 + 1 end

-- The varint at position p of s (varint.lua, the prelude before this one).
WM.varint = VARINT.get

-- M (false/nil: absent) -> the records {i = month index, e = earned, s = spend}, ascending; nil
-- when unreadable (truncated, a varint too long, months not ascending).
function WM.decode(s)
    local r, p, prev = {}, 1, -1
    if not s then return r end
    while p <= #s do
        if p + 1 > #s then return nil end
        local i = s:byte(p) * 256 + s:byte(p + 1)
        if i <= prev then return nil end
        local z, e, sp
        z, p = WM.varint(s, p + 2)
        if not z then return nil end
        sp, p = WM.varint(s, p)
        if not sp then return nil end
        if z % 2 == 0 then e = z / 2 else e = -(z + 1) / 2 end
        r[#r + 1] = {i = i, e = e, s = sp}
        prev = i
    end
    return r
end

-- The records (ascending, indexes 0..65535) -> M.
function WM.encode(r)
    local out = {}
    for _, x in ipairs(r) do
        out[#out + 1] = string.char(math.floor(x.i / 256), x.i % 256)
        local e = x.e
        local lim = WM.MAX / 2 -- zigzag: |e| < 2^52
        if e > lim - 1 then e = lim - 1 elseif e < -lim then e = -lim end
        VARINT.put(out, e >= 0 and e * 2 or -e * 2 - 1)
        VARINT.put(out, x.s)
    end
    return table.concat(out)
end

-- A field of the releases before, "earned,spend" -> earned, spend (0, 0 when unreadable).
function WM.old(v)
    if not v then return 0, 0 end
    local e, sp = v:match('^(%-?%d+),(%d+)$')
    return tonumber(e) or 0, tonumber(sp) or 0
end

-- The name of month index i's field of the releases before.
function WM.field(i) return string.format('m:%d', WM.ym(i)) end

-- Earned, spend of month index i in the records r (0, 0 when absent).
function WM.get(r, i)
    for _, x in ipairs(r) do
        if x.i == i then return x.e, x.s end
    end
    return 0, 0
end

-- Adds earned e and spend sp to month index i of r (a record is inserted in its place).
function WM.add(r, i, e, sp)
    local k = 1
    while r[k] and r[k].i < i do k = k + 1 end
    if r[k] and r[k].i == i then
        r[k].e, r[k].s = r[k].e + e, r[k].s + sp
    else
        table.insert(r, k, {i = i, e = e, s = sp})
    end
end

-- Drops the records of the months before index `from`; true when some went.
function WM.prune(r, from)
    local n = 0
    while r[n + 1] and r[n + 1].i < from do n = n + 1 end
    for _ = 1, n do table.remove(r, 1) end
    return n > 0
end
