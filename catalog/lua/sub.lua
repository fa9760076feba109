-- sub.lua - the subscriber side of a redemption (catalog/cat_redeem.c builds the arguments).
-- Every key carries the MSISDN as hash tag, like the ledger's (gateway/lua/commit.lua), so this
-- script touches one Redis Cluster slot and never an item's stock. Idempotent by rid; everything
-- is validated and read before the first write.
--
-- KEYS 1 lg:{M}:w  wallet (bal, tier, blocked, lots L, history E and its notes N)
--      2 lg:{M}:h  the history list of the release before: checked, no longer written
--      3 lg:{M}:g  gifts: rid -> record, "n:<item>:<day>" -> redemptions of that gift day,
--                  "n:+perk:<day>" -> premium perks (the same gift to a relative) that gift day
--      [4 lg:ag:{tag}:<today> 5 lg:ag:{tag}:tot: the slot's aggregates, block "aggregates"]
-- Record "state|ts|item|price|day|version|to|code|ref|reason" (no field may hold '|': the C side
-- replaces it in the reason, the others are validated). States: P paid, Q queued, F fulfilled,
-- R refunded, T tombstone (the sweeper gave up on the rid: a late debit must refuse).
-- ARGV 1 op  DEBIT | SWEEP | QUEUED | FULFIL | REFUND | GET
--      2 rid "<msisdn>:<item>:<day>:<tag>"   3 now (unix s)   4 history length
--      5 retention of the records (s)
--   DEBIT  6 price  7 version  8 limit per gift day (0 none)  9 beneficiary ("" self)
--          10 voucher code ("" none)  11 expiry cut-off: lots dated on or before this day
--          (YYYYMMDD) are expired and never spent, "0" none (core/gw_days.h)
--          12 N allowed tiers, then N names;
--          then W window tiers (0 = every tier may redeem now), then W names;
--          then G gifting tiers, then G names
--          then, optional, "perk": the premium perk (issue 10 section 6), a second unit of a gift
--          the member just redeemed, for a relative: the price may be 0 (a configured share),
--          the limit counts perks of the gift day ("n:+perk:<day>"), not the item's redemptions
--   FULFIL 6 reference ("" none)
--   REFUND 6 reason   7 today YYYYMMDD (the lot the points come back in)
--   DEBIT and REFUND: an optional last argument "rule=<id>", the id in lg:rules of the history
--   text the C side registered ("gift ITEM (catalogue V)", "refund ITEM"); absent or 0: the
--   whole text goes to the wallet's note field N (prelude core/lua/wallet_hist.lua)
-- Replies {status, ...}; bad arguments -> error "LGWARG <what>", nothing written.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function corrupt(what) return redis.error_reply('LGWDATA ' .. what) end
local function d(n) return string.format('%d', n) end

local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n < lo or n > hi then return nil end
    return n
end
local function int_field(v, dflt)
    if v == false or v == nil then return dflt end
    return int_arg(v, -1e15, 1e15)
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

if #KEYS ~= 3 then return bad('keys') end
-- the history text's id (optional, last): taken off ARGV, so the rest sees its own
local rule = 0
if #ARGV > 1 and type(ARGV[#ARGV]) == 'string' and ARGV[#ARGV]:find('^rule=%d+$') then
    rule = tonumber(table.remove(ARGV):sub(6))
    if rule > 65535 then return bad('rule') end
end
local op, rid = ARGV[1], ARGV[2]
local msisdn, item, day
if type(rid) == 'string' and #rid <= 95 then
    msisdn, item, day = rid:match('^(%d+):([%w_%.%-]+):(%d%d%d%d%d%d%d%d):[%w_%-]+$')
end
if not msisdn or #msisdn > 15 then return bad('rid') end
local pfx = 'lg:{' .. msisdn .. '}:'
if KEYS[1] ~= pfx .. 'w' or KEYS[2] ~= pfx .. 'h' or KEYS[3] ~= pfx .. 'g' then
    return bad('keys')
end
local KW, KG = KEYS[1], KEYS[3]
local now = int_arg(ARGV[3], 0, 1e11)
if not now then return bad('now') end
local hlen = int_arg(ARGV[4], 1, 10000)
if not hlen then return bad('history_len') end
local retention = int_arg(ARGV[5], 3600, 400 * 86400)
if not retention then return bad('retention') end

local FIELDS = {'st', 'ts', 'item', 'price', 'day', 'ver', 'to', 'code', 'ref', 'reason'}
local function parse(v)
    local r, i = {}, 1
    for part in (v .. '|'):gmatch('([^|]*)|') do
        if i <= #FIELDS then r[FIELDS[i]] = part end
        i = i + 1
    end
    if i - 1 ~= #FIELDS or not r.st:find('^[PQFRT]$') or not int_arg(r.price, 0, 1e16) then
        return nil
    end
    return r
end
local function fmt(r)
    local out = {}
    for i, f in ipairs(FIELDS) do out[i] = r[f] end
    return table.concat(out, '|')
end

local cur = redis.call('HGET', KG, rid)
local rec = nil
if cur then
    rec = parse(cur)
    if not rec then return corrupt('record') end
end

-- The movement's record in the wallet's history E (docs/data-model.md 2; the prelude
-- core/lua/wallet_hist.lua): digest of the rid, the text by its id in lg:rules (base) and the
-- rest in the note field N; without an id the whole text goes to N.
local function history(kind, hday, pts, base, rest)
    local note = rule > 0 and rest or base .. rest
    hist_add(KW, hist_digest(rid), hday, kind, pts, rule, note, hlen)
end

-- Records older than the retention and limit counters of past gift days are pruned once the
-- hash grows; the EXPIRE drops a quiet subscriber's hash altogether.
local function prune()
    if redis.call('HLEN', KG) > 32 then
        local all = redis.call('HGETALL', KG)
        local old = {}
        for i = 1, #all, 2 do
            local k, v = all[i], all[i + 1]
            local cday = k:match('^n:[^:]+:(%d+)$')
            if cday then
                if cday < day then old[#old + 1] = k end
            else
                local r = parse(v)
                if r == nil or (tonumber(r.ts) or 0) < now - retention then old[#old + 1] = k end
            end
        end
        for i = 1, #old, 500 do
            redis.call('HDEL', KG, unpack(old, i, math.min(i + 499, #old)))
        end
    end
    redis.call('EXPIRE', KG, retention)
end

local function name_list(at)
    local n = int_arg(ARGV[at], 0, 16)
    if not n then return nil end
    local set = {}
    for i = 1, n do
        local s = ARGV[at + i]
        if type(s) ~= 'string' or #s < 1 or #s > 31 then return nil end
        set[s] = true
    end
    return set, n, at + n + 1
end

if op == 'GET' then
    if not rec then return {'none'} end
    return {'rec', cur}
end

if op == 'DEBIT' then
    local price = int_arg(ARGV[6], 0, 9007199254740992)
    if not price then return bad('price') end
    local ver = ARGV[7]
    if type(ver) ~= 'string' or #ver < 1 or #ver > 31 or not ver:find('^[%w_%.%-]+$') then
        return bad('version')
    end
    local limit = int_arg(ARGV[8], 0, 1e9)
    if not limit then return bad('limit') end
    local to = ARGV[9]
    if type(to) ~= 'string' or not to:find('^%d*$') or #to > 15 then return bad('to') end
    local code = ARGV[10]
    if type(code) ~= 'string' or #code > 64 or not code:find('^[%w%-]*$') then
        return bad('code')
    end
    local cut = ARGV[11]
    if cut ~= '0' and (type(cut) ~= 'string' or not cut:find('^%d%d%d%d%d%d%d%d$')) then
        return bad('cut-off')
    end
    cut = tonumber(cut)
    local allowed, na, nxt = name_list(12)
    if not allowed then return bad('tiers') end
    local window, nw
    window, nw, nxt = name_list(nxt)
    if not window then return bad('window tiers') end
    local gift, ng
    gift, ng, nxt = name_list(nxt)
    if not gift or (#ARGV ~= nxt - 1 and #ARGV ~= nxt) then return bad('gift tiers') end
    local perk = #ARGV == nxt
    if perk and (ARGV[nxt] ~= 'perk' or to == '') then return bad('perk') end
    if price == 0 and not perk then return bad('price') end

    if rec then
        if rec.st == 'T' then return {'abandoned'} end
        local b = int_field(redis.call('HGET', KW, 'bal'), 0) or 0
        return {'dup', tonumber(rec.price), b, rec.code}
    end
    local w = redis.call('HMGET', KW, 'bal', 'tier', 'blocked', 'pp')
    local bal = int_field(w[1], 0)
    if not bal then return corrupt('wallet') end
    local tier = w[2] or ''
    if w[3] == '1' then return {'blocked', bal} end
    if bal < 0 then return {'negative', bal} end
    if not allowed[tier] then return {'tier', bal} end
    -- the premium tiers' earlier opening: their members, and a make-good priority pass valid on
    -- this gift day (field pp "YYYYMMDD:<incident>", admin/lua/pass.lua)
    local pass = w[4] and tonumber(w[4]:match('^(%d%d%d%d%d%d%d%d):')) or 0
    if nw > 0 and not window[tier] and pass < tonumber(day) then return {'closed', bal} end
    if to ~= '' and (not gift[tier] or to == msisdn) then return {'gift', bal} end
    local ckey = perk and ('n:+perk:' .. day) or ('n:' .. item .. ':' .. day)
    local count = int_field(redis.call('HGET', KG, ckey), 0) or 0
    if limit > 0 and count >= limit then return {'limit', bal} end
    -- The lots, oldest first. Lots may hold more than the balance (a reversal or a debit took
    -- points they did not give back): that excess counts as spent from the oldest first, as in
    -- gateway/lua/expire.lua. Expired lots (day <= cut) keep what they still hold out of reach
    -- even before the expiry job deletes them, and are not spent from.
    -- (L and the l:YYYYMMDD fields of the release before, folded into L when spent: the prelude
    -- core/lua/wallet_lots.lua)
    local lots, lnames = lots_from_all(redis.call('HGETALL', KW))
    if not lots then return corrupt('lots') end
    local sum = 0
    for _, lot in ipairs(lots) do sum = sum + lot.v end
    local excess = math.max(sum - math.max(bal, 0), 0)
    local dead = 0
    for _, lot in ipairs(lots) do
        local gone = math.min(lot.v, excess)
        excess = excess - gone
        lot.expired = lots_expired(lot, cut) -- the undated lot never is
        if lot.expired then dead = dead + lot.v - gone end
    end
    if bal - dead < price then return {'balance', bal - dead} end

    -- Spend the oldest lots that have not expired first (the ones that expire first). A lot
    -- table that holds less than the balance (never expected) just ends empty: the balance is
    -- the truth.
    local take = price
    for _, lot in ipairs(lots) do
        if take <= 0 then break end
        if lot.v > 0 and not lot.expired then
            local t = math.min(lot.v, take)
            take = take - t
            lot.v = lot.v - t
        end
    end
    -- no cut-off: points never expire, the lots are folded (core/lua/wallet_lots.lua)
    lots_save(KW, cut == 0 and lots_fold(lots) or lots, lnames)
    ag_wallet(bal, nil, bal - price, nil)
    ag_flow('REDEEM', 'red', price)
    ag_flow('ITEM', 'rp:' .. item, price) -- per item: n:ITEM counts all, ri:<item> each
    if AGD then redis.call('HINCRBY', AGD, 'ri:' .. item, 1) end
    bal = bal - price
    redis.call('HSET', KW, 'bal', d(bal))
    redis.call('HSET', KG, rid, fmt({st = 'P', ts = d(now), item = item, price = d(price),
        day = day, ver = ver, to = to, code = code, ref = '', reason = ''}))
    redis.call('HINCRBY', KG, ckey, 1)
    history('REDEEM', day, -price, 'gift ' .. item .. ' (catalogue ' .. ver .. ')',
        to ~= '' and ' for ...' .. to:sub(-4) or '')
    prune()
    return {'paid', bal}
end

if op == 'SWEEP' then
    if rec then
        if rec.st == 'T' then return {'tomb'} end
        return {'paid', rec.st, rec.price, rec.ver, rec.to, rec.code}
    end
    redis.call('HSET', KG, rid, fmt({st = 'T', ts = d(now), item = item, price = '0', day = day,
        ver = '', to = '', code = '', ref = '', reason = 'abandoned'}))
    redis.call('EXPIRE', KG, retention)
    return {'tomb'}
end

if op == 'QUEUED' then
    if not rec or rec.st == 'T' then return {'unknown'} end
    if rec.st == 'P' then
        rec.st = 'Q'
        redis.call('HSET', KG, rid, fmt(rec))
        return {'ok'}
    end
    return {'already', rec.st}
end

if op == 'FULFIL' then
    local ref = ARGV[6]
    if type(ref) ~= 'string' or #ref > 64 or not ref:find('^[%w%._:%-]*$') then
        return bad('reference')
    end
    if not rec or rec.st == 'T' then return {'unknown'} end
    if rec.st == 'F' then return {'already'} end
    if rec.st == 'R' then return {'conflict'} end
    rec.st, rec.ref = 'F', ref
    redis.call('HSET', KG, rid, fmt(rec))
    return {'ok'}
end

if op == 'REFUND' then
    local reason, today = ARGV[6], ARGV[7]
    if type(reason) ~= 'string' or #reason > 120 or reason:find('[|%c]') then
        return bad('reason')
    end
    if type(today) ~= 'string' or not today:find('^%d%d%d%d%d%d%d%d$') then return bad('today') end
    if not rec or rec.st == 'T' then return {'unknown'} end
    if rec.st == 'R' then return {'already', rec.price} end
    if rec.st == 'F' then return {'conflict'} end
    local price = tonumber(rec.price)
    local w = redis.call('HMGET', KW, 'bal', 'L')
    local raw = w[1]
    local bal = int_field(raw, 0)
    if not bal then return corrupt('wallet') end
    local L = lots_add(w[2], today, price) -- the points come back in a lot of today
    if not L then return corrupt('lots') end
    ag_wallet(raw and bal or nil, nil, bal + price, nil)
    ag_flow('REFUND', 'rfd', price)
    bal = bal + price
    redis.call('HSET', KW, 'bal', d(bal), 'L', L)
    rec.st, rec.reason = 'R', reason
    redis.call('HSET', KG, rid, fmt(rec))
    history('REFUND', today, price, 'refund ' .. item, ': ' .. reason)
    return {'ok', rec.price, bal}
end

return bad('op')
