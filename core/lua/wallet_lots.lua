-- wallet_lots.lua - shared prelude: the wallet's lots, field L of lg:{M}:w (docs/data-model.md,
-- section 1), and the local-day arithmetic. Embedded BEFORE every script that reads or writes
-- lots (lgw_embed_text ... PRELUDE core/lua/wallet_lots.lua): one copy of the codec in the tree.
-- C reads the same layout in gateway/gw_lots.c.
--
-- L is a string of 5-byte records, oldest first, struct.pack('>I2I3', day, points): the lot's
-- local day as days since 1970-01-01 (u16, good until 2149) and its points (u24, > 0). A lot
-- above 2^24 - 1 points (16.7 million points earned on one day: a staff credit, never an
-- ordinary month; the balance bound is 10^12) takes several records of the same day, every one
-- but the last full (2^24 - 1). A lot that reaches 0 is dropped; no lot: no field. Corrupt (a
-- length not a multiple of 5, a zero record, days out of order, a repeated day after a record
-- that is not full): the scripts answer LGWDATA lots and write nothing.
--
-- The release before kept one field per lot, l:YYYYMMDD = points. Every reader merges them with
-- L (same day: summed); a script that reads the whole wallet folds them into L (lots_save deletes
-- them); the plain credit (lots_add) stays O(1) and leaves them for the next full read.
--
-- Decoded lots are {day = 'YYYYMMDD' (string, compares in day order), v = points}, ascending.

-- YYYYMMDD of days since 1970-01-01 (H. Hinnant's civil_from_days), the inverse of days().
local function ymd(z)
    z = z + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
        - math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local dd = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    local y = yoe + era * 400 + (m <= 2 and 1 or 0)
    return y * 10000 + m * 100 + dd
end

-- Days since 1970-01-01 of YYYYMMDD (proleptic Gregorian; H. Hinnant's days_from_civil).
local function days(ymd)
    local y, m, dd = math.floor(ymd / 10000), math.floor(ymd / 100) % 100, ymd % 100
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local mp = (m + 9) % 12
    local doy = math.floor((153 * mp + 2) / 5) + dd - 1
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
end

local LOT_REC, LOT_FMT, LOT_MAX = 5, '>I2I3', 16777215

-- The lots of L (string or false/nil: none), ascending; nil when corrupt.
local function lots_decode(s)
    s = s or ''
    local out = {}
    if #s % LOT_REC ~= 0 then return nil end
    local pz, pv = -1, 0
    for p = 1, #s, LOT_REC do
        local z, v = struct.unpack(LOT_FMT, s, p)
        if v == 0 or z < pz or (z == pz and pv ~= LOT_MAX) then return nil end
        if z == pz then
            out[#out].v = out[#out].v + v
        else
            out[#out + 1] = {day = string.format('%08d', ymd(z)), v = v}
        end
        pz, pv = z, v
    end
    return out
end

-- L of lots (ascending by day; lots of 0 points or less are left out).
local function lots_encode(lots)
    local parts = {}
    for _, lot in ipairs(lots) do
        local z, v = days(tonumber(lot.day)), lot.v
        while v > 0 do
            local n = math.min(v, LOT_MAX)
            parts[#parts + 1] = struct.pack(LOT_FMT, z, n)
            v = v - n
        end
    end
    return table.concat(parts)
end

-- Every lot of a wallet from its HGETALL reply: L merged with the l:YYYYMMDD fields of the
-- release before. Returns the lots (ascending) and the names of those old fields (lots_save
-- deletes them), or nil when L or an old field is unreadable (its day too: not a real day
-- within L's range).
local function lots_from_all(all)
    local L, byday, names = nil, {}, {}
    for i = 1, #all, 2 do
        local k = all[i]
        if k == 'L' then
            L = all[i + 1]
        elseif k:sub(1, 2) == 'l:' then
            local ld, v = k:match('^l:(%d%d%d%d%d%d%d%d)$'), all[i + 1]
            if not ld or #v > 16 or not v:find('^%-?%d+$') then return nil end
            local z = days(tonumber(ld)) -- a real day that L can hold (1970..2149)
            if z < 0 or z > 65535 or ymd(z) ~= tonumber(ld) then return nil end
            names[#names + 1] = k
            v = tonumber(v)
            if v > 0 then byday[ld] = (byday[ld] or 0) + v end
        end
    end
    local lots = lots_decode(L)
    if not lots then return nil end
    if #names == 0 then return lots, names end
    for _, lot in ipairs(lots) do byday[lot.day] = (byday[lot.day] or 0) + lot.v end
    lots = {}
    for ld, v in pairs(byday) do lots[#lots + 1] = {day = ld, v = v} end
    table.sort(lots, function(a, b) return a.day < b.day end)
    return lots, names
end

-- Writes the lots back to the wallet KW as L (none left: the field goes) and deletes the old
-- fields named in names (from lots_from_all).
local function lots_save(KW, lots, names)
    local s = lots_encode(lots)
    if #s > 0 then redis.call('HSET', KW, 'L', s) else names[#names + 1] = 'L' end
    for i = 1, #names, 500 do redis.call('HDEL', KW, unpack(names, i, math.min(i + 499, #names))) end
end

-- L (its current value s, false/nil: none) after adding pts to the lot of day (YYYYMMDD; pts <= 0:
-- s unchanged);
-- nil when s is corrupt. The usual credit, of a day not older than the newest lot, touches only
-- the last record (so only it and the length are checked); an older day rewrites the string.
local function lots_add(s, day, pts)
    s = s or ''
    if #s % LOT_REC ~= 0 then return nil end
    if pts <= 0 then return s end
    local z = days(tonumber(day))
    if z < 0 or z > 65535 then return nil end -- a day L cannot hold (the callers pass real ones)
    if #s > 0 then
        local lz, lv = struct.unpack(LOT_FMT, s, #s - LOT_REC + 1)
        if lv == 0 then return nil end
        if z == lz and lv + pts <= LOT_MAX then
            return s:sub(1, #s - LOT_REC) .. struct.pack(LOT_FMT, z, lv + pts)
        end
        if z <= lz then
            local lots = lots_decode(s)
            if not lots then return nil end
            local key, found = string.format('%08d', tonumber(day)), false
            for _, lot in ipairs(lots) do
                if lot.day == key then lot.v, found = lot.v + pts, true end
            end
            if not found then
                lots[#lots + 1] = {day = key, v = pts}
                table.sort(lots, function(a, b) return a.day < b.day end)
            end
            return lots_encode(lots)
        end
    end
    return s .. lots_encode({{day = day, v = pts}})
end

-- The points of L (s) on day (YYYYMMDD): 0 for none; nil when s is corrupt.
local function lots_on(s, day)
    local lots = lots_decode(s)
    if not lots then return nil end
    local key = string.format('%08d', tonumber(day))
    for _, lot in ipairs(lots) do
        if lot.day == key then return lot.v end
    end
    return 0
end
-- ------------------------------------------------------------------ end of the lots' prelude
