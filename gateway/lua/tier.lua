-- tier.lua - the daily tier review's write step, one subscriber (gw_tier_job.c builds the
-- arguments after reading the wallet and deciding with gw_tier_review; docs/data-model.md).
--
-- op APPLY KEYS 1 lg:{M}:w  2 lg:{M}:consent  3 the review set being worked lg:td:{tag}:<day>
--               4 the review set of the next review (= 3 when there is none)
--               5 (optional) lg:ag:{tag}:tot, the slot's running totals (docs/data-model.md 6):
--                 a change of tier moves the wallet between the t:<tier> counts, as commit.lua
--                 does, so that loyaltyctl agg-check keeps agreeing
--          ARGV 1 "APPLY"  2 msisdn  3 what the job read: the values of the fields 7.. joined
--               with '|' (absent = "", M in lowercase hex)  4 the tier now  5 grace start
--               YYYYMMDD or "0"  6 next review YYYYMMDD or "0"  7.. the fields read (tier, tg,
--               life, M the packed activity months (core/lua/wallet_months.lua), then m:YYYYMM
--               of the releases before: today's month and the 11 before, newest first)
--   When the fields changed since they were read (a commit came in between) replies {"changed"}
--   and writes nothing: the job reads and decides again. Otherwise writes the tier and the grace
--   (tg), takes the pending notice (tn, left by commit.lua, combined with this change), moves
--   the subscriber from set 3 to set 4 and records that day in "td" (none: leaves the index).
--   Also drops from M the months before the 11th before today's (commit.lua keeps them for a
--   subscriber silent since) and deletes the fields m:YYYYMM 12 and 13 months before today's.
--   Reply {"ok", notice "from>to" or "", lang, send (1: neither opted out in the consent record
--   nor blocked)}. The notice is taken before the SMS goes: a change is announced at most once.
--   A wallet that no longer exists just leaves the set: {"ok", "", "", 0}.
-- Bad arguments: error "LGWARG <what>"; an unreadable M: "LGWDATA months" (the job does not send
-- it: it decodes M first). Either way nothing written.

local function bad(what) return redis.error_reply('LGWARG ' .. what) end

if ARGV[1] ~= 'APPLY' or (#KEYS ~= 4 and #KEYS ~= 5) or #ARGV < 7 then return bad('op') end
local msisdn = ARGV[2]
local KW = KEYS[1]
if type(msisdn) ~= 'string' or KW ~= 'lg:{' .. msisdn .. '}:w'
    or KEYS[2] ~= 'lg:{' .. msisdn .. '}:consent'
    or not KEYS[3]:find('^lg:td:{%d+}:%d%d%d%d%d%d%d%d$')
    or not KEYS[4]:find('^lg:td:{%d+}:%d%d%d%d%d%d%d%d$')
    or (KEYS[5] and KEYS[5]:match('^lg:ag:({%d+}):tot$') ~= KEYS[3]:match('^lg:td:({%d+}):')) then
    return bad('keys')
end
local seen, newtier, tg, nxt = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not tg:find('^%d+$') or not nxt:find('^%d+$') or #newtier > 31 or newtier:find('[,|>%c]')
    or (nxt ~= '0' and KEYS[4]:sub(-8) ~= nxt) then
    return bad('review')
end
local fields = {}
for i = 7, #ARGV do
    if not ARGV[i]:find('^[%w:]+$') then return bad('field') end
    fields[#fields + 1] = ARGV[i]
end

if redis.call('EXISTS', KW) == 0 then
    redis.call('SREM', KEYS[3], msisdn)
    return {'ok', '', '', 0}
end
local v = redis.call('HMGET', KW, unpack(fields))
local now = {}
for i = 1, #fields do now[i] = v[i] or '' end
if fields[4] == 'M' then
    now[4] = now[4]:gsub('.', function(c) return string.format('%02x', c:byte()) end)
end
if table.concat(now, '|') ~= seen then return {'changed'} end
local MR = fields[4] == 'M' and WM.decode(v[4])
if fields[4] == 'M' and not MR then return redis.error_reply('LGWDATA months') end

local old = v[1] or ''
local w = redis.call('HMGET', KW, 'tn', 'lang', 'blocked')
local hs, hd = {}, {}
if newtier ~= '' and newtier ~= old then
    hs[#hs + 1] = 'tier'
    hs[#hs + 1] = newtier
    -- the aggregates count a wallet from its first balance (commit.lua's ag_wallet)
    if KEYS[5] and redis.call('HEXISTS', KW, 'bal') == 1 then
        if old ~= '' then redis.call('HINCRBY', KEYS[5], 't:' .. old, -1) end
        redis.call('HINCRBY', KEYS[5], 't:' .. newtier, 1)
    end
end
if tg ~= '0' then
    hs[#hs + 1] = 'tg'
    hs[#hs + 1] = tg
else
    hd[#hd + 1] = 'tg'
end
local notice = ''
local first = w[1] and w[1]:match('^([^>]+)>') or old
local to = newtier ~= '' and newtier or old
if w[1] or to ~= old then
    if first ~= to and first ~= '' then notice = first .. '>' .. to end
    hd[#hd + 1] = 'tn'
end
if KEYS[3] ~= KEYS[4] or nxt == '0' then redis.call('SREM', KEYS[3], msisdn) end
if nxt ~= '0' then
    redis.call('SADD', KEYS[4], msisdn)
    hs[#hs + 1] = 'td'
    hs[#hs + 1] = nxt
else
    hd[#hd + 1] = 'td'
end
local ym = fields[5] and fields[5]:match('^m:(%d%d%d%d%d%d)$')
if ym then
    local from = WM.index(tonumber(ym)) - 11
    if MR and WM.prune(MR, from) then
        if #MR > 0 then
            hs[#hs + 1] = 'M'
            hs[#hs + 1] = WM.encode(MR)
        else
            hd[#hd + 1] = 'M'
        end
    end
    hd[#hd + 1] = WM.field(from - 1)
    hd[#hd + 1] = WM.field(from - 2)
end
if #hs > 0 then redis.call('HSET', KW, unpack(hs)) end
if #hd > 0 then redis.call('HDEL', KW, unpack(hd)) end
local lang = w[2] or ''
if #lang > 3 or not lang:find('^%l*$') then lang = '' end
local send = 1
if w[3] == '1' or redis.call('HGET', KEYS[2], 'optin') == '0' then send = 0 end
return {'ok', notice, lang, send}
