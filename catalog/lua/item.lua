-- item.lua - the item side of a redemption (catalog/cat_redeem.c builds the arguments). Every key
-- carries the item id as hash tag, so this script touches one Redis Cluster slot; it never
-- touches a subscriber's keys (those live on another shard). Idempotent by rid; everything is
-- validated before the first write (Redis does not roll back a script that fails after writing).
--
-- KEYS 1 cat:{ITEM}:s:DAY  stock left for the gift day (string; absent until the first reserve)
--      2 cat:{ITEM}:r:DAY  reservations of the gift day: rid -> "state,ts,took,price,version,why"
--      3 cat:{ITEM}:z      reservations not yet queued: rid scored by reserve time (the sweeper)
--      4 cat:{ITEM}:k      kill switch shared by every gateway (exists = killed)
--      5 cat:{ITEM}:n:DAY  live reservations per subscriber (msisdn -> count): the per-day limit
--                          checked here too, so one subscriber's parallel sessions cannot hold
--                          more units than the limit while their debits are refused one by one
--                          (the debit's check on the subscriber slot stays the authoritative one)
-- ARGV 1 op  RESERVE | CONFIRM | QUEUED | RELEASE | RESTOCK
--      2 rid "<msisdn>:<item>:<day>:<tag>"   3 now (unix s)
--      4 RESERVE: stock per day (0 = unlimited)   RELEASE: why (outcome name)   else ""
--      5 RESERVE: price   6 RESERVE: version   7 ttl of the day's keys (s)
--      8 RESERVE: limit per subscriber per gift day (0 = none)
--      9 RESERVE: staggered opening: the member's slot (unix s; 0 or absent = none). The slot is
--                 computed by cat_cohort_release() (catalog/cat_catalog.c), the one cohort
--                 function; before it the reply is {'slot', slot} and nothing is written.
--     10 RESERVE: staggered opening: units of the day's stock held back for the cohorts not yet
--                 released (cat_cohort_held_back; 0 or absent = none): {'out'} when no more
--                 than these are left.
-- States: r reserved, c confirmed (debit seen), q queued for fulfilment, x released (stock back,
-- debit refused or swept), f refunded (stock back after a failed fulfilment).
-- Replies: {status, detail...}; a bad argument is an error "LGWARG <what>" with nothing written.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function d(n) return string.format('%d', n) end

local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n < lo or n > hi then return nil end
    return n
end

if #KEYS ~= 5 then return bad('keys') end
local op, rid = ARGV[1], ARGV[2]
local msisdn, item, day
if type(rid) == 'string' and #rid <= 95 then
    msisdn, item, day = rid:match('^(%d+):([%w_%.%-]+):(%d%d%d%d%d%d%d%d):[%w_%-]+$')
end
if not item then return bad('rid') end
local tag = '{' .. item .. '}'
if KEYS[1] ~= 'cat:' .. tag .. ':s:' .. day or KEYS[2] ~= 'cat:' .. tag .. ':r:' .. day
    or KEYS[3] ~= 'cat:' .. tag .. ':z' or KEYS[4] ~= 'cat:' .. tag .. ':k'
    or KEYS[5] ~= 'cat:' .. tag .. ':n:' .. day then
    return bad('keys')
end
local KS, KR, KZ, KK, KN = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = int_arg(ARGV[3], 0, 1e11)
if not now then return bad('now') end
local ttl = int_arg(ARGV[7], 60, 400 * 86400)
if not ttl then return bad('ttl') end

-- "state,ts,took,price,version,why"
local function parse(v)
    local st, ts, took, price, ver, why = v:match('^([rcqxf]),(%d+),([01]),(%d+),([^,]*),(.*)$')
    if not st then return nil end
    return {st = st, ts = ts, took = took, price = price, ver = ver, why = why}
end
local function fmt(r)
    return r.st .. ',' .. r.ts .. ',' .. r.took .. ',' .. r.price .. ',' .. r.ver .. ',' .. r.why
end

local cur = redis.call('HGET', KR, rid)
local rec = nil
if cur then
    rec = parse(cur)
    if not rec then return redis.error_reply('LGWDATA reservation') end
end

-- Gives the unit back to the day's stock. When the day's stock key has expired (a refund long
-- after the gift day) there is nothing to give back to: a past gift day's stock is not reused.
local function give_back()
    if rec.took == '1' and redis.call('EXISTS', KS) == 1 then redis.call('INCR', KS) end
end

if op == 'RESERVE' then
    local stock = int_arg(ARGV[4], 0, 1e12)
    local price = int_arg(ARGV[5], 0, 9007199254740992) -- 0: a premium perk (sub.lua)
    local ver = ARGV[6]
    if not stock then return bad('stock') end
    if not price then return bad('price') end
    local limit = int_arg(ARGV[8], 0, 1e9)
    if not limit then return bad('limit') end
    local slot = 0
    if ARGV[9] ~= nil then slot = int_arg(ARGV[9], 0, 1e11) end
    if not slot then return bad('slot') end
    local held = 0
    if ARGV[10] ~= nil then held = int_arg(ARGV[10], 0, 1e12) end
    if not held then return bad('held') end
    if type(ver) ~= 'string' or #ver < 1 or #ver > 31 or not ver:find('^[%w_%.%-]+$') then
        return bad('version')
    end
    -- A retry of the same confirm: report where it stands, change nothing.
    if rec then return {'dup', rec.st, rec.price, rec.why} end
    if redis.call('EXISTS', KK) == 1 then return {'killed'} end
    if now < slot then return {'slot', slot} end
    if limit > 0 and (tonumber(redis.call('HGET', KN, msisdn)) or 0) >= limit then
        return {'limit'}
    end
    local took, left = '0', -1
    if stock > 0 then
        local s = redis.call('GET', KS)
        if s == false then
            left = stock
        else
            left = int_arg(s, -1e12, 1e12)
            if not left then return redis.error_reply('LGWDATA stock') end
        end
        if left <= held then return {'out'} end
        left = left - 1
        redis.call('SET', KS, d(left), 'EX', ttl)
        took = '1'
    end
    redis.call('HSET', KR, rid, 'r,' .. d(now) .. ',' .. took .. ',' .. d(price) .. ',' .. ver .. ',')
    redis.call('EXPIRE', KR, ttl)
    redis.call('ZADD', KZ, now, rid)
    redis.call('HINCRBY', KN, msisdn, 1)
    redis.call('EXPIRE', KN, ttl)
    return {'ok', left}
end

if op == 'CONFIRM' then
    if not rec then return {'unknown'} end
    if rec.st == 'r' then
        rec.st = 'c'
        redis.call('HSET', KR, rid, fmt(rec))
        return {'ok'}
    end
    if rec.st == 'c' or rec.st == 'q' then return {'already', rec.st} end
    return {'conflict', rec.st}
end

if op == 'QUEUED' then
    if not rec then
        redis.call('ZREM', KZ, rid)
        return {'unknown'}
    end
    if rec.st == 'c' then
        rec.st = 'q'
        redis.call('HSET', KR, rid, fmt(rec))
        redis.call('ZREM', KZ, rid)
        return {'ok'}
    end
    if rec.st == 'q' then
        redis.call('ZREM', KZ, rid)
        return {'already', rec.st}
    end
    return {'conflict', rec.st}
end

if op == 'RELEASE' then
    local why = ARGV[4]
    if type(why) ~= 'string' or #why > 24 or not why:find('^[%w_]*$') then return bad('why') end
    if not rec then
        redis.call('ZREM', KZ, rid)
        return {'unknown'}
    end
    if rec.st == 'r' then
        give_back()
        if redis.call('HINCRBY', KN, msisdn, -1) <= 0 then redis.call('HDEL', KN, msisdn) end
        rec.st, rec.why = 'x', why
        redis.call('HSET', KR, rid, fmt(rec))
        redis.call('ZREM', KZ, rid)
        return {'ok'}
    end
    if rec.st == 'x' then return {'already', rec.st} end
    return {'conflict', rec.st}
end

if op == 'RESTOCK' then
    if not rec then return {'unknown'} end
    if rec.st == 'c' or rec.st == 'q' then
        give_back()
        rec.st = 'f'
        redis.call('HSET', KR, rid, fmt(rec))
        redis.call('ZREM', KZ, rid)
        return {'ok'}
    end
    if rec.st == 'f' then return {'already', rec.st} end
    return {'conflict', rec.st}
end

return bad('op')
