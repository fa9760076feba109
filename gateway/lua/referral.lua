-- referral.lua - a member refers a number (issue 10 section 1, "Referral"; docs/campaigns.md).
-- The gateway parses the typed number (gw_referral_number, fuzzed) and runs this script when the
-- subscriber dials *555*7*<number>#. ONE REDIS ONLY, like every campaign script: the referee's
-- record and the referrer's wallet are on two slots, and the loop check follows the chain of
-- "referred by" through wallets the script finds as it goes (campaigns.enabled is refused with
-- redis.cluster_nodes, gateway/main.c). The refusals are the ones of gw_referral_decide
-- (gateway/gw_referral.c, unit-tested), checked in the same order, here atomically.
--
-- KEYS  1 lg:{A}:w the referrer's wallet   2 lg:{B}:w the referee's   3 lg:{B}:rf the referral
-- ARGV  1 "REFER"  2 now (unix s)  3 the local day YYYYMMDD  4 max referrals a local month (K)
--       5 the record's lifetime in seconds (the validity D days and a margin)
-- Reply {outcome} with outcome one of gw_referral_outcome_name: "ok", "self", "member", "taken",
--       "loop", "cap", "blocked" (a referrer who is no member is "blocked": only members refer).
--
-- State: lg:{B}:rf hash {by = A, day = YYYYMMDD, st = "open" | "due" | "paid"} with a TTL (the
-- referral lapses after D days; once paid it is kept a few days, then goes); the referrer's wallet
-- field rfm = "YYYYMM|n" (the month's count, one field, overwritten each month); the referee's
-- wallet field rb = A once the bonus is paid (the chain a loop check follows).

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
if ARGV[1] ~= 'REFER' or #KEYS ~= 3 then return bad('op') end
local a = KEYS[1]:match('^lg:{(%d+)}:w$')
local b = KEYS[2]:match('^lg:{(%d+)}:w$')
if not a or not b or #a > 15 or #b > 15 or KEYS[3] ~= 'lg:{' .. b .. '}:rf' then
    return bad('keys')
end
local day = ARGV[3]
local maxm, ttl = tonumber(ARGV[4] or ''), tonumber(ARGV[5] or '')
if type(day) ~= 'string' or not day:find('^%d%d%d%d%d%d%d%d$') then return bad('day') end
if not maxm or maxm < 0 or not ttl or ttl < 86400 or ttl > 400 * 86400 then return bad('limits') end
local month = day:sub(1, 6)

-- who referred x: the paid referral in its wallet, else an open record
local function referred_by(x)
    local r = redis.call('HGET', 'lg:{' .. x .. '}:w', 'rb')
    if r then return r end
    r = redis.call('HGET', 'lg:{' .. x .. '}:rf', 'by')
    if r then return r end
    return nil
end

local wa = redis.call('HMGET', KEYS[1], 'bal', 'blocked', 'rfm')
if not wa[1] or wa[2] == '1' then return {'blocked'} end
if a == b then return {'self'} end
local x = referred_by(a)
for _ = 1, 4 do -- GW_REF_CHAIN_MAX links
    if not x then break end
    if x == b then return {'loop'} end
    x = referred_by(x)
end
if redis.call('HEXISTS', KEYS[2], 'bal') == 1 then return {'member'} end
local rf = redis.call('HMGET', KEYS[3], 'by', 'st')
if rf[1] and rf[1] ~= a then return {'taken'} end
if rf[1] then return {'ok'} end -- the same referral again: counted once
local n = 0
if wa[3] then
    local m, c = wa[3]:match('^(%d+)|(%d+)$')
    if m == month then n = tonumber(c) end
end
if n >= maxm then return {'cap'} end
redis.call('HSET', KEYS[3], 'by', a, 'day', day, 'st', 'open')
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('HSET', KEYS[1], 'rfm', month .. '|' .. string.format('%d', n + 1))
return {'ok'}
