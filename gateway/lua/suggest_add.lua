-- suggest_add.lua - appends one idea or rating to the suggestion box (gw_suggest.h), all on the
-- slot {sg}: the stream entry, the week's counters, and the retention of all three keys.
-- KEYS[1] sg:{sg}:in  KEYS[2] sg:{sg}:wk  KEYS[3] sg:{sg}:meta
-- ARGV[1] oldest ms kept (now - retention), ARGV[2] max entries, ARGV[3] this week (Monday,
-- YYYYMMDD), ARGV[4] oldest week kept (YYYYMMDD), ARGV[5] rating 1..5 or '', ARGV[6..] the
-- entry's field/value pairs. Reply: the entry id.
if KEYS[1] ~= 'sg:{sg}:in' or KEYS[2] ~= 'sg:{sg}:wk' or KEYS[3] ~= 'sg:{sg}:meta' then
    return redis.error_reply('ERR suggest_add: bad keys')
end
local fields = {}
for i = 6, #ARGV do
    fields[#fields + 1] = ARGV[i]
end
if #fields == 0 or #fields % 2 ~= 0 then
    return redis.error_reply('ERR suggest_add: fields come in pairs')
end
local id = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[1], '*', unpack(fields))
local max = tonumber(ARGV[2])
if max and redis.call('XLEN', KEYS[1]) > max then
    redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', max)
end
local w = ARGV[3]
local first_of_week = redis.call('HINCRBY', KEYS[2], w .. ':n', 1) == 1
if ARGV[5] ~= '' then
    redis.call('HINCRBY', KEYS[2], w .. ':rn', 1)
    redis.call('HINCRBY', KEYS[2], w .. ':rs', tonumber(ARGV[5]))
end
-- once a week (its first entry): drop the weeks past the retention, and the console's marks of
-- entries the stream no longer holds (both hashes stay small: weeks x 3, marked entries)
if first_of_week then
    local oldest = tonumber(ARGV[4])
    for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
        local wk = tonumber(string.match(f, '^(%d+):'))
        if wk and wk < oldest then redis.call('HDEL', KEYS[2], f) end
    end
    local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
    local first_ms = head[1] and tonumber(string.match(head[1][1], '^(%d+)')) or 0
    for _, f in ipairs(redis.call('HKEYS', KEYS[3])) do
        local ms = tonumber(string.match(f, '^(%d+)'))
        if not ms or ms < first_ms then redis.call('HDEL', KEYS[3], f) end
    end
end
return id
