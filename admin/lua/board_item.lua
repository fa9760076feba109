-- board_item.lua - read-only figures of one catalogue item for one gift day, for the staff
-- console's live board (admin/adm_board.c). Reads the keys the redemption engine writes
-- (catalog/lua/item.lua); writes nothing. Every key carries the item id as hash tag: one slot.
--
-- KEYS 1 cat:{ITEM}:s:DAY  stock left (absent until the first reservation of the day)
--      2 cat:{ITEM}:r:DAY  reservations: rid -> "state,ts,took,price,version,why"
--      3 cat:{ITEM}:z      reservations not yet queued for fulfilment
--      4 cat:{ITEM}:k      kill switch (exists = killed)
-- ARGV 1 the most reservations to read for the per-state counts (the hash holds one field per
--        redemption of the day: bounded so that a busy day cannot stall Redis for the board)
-- Reply {left (-1 = key absent), killed 0/1, reservations (HLEN), pending (ZCARD),
--        r, c, q, x, f (counts by state), complete 0/1 (all reservations were read)}

local limit = tonumber(ARGV[1])
if #KEYS ~= 4 or not limit or limit < 0 or limit > 1000000 then
    return redis.error_reply('LGWARG board')
end
local left = redis.call('GET', KEYS[1])
local n = { r = 0, c = 0, q = 0, x = 0, f = 0 }
local total = redis.call('HLEN', KEYS[2])
local seen, cursor = 0, '0'
repeat
    if seen >= limit then break end
    local page = redis.call('HSCAN', KEYS[2], cursor, 'COUNT', 500)
    cursor = page[1]
    local kv = page[2]
    for i = 2, #kv, 2 do
        local st = string.sub(kv[i], 1, 1)
        if n[st] then n[st] = n[st] + 1 end
        seen = seen + 1
    end
until cursor == '0'
return { tonumber(left or '-1') or -1, redis.call('EXISTS', KEYS[4]), total,
         redis.call('ZCARD', KEYS[3]), n.r, n.c, n.q, n.x, n.f, (seen >= total) and 1 or 0 }
