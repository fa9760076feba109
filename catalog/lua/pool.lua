-- pool.lua - voucher pools and charity totals (catalog/cat_redeem.c). Each pool and each cause
-- has its own hash tag, so this script touches one Redis Cluster slot.
--
-- Pools: KEYS 1 cat:{pool:NAME}:q  codes not handed out yet (list)
--             2 cat:{pool:NAME}:all every code ever loaded (set: a reload never re-adds a code)
--             3 cat:{pool:NAME}:given  rid -> code (the hand-out record, written in the same
--                                      script as the pop: a code goes to exactly one rid)
--   ARGV 1 LOAD, codes...   -> {added}
--        1 CLAIM, rid        -> {'ok', code} (the same code again for the same rid) | {'empty'}
--        1 UNCLAIM, rid      -> {'ok'} | {'none'}: the code goes back to the front of the queue
--                               (only for rids whose debit was refused or swept: never shown)
-- Charity: KEYS 1 cat:{cause:NAME} hash total, count   2 cat:{cause:NAME}:r  rid -> points
--   ARGV 1 CHARITY, rid, points -> {'ok'} | {'already'}

local function bad(what) return redis.error_reply('LGWARG ' .. what) end
local op = ARGV[1]

local function valid_rid(s)
    return type(s) == 'string' and #s <= 95
        and s:find('^%d+:[%w_%.%-]+:%d%d%d%d%d%d%d%d:[%w_%-]+$') ~= nil
end

if op == 'CHARITY' then
    if #KEYS ~= 2 then return bad('keys') end
    local cause = KEYS[1]:match('^cat:{cause:([%w_%.%-]+)}$')
    if not cause or KEYS[2] ~= KEYS[1] .. ':r' then return bad('keys') end
    local rid, pts = ARGV[2], ARGV[3]
    if not valid_rid(rid) then return bad('rid') end
    if type(pts) ~= 'string' or not pts:find('^%d+$') or #pts > 16 then return bad('points') end
    if redis.call('HSETNX', KEYS[2], rid, pts) == 0 then return {'already'} end
    redis.call('HINCRBY', KEYS[1], 'total', pts)
    redis.call('HINCRBY', KEYS[1], 'count', 1)
    return {'ok'}
end

if #KEYS ~= 3 then return bad('keys') end
local pool = KEYS[1]:match('^cat:{pool:([%w_%.%-]+)}:q$')
if not pool or KEYS[2] ~= 'cat:{pool:' .. pool .. '}:all'
    or KEYS[3] ~= 'cat:{pool:' .. pool .. '}:given' then
    return bad('keys')
end
local KQ, KA, KG = KEYS[1], KEYS[2], KEYS[3]

if op == 'LOAD' then
    for i = 2, #ARGV do
        local c = ARGV[i]
        if type(c) ~= 'string' or #c < 4 or #c > 64 or not c:find('^[%w%-]+$') then
            return bad('code')
        end
    end
    local added = 0
    for i = 2, #ARGV do
        if redis.call('SADD', KA, ARGV[i]) == 1 then
            redis.call('RPUSH', KQ, ARGV[i])
            added = added + 1
        end
    end
    return {added}
end

local rid = ARGV[2]
if not valid_rid(rid) then return bad('rid') end

if op == 'CLAIM' then
    local have = redis.call('HGET', KG, rid)
    if have then return {'ok', have} end
    local code = redis.call('LPOP', KQ)
    if not code then return {'empty'} end
    redis.call('HSET', KG, rid, code)
    return {'ok', code}
end

if op == 'UNCLAIM' then
    local have = redis.call('HGET', KG, rid)
    if not have then return {'none'} end
    redis.call('HDEL', KG, rid)
    redis.call('LPUSH', KQ, have)
    return {'ok'}
end

return bad('op')
