-- rule.lua - the rule dictionary (docs/data-model.md, "Carrier-wide keys"): the texts that
-- explain a history record's points ("TOPUP 1pt/10MAD; tier gold x150%") get a small id, once
-- for ever; the wallet's history field E stores the id (2 bytes) instead of the text.
-- One hash, so that the registration is one slot on Redis Cluster: field "<id>" = text, field
-- "t:<text>" = id, field "seq" = the last id. Ids are never reused; they fit 16 bits: past 65535
-- texts a new text gets 0 ("no rule"), and the history shows the kind and points only.
--
-- KEYS 1 lg:rules   ARGV the texts (1..16, each 1..200 bytes, no control characters)
-- Reply: the ids, in the order of the texts. Idempotent; bad arguments: error "LGWARG <what>".
if #KEYS ~= 1 or KEYS[1] ~= 'lg:rules' then return redis.error_reply('LGWARG keys') end
if #ARGV < 1 or #ARGV > 16 then return redis.error_reply('LGWARG texts') end
for i = 1, #ARGV do
    if #ARGV[i] < 1 or #ARGV[i] > 200 or ARGV[i]:find('%c') then
        return redis.error_reply('LGWARG text')
    end
end
local ids = {}
for i = 1, #ARGV do
    local id = redis.call('HGET', KEYS[1], 't:' .. ARGV[i])
    if id then
        ids[i] = tonumber(id)
    else
        local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
        if seq >= 65535 then
            ids[i] = 0
        else
            seq = seq + 1
            redis.call('HSET', KEYS[1], 'seq', seq, tostring(seq), ARGV[i], 't:' .. ARGV[i], seq)
            ids[i] = seq
        end
    end
end
return ids
