-- stock_move.lua - a change of an item's stock per day reaches the gift day under way (issue 12
-- §1): the stock left moves by the difference (raising stock/day by 10 adds 10 to "left";
-- lowering it takes as much away, down to 0), in one script on the item's slot, so a reservation
-- (catalog/lua/item.lua) never sees half of it. Owner: the staff-console engineer.
--
-- KEYS 1 cat:{ITEM}:s:DAY  stock left (absent until the day's first reservation: then the
--                          reservation starts from the new figure by itself, nothing to move)
--      2 cat:{ITEM}:b:DAY  the stock/day that "left" last moved to (makes a repeated request a
--                          no-op); expires with KEYS[1]
-- ARGV 1 the stock/day before the change (the catalogue document's; 0 = unlimited)
--      2 the stock/day after the change (0 = unlimited: "left" is not used, nothing moves)
-- Reply {moved 0/1, left before (-1 = absent), left after (-1 = absent)}

local function figure(s)
    if type(s) ~= 'string' or not s:find('^%d+$') or #s > 13 then return nil end
    return tonumber(s)
end
if #KEYS ~= 2 then return redis.error_reply('LGWARG keys') end
local item, day = KEYS[1]:match('^cat:{([%w_%.%-]+)}:s:(%d%d%d%d%d%d%d%d)$')
if not item or KEYS[2] ~= 'cat:{' .. item .. '}:b:' .. day then
    return redis.error_reply('LGWARG keys')
end
local old, new = figure(ARGV[1]), figure(ARGV[2])
if not old or not new then return redis.error_reply('LGWARG stock') end

local s = redis.call('GET', KEYS[1])
if s == false then return {0, -1, -1} end
local left = tonumber(s)
if not left then return redis.error_reply('LGWDATA stock') end
local base = figure(redis.call('GET', KEYS[2]) or '') or old
-- from or to unlimited there is no count to move: the left of a limited day stays as it was
if new == 0 or base == 0 or base == new then return {0, left, left} end
local after = left + new - base
if after < 0 then after = 0 end
redis.call('SET', KEYS[1], string.format('%d', after), 'KEEPTTL')
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
    redis.call('SET', KEYS[2], string.format('%d', new), 'PX', ttl)
else
    redis.call('SET', KEYS[2], string.format('%d', new), 'EX', 400 * 86400)
end
return {1, left, after}
