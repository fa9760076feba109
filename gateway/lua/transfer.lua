-- transfer.lua - points transfer between members (issue 10 §4), one side per call: the
-- sender's debit and the recipient's credit are on different Redis Cluster slots, so a transfer
-- is DEBIT (sender's slot, records the transfer as pending in the same script) then CREDIT
-- (recipient's slot, idempotent by tid) then DONE (sender's slot, clears the pending entry).
-- A crash between DEBIT and DONE leaves the pending entry: the sweeper (gateway/gw_transfer.c)
-- runs CREDIT and DONE again, which is harmless when they already ran. This file is apart from
-- gateway/lua/commit.lua on purpose: the ledger's earning script is not touched.
--
-- KEYS 1 lg:{M}:w  wallet (bal, lots L, history E and its notes N)
--      2 lg:{M}:h  the history list of the release before: checked, no longer written
--      3 lg:{M}:x  transfers hash: salt, pin (SHA-256 hex of salt:msisdn:pin, never the PIN),
--                  pf (wrong PINs in a row), pl (locked until, unix s), frz (frozen until: SIM
--                  swap), sd "YYYYMMDD|points sent that day", p:<to> "YYYYMMDD|points sent to
--                  <to> that day", t:<tid> the sender's record "D|ts" debited / "C|ts" credited,
--                  c:<tid> the recipient's record "ts", s:<ref> a SIM swap ref seen "ts"
--      4 lg:xq:{tag}  zset of pending transfers of the sender's slot: tid -> debit time
-- tid "<from>:<to>:<points>:<token>" (the sweeper needs nothing else to finish a transfer)
-- ARGV 1 op  INFO | PINSET | DEBIT | CREDIT | DONE | SIMSWAP
--      2 msisdn (the owner of KEYS)   3 now (unix s)   4 history length   5 record retention (s)
--   PINSET  6 salt (hex)  7 new hash  8 old hash ("" when no PIN was set)  9 max wrong PINs
--           10 lock (s)
--   DEBIT   6 tid  7 hash of the typed PIN  8 today YYYYMMDD  9 min  10 max  11 day cap
--           12 per-recipient day cap  13 max wrong PINs  14 lock (s)
--           15 expiry cut-off YYYYMMDD ("0" none: lots on or before it are never spent)
--   CREDIT  6 tid  7 today YYYYMMDD          DONE 6 tid          SIMSWAP 6 ref  7 freeze (s)
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
local function is_day(s) return type(s) == 'string' and s:find('^%d%d%d%d%d%d%d%d$') ~= nil end
local function is_hex(s, n) return type(s) == 'string' and #s == n and s:find('^%x+$') ~= nil end

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

if #KEYS ~= 4 then return bad('keys') end
local op, msisdn = ARGV[1], ARGV[2]
if type(msisdn) ~= 'string' or not msisdn:find('^%d+$') or #msisdn > 15 then
    return bad('msisdn')
end
local pfx = 'lg:{' .. msisdn .. '}:'
if KEYS[1] ~= pfx .. 'w' or KEYS[2] ~= pfx .. 'h' or KEYS[3] ~= pfx .. 'x'
    or not KEYS[4]:find('^lg:xq:{%d+}$') then
    return bad('keys')
end
local KW, KX, KQ = KEYS[1], KEYS[3], KEYS[4]
local now = int_arg(ARGV[3], 0, 1e11)
if not now then return bad('now') end
local hlen = int_arg(ARGV[4], 1, 10000)
if not hlen then return bad('history_len') end
local retention = int_arg(ARGV[5], 3600, 400 * 86400)
if not retention then return bad('retention') end

-- The movement's record in the wallet's history E, its text (the peer) in the note field N
-- (docs/data-model.md 2; the prelude core/lua/wallet_hist.lua).
local function history(tid, day, pts, note)
    hist_add(KW, hist_digest(tid), day, 'XFER', pts, 0, note, hlen)
end

-- Records past the retention and caps of past days go once the hash grows (today nil: the
-- caps are left alone).
local function prune(today)
    if redis.call('HLEN', KX) > 40 then
        local all = redis.call('HGETALL', KX)
        local old = {}
        for i = 1, #all, 2 do
            local k, v = all[i], all[i + 1]
            if today and k:find('^p:') and v:sub(1, 8) ~= today then old[#old + 1] = k end
            -- a debited transfer not yet credited (t: "D|...") is kept whatever its age
            if k:find('^[tcs]:') and not v:find('^D|') then
                local ts = tonumber(v:match('(%d+)$')) or 0
                if ts < now - retention then old[#old + 1] = k end
            end
        end
        for i = 1, #old, 500 do
            redis.call('HDEL', KX, unpack(old, i, math.min(i + 499, #old)))
        end
    end
end

-- The locks in force: {'frozen', until} (SIM swap), {'locked', until} (wrong PINs) or nil.
local function lock_state(x)
    local frz, pl = int_field(x.frz, 0) or 0, int_field(x.pl, 0) or 0
    if frz > now then return {'frozen', d(frz)} end
    if pl > now then return {'locked', d(pl)} end
    return nil
end
local function read_x()
    local v = redis.call('HMGET', KX, 'salt', 'pin', 'pf', 'pl', 'frz', 'sd')
    return {salt = v[1], pin = v[2], pf = v[3], pl = v[4], frz = v[5], sd = v[6]}
end
-- A wrong PIN: counted; the max-th in a row locks transfers (and PIN changes) for lock s.
local function wrong_pin(x, maxf, lock)
    local pf = (int_field(x.pf, 0) or 0) + 1
    if pf >= maxf then
        redis.call('HSET', KX, 'pf', '0', 'pl', d(now + lock))
        return {'locked', d(now + lock)}
    end
    redis.call('HSET', KX, 'pf', d(pf))
    return {'badpin', d(maxf - pf)}
end
local function day_sum(v, today)
    if v and v:sub(1, 8) == today then return tonumber(v:sub(10)) or 0 end
    return 0
end

if op == 'INFO' then
    local x = read_x()
    local st = lock_state(x) or {'open', '0'}
    local exists = redis.call('EXISTS', KW)
    return {st[1], st[2], x.salt or '', x.pin and '1' or '0', d(exists)}
end

if op == 'SIMSWAP' then
    local ref, frz = ARGV[6], int_arg(ARGV[7], 0, 365 * 86400)
    if type(ref) ~= 'string' or #ref < 1 or #ref > 64 or ref:find('[%c%s|]') then
        return bad('ref')
    end
    if not frz then return bad('freeze') end
    if redis.call('HEXISTS', KX, 's:' .. ref) == 1 then return {'dup'} end
    prune(nil) -- a member who never transfers would otherwise keep every swap seen
    local cur = int_field(redis.call('HGET', KX, 'frz'), 0) or 0
    redis.call('HSET', KX, 's:' .. ref, d(now), 'frz', d(math.max(cur, now + frz)))
    return {'ok', d(math.max(cur, now + frz))}
end

if op == 'PINSET' then
    local salt, new, old = ARGV[6], ARGV[7], ARGV[8]
    local maxf, lock = int_arg(ARGV[9], 1, 100), int_arg(ARGV[10], 0, 30 * 86400)
    if not is_hex(salt, 32) then return bad('salt') end
    if not is_hex(new, 64) then return bad('hash') end
    if old ~= '' and not is_hex(old, 64) then return bad('old') end
    if not maxf or not lock then return bad('lockout') end
    local x = read_x()
    local st = lock_state(x)
    if st then return st end
    if x.pin then
        if old ~= x.pin then return wrong_pin(x, maxf, lock) end
    end
    redis.call('HSET', KX, 'salt', salt, 'pin', new, 'pf', '0')
    redis.call('HDEL', KX, 'pl')
    return {'ok'}
end

-- tid of DEBIT / CREDIT / DONE
local tid = ARGV[6]
local from, to, pts
if type(tid) == 'string' and #tid <= 80 then
    from, to, pts = tid:match('^(%d+):(%d+):(%d+):[%w_%-]+$')
end
if not from or #from > 15 or #to > 15 or from == to then return bad('tid') end
pts = int_arg(pts, 1, 1e12)
if not pts then return bad('tid') end

if op == 'DEBIT' then
    if from ~= msisdn then return bad('tid') end
    local hash, today = ARGV[7], ARGV[8]
    local mn, mx = int_arg(ARGV[9], 1, 1e12), int_arg(ARGV[10], 1, 1e12)
    local dcap, pcap = int_arg(ARGV[11], 0, 1e12), int_arg(ARGV[12], 0, 1e12)
    local maxf, lock = int_arg(ARGV[13], 1, 100), int_arg(ARGV[14], 0, 30 * 86400)
    local cut = ARGV[15]
    if not is_hex(hash, 64) then return bad('hash') end
    if not is_day(today) then return bad('today') end
    if not mn or not mx or not dcap or not pcap or mn > mx then return bad('caps') end
    if not maxf or not lock then return bad('lockout') end
    if cut ~= '0' and not is_day(cut) then return bad('cut-off') end
    cut = tonumber(cut)
    local rec = redis.call('HGET', KX, 't:' .. tid)
    if rec then
        local b = int_field(redis.call('HGET', KW, 'bal'), 0) or 0
        return {'dup', rec:sub(1, 1), d(b)}
    end
    local x = read_x()
    local st = lock_state(x)
    if st then return st end
    if not x.pin then return {'nopin'} end
    if hash ~= x.pin then return wrong_pin(x, maxf, lock) end
    if x.pf and x.pf ~= '0' then redis.call('HSET', KX, 'pf', '0') end
    if pts < mn then return {'min', d(mn)} end
    if pts > mx then return {'max', d(mx)} end
    local sent = day_sum(x.sd, today)
    if dcap > 0 and sent + pts > dcap then return {'daycap', d(dcap - sent)} end
    local pkey = 'p:' .. to
    local psent = day_sum(redis.call('HGET', KX, pkey), today)
    if pcap > 0 and psent + pts > pcap then return {'peercap', d(pcap - psent)} end
    local w = redis.call('HMGET', KW, 'bal', 'blocked')
    local bal = int_field(w[1], 0)
    if not bal then return corrupt('wallet') end
    if w[2] == '1' then return {'blocked', d(bal)} end
    -- The lots, oldest first, as catalog/lua/sub.lua spends them: the excess over the balance
    -- counts as spent from the oldest first; expired lots are never spent.
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
    if bal - dead < pts then return {'balance', d(bal - dead)} end
    local take = pts
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
    ag_wallet(bal, nil, bal - pts, nil)
    ag_flow('XFEROUT', 'xfo', pts)
    bal = bal - pts
    redis.call('HSET', KW, 'bal', d(bal))
    redis.call('HSET', KX, 't:' .. tid, 'D|' .. d(now), 'sd', today .. '|' .. d(sent + pts),
        pkey, today .. '|' .. d(psent + pts))
    redis.call('ZADD', KQ, now, tid)
    history(tid, today, -pts, 'transfer to ...' .. to:sub(-4))
    prune(today)
    return {'ok', d(bal)}
end

if op == 'CREDIT' then
    if to ~= msisdn then return bad('tid') end
    local today = ARGV[7]
    if not is_day(today) then return bad('today') end
    if redis.call('HEXISTS', KX, 'c:' .. tid) == 1 then return {'dup'} end
    local w = redis.call('HMGET', KW, 'bal', 'tier', 'L')
    local bal = int_field(w[1], 0)
    if not bal then return corrupt('wallet') end
    local L = lots_add(w[3], today, pts) -- a lot of today (the prelude core/lua/wallet_lots.lua)
    if not L then return corrupt('lots') end
    -- a recipient with no balance yet becomes a counted wallet (with the tier it may hold)
    if w[1] then
        ag_wallet(bal, nil, bal + pts, nil)
    else
        ag_wallet(nil, nil, pts, (w[2] and w[2] ~= '') and w[2] or nil)
    end
    ag_flow('XFERIN', 'xfi', pts)
    bal = bal + pts
    -- Received points are spendable points, not earnings: bal and a lot of today, life (the
    -- tier's basis) unchanged.
    redis.call('HSET', KW, 'bal', d(bal), 'L', L)
    redis.call('HSET', KX, 'c:' .. tid, d(now))
    history(tid, today, pts, 'transfer from ...' .. from:sub(-4))
    prune(today)
    return {'ok', d(bal)}
end

if op == 'DONE' then
    if from ~= msisdn then return bad('tid') end
    local rec = redis.call('HGET', KX, 't:' .. tid)
    redis.call('ZREM', KQ, tid)
    if not rec then return {'unknown'} end
    if rec:sub(1, 1) == 'C' then return {'dup'} end
    redis.call('HSET', KX, 't:' .. tid, 'C|' .. d(now))
    return {'ok'}
end

return bad('op')
