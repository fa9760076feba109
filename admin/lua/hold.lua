-- hold.lua - staff release or cancel a subscriber's points held by the velocity caps (issue 10
-- section 5; gateway/lua/commit.lua holds them; admin/adm_hold.c builds the arguments). One script
-- on the subscriber's slot: the hold is consumed in the same step, so a retry (a double click,
-- another agent) finds nothing held and changes nothing.
-- Owner: the fraud brakes engineer.
--
-- KEYS  1 lg:{M}:w wallet   [2 lg:ag:{tag}:<today> 3 lg:ag:{tag}:tot: block "aggregates"]
-- ARGV  1 RELEASE | CANCEL   2 today YYYYMMDD (local)
-- Reply {1, balance, points} done; {0, balance, 0} nothing held. Errors (nothing written):
-- "LGWARG <what>", "LGWNOWALLET not enrolled", "LGWDATA <what>".
-- RELEASE credits the held points as earned today (bal, life, the lot l:<today>, the aggregates'
-- issue iss:HOLD:- and the running totals) and turns the records of E in state h into c
-- (credited); CANCEL drops them: the records become k (held, then cancelled: a redelivery of the
-- ref stays a duplicate). The tier follows at the subscriber's next event (commit.lua).

-- ------------------------------------------------------------------ aggregates (issue 9 §5)
-- docs/data-model.md section 6. The caller appends two keys on the subscriber's slot,
-- lg:ag:{tag}:<YYYYMMDD> (the day's flows) and lg:ag:{tag}:tot (running totals); they are
-- taken off KEYS/ARGV here, so the rest of the script sees its own. Without them (tools, benches)
-- nothing is aggregated. The same block is in commit.lua, expire.lua, sub.lua, adjust.lua,
-- campaign.lua and transfer.lua.
local AGD, AGT
if #KEYS >= 2 and type(KEYS[#KEYS]) == 'string' and KEYS[#KEYS]:find('^lg:ag:{%d+}:tot$') then
    AGT = table.remove(KEYS)
    AGD = table.remove(KEYS)
    local tg = AGT:match('^lg:ag:({%d+}):tot$')
    if type(AGD) ~= 'string' or AGD:match('^lg:ag:({%d+}):%d%d%d%d%d%d%d%d$') ~= tg then
        return redis.error_reply('LGWARG aggregate keys')
    end
end
-- Histogram bucket of a balance: '-' below 0, '0', else k for [2^(k-1), 2^k) (gw_agg_bucket).
local function ag_bucket(b)
    if b < 0 then return '-' end
    local k = 0
    while b >= 1 do
        b = math.floor(b / 2)
        k = k + 1
    end
    return string.format('%d', k)
end
-- A wallet moves from (bal0, tier0) to (bal1, tier1); nil = not counted (no balance yet, or the
-- tier does not change). Writes the running totals: liab, neg, t:<tier>, h:<k>, hs:<k>.
local function ag_wallet(bal0, tier0, bal1, tier1)
    if not AGT then return end
    local inc, order = {}, {}
    local function add(f, n)
        if inc[f] == nil then order[#order + 1] = f end
        inc[f] = (inc[f] or 0) + n
    end
    local function one(b, t, s)
        if b then
            local k = ag_bucket(b)
            add('liab', s * b)
            if b < 0 then add('neg', s * b) end
            add('h:' .. k, s)
            add('hs:' .. k, s * b)
        end
        if t then add('t:' .. t, s) end
    end
    one(bal0, tier0, -1)
    one(bal1, tier1, 1)
    for _, f in ipairs(order) do
        if inc[f] ~= 0 then redis.call('HINCRBY', AGT, f, string.format('%d', inc[f])) end
    end
end
-- The day's flows: one event of kind (n:<kind>) and its points in field f (f nil: count only).
-- The day key lives AG_DAY_TTL (set when the first event of a kind creates its counter): two
-- months and more for the monthly report; finance archives `loyaltyctl report` daily.
local AG_DAY_TTL = 70 * 86400
local function ag_flow(kind, f, pts)
    if not AGD then return end
    if redis.call('HINCRBY', AGD, 'n:' .. kind, 1) == 1 then
        redis.call('EXPIRE', AGD, AG_DAY_TTL)
    end
    if f and pts ~= 0 then redis.call('HINCRBY', AGD, f, string.format('%d', pts)) end
end
-- ------------------------------------------------------------------ end of aggregates

local BAL_MAX = 1e12 -- the ledger's bound (gateway/lua/commit.lua)
if #KEYS ~= 1 or not KEYS[1]:find('^lg:{%d+}:w$') then return redis.error_reply('LGWARG keys') end
local op, today = ARGV[1], ARGV[2]
if op ~= 'RELEASE' and op ~= 'CANCEL' then return redis.error_reply('LGWARG op') end
if type(today) ~= 'string' or not today:find('^%d%d%d%d%d%d%d%d$') then
    return redis.error_reply('LGWARG today')
end
local KW = KEYS[1]
local w = redis.call('HMGET', KW, 'bal', 'life', 'hold', 'E', 'tier', 'L')
if not w[1] then return redis.error_reply('LGWNOWALLET not enrolled') end
local bal, life, n = tonumber(w[1]), tonumber(w[2] or '0'), tonumber(w[3] or '0')
local E = w[4] or ''
if not bal or not life or not n or n < 0 or #E % 16 ~= 0 then return redis.error_reply('LGWDATA wallet') end
if n == 0 then return {0, bal, 0} end
-- a release credits a lot of today (the prelude core/lua/wallet_lots.lua)
local L = op == 'RELEASE' and lots_add(w[6], today, n)
if L == nil then return redis.error_reply('LGWDATA lots') end
if op == 'RELEASE' and (bal + n > BAL_MAX or life + n > BAL_MAX) then
    return redis.error_reply('LGWDATA balance bound')
end
local to = op == 'RELEASE' and 'c' or 'k'
for p = 1, #E, 16 do
    if E:byte(p + 9) == 104 then E = E:sub(1, p + 8) .. to .. E:sub(p + 10) end -- 'h'
end
local function d(x) return string.format('%d', x) end
if op == 'RELEASE' then
    redis.call('HSET', KW, 'bal', d(bal + n), 'life', d(life + n), 'E', E, 'L', L)
    ag_wallet(bal, nil, bal + n, nil)
    ag_flow('HOLD', 'iss:HOLD:-', n)
    bal = bal + n
else
    redis.call('HSET', KW, 'E', E)
end
redis.call('HDEL', KW, 'hold')
return {1, bal, n}
