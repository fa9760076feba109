-- commit.lua - the ledger's commit: one event, one script, atomic (gw_ledger.c builds the
-- arguments; gw_ledger.h lists the keys). Everything is read and validated BEFORE the first write:
-- Redis does not roll back a script that fails after writing.
--
-- KEYS  1 lg:{M}:w wallet hash (its field E is the history: see "History" below)
--       2 .. (one Redis only, not a cluster) the ref index keys of refidx.lua, current period
--       first, then the hashes lg:ri of the release before: the claim of the ref is then made
--       here, in the same atomic step (on a cluster they are on other slots, and gw_ledger.c
--       runs refidx.lua first instead)
--       then (optional, earnings only) lg:xd:{tag}:<YYYYMMDD>: the expiry due set of the day the
--       new lot needs its first action (gw_expiry.h; the caller computes day and slot tag)
--       then (optional, rolling tiers only) lg:td:{tag}:<today>: the tier review due set of
--       today (gw_tier_job.h), where a subscriber whose tier or grace changed is put
--       last (optional) the aggregate keys of the event's day and slot (block "aggregates";
--       with them the TOPUP channel is the last argument)
-- ARGV  1 op: "E" earn (TOPUP/BILL/USAGE) or "R" reversal
--       2 ref    3 kind name (TOPUP, BILL, USAGE, REVERSAL: the history record's kind)    4 now (unix s)    5 at (event time, unix s)
--       6 day: YYYYMMDD, the event's local day (the gateway computes it; Lua has no time zones)
--       7 whole  8 fnum  9 fden: the exact earning before the tier multiplier, whole + fnum/fden
--         points (gw_loyalty_earn; "0" "0" "1" for R)
--       10 daily cap in points (0 = none)    11 ref retention (s)    12 history length
--       13 rule ids, one per tier, comma-separated ("7,8,7"; "0" for R): the history record's
--          rule in the dictionary lg:rules, by the tier the event earned at
--       14 orig ref (R) or ""    15 amount in thousandths ("0" for R)
--       16 number of tiers N
--       17 .. 16+3N: N triples (name, threshold, multiplier %), ascending thresholds from 0
--       17+3N .. 20+3N tier qualification (gw_tier.h): basis (0 lifetime, 1 points, 2 spend),
--         window months (1..12), grace days, today (YYYYMMDD, the local day of now)
--       21+3N (only with the index keys) expiry of the current period's index key (unix s)
--       last (optional, before the aggregates' channel) the velocity caps: see "velocity caps"
--       before them (optional) "U": points never expire, the lots are folded (see "the lots' mode")
-- Reply {outcome, points, balance, capped, tier, enrolled}; outcome 0 credited, 1 duplicate,
-- 2 reversed, 3 reversal no-op, 4 recorded without credit (a REVERSAL came first), 5 the ref
-- belongs to another MSISDN (only with the index keys; element 5 is that MSISDN), 6 committed
-- over a velocity cap: its points (element 2) held, not credited. Bad
-- arguments: error "LGWARG <what>"; unreadable stored data: "LGWDATA <what>"; a balance that
-- would leave the bounds: "LGWBOUND <what>". Either way nothing was written.
--
-- Remainder (docs/data-model.md, "The exact remainder"): the wallet carries rn/rd of a point
-- exactly; gw_frac_credit (gateway/gw_loyalty.c) is the same arithmetic in C, property-tested.
-- Activity (for rolling tiers): rc/rl recharge count and last recharge (TOPUP), M the points
-- earned and currency spent (thousandths) per local month of the event, packed (the prelude
-- core/lua/wallet_months.lua, WM); a write keeps the months from 11 before today's on.
--
-- Numbers: Lua numbers are doubles, exact for integers below 2^53. Every input is bounded so
-- that all products stay far below that, and every number is written with %d, never with
-- tostring/.. (which use %.14g and would print large values in exponent form).

local REC = 15       -- bytes of one remembered ref in the field R of the release before
local HREC, HFMT = 16, '>c6I2BBi4I2' -- one record of the wallet's field E (see below)
local PRUNE_MAX = 64 -- old records dropped by one commit at most (the rest by the next ones)
local BAL_MAX = 1e12 -- |balance| and lifetime points stay within this (admin/lua/adjust.lua too)
local DEN_MAX = 1e13 -- the carried fraction's denominator (GW_REM_DEN_MAX)
-- The wallet's rn alone (no rd) is a fraction of RD0: the denominators of a table in 1/10,
-- 1/20, 1/50 of cents with % multipliers divide it, so the usual fraction costs one field
local RD0 = 1000000
-- The daily cap's day and points in one integer field cp = points x CP_DAY + days since 1970
-- (the releases before: the fields cday YYYYMMDD and cpts); while it stays below 2^53
local CP_DAY, CP_MAX = 100000, 2 ^ 53

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

-- Remembered refs (docs/data-model.md, section 2): the records of the wallet's field E (below,
-- "History") are the refs too: one 16-byte record per ref, kept for the retention window. The
-- release before kept them apart, in the field R (15-byte records, oldest first, struct
-- '>c6I4c1i4': 6 bytes of SHA-1(ref), the local day YYYYMMDD, the state, the points; states c
-- credited, r credited then reversed, x a reversal or a staff adjustment, v voided), and before
-- it "at,points,day,state" in the hash lg:{M}:r. Both are still read: R is pruned by age and
-- dropped once empty (admin/lua/adjust.lua still appends its staff adjustments there), the hash
-- is never written and expires.
local RECFMT = '>c6I4c1i4'
local function parse_old(s)
    local a, p, dy, st = s:match('^(%-?%d+),(%-?%d+),(%d+),([crxv])$')
    if not a then return nil end
    return tonumber(p), dy, st
end

-- SHA-1 of a name, hex, once per name and script run (a ref is looked up, then recorded, and
-- claimed in the index: one hash).
local sha = {}
local function sha1(s)
    local h = sha[s]
    if not h then
        h = redis.sha1hex(s)
        sha[s] = h
    end
    return h
end
-- 6 bytes of it (hex digits from..from+11) as binary: one tonumber (48 bits, exact in a double)
local function bytes6(s, from)
    return struct.pack('>I6', tonumber(sha1(s):sub(from, from + 11), 16))
end
local function digest(s) return bytes6(s, 1) end

-- ymd(), days(): the local-day arithmetic of the shared prelude (core/lua/wallet_lots.lua), with
-- the codec of the lots (field L).

-- ------------------------------------------------------------------ aggregates (issue 9 §5)
-- docs/data-model.md section 6. The caller appends two keys on the subscriber's slot,
-- lg:ag:{tag}:<YYYYMMDD> (the day's flows) and lg:ag:{tag}:tot (running totals), and one ARGV,
-- the TOPUP channel ("" none); they are taken off KEYS/ARGV here, so the rest of the script sees
-- its own. Without them (tools, benches) nothing is aggregated. The same block is in commit.lua,
-- expire.lua, sub.lua, adjust.lua, campaign.lua and transfer.lua.
local AGD, AGT, AGCH
if #KEYS >= 2 and type(KEYS[#KEYS]) == 'string' and KEYS[#KEYS]:find('^lg:ag:{%d+}:tot$') then
    AGT = table.remove(KEYS)
    AGD = table.remove(KEYS)
    AGCH = table.remove(ARGV)
    local tg = AGT:match('^lg:ag:({%d+}):tot$')
    if type(AGD) ~= 'string' or AGD:match('^lg:ag:({%d+}):%d%d%d%d%d%d%d%d$') ~= tg
        or type(AGCH) ~= 'string' or #AGCH > 15 or not AGCH:find('^[%l%d_]*$') then
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

-- ------------------------------------------------------------------ velocity caps (issue 10 §5)
-- docs/loyalty-and-events.md "Fraud brakes". Optional last argument (after the aggregates' channel
-- is taken off): "v:<events/hour>,<events/day>,<points/hour>,<points/day>", 0 = that cap off;
-- absent: nothing counted, nothing written. The counts are the wallet's field vc, "<hour>,<events>,
-- <points>,<day>,<events>,<points>" (hour = now / 3600, day = today's local day), moved here in
-- the commit's own step, so that parallel events never pass a cap together. An earning event
-- over a cap is committed like any other (ref, history, aggregates, activity, recharge count) but
-- its points are held: added to the wallet's hold, its record in E in state h, outcome 6. Never
-- refused (the SMSC would redeliver it forever); staff release or cancel the hold.
local VC
if #ARGV > 0 and type(ARGV[#ARGV]) == 'string' and ARGV[#ARGV]:sub(1, 2) == 'v:' then
    local v = table.remove(ARGV)
    VC = {v:match('^v:(%d+),(%d+),(%d+),(%d+)$')}
    for i = 1, 4 do VC[i] = #v < 48 and tonumber(VC[i]) or nil end
    if not (VC[1] and VC[2] and VC[3] and VC[4]) then return redis.error_reply('LGWARG velocity') end
end

-- The lots' mode (core/lua/wallet_lots.lua, "the undated lot"): optional argument "U" taken off
-- after the velocity caps, given by the gateway when points never expire (no validity): the
-- lots are then folded into the undated lot but the newest LOTS_KEEP. With the expiry due key
-- (a validity applies) the undated lot is dated today first. Neither (a caller that does not
-- say): a credit goes to the undated lot when there is one, else to its day's.
local LMODE
if #ARGV > 0 and ARGV[#ARGV] == 'U' then
    table.remove(ARGV)
    LMODE = 'never'
end

-- ------------------------------------------------------------------ validation (no writes)
if #KEYS < 1 or #KEYS > 19 then return bad('keys') end
local msisdn = KEYS[1]:match('^lg:{(%d+)}:w$')
if not msisdn or #msisdn > 15 then return bad('keys') end
-- The refs hash of older releases, read (never written) until it expires: not declared, as it
-- mostly does not exist, and a declared key that is missing on both sides of a slot migration
-- would turn every commit of that slot into ASK/TRYAGAIN until the migration ends. It is on the
-- subscriber's slot. (Upgrade note in docs/data-model.md.)
local KW, KR = KEYS[1], 'lg:{' .. msisdn .. '}:r'
-- Expiry due index (gw_expiry.h): the optional last key, on the subscriber's slot
-- Tier review due index (gw_tier_job.h): the optional last key, on the subscriber's slot
local KT = #KEYS > 1 and KEYS[#KEYS]:find('^lg:td:{%d+}:%d%d%d%d%d%d%d%d$') and KEYS[#KEYS] or nil
local LASTX = KT and #KEYS - 1 or #KEYS
local KD, due = nil, KEYS[LASTX]:match('^lg:xd:{%d+}:(%d%d%d%d%d%d%d%d)$')
if due and LASTX > 1 then KD = KEYS[LASTX] end
if KD and LMODE then return bad('keys') end -- an expiry due key, yet points never expire
if KD then LMODE = 'dated' end
local LAST = KD and LASTX - 1 or LASTX -- last ref index key
local IDX = 2 -- first ref index key
local nidx = LAST - 1
for i = IDX, LAST do
    if not KEYS[i]:find(i == IDX and '^lg:rs:{b%d+}:%d+$' or '^lg:r[is]:{b%d+}:%d+$') then
        return bad('keys')
    end
end

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
-- whole * pct <= 1e8 * 1e4; fnum * pct < 1e11 * 1e4: every product below 2^53
local whole = int_arg(ARGV[7], 0, 1e8)
local fden = int_arg(ARGV[9], 1, 1e11)
local fnum = fden and int_arg(ARGV[8], 0, fden - 1)
if not whole or not fnum or (op == 'R' and (whole ~= 0 or fnum ~= 0)) then
    return bad('earning')
end
local cap = int_arg(ARGV[10], 0, 1e12)
if not cap then return bad('cap') end
local retention = int_arg(ARGV[11], 1, 400 * 86400)
if not retention then return bad('retention') end
local hlen = int_arg(ARGV[12], 1, 10000)
if not hlen then return bad('history_len') end
local rules = {}
if type(ARGV[13]) ~= 'string' or #ARGV[13] > 64 then return bad('rule') end
for id in ARGV[13]:gmatch('[^,]+') do
    local n = int_arg(id, 0, 65535)
    if not n then return bad('rule') end
    rules[#rules + 1] = n
end
if #rules < 1 then return bad('rule') end
local orig = ARGV[14]
if op == 'R' then
    if not valid_ref(orig) then return bad('orig') end
elseif orig ~= '' then
    return bad('orig')
end
local amount = int_arg(ARGV[15], 0, 1e12)
if not amount then return bad('amount') end
local ntiers = int_arg(ARGV[16], 1, 8)
if not ntiers or #ARGV ~= 20 + 3 * ntiers + (nidx > 0 and 1 or 0) then return bad('tiers') end
local idx_exp
if nidx > 0 then
    idx_exp = int_arg(ARGV[21 + 3 * ntiers], 1, 1e11)
    if not idx_exp then return bad('index expiry') end
end
local tiers = {}
for i = 1, ntiers do
    local name = ARGV[14 + 3 * i]
    local min = int_arg(ARGV[15 + 3 * i], 0, 1e15)
    local pct = int_arg(ARGV[16 + 3 * i], 0, 10000)
    if type(name) ~= 'string' or #name < 1 or #name > 31 or name:find('[,|%c]') then
        return bad('tier name')
    end
    if not min or not pct then return bad('tier numbers') end
    if (i == 1 and min ~= 0) or (i > 1 and min <= tiers[i - 1].min) then
        return bad('tier order')
    end
    tiers[i] = {name = name, min = min, pct = pct, i = i}
end
local tbasis = int_arg(ARGV[17 + 3 * ntiers], 0, 2)
local twindow = int_arg(ARGV[18 + 3 * ntiers], 1, 12)
local tgrace = int_arg(ARGV[19 + 3 * ntiers], 0, 365)
local ttoday = ARGV[20 + 3 * ntiers]
if not tbasis or not twindow or not tgrace or not valid_day(ttoday) then
    return bad('tier qualification')
end
if KT and (tbasis == 0 or KT:sub(-8) ~= ttoday) then return bad('keys') end

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

-- Exact integer division of a >= 0 by b > 0 (math.fmod is exact on doubles; a / b alone may round
-- up to the next integer when a and b are large).
local function divmod(a, b)
    local r = math.fmod(a, b)
    return (a - r) / b, r
end

local function gcd(a, b)
    while b ~= 0 do a, b = b, math.fmod(a, b) end
    return a
end

-- ------------------------------------------------------------------ reads (still no writes)
local w = redis.call('HMGET', KW, 'bal', 'life', 'rn', 'tier', 'since', 'cday', 'cpts', 'rd',
    'rem', 'R', 'rc', 'M', 'E', 'vc', 'hold', 'cp', 'L')
local R = w[10] or ''
if #R % REC ~= 0 then return corrupt('refs') end
local E = w[13] or ''
if #E % HREC ~= 0 then return corrupt('history') end -- the refs: never silently forgotten
local MR = WM.decode(w[12]) -- the activity months (M absent: none yet)
if not MR then return corrupt('months') end
local R0 = R

-- The record of a ref: points, day (YYYYMMDD string), state, position, and 'E' when it is a
-- record of E (else of R; position nil: from the old hash); nil when unknown; false when
-- unreadable. States as in R: c credited, r credited then reversed (or recorded without credit),
-- x a reversal, v voided (a REVERSAL came first). A record of E that is not an event's (kinds
-- 5..: redemption, staff, expiry, written under their own digests) is never a ref.
local function find(s, dg, size)
    local init = 1
    while true do
        local p = string.find(s, dg, init, true)
        if not p then return nil end
        if (p - 1) % size == 0 and (size ~= HREC or s:byte(p + 8) <= 4) then return p end
        init = p + 1
    end
end
local EST = {c = 'c', r = 'r', x = 'x', v = 'r', p = 'v', h = 'h', k = 'k'} -- E's -> the ref's
-- R first: a ref of the release before has its history record in E too, but only R knows
-- whether it was reversed since.
local function lookup(name)
    local dg = digest(name)
    local p = find(R, dg, REC)
    if p then
        local _, dy, st, pts = struct.unpack(RECFMT, R, p)
        if not st:find('^[crxv]$') then return false end
        return pts, string.format('%08d', dy), st, p
    end
    p = find(E, dg, HREC)
    if p then
        local _, dy, k, st, pts = struct.unpack(HFMT, E, p)
        st = EST[string.char(st)]
        if not st then return false end
        if k == 4 then pts = -pts end -- a reversal's record holds its points negative
        return pts, string.format('%08d', ymd(dy)), st, p, 'E'
    end
    -- pcall: on the importing master of a slot migration an undeclared key is "non local"; the
    -- old hash is then taken as absent (only refs of the release before are concerned, and
    -- only while their slot is moving)
    local old = redis.pcall('HGET', KR, name)
    if type(old) ~= 'string' then return nil end
    local pts, dy, st = parse_old(old)
    if not pts then return false end
    return pts, dy, st, nil
end
-- Sets the state of the record at pos of E (where 'E') or of R (else; pos nil: a record of the
-- old hash, then appended to R) to st: a reversal marks its original reversed there.
local function mark(name, pos, where, st, dy, pts)
    if where == 'E' then
        E = E:sub(1, pos + 8) .. st .. E:sub(pos + 10)
    elseif not pos then
        R = R .. struct.pack(RECFMT, digest(name), tonumber(dy), st, pts)
    else
        R = R:sub(1, pos - 1) .. struct.pack(RECFMT, R:sub(pos, pos + 5), tonumber(dy), st, pts)
            .. R:sub(pos + REC)
    end
end
-- Records are kept for the retention window (>= the oldest event the gateway accepts + 1 day, so
-- every accepted redelivery is still caught): those whose day is older are dropped from the
-- head (oldest first), at most PRUNE_MAX per commit. Then E (and R, if it changed) are written.
local prune_refs -- defined below
local function save_refs()
    prune_refs()
    redis.call('HSET', KW, 'E', E)
    if R ~= R0 then
        if #R > 0 then redis.call('HSET', KW, 'R', R) else redis.call('HDEL', KW, 'R') end
    end
end
local enrolled = (w[1] == false)
local bal, life = int_field(w[1], 0), int_field(w[2], 0)
local rn, rd = int_field(w[3], 0), int_field(w[8], 1)
if w[3] == false and w[9] then rn, rd = int_field(w[9], 0), 1000 end -- milli-points of old
if w[3] and w[8] == false and rn and rn > 0 then -- rn of RD0, reduced as the arithmetic wants it
    rd = RD0
    local a, b = rn, rd
    while b ~= 0 do a, b = b, math.fmod(a, b) end
    rn, rd = rn / a, rd / a
end
local cday, cpts = int_field(w[6], 0), int_field(w[7], 0)
if w[16] then -- the daily cap's field cp (else the cday, cpts of the releases before, or none)
    local cp = int_field(w[16], 0)
    if not cp or cp < 0 or cp >= CP_MAX then return corrupt('wallet') end
    local dn = math.fmod(cp, CP_DAY)
    cday, cpts = ymd(dn), (cp - dn) / CP_DAY
end
local hold = int_field(w[15], 0)
if not hold or hold < 0 or hold > BAL_MAX then return corrupt('hold') end
if not bal or not life or not rn or not rd or rd < 1 or rd > DEN_MAX or rn < 0 or rn >= rd
    or not cday or not cpts or bal < -BAL_MAX or bal > BAL_MAX or life < 0 or life > BAL_MAX then
    return corrupt('wallet')
end
local tier = w[4]
if tier == false then tier = enrolled and tiers[1].name or tier_by_life(life).name end

-- ------------------------------------------------------------------ ref index (as in refidx.lua)
-- lg:rs: a string of 13-byte records (6 bytes of SHA-1(ref), the MSISDN in 7 bytes: (digits - 8)
-- x 2^50 + the number); lg:ri (the release before): a hash, field the 6 bytes, value the MSISDN.
local RI_REC, RI_LEN = 13, 2 ^ 50
local function ri_pack(dg, m)
    return dg .. struct.pack('>I7', (#m - 8) * RI_LEN + tonumber(m))
end
-- The owner of digest dg in key k (nil: none) and, for a string key, its value.
local function ri_owner(k, dg)
    if k:sub(4, 5) == 'ri' then return redis.call('HGET', k, dg) or nil end
    local s = redis.call('GET', k) or ''
    if #s % RI_REC ~= 0 then return nil, s:sub(1, #s - #s % RI_REC) end -- a torn tail: dropped
    local init = 1
    while true do
        local p = string.find(s, dg, init, true)
        if not p then return nil, s end
        if (p - 1) % RI_REC == 0 then
            local n = struct.unpack('>I7', s, p + 6)
            local nd = math.floor(n / RI_LEN)
            return string.format('%0' .. (nd + 8) .. 'd', n - nd * RI_LEN), s
        end
        init = p + 1
    end
end
-- ------------------------------------------------------------------ end of ref index

-- The ref index: a ref committed for another MSISDN is refused.
local idx_field, idx_cur
if nidx > 0 then
    idx_field = bytes6(ref, 13)
    for i = IDX, LAST do
        local owner, s = ri_owner(KEYS[i], idx_field)
        if i == IDX then idx_cur = s end
        if owner then
            if owner ~= msisdn then return {5, 0, 0, 0, owner, 0} end
            idx_field = nil -- already ours: nothing to write
            break
        end
    end
end
-- Called before each branch's first write: the current period's string, rewritten whole.
local function claim()
    if idx_field then
        redis.call('SET', KEYS[IDX], idx_cur .. ri_pack(idx_field, msisdn), 'EXAT', idx_exp)
        idx_field = nil
    end
end

local eprev -- a voided record of this ref (a REVERSAL came first): not a duplicate
local p0, d0, st0, pos0, in0 = lookup(ref)
if p0 == false then return corrupt('ref record') end
if p0 then
    if st0 == 'v' and op == 'E' then
        eprev = {day = d0, pos = pos0, where = in0}
    else
        -- Redelivery of a committed ref: answer what it did, change nothing.
        return {1, p0, bal, 0, enrolled and '' or tier, 0}
    end
end

-- ------------------------------------------------------------------ tiers that move
-- The rule of gw_tier_review (gateway/gw_tier.c, which the daily job runs; docs/loyalty-and-
-- events.md): lifetime basis, the tier of the lifetime points (the releases before); rolling
-- bases, the tier of the sum of the last `twindow` months of activity (earned points, or spend
-- in thousandths against thresholds in whole units), rising at once, falling once `tgrace` days
-- have passed since the first day found below (wallet field tg). A change leaves the notice
-- tn = "<tier before>><tier now>" (the first before, if one is pending) and puts the subscriber
-- in today's review set KT: the daily job sends the SMS outside quiet hours and indexes the next
-- review. Reads here, writes in tier_apply (after the wallet's HSET).
local tier_w -- the pending writes of tier_move
local function tier_index(name)
    for i = 1, ntiers do
        if tiers[i].name == name then return i end
    end
    return nil
end
-- name: the tier held; life: lifetime points after the event; eday: the local day whose month
-- the event's activity (dearn points, dspend thousandths) goes to. Returns the tier now.
local function tier_move(name, life, eday, dearn, dspend)
    if tbasis == 0 then return tier_by_life(life).name end
    -- each month of the window: M's record plus the field m:YYYYMM of the releases before
    local ti, ei = WM.index(tonumber(ttoday:sub(1, 6))), WM.index(tonumber(eday:sub(1, 6)))
    local f = {'tg', 'tn', 'td'}
    for k = 0, twindow - 1 do f[#f + 1] = WM.field(ti - k) end
    local v = redis.call('HMGET', KW, unpack(f))
    local sum = 0
    for k = 4, #f do
        local mi = ti - (k - 4) -- field k is month ti - (k - 4)
        local e, sp = WM.old(v[k])
        local me, ms = WM.get(MR, mi)
        e, sp = e + me, sp + ms
        if mi == ei then e, sp = e + dearn, sp + dspend end
        sum = sum + (tbasis == 2 and sp or e)
    end
    local q = 1
    for i = 2, ntiers do
        if sum >= (tbasis == 2 and tiers[i].min * 1000 or tiers[i].min) then q = i end
    end
    local ci = tier_index(name) or q
    local ni, tg = q, nil
    if q < ci then
        local since = v[1] or ttoday
        if since <= ttoday and days(tonumber(ttoday)) - days(tonumber(since)) < tgrace then
            ni, tg = ci, since
        end
    end
    tier_w = {tg = tg, old_tg = v[1] or nil, tn = v[2] or nil, td = v[3] or nil, from = name,
        to = tiers[ni].name}
    return tiers[ni].name
end
-- The writes of tier_move (nothing on the lifetime basis or without a change).
local function tier_apply()
    local t = tier_w
    if not t then return end
    local hs, hd = {}, {}
    if t.tg ~= t.old_tg then
        if t.tg then
            hs[#hs + 1] = 'tg'
            hs[#hs + 1] = t.tg
        else
            hd[#hd + 1] = 'tg'
        end
    end
    if t.from ~= t.to then
        local first = t.tn and t.tn:match('^([^>]+)>') or t.from
        if first == t.to then
            hd[#hd + 1] = 'tn'
        else
            hs[#hs + 1] = 'tn'
            hs[#hs + 1] = first .. '>' .. t.to
        end
    end
    if (t.from ~= t.to or t.tg ~= t.old_tg) and KT and (not t.td or t.td > ttoday) then
        redis.call('SADD', KT, msisdn)
        hs[#hs + 1] = 'td'
        hs[#hs + 1] = ttoday
    end
    if #hs > 0 then redis.call('HSET', KW, unpack(hs)) end
    if #hd > 0 then redis.call('HDEL', KW, unpack(hd)) end
end

-- ------------------------------------------------------------------ writes
-- History and refs (docs/data-model.md, section 2): the wallet's field E holds one 16-byte
-- record per movement, oldest first, struct '>c6I2BBi4I2': 6 bytes of SHA-1(ref), the local day
-- as days since 1970-01-01, the kind (HKIND), the state, the signed points, the rule id in
-- lg:rules (0 none). States: c credited (r once a reversal took it back), v recorded without
-- credit (a REVERSAL came first), x a reversal, p a ref named by a REVERSAL before it arrived
-- (kind 0, not shown). The records of the retention window are the remembered refs; older ones
-- are dropped from the head unless they are among the last hlen (the history screens). Appending
-- and pruning touch the field once (bounded by the window). Readers: gw_hist.h. Written with the
-- wallet. The list lg:{M}:h of the release before is not written here: the readers merge it.
local HKIND = {TOPUP = 1, BILL = 2, USAGE = 3, REVERSAL = 4}
local function record(name, st, pts, rid, k)
    E = E .. struct.pack(HFMT, digest(name), days(dayn), k or HKIND[kind] or 0, st:byte(), pts, rid)
end
local function history(st, pts, rid) record(ref, st, pts, rid) end

-- Activity of the event's local month: points earned and currency spent (rolling tiers read the
-- last 12), in the field M (read and decoded with the wallet: MR). A write drops the months
-- before the 11th before today's (no window reaches them any more; later months all stay). A
-- wallet without M may hold the fields m:YYYYMM of the releases before: its first write folds
-- those of the kept months into M and deletes them, with the two just older that the releases
-- before could leave (one HMGET of 14 fields, or 15: O(1)). Returns the field and its new value
-- (the caller writes it, with the wallet when it can).
local function activity_value(eday, earned, spent)
    local from = WM.index(tonumber(ttoday:sub(1, 6))) - 11
    local ei = WM.index(tonumber(eday:sub(1, 6)))
    if not w[12] then
        local f, del = {}, {}
        for i = from - 2, from + 11 do f[#f + 1] = WM.field(i) end
        if ei > from + 11 then f[#f + 1] = WM.field(ei) end
        local v = redis.call('HMGET', KW, unpack(f))
        for k = 1, #f do
            if v[k] then
                local e, sp = WM.old(v[k])
                WM.add(MR, WM.index(tonumber(f[k]:sub(3))), e, sp)
                del[#del + 1] = f[k]
            end
        end
        if #del > 0 then redis.call('HDEL', KW, unpack(del)) end
        w[12] = '' -- folded
    end
    WM.add(MR, ei, earned, spent)
    WM.prune(MR, from)
    return 'M', WM.encode(MR)
end
local function activity(eday, earned, spent)
    local f, v = activity_value(eday, earned, spent)
    redis.call('HSET', KW, f, v)
end

-- Drops the head records of E and R past the retention (oldest first, at most PRUNE_MAX each);
-- the last hlen records of E stay (the history screens).
prune_refs = function()
    local cutoff = math.floor(now / 86400) - math.floor(retention / 86400) - 1
    local cut = 0
    while cut < PRUNE_MAX and #R >= (cut + 1) * REC do
        local _, dy = struct.unpack(RECFMT, R, cut * REC + 1)
        if days(dy) >= cutoff then break end
        cut = cut + 1
    end
    if cut > 0 then R = R:sub(cut * REC + 1) end
    cut = 0
    while cut < PRUNE_MAX and #E > (cut + hlen) * HREC do
        local _, dy = struct.unpack(HFMT, E, cut * HREC + 1)
        if dy >= cutoff then break end
        cut = cut + 1
    end
    if cut > 0 then E = E:sub(cut * HREC + 1) end
end

if op == 'E' and eprev then
    -- The REVERSAL came first: record the original, credit nothing.
    claim()
    if eprev.where == 'E' then
        E = E:sub(1, eprev.pos - 1) .. E:sub(eprev.pos + HREC) -- the placeholder goes
    else
        mark(ref, eprev.pos, nil, 'r', eprev.day, 0)
    end
    if enrolled then redis.call('HSET', KW, 'bal', '0', 'life', '0', 'tier', tier, 'since', d(now)) end
    if enrolled then ag_wallet(nil, nil, 0, tier) end
    ag_flow(kind, nil, 0)
    history('v', 0, rules[1])
    save_refs()
    return {4, 0, bal, 0, tier, enrolled and 1 or 0}
end

if op == 'E' then
    local cur = tier_by_name(tier) or tier_by_life(life)
    -- whole + fnum/fden points times pct/100, exactly: in units of 1/den, den = 100 fden
    local points, wr = divmod(whole * cur.pct, 100)
    local den = 100 * fden
    local carry, f = divmod(wr * fden + fnum * cur.pct, den)
    points = points + carry
    local g = gcd(rd, den)
    local l = (rd / g) * den
    if l > DEN_MAX then
        -- no common denominator within bounds (tables mixing unusual rates): the carried
        -- fraction (< 1 point) is dropped, as gw_frac_credit does
        rn, rd, l = 0, den, den
    end
    carry, f = divmod(rn * (l / rd) + f * (l / den), l)
    points = points + carry
    g = gcd(f, l)
    rn = f / g
    rd = (f == 0) and 1 or l / g
    -- Daily cap by the event's local day. A late event for an earlier day than the one tracked
    -- counts against what that day's lot still holds (the per-day count is not kept).
    local used, newday = 0, true
    if dayn == cday then
        used, newday = cpts, true
    elseif dayn < cday then
        -- that day's lot: in L, and (the release before) in the field l:<day>
        used = lots_on(w[17], day)
        if not used then return corrupt('lots') end
        used = used + (int_field(redis.call('HGET', KW, 'l:' .. day), 0) or 0)
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
    -- Velocity caps (above): the event counts; over a cap, all its points are held.
    local held, vcv
    if VC then
        local v = {(w[14] or ''):match('^(%d+),(%d+),(%d+),(%d+),(%d+),(%d+)$')}
        for i = 1, 6 do v[i] = tonumber(v[i]) or 0 end
        local hour, tday = math.floor(now / 3600), tonumber(ttoday)
        if v[1] ~= hour then v[1], v[2], v[3] = hour, 0, 0 end
        if v[4] ~= tday then v[4], v[5], v[6] = tday, 0, 0 end
        v[2], v[5] = v[2] + 1, v[5] + 1
        local function over(c, n) return c > 0 and n > c end
        if over(VC[1], v[2]) or over(VC[2], v[5]) or over(VC[3], v[3] + credited)
            or over(VC[4], v[6] + credited) then
            held, credited = credited, 0
            if hold + held > BAL_MAX then return redis.error_reply('LGWBOUND hold') end
        end
        v[3], v[6] = v[3] + credited, v[6] + credited
        for i = 1, 6 do v[i] = d(v[i]) end
        vcv = table.concat(v, ',')
    end
    if bal + credited > BAL_MAX or life + credited > BAL_MAX then
        return redis.error_reply('LGWBOUND balance')
    end
    -- the lot of the event's day, in L (the codec of core/lua/wallet_lots.lua: decode, add,
    -- encode; the lots l:<day> of the release before stay for the readers)
    local L = credited > 0 and lots_add(w[17], day, credited, LMODE, ttoday)
    if L == nil then return corrupt('lots') end
    claim()
    local bal0 = bal
    bal = bal + credited
    life = life + credited
    local newtier = tier_move(tier, life, day, credited, amount)
    if enrolled then
        ag_wallet(nil, nil, bal, newtier)
    else
        ag_wallet(bal0, w[4] ~= newtier and w[4] or nil, bal, w[4] ~= newtier and newtier or nil)
    end
    ag_flow(kind, 'iss:' .. kind .. ':' .. (AGCH ~= '' and AGCH or '-'), credited)
    local fields = {'bal', d(bal), 'life', d(life)}
    if vcv then
        fields[#fields + 1] = 'vc'
        fields[#fields + 1] = vcv
    end
    if held and held > 0 then
        fields[#fields + 1] = 'hold'
        fields[#fields + 1] = d(hold + held)
        if AGD then redis.call('HINCRBY', AGD, 'hold', d(held)) end -- the day's held points
    end
    if enrolled or newtier ~= w[4] then
        fields[#fields + 1] = 'tier'
        fields[#fields + 1] = newtier
    end
    if enrolled then
        fields[#fields + 1] = 'since'
        fields[#fields + 1] = d(now)
    end
    -- The daily cap's count: only while a cap is on (no cap: nothing to count; a cap switched on
    -- during a day counts from then). One field cp; the two of the releases before go.
    local cpdel = false
    if cap > 0 and newday and (dayn ~= cday or credited > 0) then
        local cp = (cpts + credited) * CP_DAY + days(dayn)
        if cp < CP_MAX then
            fields[#fields + 1] = 'cp'
            fields[#fields + 1] = d(cp)
            cpdel = w[6] or w[7]
        else
            fields[#fields + 1] = 'cday'
            fields[#fields + 1] = day
            fields[#fields + 1] = 'cpts'
            fields[#fields + 1] = d(cpts + credited)
            if w[16] then redis.call('HDEL', KW, 'cp') end
        end
    end
    if kind == 'TOPUP' then
        local rc = int_field(w[11], 0) or 0
        fields[#fields + 1] = 'rc'
        fields[#fields + 1] = d(rc + 1)
        fields[#fields + 1] = 'rl'
        fields[#fields + 1] = d(at)
    end
    local rdel = false -- rd is implied (RD0): the stored one goes
    if rn > 0 and math.fmod(RD0, rd) == 0 then
        fields[#fields + 1] = 'rn'
        fields[#fields + 1] = d(rn * (RD0 / rd))
        rdel = w[8] ~= false
    elseif rn > 0 then
        fields[#fields + 1] = 'rn'
        fields[#fields + 1] = d(rn)
        fields[#fields + 1] = 'rd'
        fields[#fields + 1] = d(rd)
    end
    -- one HSET for the wallet, its activity month and its refs
    local af, av = activity_value(day, credited, amount)
    fields[#fields + 1] = af
    fields[#fields + 1] = av
    history(held and 'h' or 'c', held or credited, rules[cur.i] or rules[1])
    prune_refs()
    fields[#fields + 1] = 'E'
    fields[#fields + 1] = E
    if L then
        fields[#fields + 1] = 'L'
        fields[#fields + 1] = L
    end
    if R ~= R0 and #R > 0 then
        fields[#fields + 1] = 'R'
        fields[#fields + 1] = R
    end
    redis.call('HSET', KW, unpack(fields))
    if R ~= R0 and #R == 0 then redis.call('HDEL', KW, 'R') end
    tier_apply()
    if rn == 0 and (w[3] or w[9]) then
        redis.call('HDEL', KW, 'rn', 'rd', 'rem')
    elseif rn ~= 0 and (w[9] or rdel) then
        redis.call('HDEL', KW, 'rem', rdel and 'rd' or 'rem')
    end
    if cpdel then redis.call('HDEL', KW, 'cday', 'cpts') end
    if credited > 0 then
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
    return {held and 6 or 0, held or credited, bal, capped, newtier, enrolled and 1 or 0}
end

-- op == 'R'
local opts, oday, ostate, opos, oin = lookup(orig)
if opts == false or (opts and opts < 0) then return corrupt('orig record') end
local orec = opts ~= nil
if orec and ostate == 'h' then
    -- Its points were held, never credited: they leave the hold; the balance does not move.
    claim()
    if hold - opts > 0 then
        redis.call('HSET', KW, 'hold', d(hold - opts))
    else
        redis.call('HDEL', KW, 'hold')
    end
    mark(orig, opos, oin, 'r', oday, opts)
    history('x', 0, 0)
    ag_flow(kind, nil, 0)
    save_refs()
    return {2, 0, bal, 0, tier, 0}
end
if not orec or ostate ~= 'c' then
    -- Unknown, already reversed, or itself a reversal: acknowledged and recorded, no effect. An
    -- unknown orig may still arrive (it was answered T_APPN and comes back): it is remembered
    -- as voided for the retention window, so it is then recorded without credit.
    claim()
    if not orec then record(orig, 'p', 0, 0, 0) end
    history('x', 0, 0)
    ag_flow(kind, nil, 0)
    save_refs()
    return {3, 0, bal, 0, enrolled and '' or tier, 0}
end

if bal - opts < -BAL_MAX then return redis.error_reply('LGWBOUND balance') end
-- Take back exactly orig's points: from its own lot first, then from the newest lots; what the
-- lots no longer hold (redeemed) just shows as a negative balance. No lot ever goes negative.
-- All the lots are read (L and the l:<day> of the release before, folded into L here).
local lots, lnames = lots_from_all(redis.call('HGETALL', KW))
if not lots then return corrupt('lots') end
claim()
local take, lchanged = opts, #lnames > 0
for i = #lots, 1, -1 do
    local lot = lots[i]
    if lot.day == oday and take > 0 and lot.v > 0 then
        local t = math.min(lot.v, take)
        lot.v, take, lchanged = lot.v - t, take - t, true
    end
end
for i = #lots, 1, -1 do
    local lot = lots[i]
    if take > 0 and lot.v > 0 then
        local t = math.min(lot.v, take)
        lot.v, take, lchanged = lot.v - t, take - t, true
    end
end
if LMODE == 'never' and #lots > LOTS_KEEP + 1 then lots, lchanged = lots_fold(lots), true end
if lchanged then lots_save(KW, lots, lnames) end
local bal0 = bal
bal = bal - opts
life = life - opts
if life < 0 then life = 0 end
local newtier = tier_move(tier, life, oday, -opts, 0)
ag_wallet(bal0, w[4] ~= newtier and w[4] or nil, bal, w[4] ~= newtier and newtier or nil)
ag_flow(kind, 'rev', opts)
local fields = {'bal', d(bal), 'life', d(life), 'tier', newtier}
if enrolled then
    fields[#fields + 1] = 'since'
    fields[#fields + 1] = d(now)
end
redis.call('HSET', KW, unpack(fields))
tier_apply()
activity(oday, -opts, 0)
mark(orig, opos, oin, 'r', oday, opts)
history('x', -opts, 0)
save_refs()
return {2, opts, bal, 0, newtier, 0}
