-- cfg_put.lua - writes a configuration document (cfg:{adm}:giftdays, ...) with optimistic
-- concurrency and its audit record, atomically: the change and its record exist together or not
-- at all. The admin validated the document with the catalog library before calling.
-- Owner: the staff-console engineer.
--
-- KEYS  1 the document hash (doc, version, at, by)   2 adm:{adm}:audit (stream, append-only)
-- ARGV  1 base version (the version the editor started from; 0 = none stored yet)
--       2 the new document (JSON text)   3 who   4 role   5 now (unix ms)   6 what
--       7 target   8 before (JSON text)   9 after (JSON text)   10 client ip
-- Reply {0, new version, audit id} or {1, current version} when base is stale (nothing written).
--
-- Both keys carry the hash tag {adm}, so this runs unchanged on Redis Cluster. The audit stream is
-- never trimmed: it is the record.

if #KEYS ~= 2 or KEYS[2] ~= 'adm:{adm}:audit' or not KEYS[1]:find('^cfg:{adm}:[%w_]+$') then
    return redis.error_reply('LGWARG keys')
end
local base = ARGV[1]
if type(base) ~= 'string' or not base:find('^%d+$') or #base > 15 then
    return redis.error_reply('LGWARG base')
end
local cur = redis.call('HGET', KEYS[1], 'version') or '0'
if cur ~= base then return {1, tonumber(cur)} end
local nv = string.format('%d', tonumber(cur) + 1)
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'version', nv, 'at', ARGV[5], 'by', ARGV[3])
local id = redis.call('XADD', KEYS[2], '*', 'at', ARGV[5], 'who', ARGV[3], 'role', ARGV[4],
    'ip', ARGV[10], 'what', ARGV[6], 'target', ARGV[7], 'before', ARGV[8], 'after', ARGV[9],
    'version', nv)
return {0, tonumber(nv), id}
