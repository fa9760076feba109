-- campaign.lua - the automatic campaign rules' writes (issue 10 section 1; gateway/gw_campaign_run.c
-- builds the arguments, docs/campaigns.md has the decisions). Kept apart from commit.lua on
-- purpose: the ledger's commit stays the ledger's; a bonus is a second movement of the same wallet,
-- run right after the event's commit and before the event is answered, so a crash between the two
-- is mended by the redelivery (the commit answers "duplicate", this script runs again and every
-- rule is once-only by its own marker in the wallet).
--
-- Everything is read and validated before the first write.
--
-- op EVENT (after an earning event's commit)
--   KEYS  1 lg:{M}:w   2 lg:{M}:h   3 lg:cb:{cmp} the campaigns' budgets and counters (one Redis
--         only: the budget moves in the same script as the credit; see docs/campaigns.md for a
--         cluster)   4 (optional) lg:cw:{tag}:<YYYYMMDD> the win-back due set this TOPUP puts the
--         subscriber in (the day it lapses; the tag is the subscriber's slot's)
--   ARGV  1 "EVENT"  2 now (unix s)  3 day: the event's local day YYYYMMDD  4 kind  5 ref
--         6 history length  7 the zone's UTC offset now (s)  8 N campaigns, then N x 7:
--         id, rule (welcome|tenure|winback|referral), points, tier variants ("gold=80,silver=60"
--         or ""), budget, parameter (welcome: its start day; tenure: "1,3,5"; winback: "";
--         referral: "<valid days>,<min amount milli>,<this event's amount milli>"), label
--   Reply: a flat list of grants {id, points, outcome} (outcome "ok" credited, "budget" refused
--         by the hard stop; {id, referrer MSISDN, "refer"}: a referral whose referrer is still to
--         be paid by REFPAY), then the balance as the last element. A referral reads the record
--         lg:{M}:rf (on the wallet's slot: the hash tag is the referee's).
--   A Redis Cluster (gateway/gw_campaign_cl.c; docs/campaigns.md "Redis Cluster"): KEYS without
--         lg:cb:{cmp} (another slot) and one more argument, the step: "PLAN" (nothing written;
--         reply {id, rule, rkey, points to reserve} per grant) or
--         "PAY|<id>=<ok|budget>:<rkey>:<points>..." (the outcomes of campaign_budget.lua RESERVE:
--         "ok" is credited, never more than the points reserved, "budget" settled as the
--         hard stop, a grant not reserved answers {id, points, "unreserved"} and is left to the
--         redelivery; a reservation no longer granted answers {id, rkey, "void"} once settled
--         unpaid here, or {id, rkey, "done"} when its marker settled it already). The budget's
--         counters are the reservation's, not moved here.
-- op OFFER (the daily win-back job, one due subscriber)
--   KEYS  1 lg:{M}:w   2 lg:cb:{cmp} (a cluster: absent, the caller counts <id>:offered)
--   ARGV  1 "OFFER"  2 now  3 id  4 min recharges  5 lapse days  6 offer valid until YYYYMMDD
--   Reply {1, lang, tier} offered, {0, why} not (why: "gone", "blocked", "recharges", "recent",
--         "offered").
-- op PREVIEW: as OFFER, read-only: {1, tier} would be offered, {0, why}.
-- op BDAY (the daily birthday pass, one member of a month-day set): as EVENT, with KEYS 1-3 (and
--   the aggregates), kind "BIRTHDAY", day = today (the lot's), and one campaign of rule
--   "birthday" whose parameter is the day D it is paid for (today or a catch-up day): paid when
--   the wallet's birth date `bd` is celebrated on D (29 February: 28 February in common years)
--   and its marker c:<id> is not year(D) yet (once a year); not to a blocked wallet. Reply as
--   EVENT's, then the wallet's language (the greeting's).
-- op BDSET (loyaltyctl birthday-import, one CSV record)
--   KEYS  1 lg:{M}:w   2 lg:bd:{tag}:<MMDD> the month-day set of the birth date (the wallet's
--         slot's tag; the set of a previous date, same slot, is left)
--   ARGV  1 "BDSET"  2 now  3 the birth date YYYYMMDD
--   Reply {"new"|"same"|"changed"|"nomember", previous date or ""}: a re-import changes nothing;
--         only members (a wallet with a balance) are indexed.
--
-- Wallet fields (docs/data-model.md, "campaign state"): c:<id> the rule's marker (welcome "1", or
-- "0" when the hard stop refused it; tenure the last anniversary settled; winback the day of the
-- last bonus; a bonus refused by the hard stop settles its marker too, it is not paid later), wo the open win-back offer
-- "<id>,<until YYYYMMDD>,<rl when offered>", cwd the win-back due day the subscriber is indexed
-- under. Budget hash fields: <id>:spent, <id>:n (grants), <id>:stop (refused by the hard stop),
-- <id>:offered, <id>:back (win-back funnel).

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function d(n) return string.format('%d', n) end

local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n < lo or n > hi then return nil end
    return n
end

local function valid_day(s)
    if type(s) ~= 'string' or not s:find('^%d%d%d%d%d%d%d%d$') then return false end
    local m, dd = tonumber(s:sub(5, 6)), tonumber(s:sub(7, 8))
    return m >= 1 and m <= 12 and dd >= 1 and dd <= 31
end

-- ymd() and days(): the local-day arithmetic of the prelude core/lua/wallet_lots.lua

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

local op = ARGV[1]
if #KEYS < 1 then return bad('keys') end
local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
if not msisdn or #msisdn > 15 then return bad('keys') end
local KW = KEYS[1]
local now = int_arg(ARGV[2], 0, 1e11)
if not now then return bad('now') end

if op == 'OFFER' or op == 'PREVIEW' then
    -- a cluster: KEYS 1 only, the caller counts <id>:offered on {cmp} after the reply
    if #KEYS > 2 or (#KEYS == 2 and KEYS[2] ~= 'lg:cb:{cmp}') then return bad('keys') end
    local id, minrc, lapse = ARGV[3], int_arg(ARGV[4], 1, 1000), int_arg(ARGV[5], 1, 1000)
    local until_day = ARGV[6]
    if type(id) ~= 'string' or not id:find('^[%w_%-]+$') or #id > 24 then return bad('id') end
    if not minrc or not lapse or not valid_day(until_day) then return bad('offer') end
    local w = redis.call('HMGET', KW, 'bal', 'rc', 'rl', 'wo', 'blocked', 'lang', 'tier')
    if not w[1] then return {0, 'gone'} end
    if w[5] == '1' then return {0, 'blocked'} end
    local rc = tonumber(w[2] or '0') or 0
    if rc < minrc then return {0, 'recharges'} end
    local rl = tonumber(w[3] or '')
    if not rl or rl > now - lapse * 86400 then return {0, 'recent'} end
    if w[4] then
        -- one offer per lapse: an offer made since the last recharge stands (or lapsed unused)
        local _, _, orl = w[4]:match('^([^,]+),(%d+),(%d+)$')
        if orl and tonumber(orl) == rl then return {0, 'offered'} end
    end
    if op == 'PREVIEW' then return {1, w[7] or ''} end
    redis.call('HSET', KW, 'wo', id .. ',' .. until_day .. ',' .. d(rl))
    if KEYS[2] then redis.call('HINCRBY', KEYS[2], id .. ':offered', 1) end
    return {1, w[6] or '', w[7] or ''}
end

if op == 'BDSET' then
    if #KEYS ~= 2 then return bad('keys') end
    local md = KEYS[2]:match('^lg:bd:{%d+}:(%d%d%d%d)$')
    local bd = ARGV[3]
    if not md or not valid_day(bd) or bd:sub(5, 8) ~= md then return bad('birth date') end
    local w = redis.call('HMGET', KW, 'bal', 'bd')
    if not w[1] then return {'nomember', ''} end
    if w[2] == bd then
        redis.call('SADD', KEYS[2], msisdn) -- mends an index write lost with a failover
        return {'same', bd}
    end
    if w[2] and valid_day(w[2]) then
        redis.call('SREM', KEYS[2]:sub(1, #KEYS[2] - 4) .. w[2]:sub(5, 8), msisdn)
    end
    redis.call('HSET', KW, 'bd', bd)
    redis.call('SADD', KEYS[2], msisdn)
    return {w[2] and 'changed' or 'new', w[2] or ''}
end


-- op REFPAY (the referrer's half of a referral bonus, after EVENT credited the referee and left
-- its record "due"; one Redis, docs/campaigns.md "Referral"; a cluster: REFCREDIT then REFDONE)
--   KEYS  1 lg:{A}:w   2 lg:{A}:h   3 lg:{B}:rf (+ A's slot aggregates)
--   ARGV  1 "REFPAY"  2 now  3 day YYYYMMDD  4 campaign id  5 points  6 label  7 history length
--   Reply {"paid"|"done"|"skipped", balance}: paid once (the record turns "paid" in the same
--   script); "done" when it was already; "skipped" when the referrer is gone or blocked.
-- the referrer's credit (REFPAY, REFCREDIT): KEYS[2] its history
local function ref_bad()
    if not valid_day(ARGV[3]) or not int_arg(ARGV[5], 1, 1e6) or not int_arg(ARGV[7], 1, 10000) then
        return bad('numbers')
    end
    local id, label = ARGV[4], ARGV[6]
    if type(id) ~= 'string' or not id:find('^[%w_%-]+$') or #id > 24 then return bad('id') end
    if type(label) ~= 'string' or #label > 64 or label:find('[%c|]') then return bad('label') end
    return nil
end
local function ref_credit(b)
    local day, id, pts, label = ARGV[3], ARGV[4], int_arg(ARGV[5], 1, 1e6), ARGV[6]
    local hlen = int_arg(ARGV[7], 1, 10000)
    local w = redis.call('HMGET', KW, 'bal', 'life', 'blocked', 'L')
    local bal, life = tonumber(w[1] or ''), tonumber(w[2] or '0')
    if not bal or w[3] == '1' then return {'skipped', ''} end
    local L = lots_add(w[4], day, pts) -- a lot of the day (the prelude core/lua/wallet_lots.lua)
    if not L then return redis.error_reply('LGWDATA lots') end
    redis.call('HSET', KW, 'bal', d(bal + pts), 'life', d(life + pts), 'L', L)
    ag_flow('BONUS', 'iss:BONUS:' .. id, pts)
    ag_wallet(bal, nil, bal + pts, nil)
    -- the history record (wallet field E) and its text (field N): core/lua/wallet_hist.lua
    hist_add(KW, hist_digest('cmp:' .. id .. ':' .. b), day, 'BONUS', pts, 0,
        'campaign ' .. id .. ': ' .. label .. '; referred ' .. b, hlen)
    return {'paid', d(bal + pts)}
end

if op == 'REFPAY' then
    if #KEYS ~= 3 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:h' or
        not KEYS[3]:find('^lg:{%d+}:rf$') then
        return bad('keys')
    end
    if ref_bad() then return ref_bad() end
    local rf = redis.call('HMGET', KEYS[3], 'by', 'st')
    if rf[1] ~= msisdn or rf[2] ~= 'due' then return {'done', ''} end
    if not lots_decode(redis.call('HGET', KW, 'L')) then return redis.error_reply('LGWDATA lots') end
    redis.call('HSET', KEYS[3], 'st', 'paid')
    redis.call('EXPIRE', KEYS[3], 7 * 86400)
    return ref_credit(KEYS[3]:match('^lg:{(%d+)}:rf$'))
end

if op == 'REFCREDIT' then
    local b = ARGV[8]
    if #KEYS ~= 2 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:h' or type(b) ~= 'string' or
        not b:find('^%d+$') or #b > 15 or not valid_day(ARGV[3]) then
        return bad('keys')
    end
    if ref_bad() then return ref_bad() end
    local keep, seen = {}, false
    local cut = days(tonumber(ARGV[3])) - 40
    for e, dd in (redis.call('HGET', KW, 'rp') or ''):gmatch('(%d+):(%d+)') do
        if e == b then seen = true end
        if valid_day(dd) and days(tonumber(dd)) >= cut then keep[#keep + 1] = e .. ':' .. dd end
    end
    if seen then return {'done', ''} end
    local r = ref_credit(b)
    if type(r) == 'table' and r[1] == 'paid' then
        keep[#keep + 1] = b .. ':' .. ARGV[3]
        redis.call('HSET', KW, 'rp', table.concat(keep, ';'))
    end
    return r
end

-- Redis Cluster: the budget lg:cb:{cmp} is on another slot (docs/campaigns.md "Redis Cluster").
-- Per rule, the reservation key of a grant (rkey) and whether the wallet's marker already settled
-- it (paid, or refused/voided: it can never be paid again); void settles it unpaid. A reservation
-- is released only after its void (or its settled marker) is written here, on the wallet's slot:
-- a late PAY then finds it settled and pays nothing, so a release never lets the budget overspend.
local function cl_settled(rule, id, rkey, wv)
    local m = redis.call('HGET', KW, 'c:' .. id)
    if rule == 'winback' then
        local o = wv or redis.call('HGET', KW, 'wo')
        local oid, orl = (o or ''):match('^([^,]+),%d+,(%d+)$')
        return not (oid == id and 'o' .. orl == rkey)
    elseif rule == 'tenure' or rule == 'birthday' then
        local y = tonumber((rkey:match('^(%d+)')))
        return y ~= nil and tonumber(m or '0') ~= nil and tonumber(m or '0') >= y
    end
    return m ~= false and m ~= nil -- welcome, referral: any marker settles
end
local function cl_void(rule, id, rkey)
    if cl_settled(rule, id, rkey) then return 'done' end
    if rule == 'winback' then
        redis.call('HDEL', KW, 'wo')
    elseif rule == 'tenure' or rule == 'birthday' then
        redis.call('HSET', KW, 'c:' .. id, rkey:match('^(%d+)'))
    else
        redis.call('HSET', KW, 'c:' .. id, '0')
        if rule == 'referral' then
            local kr = 'lg:{' .. msisdn .. '}:rf'
            if redis.call('HGET', kr, 'st') == 'open' then redis.call('HSET', kr, 'st', 'stop') end
        end
    end
    return 'void'
end

-- op VOID (cluster, the reservations' sweeper: a reservation older than the timeout, whose event
-- never came back): KEYS 1 lg:{M}:w   ARGV 1 "VOID" 2 now 3 rule 4 id 5 rkey
--   Reply {"done"} the marker settled it already (paid: the reservation is consumed), {"void"} it
--   is settled unpaid now (the reservation may be released), {"due", referrer} a referral whose
--   referee was paid and whose referrer is still to pay (REFCREDIT, then REFDONE).
if op == 'VOID' then
    local rule, id, rkey = ARGV[3], ARGV[4], ARGV[5]
    if #KEYS ~= 1 or type(id) ~= 'string' or not id:find('^[%w_%-]+$') or type(rkey) ~= 'string'
        or not rkey:find('^[%w]+$') then
        return bad('void')
    end
    if rule == 'referral' then
        local rf = redis.call('HMGET', 'lg:{' .. msisdn .. '}:rf', 'by', 'st')
        if rf[2] == 'due' and rf[1] then return {'due', rf[1]} end
    end
    return {cl_void(rule, id, rkey)}
end

-- op REFCREDIT (cluster: the referrer's half on the referrer's slot; idempotent by the wallet's
-- field rp, "<referee>:<YYYYMMDD>;..." of the last 40 days, as a transfer's credit by its tid)
--   KEYS  1 lg:{A}:w   2 lg:{A}:h (+ A's slot aggregates)
--   ARGV  1 "REFCREDIT"  2 now  3 day  4 id  5 points  6 label  7 history length  8 referee B
--   Reply {"paid"|"done"|"skipped", balance}
-- op REFDONE (cluster: then on the referee's slot): KEYS 1 lg:{B}:w  2 lg:{B}:rf
--   ARGV 1 "REFDONE" 2 now: "due" -> "paid" (kept 7 days). Reply {"paid"|"done"}.
if op == 'REFDONE' then
    if #KEYS ~= 2 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:rf' then return bad('keys') end
    if redis.call('HGET', KEYS[2], 'st') ~= 'due' then return {'done'} end
    redis.call('HSET', KEYS[2], 'st', 'paid')
    redis.call('EXPIRE', KEYS[2], 7 * 86400)
    return {'paid'}
end

if op ~= 'EVENT' and op ~= 'BDAY' and op ~= 'REFCREDIT' then return bad('op') end
if #KEYS < 2 or #KEYS > 4 or KEYS[2] ~= 'lg:{' .. msisdn .. '}:h' then return bad('keys') end
local KB = KEYS[3] == 'lg:cb:{cmp}' and KEYS[3] or nil -- nil: a cluster, two steps
local KD, due
local kd = KB and 4 or 3
if #KEYS >= kd then
    due = KEYS[kd]:match('^lg:cw:{%d+}:(%d%d%d%d%d%d%d%d)$')
    if not due or #KEYS > kd then return bad('keys') end
    KD = KEYS[kd]
end
local day = ARGV[3]
if not valid_day(day) then return bad('day') end
local kind, ref = ARGV[4], ARGV[5]
if type(kind) ~= 'string' or not kind:find('^[%u]+$') or #kind > 16 then return bad('kind') end
if type(ref) ~= 'string' or #ref < 1 or #ref > 64 or not ref:find('^[%w%._:%-]+$') then
    return bad('ref')
end
local hlen = int_arg(ARGV[6], 1, 10000)
local off = int_arg(ARGV[7], -86400, 86400)
local n = int_arg(ARGV[8], 0, 16)
if not hlen or not off or not n or #ARGV ~= 8 + 7 * n + (KB and 0 or 1) then
    return bad('campaigns')
end
-- a cluster (no KB): the last argument is the step, "PLAN" (read only: the grants to reserve) or
-- "PAY|<id>=<ok|budget>:<rkey>:<points>..." (the reservations' outcomes, keys and points,
-- docs/campaigns.md "Redis Cluster")
local plan, res, rkeys, rpts = false, nil, {}, {}
if not KB then
    local step = ARGV[#ARGV]
    if step == 'PLAN' then
        plan = true
    elseif type(step) == 'string' and step:sub(1, 3) == 'PAY' and #step <= 2000 then
        res = {}
        for id, oc, rk, rp in step:gmatch('|([%w_%-]+)=(%a+):(%w+):(%d+)') do
            res[id], rkeys[id], rpts[id] = oc, rk, tonumber(rp)
        end
    else
        return bad('step')
    end
end
local camps = {}
for i = 1, n do
    local b = 8 + 7 * (i - 1)
    local c = {id = ARGV[b + 1], rule = ARGV[b + 2], points = int_arg(ARGV[b + 3], 0, 1e6),
        tiers = ARGV[b + 4], budget = int_arg(ARGV[b + 5], 1, 1e12), param = ARGV[b + 6],
        label = ARGV[b + 7]}
    if type(c.id) ~= 'string' or not c.id:find('^[%w_%-]+$') or #c.id > 24 then return bad('id') end
    if c.rule ~= 'welcome' and c.rule ~= 'tenure' and c.rule ~= 'winback' and
        c.rule ~= 'birthday' and c.rule ~= 'referral' then
        return bad('rule')
    end
    if not c.points or not c.budget or type(c.tiers) ~= 'string' or #c.tiers > 400 then
        return bad('numbers')
    end
    if type(c.label) ~= 'string' or #c.label > 64 or c.label:find('[%c|]') then
        return bad('label')
    end
    camps[i] = c
end

-- ------------------------------------------------------------------ reads
local w = redis.call('HMGET', KW, 'bal', 'life', 'since', 'tier', 'wo', 'cwd', 'rl', 'bd',
    'blocked', 'lang', 'rc', 'L')
if not w[1] then return {d(0)} end -- no wallet: the commit did not enrol (nothing to do)
if op == 'BDAY' and w[9] == '1' then return {w[1]} end
local bal, life, since = tonumber(w[1]), tonumber(w[2] or '0'), tonumber(w[3] or '')
if not bal or not life then return redis.error_reply('LGWDATA wallet') end
-- the lots (field L, the prelude core/lua/wallet_lots.lua) a bonus is credited to
if not lots_decode(w[12]) then return redis.error_reply('LGWDATA lots') end
local tier = w[4] or ''
local dayn = tonumber(day)

local function points_of(c)
    for name, p in c.tiers:gmatch('([^,=]+)=(%d+)') do
        if name == tier then return tonumber(p) end
    end
    return c.points
end

-- The enrolment's local day and the anniversaries completed by the event's day (29 February: the
-- anniversary falls on 1 March in other years, docs/campaigns.md).
local sday = since and ymd(math.floor((since + off) / 86400)) or nil
local function years_done()
    if not sday then return 0 end
    local y = math.floor(dayn / 10000) - math.floor(sday / 10000)
    if dayn % 10000 < sday % 10000 then y = y - 1 end
    return y
end

-- Each campaign: what it would grant (0 = nothing) and the marker it leaves.
local grants = {}
local offer_id, offer_until, offer_drop
if w[5] then
    local oid, ountil = w[5]:match('^([^,]+),(%d+),%d+$')
    offer_id, offer_until = oid, tonumber(ountil or '0')
end
local markers = {}
local refer_by, refer_ch, refer_due -- referral: the referrer of a grant now / of one still to pay
for i, c in ipairs(camps) do
    markers[i] = 'c:' .. c.id
end
local mv = #camps > 0 and redis.call('HMGET', KW, unpack(markers)) or {}
for i, c in ipairs(camps) do
    local mark, period
    if c.rule == 'welcome' then
        if not mv[i] and sday and valid_day(c.param) and sday >= tonumber(c.param) then
            -- c:<id> "1" paid, "0" refused by the hard stop
            mark, period = '1', 'welcome'
        end
    elseif c.rule == 'tenure' then
        local done, last = years_done(), tonumber(mv[i] or '0') or 0
        local best
        for y in c.param:gmatch('(%d+)') do
            y = tonumber(y)
            if y <= done and y > last then best = y end
        end
        if best then mark, period = d(best), d(best) .. 'y' end
    elseif c.rule == 'birthday' and op == 'BDAY' then
        -- paid for day D (its parameter) when the birth date is celebrated on D, once a year
        local on, bd = tonumber(c.param or ''), tonumber(w[8] or '')
        if on and valid_day(c.param) and bd and valid_day(w[8]) then
            local y = math.floor(on / 10000)
            local md = bd % 10000
            if md == 229 and not ((y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0) then md = 228 end
            if y * 10000 + md == on and mv[i] ~= d(y) then mark, period = d(y), d(y) end
        end
    elseif c.rule == 'referral' and kind == 'TOPUP' then
        -- the referee's first recharge (rc 1: the commit counted it) of at least the minimum,
        -- within D days of the referral: the referee here, the referrer by REFPAY (the reply
        -- names it; a redelivery finds the record still "due" and names it again)
        local vd, mina, amt = c.param:match('^(%d+),(%d+),(%d+)$')
        local rf = redis.call('HMGET', 'lg:{' .. msisdn .. '}:rf', 'by', 'day', 'st', 'ch')
        if not mv[i] and vd and rf[1] and rf[3] == 'open' and valid_day(rf[2] or '') and
            w[9] ~= '1' then
            local rday = tonumber(rf[2])
            local first = tonumber(w[11] or '0') == 1
            local within = dayn >= rday and days(dayn) <= days(rday) + tonumber(vd)
            if first and within and tonumber(amt) >= tonumber(mina) then
                mark, period = '1', 'referred'
                refer_by, refer_ch = rf[1], rf[4]
            else
                mark, period = '0', nil -- not the first qualifying recharge: settled, unpaid
            end
        elseif mv[i] == '1' and rf[3] == 'due' and rf[1] then
            refer_due = {c.id, rf[1]}
        end
    elseif c.rule == 'winback' and kind == 'TOPUP' and offer_id == c.id then
        if dayn <= offer_until then
            mark, period = day, day
        end
        offer_drop = true
    end
    if mark and not period then
        -- settled without a bonus (no budget read)
        if not plan then redis.call('HSET', KW, markers[i], mark) end
    elseif mark then
        -- rkey: the grant's reservation key on a cluster (the win-back offer's rl, else period)
        grants[#grants + 1] = {c = c, mark = mark, pts = points_of(c), period = period,
            field = markers[i], by = c.rule == 'referral' and refer_by or nil,
            rkey = c.rule == 'winback' and 'o' .. ((w[5] or ''):match(',(%d+)$') or '0')
                or period}
    end
end
if kind == 'TOPUP' and offer_id and not offer_drop then
    -- an offer of a campaign no longer running ends with the next recharge
    offer_drop = true
end

if plan then
    -- {id, rule, rkey, points to reserve (a referral: both sides)} per grant, nothing written
    local out = {}
    for _, g in ipairs(grants) do
        out[#out + 1] = {g.c.id, g.c.rule, g.rkey, d(g.pts + (g.by and g.c.points or 0))}
    end
    return out
end

-- budgets (read before any write); a cluster: the reservations made on {cmp} before this step
for _, g in ipairs(grants) do
    if KB then
        local spent = tonumber(redis.call('HGET', KB, g.c.id .. ':spent') or '0') or 0
        -- a referral pays both sides from its budget: both or neither
        g.ok = g.pts > 0 and spent + g.pts + (g.by and g.c.points or 0) <= g.c.budget
    elseif (res[g.c.id] == 'ok' or res[g.c.id] == 'budget') and rkeys[g.c.id] == g.rkey then
        -- never more than reserved (a tier variant that rose since the plan pays the planned
        -- one): the hard stop holds
        local cap = rpts[g.c.id] - (g.by and g.c.points or 0)
        if g.pts > cap then g.pts = cap end
        g.ok = res[g.c.id] == 'ok' and g.pts > 0
        res[g.c.id] = nil
    else
        -- decided since the plan (a concurrent event): left to the redelivery; a reservation of
        -- another key stays as it is (the sweeper settles it)
        g.unreserved = true
        res[g.c.id] = nil
    end
end

-- ------------------------------------------------------------------ writes
local reply = {}
-- a cluster: a reservation the rules no longer grant is settled here (void, or "done": already
-- settled by another event), so that the caller may release it (void) or just drop it (done)
local voids = {}
for _, c in ipairs(camps) do
    if res and res[c.id] then
        voids[#voids + 1] = {c.id, rkeys[c.id], cl_void(c.rule, c.id, rkeys[c.id])}
    end
end
if offer_drop then redis.call('HDEL', KW, 'wo') end
-- Win-back due index: a TOPUP moves the subscriber to the set of the day it would lapse.
if KD and kind == 'TOPUP' and w[6] ~= due then
    if w[6] then redis.call('SREM', KD:sub(1, #KD - 8) .. w[6], msisdn) end
    redis.call('SADD', KD, msisdn)
    redis.call('HSET', KW, 'cwd', due)
end
local credited, bal0 = 0, bal
for _, g in ipairs(grants) do
    if g.unreserved then
        reply[#reply + 1] = g.c.id
        reply[#reply + 1] = d(g.pts)
        reply[#reply + 1] = 'unreserved'
    elseif g.ok then
        bal = bal + g.pts
        life = life + g.pts
        credited = credited + g.pts
        redis.call('HSET', KW, g.field, g.mark)
        if KB then -- a cluster: counted by the reservation
            redis.call('HINCRBY', KB, g.c.id .. ':spent', g.pts)
            redis.call('HINCRBY', KB, g.c.id .. ':n', 1)
            if g.c.rule == 'winback' then redis.call('HINCRBY', KB, g.c.id .. ':back', 1) end
        end
        if g.by then
            -- the referrer's points are counted now (reserved); REFPAY credits them
            if KB then redis.call('HINCRBY', KB, g.c.id .. ':spent', g.c.points) end
            redis.call('HSET', 'lg:{' .. msisdn .. '}:rf', 'st', 'due')
            redis.call('HSET', KW, 'rb', g.by)
            if refer_ch then redis.call('HSET', KW, 'rbc', refer_ch) end -- a cluster's chain
            refer_due = {g.c.id, g.by}
        end
        -- issued points of their own channel: the reports' "issued" and "issued_by" show them
        ag_flow('BONUS', 'iss:BONUS:' .. g.c.id, g.pts)
        local note = 'campaign ' .. g.c.id .. ': ' .. g.c.label
        if tier ~= '' and g.pts ~= g.c.points then note = note .. '; tier ' .. tier end
        hist_add(KW, hist_digest('cmp:' .. g.c.id .. ':' .. g.period), day, 'BONUS', g.pts, 0,
            note, hlen)
        reply[#reply + 1] = g.c.id
        reply[#reply + 1] = d(g.pts)
        reply[#reply + 1] = 'ok'
    else
        -- the hard stop settles the rule for this member: not paid later (a new budget is a new
        -- campaign), and counted once per member
        redis.call('HSET', KW, g.field, (g.c.rule == 'welcome' or g.by) and '0' or g.mark)
        if g.by then redis.call('HSET', 'lg:{' .. msisdn .. '}:rf', 'st', 'stop') end
        if KB then redis.call('HINCRBY', KB, g.c.id .. ':stop', 1) end
        reply[#reply + 1] = g.c.id
        reply[#reply + 1] = d(g.pts)
        reply[#reply + 1] = 'budget'
    end
end
if credited > 0 then
    redis.call('HSET', KW, 'bal', d(bal), 'life', d(life), 'L', lots_add(w[12], day, credited))
    ag_wallet(bal0, nil, bal, nil)
end
for _, v in ipairs(voids) do
    reply[#reply + 1] = v[1]
    reply[#reply + 1] = v[2]
    reply[#reply + 1] = v[3]
end
if refer_due then
    reply[#reply + 1] = refer_due[1]
    reply[#reply + 1] = refer_due[2]
    reply[#reply + 1] = 'refer'
end
reply[#reply + 1] = d(bal)
if op == 'BDAY' then reply[#reply + 1] = w[10] or '' end -- the greeting's language
return reply
