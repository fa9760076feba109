-- refidx.lua - the carrier-wide ref index: one ref, one MSISDN, for the retention window
-- (docs/data-model.md, "One ref, one subscriber"). Step 1 of a commit, on the index's slot;
-- commit.lua on the subscriber's slot is step 2. gw_ledger.c builds the arguments.
--
-- KEYS  1 .. N  lg:rs:{b<bucket>}:<period>, the CURRENT period first, then the older ones that
--               the retention window still covers; then (upgrade) lg:ri:{b<bucket>}:<period>,
--               the hashes of the release before, read until they expire (one bucket: one hash
--               tag, one slot)
-- ARGV  1 ref   2 MSISDN   3 expiry of the current period's key (unix s)
-- Reply {"ok", 1} claimed now; {"ok", 0} already the MSISDN's (a redelivery, or a crash between
-- the two steps: harmless, step 2 dedups); {"conflict", <MSISDN>} the ref belongs to another
-- subscriber (nothing written). Bad arguments: error "LGWARG <what>", nothing written.
--
-- lg:rs: a string of 13-byte records, in arrival order: 6 bytes of SHA-1(ref) (bytes 7..12: the
-- bucket is chosen from the ref by another hash), then the MSISDN in 7 bytes, big-endian,
-- (digits - 8) x 2^50 + the number (8..15 digits, leading zeros kept). Rewritten whole by SET
-- (APPEND would keep up to as much again in spare room). lg:ri (the release before): a hash,
-- field the same 6 bytes, value the MSISDN. The same text is in commit.lua ("ref index").

local function bad(what) return redis.error_reply('LGWARG ' .. what) end

if #KEYS < 1 or #KEYS > 16 then return bad('keys') end
local tag = KEYS[1]:match('^lg:rs:({b%d+}):%d+$')
if not tag then return bad('keys') end
for i = 2, #KEYS do
    if KEYS[i]:match('^lg:r[is]:({b%d+}):%d+$') ~= tag then return bad('keys') end
end
local ref, msisdn = ARGV[1], ARGV[2]
if type(ref) ~= 'string' or #ref < 1 or #ref > 64 or not ref:find('^[%w%._:%-]+$') then
    return bad('ref')
end
if type(msisdn) ~= 'string' or not msisdn:find('^%d+$') or #msisdn < 8 or #msisdn > 15 then
    return bad('msisdn')
end
local exp = tonumber(ARGV[3])
if not exp or not ARGV[3]:find('^%d+$') or exp < 1 or exp > 1e11 then return bad('expiry') end

-- ------------------------------------------------------------------ ref index (as in commit.lua)
local RI_REC, RI_LEN = 13, 2 ^ 50
local function ri_pack(dg, m)
    return dg .. struct.pack('>I7', (#m - 8) * RI_LEN + tonumber(m))
end
-- The owner of digest dg in key k (nil: none) and, for a string key, its value.
local function ri_owner(k, dg)
    if k:sub(4, 5) == 'ri' then return redis.call('HGET', k, dg) or nil end
    local s = redis.call('GET', k) or ''
    if #s % RI_REC ~= 0 then return nil, s:sub(1, #s - #s % RI_REC) end -- a torn tail: dropped
    local init = 1
    while true do
        local p = string.find(s, dg, init, true)
        if not p then return nil, s end
        if (p - 1) % RI_REC == 0 then
            local n = struct.unpack('>I7', s, p + 6)
            local nd = math.floor(n / RI_LEN)
            return string.format('%0' .. (nd + 8) .. 'd', n - nd * RI_LEN), s
        end
        init = p + 1
    end
end
-- ------------------------------------------------------------------ end of ref index

local field = struct.pack('>I6', tonumber(redis.sha1hex(ref):sub(13, 24), 16))

local cur
for i = 1, #KEYS do
    local owner, s = ri_owner(KEYS[i], field)
    if i == 1 then cur = s end
    if owner then
        if owner == msisdn then return {'ok', 0} end
        return {'conflict', owner}
    end
end
redis.call('SET', KEYS[1], cur .. ri_pack(field, msisdn), 'EXAT', exp)
return {'ok', 1}
