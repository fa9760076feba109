-- adjust.lua - a care agent's points adjustment (admin/adm_subscriber.c builds the arguments):
-- one script on the subscriber's slot, idempotent by the client's request id, validated before
-- its first write (Redis does not roll back a script that fails after writing).
-- Owner: the staff-console engineer.
--
-- KEYS  1 lg:{M}:w wallet   2 lg:{M}:r refs of two releases before (read)
--       3 lg:{M}:h the history list of the release before (not written)   (gw_ledger.h)
--       [4 lg:ag:{tag}:<today> 5 lg:ag:{tag}:tot: the slot's aggregates, block "aggregates"]
-- ARGV  1 request id   2 points (signed, not 0)   3 staff user   4 reason   5 now (unix s)
--       6 today YYYYMMDD (local; Lua has no time zones)   7 ref retention (s)   8 history length
-- Reply {outcome, points, before, after}: 0 applied, 1 replay of that request id (nothing
-- written; before = after = the balance now). Errors (nothing written): "LGWARG <what>",
-- "LGWDATA <what>", "LGWNOWALLET not enrolled", "LGWFUNDS <balance>" (a debit below zero),
-- "LGWBOUND <balance>" (a credit past the ledger's bound, 10^12 points: a wallet the ledger could
-- no longer read), "LGWREUSED request id" (the request id was used for a different adjustment).
--
-- The request id is remembered by the adjustment's own history record in the wallet's field E
-- (docs/data-model.md 2; the prelude core/lua/wallet_hist.lua): kind ADJUST, the digest of
-- "~adm:<id>", the points; its text "adjust by <staff>: <reason>" in the note field N. "~" is not
-- a valid event ref, and records of kind ADJUST are never taken for a ref, so no carrier ref
-- collides and no REVERSAL can take it back. commit.lua prunes it with the refs after the
-- retention window (it keeps the last history length records whatever their age). The records
-- of the release before in the field R ("~adm:<id>", state "x") and of older releases in
-- lg:{M}:r are still read.
-- Adjustments move the balance and the lots, not the lifetime points: a goodwill gesture does
-- not promote anyone to a tier. A credit goes into today's lot; a debit empties the oldest lots
-- first (the ones that expire first), so the subscriber keeps the longest-lived points.

local BAL_MAX = 1e12 -- the ledger's bound on |balance| (gateway/lua/commit.lua)

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function d(n) return string.format('%d', n) end

local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n ~= math.floor(n) or n < lo or n > hi then return nil end
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
local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
if not msisdn or #msisdn > 15 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:r'
    or KEYS[3] ~= 'lg:{' .. msisdn .. '}:h' then
    return bad('keys')
end
local KW, KR = KEYS[1], KEYS[2]

local reqid = ARGV[1]
if type(reqid) ~= 'string' or #reqid < 1 or #reqid > 64 or not reqid:find('^[%w%._:%-]+$') then
    return bad('request id')
end
local points = int_arg(ARGV[2], -1e9, 1e9)
if not points or points == 0 then return bad('points') end
local staff = ARGV[3]
if type(staff) ~= 'string' or #staff < 1 or #staff > 32 or not staff:find('^[%w%._%-]+$') then
    return bad('staff')
end
local reason = ARGV[4]
if type(reason) ~= 'string' or #reason < 1 or #reason > 200 or reason:find('[%c]') then
    return bad('reason')
end
local now = int_arg(ARGV[5], 0, 1e11)
if not now then return bad('now') end
local day = ARGV[6]
if type(day) ~= 'string' or not day:find('^%d%d%d%d%d%d%d%d$') then return bad('day') end
local retention = int_arg(ARGV[7], 1, 400 * 86400)
if not retention then return bad('retention') end
local hlen = int_arg(ARGV[8], 1, 10000)
if not hlen then return bad('history_len') end

local field = '~adm:' .. reqid
local REC, RECFMT = 15, '>c6I4c1i4'
local dg = hist_digest(field)
local w = redis.call('HMGET', KW, 'bal', 'R', 'E')
local R, E = w[2] or '', w[3] or ''
if #R % REC ~= 0 then return redis.error_reply('LGWDATA refs') end
-- an unreadable E would lose the request's record (a replay would apply again): refused
if #E % 16 ~= 0 then return redis.error_reply('LGWDATA history') end
local p0
local at = 1
while not p0 do
    at = E:find(dg, at, true)
    if not at then break end
    if (at - 1) % 16 == 0 and E:byte(at + 8) == 7 then -- kind ADJUST, at a record boundary
        p0 = struct.unpack('>i4', E, at + 10)
    end
    at = at + 1
end
for p = 1, #R, REC do
    if p0 then break end
    local g, _, st, pts = struct.unpack(RECFMT, R, p)
    if g == dg then
        if st ~= 'x' then return redis.error_reply('LGWDATA request record') end
        p0 = pts
        break
    end
end
if not p0 then
    local rec = redis.call('HGET', KR, field)
    if rec then
        p0 = rec:match('^%-?%d+,(%-?%d+),%d+,x$')
        if not p0 then return redis.error_reply('LGWDATA request record') end
        p0 = tonumber(p0)
    end
end
local bal = int_field(w[1], nil)
if p0 then
    if p0 ~= points then return redis.error_reply('LGWREUSED request id') end
    return {1, points, bal or 0, bal or 0}
end
if w[1] == false then return redis.error_reply('LGWNOWALLET not enrolled') end
if not bal or bal > BAL_MAX or bal < -BAL_MAX then return redis.error_reply('LGWDATA wallet') end
if bal + points < 0 then return redis.error_reply('LGWFUNDS ' .. d(bal)) end
if bal + points > BAL_MAX then return redis.error_reply('LGWBOUND ' .. d(bal)) end

-- Lots, read before the first write (the prelude core/lua/wallet_lots.lua): a credit adds to
-- the day's lot in L; a debit reads them all (L and the l:YYYYMMDD fields of the release before,
-- folded into L).
local lots, lnames, L
if points < 0 then
    lots, lnames = lots_from_all(redis.call('HGETALL', KW))
    if not lots then return redis.error_reply('LGWDATA lots') end
else
    L = lots_add(redis.call('HGET', KW, 'L'), day, points)
    if not L then return redis.error_reply('LGWDATA lots') end
end

-- Writes.
local before = bal
bal = bal + points
ag_wallet(before, nil, bal, nil)
ag_flow('ADJUST', points > 0 and 'adj+' or 'adj-', points > 0 and points or -points)
if points > 0 then
    redis.call('HSET', KW, 'L', L)
else
    local take = -points
    for _, lot in ipairs(lots) do
        if take == 0 then break end
        if lot.v > 0 then
            local t = math.min(lot.v, take)
            take = take - t
            lot.v = lot.v - t
        end
    end
    lots_save(KW, lots, lnames)
end
redis.call('HSET', KW, 'bal', d(bal))
hist_add(KW, dg, day, 'ADJUST', points, 0, 'adjust by ' .. staff .. ': ' .. reason, hlen)
return {0, points, before, bal}
