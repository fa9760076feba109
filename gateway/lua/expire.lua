-- expire.lua - points that really expire: one subscriber at a time, idempotent (gw_expiry.c
-- builds the arguments; docs/data-model.md has the layout). Dates come from the caller as
-- cut-off lot days computed with core/gw_days.c (Lua has no calendar): a lot of day D is expired
-- when D <= cut, and a warning "w days ahead" is due when D <= cut_w.
--
-- op RUN     KEYS 1 lg:{M}:w  2 lg:{M}:h  3 lg:ag:{tag}:<today> (daily aggregates, field exp)
--            [4 lg:ag:{tag}:tot: the slot's running totals, block "aggregates"]
--            ARGV 1 "RUN"  2 now (unix s)  3 today YYYYMMDD  4 cut ("0": nothing expires)
--                 5 history length  6 number of warning levels W, then W pairs (level days,
--                 cut_w), the levels descending (30 7)
--   Deletes the expired lots (and their warning marks), lowers the balance by what they still
--   held, writes the history record "expired N" (field E of the wallet; KEYS 2 is no longer
--   written) and the day's aggregate; marks each remaining
--   lot that entered a warning window it was not warned for ("xw:D" = the level, smaller =
--   nearer). Reply {expired, warn_points, warn_lot (0 none), warn_level, balance, lang,
--   blocked (0/1), then the remaining lots as pairs (day, warned level or 0)}. A wallet that
--   does not exist replies {0, 0, 0, 0, 0, "", 0}.
--   What a lot "still holds": lots may sum to more than the balance (a reversal or a debit took
--   points the lots did not give back); that excess is counted as spent from the OLDEST lots
--   first (FIFO), so expiring a lot never takes more than the balance really holds from it.
--
-- op REINDEX KEYS 1 lg:{M}:w  2 the due set being worked  3 the due set of the next action
--            ARGV 1 "REINDEX"  2 msisdn  3 next YYYYMMDD (0: no lot left)  4 the lot days RUN
--                 saw, "D1,D2,..." ascending ("" none)
--   Moves the subscriber from set 2 to set 3 and records it in the wallet ("xd"), unless the
--   lots changed since RUN (a commit or a refund added one): then replies "changed" and writes
--   nothing (the caller runs RUN again). Otherwise "ok".
--
-- op LEASE   KEYS 1 the claim key   ARGV 1 "LEASE"  2 owner  3 ms (0 = release)
--   Extends (or deletes) the claim only while the owner still holds it: 1, else 0.
--
-- Bad arguments: error "LGWARG <what>"; unreadable stored data "LGWDATA <what>"; nothing
-- written either way.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function corrupt(what) return redis.error_reply('LGWDATA ' .. what) end
local function d(n) return string.format('%d', n) end

local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n < lo or n > hi then return nil end
    return n
end

local function day_arg(s, zero_ok)
    if zero_ok and s == '0' then return 0 end
    if type(s) ~= 'string' or not s:find('^%d%d%d%d%d%d%d%d$') then return nil end
    return tonumber(s)
end

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
-- RUN's KEYS 3 is the day key itself (it wrote exp and n:EXPIRE before the totals existed)
if AGD then KEYS[#KEYS + 1] = AGD end

local op = ARGV[1]

if op == 'LEASE' then
    -- the expiry job's claims, and the tier review's (gw_tier_job.c walks the same way)
    if #KEYS ~= 1 or not KEYS[1]:find('^lg:[xt]c:{%d+}$') then return bad('keys') end
    local owner, ms = ARGV[2], int_arg(ARGV[3], 0, 86400000)
    if type(owner) ~= 'string' or #owner < 1 or #owner > 64 or not ms then return bad('lease') end
    if redis.call('GET', KEYS[1]) ~= owner then return 0 end
    if ms == 0 then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ms) end
    return 1
end

-- The lot days of a wallet (L and the l:YYYYMMDD fields of the release before: the prelude
-- core/lua/wallet_lots.lua), ascending; nil when unreadable.
local function lot_days(kw)
    local lots = lots_from_all(redis.call('HGETALL', kw))
    if not lots then return nil end
    local out = {}
    for _, lot in ipairs(lots) do out[#out + 1] = lot.day end
    return out
end

if op == 'REINDEX' then
    if #KEYS ~= 3 then return bad('keys') end
    local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
    if not msisdn or msisdn ~= ARGV[2] or not KEYS[2]:find('^lg:xd:{%d+}:%d+$')
        or not KEYS[3]:find('^lg:xd:{%d+}:%d+$') then
        return bad('keys')
    end
    local nxt = day_arg(ARGV[3], true)
    local seen = ARGV[4]
    if not nxt or type(seen) ~= 'string' or #seen > 9 * 1024 then return bad('reindex') end
    if nxt > 0 and KEYS[3]:match(':(%d+)$') ~= ARGV[3] then return bad('next key') end
    local now_lots = lot_days(KEYS[1])
    if not now_lots then return corrupt('lots') end
    if table.concat(now_lots, ',') ~= seen then return 'changed' end
    redis.call('SREM', KEYS[2], msisdn)
    if nxt > 0 then
        redis.call('SADD', KEYS[3], msisdn)
        redis.call('HSET', KEYS[1], 'xd', ARGV[3])
    elseif redis.call('EXISTS', KEYS[1]) == 1 then
        redis.call('HDEL', KEYS[1], 'xd')
    end
    return 'ok'
end

if op ~= 'RUN' then return bad('op') end
if #KEYS ~= 3 then return bad('keys') end
local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
if not msisdn or #msisdn > 15 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:h'
    or not KEYS[3]:find('^lg:ag:{%d+}:%d%d%d%d%d%d%d%d$') then
    return bad('keys')
end
local KW, KA = KEYS[1], KEYS[3] -- KEYS[2], the history list of the release before: not written

local now = int_arg(ARGV[2], 0, 1e11)
local today = day_arg(ARGV[3], false)
local cut = day_arg(ARGV[4], true)
local hlen = int_arg(ARGV[5], 1, 10000)
local nw = int_arg(ARGV[6], 0, 8)
if not now or not today or not cut or not hlen or not nw or #ARGV ~= 6 + 2 * nw then
    return bad('args')
end
if KA:match(':(%d+)$') ~= ARGV[3] then return bad('aggregate key') end
local levels = {}
for i = 1, nw do
    local lv, c = int_arg(ARGV[5 + 2 * i], 1, 3650), day_arg(ARGV[6 + 2 * i], true)
    if not lv or not c or (i > 1 and lv >= levels[i - 1].lv) then return bad('levels') end
    levels[i] = {lv = lv, cut = c}
end

-- ------------------------------------------------------------------ reads (no writes yet)
local all = redis.call('HGETALL', KW)
local bal, lang, blocked = nil, '', 0
local marks = {}
-- the lots: L and the l:YYYYMMDD fields of the release before (folded into L below)
local lots, lnames = lots_from_all(all)
if not lots then return corrupt('lots') end
-- A validity applies (cut > 0): the undated lot (points earned while points never expired) is
-- dated today, the first day this visit sees it (core/lua/wallet_lots.lua, lots_date): it
-- expires a full validity from now, with its warnings, never at once.
local undated = cut > 0 and #lots > 0 and lots[1].day == LOTS_UNDATED
if undated then lots = lots_date(lots, ARGV[3]) end
for i = 1, #all, 2 do
    local k, v = all[i], all[i + 1]
    local wd = k:match('^xw:(%d%d%d%d%d%d%d%d)$')
    if wd then
        marks[wd] = int_arg(v, 1, 3650) or 3650
    elseif k == 'bal' then
        bal = int_arg(v, -1e15, 1e15)
        if not bal then return corrupt('wallet') end
    elseif k == 'lang' then
        if #v <= 3 and v:find('^%l+$') then lang = v end
    elseif k == 'blocked' then
        if v == '1' then blocked = 1 end
    end
end
if bal == nil then return {0, 0, 0, 0, 0, '', 0} end

-- The excess of the lots over what the balance holds was spent from the oldest lots first.
local sum = 0
for _, lot in ipairs(lots) do sum = sum + lot.v end
local excess = sum - math.max(bal, 0)
if excess < 0 then excess = 0 end
for _, lot in ipairs(lots) do
    local gone = math.min(lot.v, excess)
    lot.held = lot.v - gone
    excess = excess - gone
end

-- ------------------------------------------------------------------ writes
local expired, del = 0, {}
local left = {}
for _, lot in ipairs(lots) do
    if lots_expired(lot, cut) then
        expired = expired + lot.held
        if marks[lot.day] then del[#del + 1] = 'xw:' .. lot.day end
    else
        left[#left + 1] = lot
    end
end
-- warning marks whose lot is gone (spent by a redemption, taken by a reversal)
local have = {}
for _, lot in ipairs(lots) do have[lot.day] = true end
for wd in pairs(marks) do
    if not have[wd] then del[#del + 1] = 'xw:' .. wd end
end
for i = 1, #del, 500 do redis.call('HDEL', KW, unpack(del, i, math.min(i + 499, #del))) end
if #left < #lots or #lnames > 0 or undated then lots_save(KW, left, lnames) end
if expired > 0 then
    bal = bal - expired
    -- the history record "expired N" in the wallet's field E (the prelude
    -- core/lua/wallet_hist.lua): kind 8, state x, 6 bytes of SHA-1("exp:<today>"), no rule.
    hist_add(KW, hist_digest('exp:' .. ARGV[3]), ARGV[3], 'EXPIRE', -expired, 0, '', hlen)
    redis.call('HSET', KW, 'bal', d(bal))
    ag_wallet(bal + expired, nil, bal, nil)
    redis.call('HINCRBY', KA, 'exp', expired)
    redis.call('HINCRBY', KA, 'n:EXPIRE', 1)
    redis.call('EXPIRE', KA, AG_DAY_TTL) -- the aggregates' block
end

local warn_pts, warn_lot, warn_level = 0, 0, 0
local reply = {}
for _, lot in ipairs(left) do
    local level = nil
    for _, l in ipairs(levels) do
        if lots_expired(lot, l.cut) then level = l.lv end
    end
    local prev = marks[lot.day]
    if level and (not prev or level < prev) then
        redis.call('HSET', KW, 'xw:' .. lot.day, d(level))
        prev = level
        if lot.held > 0 then
            warn_pts = warn_pts + lot.held
            if warn_lot == 0 then warn_lot = tonumber(lot.day) end
            if warn_level == 0 or level < warn_level then warn_level = level end
        end
    end
    reply[#reply + 1] = lot.day
    reply[#reply + 1] = prev or 0
end
local out = {expired, warn_pts, warn_lot, warn_level, bal, lang, blocked}
for _, v in ipairs(reply) do out[#out + 1] = v end
return out
