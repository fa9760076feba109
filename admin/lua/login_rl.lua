-- login_rl.lua - the per-IP login rate limit: one counter per client address per fixed window,
-- in Redis so that it holds across admin restarts and several admin processes.
-- Owner: the staff-console engineer.
-- KEYS 1 adm:rl:login:<ip>   ARGV 1 window (s)
-- Reply {attempts in this window, seconds left in it}.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
    -- A counter without TTL (left by a crash between INCR and EXPIRE in an older version):
    -- never let it lock an address out for good.
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {n, ttl}
