-- wallet_lots.lua - shared prelude: the wallet's lots, field L of lg:{M}:w (docs/data-model.md,
-- section 1), and the local-day arithmetic. Embedded BEFORE every script that reads or writes
-- lots (lgw_embed_text ... PRELUDE ${LGW_LUA_LOTS}: core/lua/varint.lua, then this file): one
-- copy of the codec in the tree. C reads the same layout in gateway/gw_lots.c.
--
-- L is a string of records, one per lot, days strictly ascending, each record the lot's local
-- day as days since 1970-01-01 (u16 big-endian, good until 2149) and the unsigned LEB128 varint
-- of its points (> 0, below 2^53; varint.lua): a lot of 1..127 points takes 3 bytes. A lot that
-- reaches 0 is dropped; no lot: no field. Corrupt (truncated, a varint too long or too large,
-- zero points, days not strictly ascending): the scripts answer LGWDATA lots and write nothing.
--
-- The release before kept one field per lot, l:YYYYMMDD = points. Every reader merges them with
-- L (same day: summed); a script that reads the whole wallet folds them into L (lots_save deletes
-- them); the plain credit (lots_add) rewrites L only and leaves them for the next full read.
--
-- The undated lot (day number 0, decoded as day '00000000': first, the oldest, spent first):
-- points whose earning day no longer matters because points never expire. A script that knows
-- points never expire (commit.lua told so by the gateway; the redemption and the transfer sent
-- with no expiry cut-off) folds every lot but the LOTS_KEEP newest into it, so that L holds at
-- most LOTS_KEEP + 1 records whatever the history (the newest days stay for the daily cap of a
-- late event, commit.lua). A script that knows a validity applies dates it on the day it first
-- sees it (lots_date: commit.lua's credit with the expiry due key, the expiry job's visit), so
-- a validity configured later never takes those points before a full validity from that day;
-- until then no cut-off expires it (lots_expired). A script that knows neither (refund, bonus,
-- transfer received, hold release, staff credit) adds to the undated lot when there is one.
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

local LOTS_UNDATED, LOTS_KEEP = '00000000', 3

-- The lots of L (string or false/nil: none), ascending; nil when corrupt.
local function lots_decode(s)
    s = s or ''
    local out, p, pz = {}, 1, -1
    while p <= #s do
        if p + 1 > #s then return nil end
        local z = s:byte(p) * 256 + s:byte(p + 1)
        local v
        v, p = VARINT.get(s, p + 2)
        if not v or v == 0 or z <= pz then return nil end
        out[#out + 1] = {day = z == 0 and LOTS_UNDATED or string.format('%08d', ymd(z)), v = v}
        pz = z
    end
    return out
end

-- L of lots (ascending by day; lots of 0 points or less are left out).
local function lots_encode(lots)
    local out = {}
    for _, lot in ipairs(lots) do
        if lot.v > 0 then
            local z = lot.day == LOTS_UNDATED and 0 or days(tonumber(lot.day))
            out[#out + 1] = string.char(math.floor(z / 256), z % 256)
            VARINT.put(out, lot.v)
        end
    end
    return table.concat(out)
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
            local z = days(tonumber(ld)) -- a real day that L can hold (1970-01-02..2149)
            if z < 1 or z > 65535 or ymd(z) ~= tonumber(ld) then return nil end
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

-- Whether a lot is expired under the cut-off cut (YYYYMMDD number, 0: nothing expires): dated
-- on or before it. The undated lot never is (lots_date gives it a day first).
local function lots_expired(lot, cut)
    return cut > 0 and lot.day ~= LOTS_UNDATED and tonumber(lot.day) <= cut
end

-- Points never expire: every lot but the LOTS_KEEP newest dated ones folded into the undated
-- lot (a new list; lots of 0 points dropped).
local function lots_fold(lots)
    local dated, undated = {}, 0
    for _, lot in ipairs(lots) do
        if lot.v > 0 then
            if lot.day == LOTS_UNDATED then
                undated = undated + lot.v
            else
                dated[#dated + 1] = lot
            end
        end
    end
    local out = {}
    for i = 1, #dated - LOTS_KEEP do undated = undated + dated[i].v end
    if undated > 0 then out[1] = {day = LOTS_UNDATED, v = undated} end
    for i = math.max(#dated - LOTS_KEEP + 1, 1), #dated do out[#out + 1] = dated[i] end
    return out
end

-- A validity applies: the undated lot, if any, becomes a lot of today (YYYYMMDD string; added to
-- today's when there is one). A new list.
local function lots_date(lots, today)
    if #lots == 0 or lots[1].day ~= LOTS_UNDATED then return lots end
    local out, moved = {}, lots[1].v
    for i = 2, #lots do
        local lot = lots[i]
        if moved and lot.day >= today then
            if lot.day == today then
                lot = {day = today, v = lot.v + moved}
            else
                out[#out + 1] = {day = today, v = moved}
            end
            moved = nil
        end
        out[#out + 1] = lot
    end
    if moved then out[#out + 1] = {day = today, v = moved} end
    return out
end

-- L (its current value s, false/nil: none) after adding pts to the lot of day (YYYYMMDD; pts <= 0:
-- s unchanged); nil when s is corrupt. mode: 'never' (points never expire: the lots folded,
-- lots_fold), 'dated' (a validity applies: the undated lot dated today, YYYYMMDD, first), nil
-- (not known: to the undated lot when there is one). Read-modify-write of the one field: its
-- cost is bounded by the lots alive (their validity; LOTS_KEEP + 1 when points never expire),
-- not by the history.
local function lots_add(s, day, pts, mode, today)
    local lots = lots_decode(s)
    if not lots then return nil end
    if pts <= 0 then return s or '' end
    local z = days(tonumber(day))
    if z < 1 or z > 65535 then return nil end -- a day L cannot hold (the callers pass real ones)
    local key, k = string.format('%08d', tonumber(day)), #lots
    if mode == 'dated' then
        lots = lots_date(lots, string.format('%08d', tonumber(today)))
        k = #lots
    elseif mode == nil and k > 0 and lots[1].day == LOTS_UNDATED then
        key = LOTS_UNDATED
    end
    while k > 0 and lots[k].day > key do k = k - 1 end -- the usual credit: the newest day
    if k > 0 and lots[k].day == key then
        lots[k].v = lots[k].v + pts
    else
        table.insert(lots, k + 1, {day = key, v = pts})
    end
    if mode == 'never' then lots = lots_fold(lots) end
    return lots_encode(lots)
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
