-- campaign_budget.lua - the campaigns' budget on a Redis Cluster (issue 10 section 1;
-- docs/campaigns.md "Redis Cluster"). On one Redis the budget moves in campaign.lua's own script,
-- with the credit; on a cluster the budget lg:cb:{cmp} is on another slot than the wallet, so a
-- bonus is two steps, ordered like the ref index (docs/data-model.md 4):
--   1. RESERVE here, on {cmp}: the points are counted in <id>:spent only if they stay within the
--      budget (the hard stop), idempotent per (campaign, member, reservation key);
--   2. campaign.lua PAY on the wallet's slot: credited once, by the wallet's marker;
--   3. SETTLE here: the reservation record goes ("paid"/"done"), or its points are given back
--      ("void": step 2 settled the marker unpaid first, so nothing can pay it any more).
-- A crash after 1 leaves the record: the redelivered event reserves again (finds it: nothing
-- counted twice) and pays; an event that never comes back leaves it to the sweeper (DUE, then
-- campaign.lua VOID on the wallet's slot, then SETTLE): spent is never more than the budget and a
-- bonus never paid twice.
--
-- KEYS  1 lg:cb:{cmp} budgets and counters   2 lg:cr:{cmp} hash of reservations in flight:
--       field "<id>|<M>|<rkey>" = "<ok|budget>|<points>|<rule>"   3 lg:cq:{cmp} zset: the same
--       field -> reservation time (unix s), the sweeper's list
-- op RESERVE  ARGV 2 now  3 M  4 n, then n x 5: id, rule, rkey, points, budget
--   Reply: n outcomes "<ok|budget>:<points reserved>" (a refused one counts <id>:stop once; a
--         reservation found answers its own outcome and points, whatever this call asked).
-- op SETTLE   ARGV 2 M  3 n, then n x 3: id, rkey, "paid" | "done" | "void"
--   Reply: the number of reservations given back.
-- op DUE      ARGV 2 older than (unix s)  3 max: {field, rule}... of the reservations to sweep.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
if #KEYS ~= 3 or KEYS[1] ~= 'lg:cb:{cmp}' or KEYS[2] ~= 'lg:cr:{cmp}' or
    KEYS[3] ~= 'lg:cq:{cmp}' then
    return bad('keys')
end
local KB, KR, KQ = KEYS[1], KEYS[2], KEYS[3]
local function int(s, lo, hi)
    if type(s) ~= 'string' or not s:find('^%d+$') or #s > 15 then return nil end
    local n = tonumber(s)
    if n < lo or n > hi then return nil end
    return n
end
local function word(s, pat) return type(s) == 'string' and #s <= 24 and s:find(pat) ~= nil end
local op = ARGV[1]

if op == 'DUE' then
    local before, max = int(ARGV[2], 0, 1e11), int(ARGV[3], 1, 1000)
    if not before or not max then return bad('due') end
    local out = {}
    for _, f in ipairs(redis.call('ZRANGEBYSCORE', KQ, '-inf', before, 'LIMIT', 0, max)) do
        local rec = redis.call('HGET', KR, f)
        if rec then
            out[#out + 1] = {f, rec:match('|([%a]+)$') or ''}
        else
            redis.call('ZREM', KQ, f) -- settled meanwhile
        end
    end
    return out
end

if op ~= 'RESERVE' and op ~= 'SETTLE' then return bad('op') end
local m = op == 'RESERVE' and ARGV[3] or ARGV[2]
if not word(m, '^%d+$') then return bad('msisdn') end
local at = op == 'RESERVE' and 4 or 3
local n = int(ARGV[at], 0, 16)
local per = op == 'RESERVE' and 5 or 3
if not n or #ARGV ~= at + per * n then return bad('n') end
local items = {}
for i = 1, n do
    local b = at + per * (i - 1)
    local it = {id = ARGV[b + 1]}
    if op == 'RESERVE' then
        it.rule, it.rkey = ARGV[b + 2], ARGV[b + 3]
        it.pts, it.budget = int(ARGV[b + 4], 0, 2e6), int(ARGV[b + 5], 1, 1e12)
        if not it.pts or not it.budget or not word(it.rule, '^%a+$') then return bad('grant') end
    else
        it.rkey, it.oc = ARGV[b + 2], ARGV[b + 3]
        if it.oc ~= 'paid' and it.oc ~= 'done' and it.oc ~= 'void' then return bad('outcome') end
    end
    if not word(it.id, '^[%w_%-]+$') or not word(it.rkey, '^%w+$') then return bad('id') end
    items[i] = it
end

local out = {}
if op == 'RESERVE' then
    local now = int(ARGV[2], 0, 1e11)
    if not now then return bad('now') end
    for i, it in ipairs(items) do
        local f = it.id .. '|' .. m .. '|' .. it.rkey
        local rec = redis.call('HGET', KR, f)
        if rec then
            -- reserved before (a redelivery): counted once, paid as reserved
            local oc, pts = rec:match('^(%a+)|(%d+)|')
            out[i] = oc .. ':' .. pts
        else
            local spent = tonumber(redis.call('HGET', KB, it.id .. ':spent') or '0') or 0
            if it.pts > 0 and spent + it.pts <= it.budget then
                redis.call('HINCRBY', KB, it.id .. ':spent', it.pts)
                redis.call('HINCRBY', KB, it.id .. ':n', 1)
                if it.rule == 'winback' then redis.call('HINCRBY', KB, it.id .. ':back', 1) end
                out[i] = 'ok'
            else
                redis.call('HINCRBY', KB, it.id .. ':stop', 1)
                out[i] = 'budget'
            end
            local pts = string.format('%d', it.pts)
            redis.call('HSET', KR, f, out[i] .. '|' .. pts .. '|' .. it.rule)
            redis.call('ZADD', KQ, now, f)
            out[i] = out[i] .. ':' .. pts
        end
    end
    return out
end

local given = 0
for _, it in ipairs(items) do
    local f = it.id .. '|' .. m .. '|' .. it.rkey
    local rec = redis.call('HGET', KR, f)
    if rec and it.oc == 'void' then
        local oc, pts, rule = rec:match('^(%a+)|(%d+)|(%a*)$')
        if oc == 'ok' and tonumber(pts) > 0 then
            redis.call('HINCRBY', KB, it.id .. ':spent', -tonumber(pts))
            redis.call('HINCRBY', KB, it.id .. ':n', -1)
            if rule == 'winback' then redis.call('HINCRBY', KB, it.id .. ':back', -1) end
            given = given + 1
        end
    end
    redis.call('HDEL', KR, f)
    redis.call('ZREM', KQ, f)
end
return given
