-- commit.lua - the ledger's commit: one event, one script, atomic (gw_ledger.c builds the
-- arguments; gw_ledger.h lists the keys). Everything is read and validated BEFORE the first write:
-- Redis does not roll back a script that fails after writing.
--
-- KEYS  1 lg:{M}:w wallet hash   2 lg:{M}:r refs hash   3 lg:{M}:h history list
--       4 (optional, earnings only) lg:xd:{tag}:<YYYYMMDD>: the expiry due set of the day the
--         new lot needs its first action (gw_expiry.h; the caller computes day and slot tag)
-- ARGV  1 op: "E" earn (TOPUP/BILL/USAGE) or "R" reversal
--       2 ref    3 kind name (for history)    4 now (unix s)    5 at (event time, unix s)
--       6 day: YYYYMMDD, the event's local day (the gateway computes it; Lua has no time zones)
--       7 milli-points earned before the tier multiplier ("0" for R)
--       8 daily cap in points (0 = none)    9 ref retention (s)    10 history length
--       11 rule text    12 orig ref (R) or ""    13 number of tiers N
--       14 .. 13+3N: N triples (name, lifetime minimum, multiplier %), ascending minimums from 0
-- Reply {outcome, points, balance, capped, tier, enrolled}; outcome 0 credited, 1 duplicate,
-- 2 reversed, 3 reversal no-op. Bad arguments: error "LGWARG <what>"; unreadable stored data:
-- "LGWDATA <what>". Either way nothing was written.
--
-- Numbers: Lua numbers are doubles, exact for integers below 2^53. Every input is bounded so
-- that all products stay far below that, and every number is written with %d, never with
-- tostring/.. (which use %.14g and would print large values in exponent form).

local PRUNE_AT = 16 -- refs kept before old ones are pruned (see prune())

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function corrupt(what) return redis.error_reply('LGWDATA ' .. what) end
local function d(n) return string.format('%d', n) end

-- An integer argument: optional minus and digits only (tonumber alone accepts "0x10", "1e3",
-- " 5"), within [lo, hi].
local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n ~= math.floor(n) or n < lo or n > hi then return nil end
    return n
end

-- A stored integer (false when the field is absent -> dflt).
local function int_field(v, dflt)
    if v == false or v == nil then return dflt end
    return int_arg(v, -1e15, 1e15)
end

local function valid_ref(s)
    return type(s) == 'string' and #s >= 1 and #s <= 64 and s:find('^[%w%._:%-]+$') ~= nil
end

local function valid_day(s)
    if type(s) ~= 'string' or not s:find('^%d%d%d%d%d%d%d%d$') then return false end
    local m, dd = tonumber(s:sub(5, 6)), tonumber(s:sub(7, 8))
    return m >= 1 and m <= 12 and dd >= 1 and dd <= 31
end

-- "at,points,day,state" -> at, points, day, state (nil if unreadable)
local function parse_rec(s)
    local a, p, dy, st = s:match('^(%-?%d+),(%-?%d+),(%d+),([crx])$')
    if not a then return nil end
    return tonumber(a), tonumber(p), dy, st
end

-- ------------------------------------------------------------------ validation (no writes)
if #KEYS ~= 3 and #KEYS ~= 4 then return bad('keys') end
local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
if not msisdn or #msisdn > 15 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:r'
    or KEYS[3] ~= 'lg:{' .. msisdn .. '}:h' then
    return bad('keys')
end
local KD = KEYS[4]
local due = KD and KD:match('^lg:xd:{%d+}:(%d%d%d%d%d%d%d%d)$')
if KD and not due then return bad('keys') end
local KW, KR, KH = KEYS[1], KEYS[2], KEYS[3]

local op = ARGV[1]
if op ~= 'E' and op ~= 'R' then return bad('op') end
local ref = ARGV[2]
if not valid_ref(ref) then return bad('ref') end
local kind = ARGV[3]
if type(kind) ~= 'string' or not kind:find('^[%u%d_]+$') or #kind > 16 then return bad('kind') end
local now = int_arg(ARGV[4], 0, 1e11)
if not now then return bad('now') end
local at = int_arg(ARGV[5], 0, 1e11)
if not at then return bad('at') end
local day = ARGV[6]
if not valid_day(day) then return bad('day') end
local dayn = tonumber(day)
-- milli * pct <= 1e11 * 1e4 = 1e15 < 2^53, and floor(x / 100) is exact in that range
local milli = int_arg(ARGV[7], 0, 1e11)
if not milli or (op == 'R' and milli ~= 0) then return bad('milli') end
local cap = int_arg(ARGV[8], 0, 1e12)
if not cap then return bad('cap') end
local retention = int_arg(ARGV[9], 1, 400 * 86400)
if not retention then return bad('retention') end
local hlen = int_arg(ARGV[10], 1, 10000)
if not hlen then return bad('history_len') end
local rule = ARGV[11]
if type(rule) ~= 'string' or #rule > 200 or rule:find('[%c]') then return bad('rule') end
local orig = ARGV[12]
if op == 'R' then
    if not valid_ref(orig) then return bad('orig') end
elseif orig ~= '' then
    return bad('orig')
end
local ntiers = int_arg(ARGV[13], 1, 8)
if not ntiers or #ARGV ~= 13 + 3 * ntiers then return bad('tiers') end
local tiers = {}
for i = 1, ntiers do
    local name = ARGV[11 + 3 * i]
    local min = int_arg(ARGV[12 + 3 * i], 0, 1e15)
    local pct = int_arg(ARGV[13 + 3 * i], 0, 10000)
    if type(name) ~= 'string' or #name < 1 or #name > 31 or name:find('[,|%c]') then
        return bad('tier name')
    end
    if not min or not pct then return bad('tier numbers') end
    if (i == 1 and min ~= 0) or (i > 1 and min <= tiers[i - 1].min) then
        return bad('tier order')
    end
    tiers[i] = {name = name, min = min, pct = pct}
end

local function tier_by_life(life)
    local t = tiers[1]
    for i = 2, ntiers do
        if life >= tiers[i].min then t = tiers[i] end
    end
    return t
end

local function tier_by_name(name)
    for i = 1, ntiers do
        if tiers[i].name == name then return tiers[i] end
    end
    return nil
end

-- ------------------------------------------------------------------ reads (still no writes)
local existing = redis.call('HGET', KR, ref)
local w = redis.call('HMGET', KW, 'bal', 'life', 'rem', 'tier', 'since', 'cday', 'cpts')
local enrolled = (w[1] == false)
local bal, life, rem = int_field(w[1], 0), int_field(w[2], 0), int_field(w[3], 0)
local cday, cpts = int_field(w[6], 0), int_field(w[7], 0)
if not bal or not life or not rem or rem < 0 or rem > 999 or not cday or not cpts then
    return corrupt('wallet')
end
local tier = w[4]
if tier == false then tier = enrolled and tiers[1].name or tier_by_life(life).name end

if existing then
    -- Redelivery of a committed ref: answer what it did, change nothing.
    local _, p0 = parse_rec(existing)
    if not p0 then return corrupt('ref record') end
    return {1, p0, bal, 0, enrolled and '' or tier, 0}
end

-- ------------------------------------------------------------------ writes
local function history(sign_points, note)
    redis.call('LPUSH', KH, d(at) .. '|' .. kind .. '|' .. ref .. '|' .. sign_points .. '|'
        .. d(bal) .. '|' .. note)
    redis.call('LTRIM', KH, 0, hlen - 1)
end

-- Refs are kept for the retention window (>= the oldest event the gateway accepts, so every
-- accepted redelivery is still caught). Pruning reads the whole hash, so it only runs once the
-- hash holds more than PRUNE_AT refs; the EXPIRE drops a quiet subscriber's refs altogether.
local function prune()
    if redis.call('HLEN', KR) > PRUNE_AT then
        local all = redis.call('HGETALL', KR)
        local old = {}
        local limit = now - retention
        for i = 1, #all, 2 do
            local a = parse_rec(all[i + 1])
            if a == nil or a < limit then old[#old + 1] = all[i] end
        end
        for i = 1, #old, 500 do
            redis.call('HDEL', KR, unpack(old, i, math.min(i + 499, #old)))
        end
    end
    redis.call('EXPIREAT', KR, now + retention)
end

local function tier_note(before, after)
    if before ~= after then return '; tier ' .. before .. ' -> ' .. after end
    return ''
end

if op == 'E' then
    local cur = tier_by_name(tier) or tier_by_life(life)
    local total = rem + math.floor(milli * cur.pct / 100)
    local points = math.floor(total / 1000)
    rem = total - points * 1000
    -- Daily cap by the event's local day. A late event for an earlier day than the one tracked
    -- counts against what that day's lot still holds (the per-day count is not kept).
    local used, newday = 0, true
    if dayn == cday then
        used, newday = cpts, true
    elseif dayn < cday then
        used = int_field(redis.call('HGET', KW, 'l:' .. day), 0) or 0
        newday = false
    end
    if dayn > cday then cpts = 0 end
    local credited, capped = points, 0
    if cap > 0 then
        local room = cap - used
        if room < 0 then room = 0 end
        if credited > room then credited = room end
        capped = points - credited
    end
    bal = bal + credited
    life = life + credited
    local newtier = tier_by_life(life).name
    local fields = {'bal', d(bal), 'life', d(life), 'rem', d(rem), 'tier', newtier}
    if enrolled then
        fields[#fields + 1] = 'since'
        fields[#fields + 1] = d(now)
    end
    if newday then
        fields[#fields + 1] = 'cday'
        fields[#fields + 1] = day
        fields[#fields + 1] = 'cpts'
        fields[#fields + 1] = d(cpts + credited)
    end
    redis.call('HSET', KW, unpack(fields))
    if credited > 0 then
        redis.call('HINCRBY', KW, 'l:' .. day, credited)
        -- Expiry due index (gw_expiry.h): the subscriber is indexed under "xd"; a lot needing
        -- action earlier moves it there too (the job's REINDEX tidies the later set).
        if KD then
            local xd = redis.call('HGET', KW, 'xd')
            if not xd or xd > due then
                redis.call('SADD', KD, msisdn)
                redis.call('HSET', KW, 'xd', due)
            end
        end
    end
    redis.call('HSET', KR, ref, d(at) .. ',' .. d(credited) .. ',' .. day .. ',c')
    local note = rule
    if cur.pct ~= 100 then note = note .. '; tier ' .. cur.name .. ' x' .. d(cur.pct) .. '%' end
    if capped > 0 then note = note .. '; daily cap: ' .. d(capped) .. ' forfeited' end
    note = note .. tier_note(tier, newtier)
    if enrolled then note = note .. '; enrolled' end
    history('+' .. d(credited), note)
    prune()
    return {0, credited, bal, capped, newtier, enrolled and 1 or 0}
end

-- op == 'R'
local orec = redis.call('HGET', KR, orig)
local oat, opts, oday, ostate
if orec then
    oat, opts, oday, ostate = parse_rec(orec)
    if not oat or opts < 0 then return corrupt('orig record') end
end
if not orec or ostate ~= 'c' then
    -- Unknown, already reversed, or itself a reversal: acknowledged and recorded, no effect.
    redis.call('HSET', KR, ref, d(at) .. ',0,' .. day .. ',x')
    local why = 'unknown'
    if ostate == 'r' then why = 'already reversed' elseif ostate == 'x' then why = 'a reversal' end
    history('0', 'reversal of ' .. orig .. ': ' .. why .. ', no effect')
    prune()
    return {3, 0, bal, 0, enrolled and '' or tier, 0}
end

-- Take back exactly orig's points: from its own lot first, then from the newest lots; what the
-- lots no longer hold (redeemed) just shows as a negative balance. No lot ever goes negative.
local lots = {}
local all = redis.call('HGETALL', KW)
for i = 1, #all, 2 do
    local ld = all[i]:match('^l:(%d+)$')
    if ld then
        local v = int_field(all[i + 1], 0)
        if not v then return corrupt('lot') end
        lots[#lots + 1] = {day = ld, v = v, old = v}
    end
end
table.sort(lots, function(a, b) return a.day > b.day end)
local take = opts
for _, lot in ipairs(lots) do
    if lot.day == oday and take > 0 and lot.v > 0 then
        local t = math.min(lot.v, take)
        lot.v, take = lot.v - t, take - t
    end
end
for _, lot in ipairs(lots) do
    if take > 0 and lot.v > 0 then
        local t = math.min(lot.v, take)
        lot.v, take = lot.v - t, take - t
    end
end
for _, lot in ipairs(lots) do
    if lot.v ~= lot.old then
        if lot.v <= 0 then
            redis.call('HDEL', KW, 'l:' .. lot.day)
        else
            redis.call('HSET', KW, 'l:' .. lot.day, d(lot.v))
        end
    end
end
bal = bal - opts
life = life - opts
if life < 0 then life = 0 end
local newtier = tier_by_life(life).name
local fields = {'bal', d(bal), 'life', d(life), 'tier', newtier}
if enrolled then
    fields[#fields + 1] = 'since'
    fields[#fields + 1] = d(now)
end
redis.call('HSET', KW, unpack(fields))
redis.call('HSET', KR, orig, d(oat) .. ',' .. d(opts) .. ',' .. oday .. ',r')
redis.call('HSET', KR, ref, d(at) .. ',' .. d(opts) .. ',' .. oday .. ',x')
history('-' .. d(opts), 'reversal of ' .. orig .. tier_note(tier, newtier))
prune()
return {2, opts, bal, 0, newtier, 0}
