-- draw.lua - the draw of an item opened by draw (catalog/cat_draw_run.c builds the arguments;
-- catalog.h "The draw in Redis"). Every key carries the item id as hash tag: one Redis Cluster
-- slot, the item's, shared with its stock (item.lua), so the units offered to winners leave the
-- day's stock in the same atomic step that publishes the draw. The draw order itself is computed
-- in C (cat_draw_order: seeded, integer only) and handed in; this script only checks it covers
-- exactly the registrations and writes it once.
--
-- KEYS 1 cat:{ITEM}:dr:cur  the gift day of the last published draw; the day's keys are derived
--                           from it and from the tag (same slot):
--        cat:{ITEM}:dr:DAY:reg  registrations msisdn -> weight
--        cat:{ITEM}:dr:DAY:m    the published draw: seed entrants winners digest at next open
--        cat:{ITEM}:dr:DAY:o    the draw order (list)       :p  msisdn -> rank (1-based)
--        cat:{ITEM}:dr:DAY:w    offers msisdn -> "p|c|x,<deadline>" (pending, claimed, lapsed)
--        cat:{ITEM}:dr:DAY:ob   the winners' SMS outbox msisdn -> "<deadline>,<lease until>,<tries>":
--                               written with each offer (PUBLISH, ROLL) in the same atomic step,
--                               claimed under a lease by a sender (OBOX), removed once the SMSC
--                               accepted the SMS (SENT): at least once, across crashes and gateways
--        cat:{ITEM}:s:DAY       the day's stock (item.lua)  cat:{ITEM}:n:DAY  live reservations
-- ARGV 1 op ENTER | PUBLISH | ROLL   2 now (unix s)   3 ttl of the draw's keys (s)
--   ENTER   4 msisdn 5 day of the current or next window 6 registration start 7 close (the
--           regular opening: the draw) 8 weight. Replies {'registered', close} {'early', start}
--           {'closed'} {'claim', day, deadline} {'claimed'} {'waiting', position} {'lost'}
--   PUBLISH 4 day 5 seed 6 entrants n 7 stock per day 8 claim seconds 9 digest, 10.. the n
--           msisdns in draw order. Replies {'ok', deadline, winners...} {'already'} {'changed'}
--   ROLL    4 claim seconds 5 grace seconds. Replies {'ok', day, deadline, offered...} {'none'}
--   OBOX    4 lease seconds 5 at most n 6 tries. Claims up to n entries of the last draw's outbox
--           whose lease has run out (now + lease; tries + 1); an entry whose offer is no longer
--           pending (or already claimed: a reservation) or whose deadline has passed, or already
--           tried `tries` times, is dropped.
--           Replies {'ok', day, dropped, msisdn, deadline, ...} {'none'}
--   SENT    4 day 5 msisdn. Removes the entry (the SMSC accepted the SMS). {'ok'} {'gone'}
-- A bad argument is an error "LGWARG <what>" with nothing written.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local function d(n) return string.format('%d', n) end
local function int_arg(s, lo, hi)
    if type(s) ~= 'string' or #s == 0 or #s > 16 or not s:find('^%-?%d+$') then return nil end
    local n = tonumber(s)
    if n == nil or n < lo or n > hi then return nil end
    return n
end
local function is_day(s) return type(s) == 'string' and s:find('^%d%d%d%d%d%d%d%d$') ~= nil end
local function is_msisdn(s) return type(s) == 'string' and s:find('^%d%d%d%d%d%d%d%d+$') ~= nil
    and #s <= 15 end

if #KEYS ~= 1 then return bad('keys') end
local tag = KEYS[1]:match('^cat:(%b{}):dr:cur$')
if not tag or not tag:find('^{[%w_%.%-]+}$') then return bad('keys') end
local KCUR, pre = KEYS[1], 'cat:' .. tag .. ':dr:'
local op = ARGV[1]
local now = int_arg(ARGV[2], 0, 1e11)
if not now then return bad('now') end
local ttl = int_arg(ARGV[3], 60, 400 * 86400)
if not ttl then return bad('ttl') end
local function k(day, what) return pre .. day .. ':' .. what end

local function offer_parse(e)
    local st, dl = e:match('^([pcx]),(%d+)$')
    if not st then return nil end
    return st, tonumber(dl)
end

-- Where member m stands in the published draw of `day`, or nil when they did not register.
local function status(day, m)
    local e = redis.call('HGET', k(day, 'w'), m)
    if e then
        local st, dl = offer_parse(e)
        if not st then return redis.error_reply('LGWDATA offer') end
        if st == 'c' then return {'claimed'} end
        if st == 'x' then return {'lost'} end
        -- pending: before the deadline a claim; after it, one under way finishes (item.lua
        -- answers for it), else it is lost and the roll-down passes the unit on
        local live = tonumber(redis.call('HGET', 'cat:' .. tag .. ':n:' .. day, m) or '0') or 0
        if now < dl or live > 0 then return {'claim', day, d(dl)} end
        return {'lost'}
    end
    local rank = tonumber(redis.call('HGET', k(day, 'p'), m) or '')
    if not rank then return nil end
    local meta = redis.call('HMGET', k(day, 'm'), 'next', 'open')
    local nxt, open = tonumber(meta[1] or '0') or 0, tonumber(meta[2] or '0') or 0
    if open > 0 and rank > nxt then return {'waiting', d(rank - nxt)} end
    return {'lost'}
end

if op == 'ENTER' then
    local m, day = ARGV[4], ARGV[5]
    local start, close = int_arg(ARGV[6], 0, 1e11), int_arg(ARGV[7], 0, 1e11)
    local weight = int_arg(ARGV[8], 1, 100)
    if not is_msisdn(m) then return bad('msisdn') end
    if not is_day(day) then return bad('day') end
    if not start or not close or start > close then return bad('window') end
    if not weight then return bad('weight') end
    local cur, old = redis.call('GET', KCUR), nil
    if cur then
        old = status(cur, m)
        if cur == day then return old or {'closed'} end
        if old and old[1] == 'claim' then return old end
    end
    if now < start then return old or {'early', d(start)} end
    local kreg = k(day, 'reg')
    if now >= close then
        -- the window has closed and the draw is about to run (one job round at most)
        if redis.call('HEXISTS', kreg, m) == 1 then return {'registered', d(close)} end
        return {'closed'}
    end
    redis.call('HSETNX', kreg, m, d(weight))
    redis.call('EXPIRE', kreg, ttl)
    return {'registered', d(close)}
end

if op == 'PUBLISH' then
    local day, seed = ARGV[4], ARGV[5]
    local n = int_arg(ARGV[6], 0, 1e7)
    local stock = int_arg(ARGV[7], 1, 1e12)
    local claim = int_arg(ARGV[8], 60, 400 * 86400)
    local digest = ARGV[9]
    if not is_day(day) then return bad('day') end
    if type(seed) ~= 'string' or #seed < 1 or #seed > 64 or not seed:find('^[%w_%.%-]+$') then
        return bad('seed')
    end
    if not n or #ARGV ~= 9 + n then return bad('entrants') end
    if not stock then return bad('stock') end
    if not claim then return bad('claim') end
    if type(digest) ~= 'string' or not digest:find('^%x+$') or #digest > 16 then
        return bad('digest')
    end
    local km, kreg = k(day, 'm'), k(day, 'reg')
    if redis.call('HEXISTS', km, 'seed') == 1 then return {'already'} end
    -- the order must be exactly the registrations (a late one from a gateway whose clock is
    -- behind: the next round draws again, over all of them)
    if redis.call('HLEN', kreg) ~= n then return {'changed'} end
    for i = 10, 9 + n do
        if redis.call('HEXISTS', kreg, ARGV[i]) == 0 then return {'changed'} end
    end
    local ks = 'cat:' .. tag .. ':s:' .. day
    local left = stock
    local s = redis.call('GET', ks)
    if s then
        left = int_arg(s, -1e12, 1e12)
        if not left then return redis.error_reply('LGWDATA stock') end
    end
    local units = math.max(0, math.min(left, n))
    redis.call('SET', ks, d(left - units), 'EX', ttl)
    local ko, kp, kw, kob = k(day, 'o'), k(day, 'p'), k(day, 'w'), k(day, 'ob')
    local deadline = now + claim
    local reply = {'ok', d(deadline)}
    for i = 1, n do
        local m = ARGV[9 + i]
        redis.call('RPUSH', ko, m)
        redis.call('HSET', kp, m, d(i))
        if i <= units then
            redis.call('HSET', kw, m, 'p,' .. d(deadline))
            redis.call('HSET', kob, m, d(deadline) .. ',0,0')
            reply[#reply + 1] = m
        end
    end
    redis.call('HSET', km, 'seed', seed, 'entrants', d(n), 'winners', d(units), 'digest', digest,
               'at', d(now), 'next', d(units), 'open', d(units))
    for _, key in ipairs({km, ko, kp, kw, kob, kreg}) do redis.call('EXPIRE', key, ttl) end
    redis.call('SET', KCUR, day, 'EX', ttl)
    return reply
end

if op == 'ROLL' then
    local claim = int_arg(ARGV[4], 60, 400 * 86400)
    local grace = int_arg(ARGV[5], 0, 86400)
    if not claim then return bad('claim') end
    if not grace then return bad('grace') end
    local day = redis.call('GET', KCUR)
    if not day then return {'none'} end
    local km, kw, ko = k(day, 'm'), k(day, 'w'), k(day, 'o')
    local meta = redis.call('HMGET', km, 'next', 'open')
    local nxt, open = tonumber(meta[1] or '0') or 0, tonumber(meta[2] or '0') or 0
    if open <= 0 then return {'none'} end
    local kn, ks = 'cat:' .. tag .. ':n:' .. day, 'cat:' .. tag .. ':s:' .. day
    local total = redis.call('LLEN', ko)
    local deadline = now + claim
    local reply = {'ok', day, d(deadline)}
    local offers = redis.call('HGETALL', kw)
    for i = 1, #offers, 2 do
        local m = offers[i]
        local st, dl = offer_parse(offers[i + 1])
        if st == 'p' and now >= dl + grace then
            if (tonumber(redis.call('HGET', kn, m) or '0') or 0) > 0 then
                redis.call('HSET', kw, m, 'c,' .. d(dl)) -- claimed (paid, or settled by the sweeper)
                open = open - 1
            else
                redis.call('HSET', kw, m, 'x,' .. d(dl))
                local given = false
                while not given and nxt < total do
                    nxt = nxt + 1
                    local cand = redis.call('LINDEX', ko, nxt - 1)
                    if redis.call('HEXISTS', kw, cand) == 0 then
                        redis.call('HSET', kw, cand, 'p,' .. d(deadline))
                        redis.call('HSET', k(day, 'ob'), cand, d(deadline) .. ',0,0')
                        redis.call('EXPIRE', k(day, 'ob'), ttl)
                        reply[#reply + 1] = cand
                        given = true
                    end
                end
                if not given then -- nobody left on the list: the unit goes back to the stock
                    open = open - 1
                    if redis.call('EXISTS', ks) == 1 then redis.call('INCR', ks) end
                end
            end
        end
    end
    redis.call('HSET', km, 'next', d(nxt), 'open', d(open))
    return reply
end

if op == 'OBOX' then
    local lease = int_arg(ARGV[4], 1, 86400)
    local most = int_arg(ARGV[5], 1, 1000)
    local tries = int_arg(ARGV[6], 1, 100)
    if not lease then return bad('lease') end
    if not most then return bad('most') end
    if not tries then return bad('tries') end
    local day = redis.call('GET', KCUR)
    if not day then return {'none'} end
    local kob, kw, kn = k(day, 'ob'), k(day, 'w'), 'cat:' .. tag .. ':n:' .. day
    local all = redis.call('HGETALL', kob)
    if #all == 0 then return {'none'} end
    local reply, dropped, taken = {'ok', day, 0}, 0, 0
    for i = 1, #all, 2 do
        local m = all[i]
        local dl, till, n = all[i + 1]:match('^(%d+),(%d+),(%d+)$')
        dl, till, n = tonumber(dl), tonumber(till), tonumber(n)
        local st = offer_parse(redis.call('HGET', kw, m) or '')
        -- a reservation: the winner claimed over USSD before the SMS went (ROLL reads it so too)
        local live = tonumber(redis.call('HGET', kn, m) or '0') or 0
        if not dl or st ~= 'p' or live > 0 or now >= dl or n >= tries then
            -- claimed already, lapsed, or the SMSC keeps refusing it: the SMS is of no use now
            redis.call('HDEL', kob, m)
            dropped = dropped + 1
        elseif till <= now and taken < most then
            redis.call('HSET', kob, m, d(dl) .. ',' .. d(now + lease) .. ',' .. d(n + 1))
            reply[#reply + 1] = m
            reply[#reply + 1] = d(dl)
            taken = taken + 1
        end
    end
    reply[3] = d(dropped)
    return reply
end

if op == 'SENT' then
    local day, m = ARGV[4], ARGV[5]
    if not is_day(day) then return bad('day') end
    if not is_msisdn(m) then return bad('msisdn') end
    if redis.call('HDEL', k(day, 'ob'), m) == 1 then return {'ok'} end
    return {'gone'}
end

return bad('op')
