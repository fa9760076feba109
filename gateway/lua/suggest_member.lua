-- suggest_member.lua - the member's side of one idea or rating (gw_suggest.h), on the member's
-- slot: the daily cap and the once-only thank-you, in the wallet hash (two small fields).
-- KEYS[1] lg:{M}:w
-- ARGV[1] today (local day YYYYMMDD), ARGV[2] suggestions.per_day, ARGV[3] '1' for an idea by
-- SMS (a thank-you candidate), '0' for a rating
-- Reply {allowed 0|1, thank 0|1 (first idea ever: send the thank-you), saved language or ''}
-- A wallet hash created here holds no "bal": that enrols nobody (gw_ussd.c, lua/commit.lua).
if not string.match(KEYS[1], '^lg:{%d+}:w$') then
    return redis.error_reply('ERR suggest_member: bad key')
end
local day = ARGV[1]
local cap = tonumber(ARGV[2]) or 0
local n = 0
local cur = redis.call('HGET', KEYS[1], 'sgn')
if cur then
    local d, c = string.match(cur, '^(%d+):(%d+)$')
    if d == day then n = tonumber(c) end
end
local lang = redis.call('HGET', KEYS[1], 'lang') or ''
if n >= cap then
    return {0, 0, lang}
end
redis.call('HSET', KEYS[1], 'sgn', day .. ':' .. (n + 1))
local thank = 0
if ARGV[3] == '1' then
    thank = redis.call('HSETNX', KEYS[1], 'sgt', day)
end
return {1, thank, lang}
