-- wallet_hist.lua - shared prelude: a movement that is not an event (redemption, refund, staff
-- adjustment, block, campaign bonus, transfer, expiry) appended to the wallet's history field E,
-- and its free text to the side field N (docs/data-model.md, section 2). Embedded after
-- wallet_lots.lua (it uses days()) before every script that writes such a movement; commit.lua
-- writes its own records (the refs) and never N. C reads both in gateway/gw_hist.c.
--
-- E: 16-byte records, oldest first, struct '>c6I2BBi4I2': 6 bytes of SHA-1 of the movement's id,
-- the local day as days since 1970-01-01, the kind (HIST_KIND), the state ('x' for these), the
-- signed points, the id of its text in the dictionary lg:rules (0 none; registered by the caller
-- before the script, core/lua/rule.lua). N: entries of the digest (6 bytes), the kind (1), the
-- text's length (1) and the text (1..255 bytes): what the dictionary cannot hold because it is
-- free or per member (a staff reason, a gift's or a transfer's peer). The readers show the note
-- rule text .. N text. An entry lives while E holds its record: each write of N drops the others.

local HIST_REC, HIST_FMT = 16, '>c6I2BBi4I2'
local HIST_KIND = {REDEEM = 5, REFUND = 6, ADJUST = 7, EXPIRE = 8, BONUS = 9, XFER = 10,
    BLOCK = 11, UNBLOCK = 12}
-- E keeps at least the last hlen records; older ones go only past the longest ref retention
-- commit.lua accepts (400 days): commit.lua prunes by the configured one (they are its refs).
local HIST_KEEP_DAYS = 401

-- The 6-byte digest of a movement's id (commit.lua's digest of a ref, the same bytes).
local function hist_digest(id)
    return struct.pack('>I6', tonumber(redis.sha1hex(id):sub(1, 12), 16))
end

-- The entries of N as a list of {key = dig .. kind, text}, or nil when N is malformed.
local function hist_notes(n)
    local out, p = {}, 1
    while p <= #n do
        if p + 7 > #n then return nil end
        local len = n:byte(p + 7)
        if len == 0 or p + 7 + len > #n then return nil end
        out[#out + 1] = {key = n:sub(p, p + 6), text = n:sub(p + 8, p + 7 + len)}
        p = p + 8 + len
    end
    return out
end

-- Appends the record (kind a name of HIST_KIND, day YYYYMMDD, rid the text's id, 0 none) and,
-- when note is not '', its N entry (cut to 255 bytes). E and N are read here. An unreadable E is
-- left as it is (nothing appended: commit.lua refuses that wallet, LGWDATA history); an
-- unreadable N is replaced. Returns true when the record was written.
local function hist_add(KW, dig, day, kind, pts, rid, note, hlen)
    local w = redis.call('HMGET', KW, 'E', 'N')
    local E, N = w[1] or '', w[2]
    if #E % HIST_REC ~= 0 then return false end
    local k = HIST_KIND[kind]
    local td = days(tonumber(day))
    pts = math.max(-2147483647, math.min(2147483647, pts)) -- i32 (a movement is far below)
    E = E .. struct.pack(HIST_FMT, dig, td, k, 120, pts, rid or 0) -- 120 'x'
    local cut = 0
    while #E > (cut + hlen) * HIST_REC
        and struct.unpack('>I2', E, cut * HIST_REC + 7) < td - HIST_KEEP_DAYS do
        cut = cut + 1
    end
    if cut > 0 then E = E:sub(cut * HIST_REC + 1) end
    if note == nil or note == '' then
        if N and cut > 0 then
            -- entries of the records just dropped go with them
            note = nil
        else
            redis.call('HSET', KW, 'E', E)
            return true
        end
    end
    local have = {}
    for p = 1, #E, HIST_REC do have[E:sub(p, p + 5) .. E:sub(p + 8, p + 8)] = true end
    local keep = {}
    for _, e in ipairs(N and hist_notes(N) or {}) do
        if have[e.key] then keep[#keep + 1] = e.key .. string.char(#e.text) .. e.text end
    end
    if note then
        note = note:sub(1, 255)
        keep[#keep + 1] = dig .. string.char(k) .. string.char(#note) .. note
    end
    if #keep > 0 then
        redis.call('HSET', KW, 'E', E, 'N', table.concat(keep))
    else
        redis.call('HSET', KW, 'E', E)
        redis.call('HDEL', KW, 'N')
    end
    return true
end
