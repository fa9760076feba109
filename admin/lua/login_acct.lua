-- login_acct.lua - the per-account login limit beside the per-IP one (login_rl.lua): failed
-- logins of one account are counted in a window from the first failure; the Nth locks that
-- account's logins for a while, whatever address they come from (a botnet spreads over IPs, not
-- over accounts). Any name is counted, known or not, so the answer says nothing about which names
-- exist. Owner: the staff-console engineer.
-- KEYS 1 adm:rl:acct:{<user>}:n (failures)   2 adm:rl:acct:{<user>}:lock
-- ARGV 1 "check" | "fail" | "ok"   2 failures that lock   3 window (s)   4 lock (s)
-- Reply: check {seconds the lock still holds, 0 = open}; fail {1 when this failure locked the
-- account else 0, failures counted}; ok {0, 0} (the count is cleared).
local op = ARGV[1]
if op == 'check' then
    local ttl = redis.call('TTL', KEYS[2])
    if ttl == -1 then
        -- a lock without TTL (never written so by this script): never lock an account for good
        redis.call('EXPIRE', KEYS[2], ARGV[4])
        ttl = tonumber(ARGV[4])
    end
    return {ttl > 0 and ttl or 0}
elseif op == 'fail' then
    local n = redis.call('INCR', KEYS[1])
    if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
    if n >= tonumber(ARGV[2]) then
        redis.call('SET', KEYS[2], n, 'EX', ARGV[4])
        redis.call('DEL', KEYS[1])
        return {1, n}
    end
    return {0, n}
elseif op == 'ok' then
    redis.call('DEL', KEYS[1])
    return {0, 0}
end
return redis.error_reply('LGWARG op')
