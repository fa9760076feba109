-- broadcast.lua - every state change of the gift-day reminder broadcast (gateway/gw_broadcast.c,
-- README "Reminder broadcast"), one script dispatched by ARGV[1] so that each step is atomic.
-- Owner: the broadcast engineer (issue 5 part 4).
--
-- Every key carries the hash tag {bc}: one Redis Cluster slot, so each step runs as one script
-- on a cluster too. KEYS (always all ten; the campaign ones are built for id "" when unused):
--   1 bc:{bc}:lease      string  the runner's token; SET NX PX, renewed every second
--   2 bc:{bc}:active     set     campaigns not finished
--   3 bc:{bc}:all        zset    every campaign by creation time (ms)
--   4 bc:{bc}:optin      set     opted-in MSISDNs (the audience)
--   5 bc:{bc}:c:<id>     hash    definition and progress
--   6 bc:{bc}:q:<id>     list    recipients, built once from a snapshot of 4
--   7 bc:{bc}:snap:<id>  set     that snapshot, while the list is built
--   8 bc:{bc}:s:<id>     bitmap  recipient index -> sent (submit_sm_resp ESME_ROK)
--   9 bc:{bc}:d:<id>     bitmap  recipient index -> final (sent, failed, skipped or unknown)
--  10 bc:{bc}:i:<id>     bitmap  recipient index -> claimed (in flight, or was when a run died)
-- ARGV: 1 op, 2 the runner's token, then the op's own arguments.
-- "pick" reads the hashes of the active campaigns by name (undeclared keys): they share slot {bc}
-- with KEYS[2], which is what Redis Cluster needs.
local op, token = ARGV[1], ARGV[2]

local function ours()
    return redis.call('GET', KEYS[1]) == token
end

if op == 'pick' then
    -- ARGV 3 lease ms, 4 now (unix s), 5 prefix of the campaign hashes
    local cur = redis.call('GET', KEYS[1])
    if cur and cur ~= token then
        return {'busy', cur}
    end
    local now = tonumber(ARGV[4])
    local best, best_at, resolve
    for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
        local h = redis.call('HMGET', ARGV[5] .. id, 'state', 'send_at', 'created_ms')
        if not h[1] or h[1] == 'done' or h[1] == 'cancelled' then
            redis.call('SREM', KEYS[2], id)
        elseif not h[2] or h[2] == '' then
            resolve = resolve or {id, h[3] or '0'}
        else
            local at = tonumber(h[2])
            if at and at <= now and (not best_at or at < best_at) then
                best, best_at = id, at
            end
        end
    end
    if best then
        redis.call('SET', KEYS[1], token, 'PX', ARGV[3])
        return {'run', best}
    end
    if cur then
        redis.call('DEL', KEYS[1]) -- nothing due: let another gateway take the next one
    end
    if resolve then
        return {'resolve', resolve[1], resolve[2]}
    end
    return {'idle'}
elseif op == 'resolve' then
    -- ARGV 3 send_at (unix s): the first gateway to resolve "next opening" wins
    if redis.call('EXISTS', KEYS[5]) == 0 then
        return false
    end
    redis.call('HSETNX', KEYS[5], 'send_at', ARGV[3])
    return redis.call('HGET', KEYS[5], 'send_at')
elseif op == 'build' then
    -- ARGV 3 SSCAN count, 4 now (ms). One batch: scan the snapshot, append, move the cursor, all
    -- in one step, so a run that dies mid-build neither loses nor duplicates a recipient.
    if not ours() then
        return {'lease'}
    end
    local state = redis.call('HGET', KEYS[5], 'state')
    if state == 'scheduled' then
        -- A snapshot: opt-ins during the build do not rehash the set being scanned, so SSCAN
        -- returns each member exactly once.
        redis.call('DEL', KEYS[6], KEYS[7])
        if redis.call('EXISTS', KEYS[4]) == 1 then
            redis.call('COPY', KEYS[4], KEYS[7])
        end
        redis.call('HSET', KEYS[5], 'state', 'building', 'build_cursor', '0', 'started_ms',
                   ARGV[4])
        state = 'building'
    end
    if state == 'building' then
        local res = redis.call('SSCAN', KEYS[7], redis.call('HGET', KEYS[5], 'build_cursor'),
                               'COUNT', ARGV[3])
        local m = res[2]
        for i = 1, #m, 1000 do
            redis.call('RPUSH', KEYS[6], unpack(m, i, math.min(i + 999, #m)))
        end
        redis.call('HSET', KEYS[5], 'build_cursor', res[1])
        if res[1] ~= '0' then
            return {'building', redis.call('LLEN', KEYS[6])}
        end
        redis.call('DEL', KEYS[7])
        local total = redis.call('LLEN', KEYS[6])
        redis.call('HSET', KEYS[5], 'state', 'sending', 'total', total, 'cursor', '0')
        return {'sending', total}
    end
    if state == 'sending' then
        return {'sending', tonumber(redis.call('HGET', KEYS[5], 'total') or '0')}
    end
    return {state or 'gone', 0}
elseif op == 'claim' then
    -- ARGV 3 recipient index. 'go' = claimed now (send it); 'done' = already final; 'unknown' =
    -- claimed by a run that died before hearing the SMSC's answer.
    if not ours() then
        return 'lease'
    end
    if redis.call('GETBIT', KEYS[9], ARGV[3]) == 1 then
        return 'done'
    end
    if redis.call('SETBIT', KEYS[10], ARGV[3], 1) == 1 then
        return 'unknown'
    end
    return 'go'
elseif op == 'unclaim' then
    -- ARGV 3 index: certainly not sent (refused by our own link, or never queued)
    if redis.call('GETBIT', KEYS[9], ARGV[3]) == 0 then
        redis.call('SETBIT', KEYS[10], ARGV[3], 0)
    end
    return 1
elseif op == 'mark' then
    -- ARGV 3 index, 4 outcome: sent | failed | skipped | unknown. No lease check: this records
    -- what happened on the wire, whoever holds the lease now. Counted once per index.
    if redis.call('SETBIT', KEYS[9], ARGV[3], 1) == 1 then
        return 0
    end
    if ARGV[4] == 'sent' then
        redis.call('SETBIT', KEYS[8], ARGV[3], 1)
    end
    redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
    return 1
elseif op == 'progress' then
    -- ARGV 3 cursor, 4 rate (per s, text), 5 now (ms), 6 owner, 7 lease ms. Renews the lease
    -- and publishes the progress figures; answers the figures and the state (cancel shows here).
    local ok = ours()
    if ok then
        redis.call('PEXPIRE', KEYS[1], ARGV[7])
        local c = tonumber(redis.call('HGET', KEYS[5], 'cursor') or '0')
        if tonumber(ARGV[3]) > c then
            redis.call('HSET', KEYS[5], 'cursor', ARGV[3])
        end
        redis.call('HSET', KEYS[5], 'rate', ARGV[4], 'updated_ms', ARGV[5], 'owner', ARGV[6])
    end
    local h = redis.call('HMGET', KEYS[5], 'state', 'total', 'sent', 'failed', 'skipped',
                         'unknown')
    return {ok and 1 or 0, h[1] or 'gone', h[2] or '0', h[3] or '0', h[4] or '0', h[5] or '0',
            h[6] or '0'}
elseif op == 'finish' then
    -- ARGV 3 now (ms), 4 id, 5 seconds the per-recipient keys are kept
    if not ours() then
        return 0
    end
    local total = redis.call('HGET', KEYS[5], 'total') or '0'
    redis.call('HSET', KEYS[5], 'state', 'done', 'finished_ms', ARGV[3], 'cursor', total,
               'rate', '0', 'updated_ms', ARGV[3])
    redis.call('SREM', KEYS[2], ARGV[4])
    for k = 6, 10 do
        redis.call('EXPIRE', KEYS[k], ARGV[5])
    end
    return 1
elseif op == 'release' then
    if ours() then
        redis.call('DEL', KEYS[1])
        return 1
    end
    return 0
elseif op == 'create' then
    -- (loyalty-admin, loyaltyctl) ARGV 3 id, 4 texts (JSON), 5 default_lang, 6 when (at |
    -- next_opening), 7 send_at ('' = at the next opening, resolved by a gateway), 8 now (ms),
    -- 9 by; optional (campaigns the gateway plans, gw_broadcast.h): 10 opening, 11 until (unix
    -- s), 12 quiet ("1"). An existing id answers its definition: the caller tells a replay from
    -- a conflict.
    if redis.call('EXISTS', KEYS[5]) == 1 then
        local h = redis.call('HMGET', KEYS[5], 'texts', 'default_lang', 'when', 'send_at')
        return {'exists', h[1] or '', h[2] or '', h[3] or '', h[4] or ''}
    end
    redis.call('HSET', KEYS[5], 'id', ARGV[3], 'texts', ARGV[4], 'default_lang', ARGV[5],
               'when', ARGV[6], 'state', 'scheduled', 'created_ms', ARGV[8], 'by', ARGV[9],
               'total', 0, 'sent', 0, 'failed', 0, 'skipped', 0, 'unknown', 0, 'cursor', 0,
               'rate', '0')
    if ARGV[7] ~= '' then
        redis.call('HSET', KEYS[5], 'send_at', ARGV[7])
    end
    for i, f in ipairs({'opening', 'until', 'quiet'}) do
        local v = ARGV[9 + i]
        if v and v ~= '' then
            if not v:find('^%d+$') then return redis.error_reply('LGWARG ' .. f) end
            redis.call('HSET', KEYS[5], f, v)
        end
    end
    redis.call('ZADD', KEYS[3], ARGV[8], ARGV[3])
    redis.call('SADD', KEYS[2], ARGV[3])
    return {'created'}
elseif op == 'cancel' then
    -- (loyalty-admin) answers the state before; a running campaign stops within a second
    local state = redis.call('HGET', KEYS[5], 'state')
    if state == 'scheduled' or state == 'building' or state == 'sending' then
        redis.call('HSET', KEYS[5], 'state', 'cancelled')
        redis.call('SREM', KEYS[2], redis.call('HGET', KEYS[5], 'id'))
    end
    return state or false
end
return redis.error_reply('LGWBCOP unknown op')
