-- velocity.lua - the velocity caps per MSISDN on redemptions (issue 10 section 5;
-- gateway/wire_brakes.c). One short-lived hash on the subscriber's slot, so the check and the
-- count are one atomic step: parallel dialogues of one subscriber (several gateways) never pass
-- the cap together.
--
-- KEYS 1 lg:{M}:v  fields h = hour (unix s / 3600), hn = redemptions counted in it,
--                  d = local day YYYYMMDD, dn = redemptions counted on it; expires ttl after
--                  the last write (docs/data-model.md section 1: ~100 B per subscriber who
--                  redeemed in the last day, none for the others)
-- ARGV 1 op TAKE | GIVE   2 hour   3 day   4 cap per hour (0 none)   5 cap per day (0 none)
--      6 ttl (s)
-- TAKE: {'ok', hn, dn} counted; {'cap', 'hour'|'day', n} refused, nothing written.
-- GIVE: a redemption counted by TAKE was refused further on (no stock, no points...): the count
--       goes back when the hour/day is still the same; {'ok'}.
-- A bad argument is an error "LGWARG <what>" with nothing written.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n < lo or n > hi then return nil end
    return n
end

if #KEYS ~= 1 or not KEYS[1]:find('^lg:{%d+}:v$') then return bad('keys') end
local op = ARGV[1]
local hour, day = int_arg(ARGV[2], 0, 1e9), int_arg(ARGV[3], 19000101, 99991231)
local ph, pd = int_arg(ARGV[4], 0, 1e9), int_arg(ARGV[5], 0, 1e9)
local ttl = int_arg(ARGV[6], 60, 864000)
if not hour then return bad('hour') end
if not day then return bad('day') end
if not ph or not pd then return bad('cap') end
if not ttl then return bad('ttl') end

local K = KEYS[1]
local v = redis.call('HMGET', K, 'h', 'hn', 'd', 'dn')
local hn = (tonumber(v[1]) == hour) and (tonumber(v[2]) or 0) or 0
local dn = (tonumber(v[3]) == day) and (tonumber(v[4]) or 0) or 0

if op == 'TAKE' then
    if ph > 0 and hn >= ph then return {'cap', 'hour', hn} end
    if pd > 0 and dn >= pd then return {'cap', 'day', dn} end
    hn, dn = hn + 1, dn + 1
elseif op == 'GIVE' then
    if hn > 0 then hn = hn - 1 end
    if dn > 0 then dn = dn - 1 end
else
    return bad('op')
end
redis.call('HSET', K, 'h', string.format('%d', hour), 'hn', string.format('%d', hn),
    'd', string.format('%d', day), 'dn', string.format('%d', dn))
redis.call('EXPIRE', K, ttl)
return {'ok', hn, dn}
