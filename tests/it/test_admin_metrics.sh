#!/usr/bin/env bash
# loyalty-admin's GET /metrics, /health and /ready: the Prometheus exposition passes the strict
# parser (it_promparse) and carries the gift-day board (stock left and reservations per item, read
# from the same Redis keys as GET /api/board, which must agree) and the API replies by status;
# no session is needed for these three; /ready flips to 503 when Redis goes away and back.
source "$(dirname "$0")/lib.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
PARSE="$LGW_BIN/tests/it_promparse"

start_redis
write_config 2775
D=$(date -u +%Y%m%d)
# a catalogue of two items as the console stores it; one limited item has had reservations today
rcli hset 'cfg:{adm}:catalog' doc '{"items":[{"id":"data1g","stock_per_day":100,"names":{"en":"1 GB"}},{"id":"mins30","stock_per_day":0,"names":{"en":"30 min"}}]}' >/dev/null
rcli set "cat:{data1g}:s:$D" 97 >/dev/null
rcli hset "cat:{data1g}:r:$D" r1 "c,1,1,1,1," r2 "q,1,1,1,1," r3 "r,1,1,1,1," >/dev/null
echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null

"$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" >"$T/adm.out" 2>>"$T/adm.log" &
ADM_PID=$!
PIDS+=("$ADM_PID")
wait_for 30 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$T/adm.port")"
wait_http /ready 200 15 && echo "ok - /ready 200 with Redis" || fail "/ready: $(cat "$T/body")"
assert_eq 200 "$(http_code /health)" "/health 200 without a session"
# some API traffic: a 401 and a login
assert_eq 401 "$(http_code /api/me)" "an API call without a session is 401"
login=$(curl -s -o "$T/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"user":"mia","password":"marketing-secret-1"}' "$URL/api/login")
assert_eq 200 "$login" "login 200"
TOKEN=$(jq -r .token "$T/login.json")
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/board?day=$D" >"$T/board.json"

curl -s -D "$T/headers" "$URL/metrics?day=$D" >"$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" && echo "ok - text format 0.0.4" ||
  fail "headers: $(cat "$T/headers")"
if "$PARSE" <"$T/metrics.txt" >"$T/series.txt" 2>"$T/parse.err"; then
  echo "ok - the exposition passes the strict parser ($(wc -l <"$T/series.txt") series)"
else
  fail "invalid exposition: $(cat "$T/parse.err")"
fi
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/series.txt"; }
assert_eq 1 "$(m loyaltyadmin_board_up)" "the board was read"
assert_eq 97 "$(m "loyaltyadmin_gift_stock_left{day=\"${D:0:4}-${D:4:2}-${D:6:2}\",item=\"data1g\"}")" "stock left of data1g: 97"
assert_eq "$(jq '.items[] | select(.id=="data1g") | .left' "$T/board.json")" \
  "$(m "loyaltyadmin_gift_stock_left{day=\"${D:0:4}-${D:4:2}-${D:6:2}\",item=\"data1g\"}")" \
  "stock left: /metrics = GET /api/board"
assert_eq "" "$(m "loyaltyadmin_gift_stock_left{day=\"${D:0:4}-${D:4:2}-${D:6:2}\",item=\"mins30\"}")" \
  "an unlimited item has no stock-left series"
assert_eq 1 "$(m "loyaltyadmin_gift_reservations{day=\"${D:0:4}-${D:4:2}-${D:6:2}\",item=\"data1g\",state=\"paid\"}")" "one paid reservation"
assert_eq 1 "$(m "loyaltyadmin_gift_reservations{day=\"${D:0:4}-${D:4:2}-${D:6:2}\",item=\"data1g\",state=\"queued\"}")" "one queued reservation"
assert_eq 1 "$(m "loyaltyadmin_gift_reservations{day=\"${D:0:4}-${D:4:2}-${D:6:2}\",item=\"data1g\",state=\"reserved\"}")" "one reserved"
assert_eq 1 "$(m 'loyaltyadmin_http_replies_total{code="401"}')" "the 401 is counted"
assert_ge 2 "$(m 'loyaltyadmin_http_replies_total{code="200"}')" "the 200s are counted (login, board, health, ready)"
assert_eq 1 "$(m loyaltyadmin_redis_up)" "Redis up"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$URL/metrics")" "POST /metrics: 405"

stop_redis
wait_http /ready 503 10 && echo "ok - /ready 503 without Redis" || fail "/ready did not flip"
grep -q Redis "$T/body" && echo "ok - /ready says why: $(cat "$T/body")" || fail "body: $(cat "$T/body")"
assert_eq 200 "$(http_code /health)" "/health 200 without Redis"
curl -s "$URL/metrics" | "$PARSE" >"$T/series.txt" 2>"$T/parse.err" ||
  fail "invalid exposition without Redis: $(cat "$T/parse.err")"
assert_eq 0 "$(m loyaltyadmin_board_up)" "board_up 0 without Redis, the scrape still answers"
assert_eq 0 "$(m loyaltyadmin_redis_up)" "redis_up 0"
start_redis
wait_http /ready 200 15 && echo "ok - /ready 200 again" || fail "/ready: $(cat "$T/body")"

kill -TERM "$ADM_PID"
rc=0; wait "$ADM_PID" || rc=$?
assert_eq 0 "$rc" "loyalty-admin exits 0 after SIGTERM"
finish
