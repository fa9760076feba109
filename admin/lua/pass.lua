-- pass.lua - make-good's priority pass (issue 10 section 5; admin/adm_makegood.c): the member is
-- let in at the premium tiers' earlier opening of the gift days up to a last day, as those tiers'
-- members are (catalog/lua/sub.lua checks it at the debit, gateway/wire_catalog.c for the USSD
-- item screen). One wallet field, pp = "<YYYYMMDD last local day>:<incident>" (~40 B, only for
-- members granted one); a later grant replaces it.
--
-- KEYS 1 lg:{M}:w   ARGV 1 last day YYYYMMDD   2 incident ([%w_-], 1..32)
-- Reply {1, pp} granted; {0, pp} this incident's pass is already there (a re-run: nothing
-- written); error "LGWNONE" not enrolled (no wallet balance); "LGWARG <what>": nothing written.

if #KEYS ~= 1 or not KEYS[1]:find('^lg:{%d+}:w$') then return redis.error_reply('LGWARG keys') end
local until_day, incident = ARGV[1], ARGV[2]
if type(until_day) ~= 'string' or not until_day:find('^%d%d%d%d%d%d%d%d$') then
    return redis.error_reply('LGWARG day')
end
if type(incident) ~= 'string' or #incident < 1 or #incident > 32 or not incident:find('^[%w_%-]+$') then
    return redis.error_reply('LGWARG incident')
end
local w = redis.call('HMGET', KEYS[1], 'bal', 'pp')
if not w[1] then return redis.error_reply('LGWNONE not enrolled') end
if w[2] and w[2]:match(':(.*)$') == incident then return {0, w[2]} end
local pp = until_day .. ':' .. incident
redis.call('HSET', KEYS[1], 'pp', pp)
return {1, pp}
