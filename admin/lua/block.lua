-- block.lua - block or unblock a subscriber's wallet (admin/adm_subscriber.c): sets the wallet
-- field "blocked" to 1 or removes it; redemption refuses a blocked wallet. Records a history
-- entry when the state changes: a record BLOCK / UNBLOCK of the wallet's field E, its text
-- ("blocked by <staff>: <reason>") in the note field N (the prelude core/lua/wallet_hist.lua).
-- Validated before the first write. Owner: the staff-console engineer.
--
-- KEYS  1 lg:{M}:w wallet   2 lg:{M}:h the history list of the release before (not written)
-- ARGV  1 "1" block | "0" unblock   2 staff user   3 reason (may be "")   4 now (unix s)
--       5 history length   6 today YYYYMMDD (local; optional: absent, the UTC day of now)
-- Reply {before, after, balance} (0/1 flags); before == after means nothing changed.
-- Errors (nothing written): "LGWARG <what>", "LGWNOWALLET not enrolled".

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function d(n) return string.format('%d', n) end

if #KEYS ~= 2 then return bad('keys') end
local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
if not msisdn or #msisdn > 15 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:h' then return bad('keys') end
local flag = ARGV[1]
if flag ~= '1' and flag ~= '0' then return bad('flag') end
local staff = ARGV[2]
if type(staff) ~= 'string' or #staff < 1 or #staff > 32 or not staff:find('^[%w%._%-]+$') then
    return bad('staff')
end
local reason = ARGV[3]
if type(reason) ~= 'string' or #reason > 200 or reason:find('[%c]') then return bad('reason') end
local now = ARGV[4]
if type(now) ~= 'string' or not now:find('^%d+$') or #now > 12 then return bad('now') end
local hlen = tonumber(ARGV[5])
if not hlen or hlen < 1 or hlen > 10000 or hlen ~= math.floor(hlen) then
    return bad('history_len')
end

local today = ARGV[6]
if today == nil then
    today = string.format('%d', ymd(math.floor(tonumber(now) / 86400)))
elseif type(today) ~= 'string' or not today:find('^%d%d%d%d%d%d%d%d$') then
    return bad('today')
end

if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('LGWNOWALLET not enrolled') end
local cur = redis.call('HGET', KEYS[1], 'blocked')
local before = (cur == '1') and 1 or 0
local after = tonumber(flag)
local bal = redis.call('HGET', KEYS[1], 'bal') or '0'
if not bal:find('^%-?%d+$') then return redis.error_reply('LGWDATA wallet') end
if before == after then return {before, after, tonumber(bal)} end

if after == 1 then
    redis.call('HSET', KEYS[1], 'blocked', '1')
else
    redis.call('HDEL', KEYS[1], 'blocked')
end
local kind = after == 1 and 'BLOCK' or 'UNBLOCK'
local note = (after == 1 and 'blocked by ' or 'unblocked by ') .. staff
if #reason > 0 then note = note .. ': ' .. reason end
hist_add(KEYS[1], hist_digest('blk:' .. now), today, kind, 0, 0, note, hlen)
return {before, after, tonumber(bal)}
