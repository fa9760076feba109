-- campaign_marks.lua - the progress of the retired markers' sweep (gateway/gw_campaign_marks.c;
-- docs/campaigns.md "Retired campaigns"). The gateways delete the markers c:<id> of campaigns
-- removed from the document from every wallet, a page at a time; this script keeps, on one slot,
-- who sweeps (a lease), which ids the pass is for and where it stands, so that a restart or
-- another gateway continues from the saved cursor, and a pass done is never done again.
--
-- KEYS  1 lg:mk:{mk} hash: fp (the ids of the pass under way, "a,b"), mode ("s" SCAN cursor,
--         "c" cluster slot), cur (where the next page starts), epoch (one Redis: op EPOCH), ids (",a,b,": ids swept by a
--         completed pass), wallets, deleted (the pass's counts), passes, at (the last pass's end)
--       2 lg:mk:{mk}:lease (string: the owner sweeping; PX)
-- op BEGIN  ARGV 2 owner  3 lease ms  4 the ids the gateway may sweep, "a,b" (retired long
--           enough)  5 mode "s" | "c"  6 max ids in one pass
--   Reply {'busy'}: another owner sweeps; {'idle'}: every id given was swept by a completed pass;
--         {'go', fp, cur, epoch}: sweep the page of the pass fp (the ids to delete) from cursor
--         cur; epoch ("" none) is the SHA1 of the script the pass loaded when its cursor was 0.
--         A pass whose ids or mode differ from the saved one starts again from the start.
-- op EPOCH  ARGV 2 owner  3 lease ms  4 fp  5 a new epoch: one Redis, the pass (re)starts at 0.
--         A SCAN cursor is only good on the server that gave it: a restarted or failed-over Redis
--         hashes its keys with another seed, and the rest of the walk would miss keys. Scripts
--         are not persisted nor replicated, so a pass's own script gone from the cache (SCRIPT
--         EXISTS, asked by the gateway before each page) says its cursor may be stale.
--   Reply {'lost'} (the lease or the pass changed) or {'ok'}.
-- op SAVE   ARGV 2 owner  3 lease ms  4 fp  5 the next cursor ("" = the pass is complete)
--           6 wallets of the page  7 markers deleted  8 now (unix s)
--   Reply {'lost'}: the lease or the pass changed meanwhile (nothing saved; the page's HDELs were
--         harmless); {'ok'}; {'done', wallets, deleted} the pass is complete.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
if #KEYS ~= 2 or KEYS[1] ~= 'lg:mk:{mk}' or KEYS[2] ~= 'lg:mk:{mk}:lease' then
    return bad('keys')
end
local KS, KL = KEYS[1], KEYS[2]
local op, owner, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
if type(owner) ~= 'string' or #owner < 1 or not lease or lease < 1 then return bad('owner') end

local function held()
    local o = redis.call('GET', KL)
    return not o or o == owner
end

if op == 'BEGIN' then
    local mode, max = ARGV[5], tonumber(ARGV[6])
    if (mode ~= 's' and mode ~= 'c') or not max or max < 1 then return bad('mode') end
    if not held() then return {'busy'} end
    local done = redis.call('HGET', KS, 'ids') or ','
    local todo = {}
    for id in string.gmatch(ARGV[4], '[^,]+') do
        if #todo < max and not string.find(done, ',' .. id .. ',', 1, true) then
            todo[#todo + 1] = id
        end
    end
    if #todo == 0 then
        if redis.call('GET', KL) == owner then redis.call('DEL', KL) end
        return {'idle'}
    end
    local fp = table.concat(todo, ',')
    redis.call('SET', KL, owner, 'PX', lease)
    local st = redis.call('HMGET', KS, 'fp', 'mode', 'cur')
    if st[1] ~= fp or st[2] ~= mode or not st[3] then
        redis.call('HSET', KS, 'fp', fp, 'mode', mode, 'cur', '0', 'wallets', 0, 'deleted', 0)
        redis.call('HDEL', KS, 'epoch')
        return {'go', fp, '0', ''}
    end
    return {'go', fp, st[3], redis.call('HGET', KS, 'epoch') or ''}
end

if op == 'EPOCH' then
    if redis.call('GET', KL) ~= owner or redis.call('HGET', KS, 'fp') ~= ARGV[4] then
        return {'lost'}
    end
    redis.call('HSET', KS, 'epoch', ARGV[5], 'cur', '0', 'wallets', 0, 'deleted', 0)
    return {'ok'}
end

if op == 'SAVE' then
    local fp, nxt = ARGV[4], ARGV[5]
    local w, d = tonumber(ARGV[6]), tonumber(ARGV[7])
    if not w or not d then return bad('counts') end
    if redis.call('GET', KL) ~= owner or redis.call('HGET', KS, 'fp') ~= fp then
        return {'lost'}
    end
    w = redis.call('HINCRBY', KS, 'wallets', w)
    d = redis.call('HINCRBY', KS, 'deleted', d)
    if nxt ~= '' then
        redis.call('HSET', KS, 'cur', nxt)
        redis.call('PEXPIRE', KL, lease)
        return {'ok'}
    end
    local ids = redis.call('HGET', KS, 'ids') or ','
    for id in string.gmatch(fp, '[^,]+') do
        if not string.find(ids, ',' .. id .. ',', 1, true) then ids = ids .. id .. ',' end
    end
    redis.call('HSET', KS, 'ids', ids, 'at', ARGV[8])
    redis.call('HINCRBY', KS, 'passes', 1)
    redis.call('HDEL', KS, 'fp', 'cur', 'mode', 'epoch')
    redis.call('DEL', KL)
    return {'done', w, d}
end

return bad('op')
