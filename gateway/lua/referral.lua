-- referral.lua - a member refers a number (issue 10 section 1, "Referral"; docs/campaigns.md).
-- The gateway parses the typed number (gw_referral_number, fuzzed) and runs this script when the
-- subscriber dials *555*7*<number>#. REFER is for one Redis: the referee's record and the
-- referrer's wallet are on two slots, and the loop check follows the chain of "referred by"
-- through wallets the script finds as it goes; on a Redis Cluster the gateway runs REFA, REFB,
-- REFN instead (below). The refusals are the ones of gw_referral_decide
-- (gateway/gw_referral.c, unit-tested), checked in the same order, here atomically.
--
-- KEYS  1 lg:{A}:w the referrer's wallet   2 lg:{B}:w the referee's   3 lg:{B}:rf the referral
-- ARGV  1 "REFER"  2 now (unix s)  3 the local day YYYYMMDD  4 max referrals a local month (K)
--       5 the record's lifetime in seconds (the validity D days and a margin)
-- Reply {outcome} with outcome one of gw_referral_outcome_name: "ok", "self", "member", "taken",
--       "loop", "cap", "blocked" (a referrer who is no member is "blocked": only members refer);
--       {"ok", "again"}: the same referral again (the subscriber reads "ok"; the gateway journals
--       only a new one, gw_journal.h format version 3).
--
-- State: lg:{B}:rf hash {by = A, day = YYYYMMDD, st = "open" | "due" | "paid"} with a TTL (the
-- referral lapses after D days; once paid it is kept a few days, then goes); the referrer's wallet
-- field rfm = "YYYYMM|n" (the month's count, one field, overwritten each month); the referee's
-- wallet field rb = A once the bonus is paid (the chain a loop check follows).

local function bad(what) return redis.error_reply('LGWARG ' .. what) end

-- A Redis Cluster (docs/campaigns.md "Redis Cluster"): the same refusals in the same order, in
-- three steps of one slot each; the loop check reads the referrer's chain from its own slot: a
-- referral record keeps its referrer's chain (field ch "A,X,Y,Z", the referrer first), copied to
-- the referee's wallet (rbc) when the bonus is paid.
--   REFA  KEYS lg:{A}:w lg:{A}:rf  ARGV "REFA" B month(YYYYMM)
--         -> {"blocked"|"self"|"loop"} or {"go", n this month, the chain B's record keeps}
--   REFB  KEYS lg:{B}:w lg:{B}:rf  ARGV "REFB" A day max n ttl chain
--         -> {"member"|"taken"|"cap"|"again"|"ok"} (ok: the record is written; again: it was)
--   REFN  KEYS lg:{A}:w  ARGV "REFN" month -> {"ok"}: the month's count. A crash before it
--         leaves the count one short (the cap can be passed by one referral per crash).
local op = ARGV[1]
if op == 'REFA' or op == 'REFB' or op == 'REFN' then
    local me = (KEYS[1] or ''):match('^lg:{(%d+)}:w$')
    if not me or #me > 15 then return bad('keys') end
    if op == 'REFN' then
        local month = ARGV[2]
        if #KEYS ~= 1 or type(month) ~= 'string' or not month:find('^%d%d%d%d%d%d$') then
            return bad('month')
        end
        local m, c = (redis.call('HGET', KEYS[1], 'rfm') or ''):match('^(%d+)|(%d+)$')
        local n = m == month and tonumber(c) or 0
        redis.call('HSET', KEYS[1], 'rfm', month .. '|' .. string.format('%d', n + 1))
        return {'ok'}
    end
    local other = ARGV[2]
    if #KEYS ~= 2 or KEYS[2] ~= 'lg:{' .. me .. '}:rf' or type(other) ~= 'string' or
        not other:find('^%d+$') or #other > 15 then
        return bad('keys')
    end
    if op == 'REFA' then
        local month = ARGV[3]
        if type(month) ~= 'string' or not month:find('^%d%d%d%d%d%d$') then return bad('month') end
        local wa = redis.call('HMGET', KEYS[1], 'bal', 'blocked', 'rfm', 'rbc', 'rb')
        if not wa[1] or wa[2] == '1' then return {'blocked'} end
        if me == other then return {'self'} end
        local ch = wa[4] or redis.call('HGET', KEYS[2], 'ch') or wa[5] or
            redis.call('HGET', KEYS[2], 'by') or ''
        local chain = {}
        for x in ch:gmatch('(%d+)') do
            if #chain < 4 then chain[#chain + 1] = x end
        end
        for _, x in ipairs(chain) do
            if x == other then return {'loop'} end
        end
        local n = 0
        local m, c = (wa[3] or ''):match('^(%d+)|(%d+)$')
        if m == month then n = tonumber(c) end
        table.insert(chain, 1, me)
        if #chain > 4 then chain[5] = nil end
        return {'go', string.format('%d', n), table.concat(chain, ',')}
    end
    local day, maxm, n, ttl, ch = ARGV[3], tonumber(ARGV[4] or ''), tonumber(ARGV[5] or ''),
        tonumber(ARGV[6] or ''), ARGV[7]
    if type(day) ~= 'string' or not day:find('^%d%d%d%d%d%d%d%d$') or not maxm or not n or
        not ttl or ttl < 86400 or ttl > 400 * 86400 or type(ch) ~= 'string' or
        not ch:find('^[%d,]+$') or #ch > 70 then
        return bad('limits')
    end
    if redis.call('HEXISTS', KEYS[1], 'bal') == 1 then return {'member'} end
    local by = redis.call('HGET', KEYS[2], 'by')
    if by and by ~= other then return {'taken'} end
    if by then return {'again'} end
    if n >= maxm then return {'cap'} end
    redis.call('HSET', KEYS[2], 'by', other, 'day', day, 'st', 'open', 'ch', ch)
    redis.call('EXPIRE', KEYS[2], ttl)
    return {'ok'}
end

if op ~= 'REFER' or #KEYS ~= 3 then return bad('op') end
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
if rf[1] then return {'ok', 'again'} end -- the same referral again: counted once (and not journaled)
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
