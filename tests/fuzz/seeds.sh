#!/usr/bin/env bash
# Regenerates the committed seed corpora tests/fuzz/seeds/<target>/ from the project's own
# vectors and sample files (tests/vectors/*.hex, deploy/*.json, deploy/sample-day.events,
# deploy/vouchers-sample.csv, the system's zoneinfo) plus a few hand-written inputs. The seeds
# are the starting points only; the corpora libFuzzer grows live outside the tree (run.sh).
# Needs perl and jq (both installed by deploy/setup.sh's dependencies).
set -euo pipefail
cd "$(dirname "$0")/../.."
S=tests/fuzz/seeds
find "$S" -type f ! -name "regress_*" -delete 2>/dev/null || true
mkdir -p "$S"/{smpp_pdu,event,text,ussd_dialogue,menus,catalog,giftdays,config,loyalty_table}
mkdir -p "$S"/{voucher_csv,tzif,admin_request,prov_response}
mkdir -p "$S"/suggest

# SMPP: every hex vector as the octets it describes ('#' comments, any whitespace)
for f in tests/vectors/*.hex; do
  perl -ne 's/#.*//; s/\s+//g; print pack("H*", $_)' "$f" > "$S/smpp_pdu/$(basename "$f" .hex)"
done

# Events: the sample day, dated the day before the target's fixed "now" (2026-11-25T12:00Z)
n=0
grep -v '^#' deploy/sample-day.events | grep -v '^$' | sed 's/DAY/2026-11-24/g' | head -12 |
  while IFS= read -r line; do
    n=$((n + 1)); printf '%s' "$line" > "$S/event/sample_$n"
  done
printf 'REVERSAL ref=OCS-R-1 msisdn=212612345678 orig=OCS-2026-11-24-0000001 at=2026-11-24T09:00:00Z' \
  > "$S/event/reversal"
# our extension (docs/loyalty-and-events.md "SIMSWAP"): a SIM swap notice, and one carrying a
# key of another kind (kept as unknown)
printf 'SIMSWAP ref=SW-1 msisdn=212612345678 at=2026-11-24T09:30:00Z' > "$S/event/simswap"
printf 'SIMSWAP ref=SW-2 msisdn=212612345678 at=2026-11-24T10:30:00+01:00 amount=5' \
  > "$S/event/simswap_unknown_key"
printf 'BILL ref=B-1 msisdn=+212612345678 amount=199.99 currency=MAD period=2026-10 at=2026-11-24T10:00:00+01:00 x=y' \
  > "$S/event/bill_offset_unknown_key"

# Text: mode byte (bit 0 surrogates, bit 1 U+FFFD replacement, bits 2-3 direction), then data
printf '\x00Hello {world} 5\xe2\x82\xac [x] ~\\|^' > "$S/text/utf8_gsm7_escapes"
printf '\x01\xd9\x86\xd9\x82\xd8\xa7\xd8\xb7\xd9\x83 \xf0\x9f\x8e\x81 \xc3\xa9' > "$S/text/utf8_ucs2_emoji"
printf '\x02\xe2\x82\xac%.0s' $(seq 1 100) > "$S/text/utf8_long_escapes_split"
printf '\x04\x00Hello\x1b\x65 @\x7f' > "$S/text/wire_gsm7"
printf '\x04\x08\x06\x46\x06\x42\xd8\x3c\xdf\x81\x00' > "$S/text/wire_ucs2_pair"
printf '\x08\x03caf\xe9' > "$S/text/wire_latin1_then_utf8"

# USSD dialogues: mode byte (limits, bidi, language, gifting, providers), dialled, answers
printf '\x00*555#\n1\n0\n2\n0\n3\n1\n1\n1\n1' > "$S/ussd_dialogue/fr_min_limits_catalogue"
printf '\x0d*555#\n3\n3\n00\n00\n0\n1\n1' > "$S/ussd_dialogue/ar_bidi_long_list"
printf '\x1b*555*2*7#\n2\n212698765432\n1' > "$S/ussd_dialogue/en_gift"
printf '\x21*555*1#\nx\n#\n 00 \n9999999999' > "$S/ussd_dialogue/fa_bad_input"
printf '\x83*555#\n4\n2\n3\n1' > "$S/ussd_dialogue/items_down_language"
printf '\x18*555#\n7\n1\n212698765432\n150\n1\n2580' > "$S/ussd_dialogue/en_transfer"
printf '\x0c*555#\n7\n2\n2580*2581\n\xd9\xa2\xd9\xa5\xd9\xa8\xd9\xa0*2580' > "$S/ussd_dialogue/ar_pin_set"
printf '\x10*555*2*7#\n1\n1\n1\n212698765432\n1' > "$S/ussd_dialogue/en_perk"

# Menus: the shipped file made compact - no "//" comments, no indentation, and two of its
# languages (an RTL UCS-2 and a GSM-7 one) or one: every section, node kind and placeholder is
# still there (same coverage on load as the whole file), in 14-24 KB instead of the whole file,
# within the menus target's -max_len in run.sh, which checks it (fuzz_ussd_dialogue runs the
# whole file).
menus_keep() { # jq program keeping the languages given as a jq list of codes, default $2
  printf 'with_entries(select(.key | startswith("//") | not))
    | .languages |= map(select(.code as $c | %s | index($c)))
    | .default_language = "%s"
    | .labels |= with_entries(select(.key as $c | %s | index($c)))
    | .menus |= with_entries(select(.key as $c | %s | index($c)))
    | .sms |= with_entries(select(.key as $c | %s | index($c)))' "$1" "$2" "$1" "$1" "$1"
}
jq -cj "$(menus_keep '["ar","en"]' en)" deploy/ussd-menus.json > "$S/menus/shipped_ar_en.json"
jq -cj "$(menus_keep '["fr"]' fr)" deploy/ussd-menus.json > "$S/menus/shipped_fr.json"

# JSON documents: the shipped ones
cp deploy/catalog.json "$S/catalog/shipped.json"
# the three openings: staggered by hash and by tier, and a draw with tier and tenure weights
jq '.items[0].opening = {mode: "staggered", cohorts: 4, minutes: 60}
    | .items[1].opening = {mode: "staggered", by: "tier", tiers: ["gold"], minutes: 60}
    | .items[2].opening = {mode: "draw", register_hours: 48, claim_hours: 2,
                           weights: {gold: 3}, tenure_per_year: 1}' \
  deploy/catalog.json > "$S/catalog/openings.json"
cp deploy/giftdays.json "$S/giftdays/shipped.json"
cp deploy/loyalty-table.json "$S/loyalty_table/shipped.json"
cp deploy/loyaltygw.json "$S/config/shipped_names_table.json"
jq --slurpfile t deploy/loyalty-table.json '.loyalty = $t[0]' deploy/loyaltygw.json \
  > "$S/config/shipped_inline_table.json"
printf '{"ussd": {"gsm7_limit": 55, "ucs2_limit": 54}, "smpp": {"window": 0}}' > "$S/config/bounds"

# Voucher pools
cp deploy/vouchers-sample.csv "$S/voucher_csv/sample.csv"
printf '\xef\xbb\xbfcode\r\n# comment\r\nABCD-1234\r\n\r\nWXYZ-9876,\r\n' > "$S/voucher_csv/bom_crlf"
printf 'code,expiry\nAAAA,2020-01-01\nAAAA,2027-02-29\n' > "$S/voucher_csv/expired_duplicate"

# TZif: a few real zones (public domain tz database)
for z in Africa/Casablanca Europe/Paris Asia/Tehran America/Sao_Paulo UTC; do
  cp "/usr/share/zoneinfo/$z" "$S/tzif/$(echo "$z" | tr / _)"
done

# Admin API requests: "<METHOD> <target>\n<Content-Type>\n<Authorization>\n\n<body>"
printf 'POST /api/login\napplication/json\n\n\n{"user":"mia","password":"secret words"}' \
  > "$S/admin_request/login"
printf 'POST /api/subscribers/212612345678/adjust\napplication/json\nBearer %064d\n\n{"points":50,"reason":"goodwill","request_id":"T-1"}' 0 \
  > "$S/admin_request/adjust"
printf 'GET /api/deadletters?count=20&before=1700000000000-0&format=csv\n\nBearer abc\n\n' \
  > "$S/admin_request/deadletters_query"
printf 'PUT /api/catalog\napplication/json; charset=utf-8\nBearer x\n\n{"version":3,"document":{"a":1,"a":2}}' \
  > "$S/admin_request/put_duplicate_keys"
printf 'PATCH /api/catalog/items/DATA_1GB\ntext/plain\n\n\n[1,2]' > "$S/admin_request/patch_wrong_type"

# Provisioning answers: status selector, status low byte, transport error, body
printf '\x00\x00\x00{"status":"granted","reference":"PRV-123"}' > "$S/prov_response/granted"
printf '\x02\x00\x00{"status":"already","reference":"PRV-123"}' > "$S/prov_response/already_409"
printf '\x05\x00\x00{"error":"unknown msisdn","code":"E42"}' > "$S/prov_response/refused_422"
printf '\x06\x00\x00<html>bad gateway</html>' > "$S/prov_response/html_500"
printf '\x81\x2c\x04' > "$S/prov_response/timeout_no_body"
# Event journal (gw_journal.h): earnings, a reversal with its original, one of an original before
# the window (no effect), a voided late original; a hostile amount and a torn last line
mkdir -p "$S/journal"
printf '1795600000000 T 212612345678 1795599990 50000 voucher OCS-1 - c 5\n1795600001000 B 212612345678 1795599991 199990 - OCS-2 - c 9\n' \
  > "$S/journal/two_earnings"
printf '1795600000000 T 212612345678 1795599990 50000 - OCS-1 - c 5\n1795600002000 R 212612345678 1795599999 0 - OCS-R - OCS-1 r 5\n1795600003000 R 212612345678 1795599999 0 - OCS-R2 OCS-9 n 0\n1795600004000 T 212612345678 1795599999 1000 - OCS-9 - v 0\n' \
  > "$S/journal/reversals"
printf '1795600000000 T 212612345678 1795599990 999999999999999 - BIG - c 0\n1795600000000 T 2126' \
  > "$S/journal/huge_amount_torn"
# format version 3: referrals (a valid one, one of oneself, a 29 February of a leap year and of a
# common one)
printf '#lj 3\n1000 T 212612345678 10 5000 - R1 - c 0\n900 J 212612345678 259200\n800 F 212600000001 212612345678 19700104\n1700 F 33612345678 212612345679 19700105\n1800 F 212612345678 212612345678 19700105\n' \
  > "$S/journal/v3_referrals"
printf '#lj 3\n5 F 2126000000011 2126000000012 20000229\n6 F 21 2126000000012 21000229\n' \
  > "$S/journal/v3_referral_days"
# The wallet's activity months M (fuzz_months.c): two months as commit.lua packs them, a
# negative month, 8-byte varints, and an old field's text
mkdir -p "$S/months"
printf '\x02\xaa\x3c\x94\x88\x1d\x02\xab\x01\x00' > "$S/months/two"
printf '\x02\xa0\x13\x00' > "$S/months/negative"
printf '\x02\xaa\xff\xff\xff\xff\xff\xff\xff\x0f\xff\xff\xff\xff\xff\xff\xff\x0f' > "$S/months/max"
printf '30,476180' > "$S/months/old_field"
# The wallet's history E and notes N (fuzz_hist.c): k = 2 records (a redemption of rule 1 and
# a refund, one digest), then N with the refund's reason
mkdir -p "$S/hist"
printf '\x02\x11\x11\x11\x11\x11\x11\x50\x00\x05x\xff\xff\xfe\x0c\x00\x01\x11\x11\x11\x11\x11\x11\x50\x01\x06x\x00\x00\x01\xf4\x00\x02\x11\x11\x11\x11\x11\x11\x06\x0a: http 422' > "$S/hist/redeem_refund"
printf '\x81\x22\x22\x22\x22\x22\x22\x50\x00\x0bx\x00\x00\x00\x00\x00\x00\x22\x22\x22\x22\x22\x22\x0b\xff' > "$S/hist/block_bad_note"

# The wallet's lots L (fuzz_lots.c): three lots as wallet_lots.lua packs them (1-, 2- and 4-byte
# varints), a lot at the balance bound 10^12, the largest varint (2^53 - 1), an old lot field
mkdir -p "$S/lots"
printf '\x50\x00\x0a\x50\x01\xac\x02\x50\x05\x99\xb4\x89\x13' > "$S/lots/three"
printf '\x50\x00\x80\xa0\x94\xa5\x8d\x1d' > "$S/lots/bound"
printf '\x50\x00\xff\xff\xff\xff\xff\xff\xff\x0f' > "$S/lots/max"
printf 'l:20300115300' > "$S/lots/old_field"
# regress_*: inputs that found bugs (kept by hand, not regenerated)
echo "seeds: $(find "$S" -type f | wc -l) files in $S"

# The suggestion box (fuzz_suggest.c): the first byte picks the parser (0 SMS text, 1 mark body,
# 2 filters, 3 weekly counters); an SMS seed's second byte is the cap / 4
printf '\x00\x78IDEE plus de data le week-end' > "$S/suggest/sms_fr"
printf '\x00\x40رأي هدايا أكثر\xe2\x80\xae!' > "$S/suggest/sms_ar_bidi"
printf '\x01{"tag": "network", "handled": true}' > "$S/suggest/mark"
printf '\x024\nar\ngifts\ntrue' > "$S/suggest/filters"
printf '\x0320261207:n 4\n20261207:rn 2\n20261207:rs 9\n20261130:n 1' > "$S/suggest/weeks"
