-- refidx.lua - the carrier-wide ref index: one ref, one MSISDN, for the retention window
-- (docs/data-model.md, "One ref, one subscriber"). Step 1 of a commit, on the index's slot;
-- commit.lua on the subscriber's slot is step 2. gw_ledger.c builds the arguments.
--
-- KEYS  1 .. N  lg:ri:{b<bucket>}:<period>, the CURRENT period first, then the older ones that
--               the retention window still covers (one bucket: one hash tag, one slot)
-- ARGV  1 ref   2 MSISDN   3 expiry of the current period's key (unix s)
-- Reply {"ok", 1} claimed now; {"ok", 0} already the MSISDN's (a redelivery, or a crash between
-- the two steps: harmless, step 2 dedups); {"conflict", <MSISDN>} the ref belongs to another
-- subscriber (nothing written). Bad arguments: error "LGWARG <what>", nothing written.
--
-- Field: 6 bytes of SHA-1(ref) (bytes 7..12: the bucket is chosen from the ref by another hash),
-- value: the MSISDN as an integer (listpack stores it in 9 bytes).

local function bad(what) return redis.error_reply('LGWARG ' .. what) end

if #KEYS < 1 or #KEYS > 16 then return bad('keys') end
local tag = KEYS[1]:match('^lg:ri:({b%d+}):%d+$')
if not tag then return bad('keys') end
for i = 2, #KEYS do
    if KEYS[i]:match('^lg:ri:({b%d+}):%d+$') ~= tag then return bad('keys') end
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

local field = struct.pack('>I6', tonumber(redis.sha1hex(ref):sub(13, 24), 16))

for i = 1, #KEYS do
    local owner = redis.call('HGET', KEYS[i], field)
    if owner then
        if owner == msisdn then return {'ok', 0} end
        return {'conflict', owner}
    end
end
redis.call('HSET', KEYS[1], field, msisdn)
redis.call('EXPIREAT', KEYS[1], exp)
return {'ok', 1}
