# tests/it/admin_helpers.sh - loyalty-admin in the integration tests, sourced after lib.sh: start
# it on a free port with the test's configuration, call its API with curl, log in.
# Owner: the staff-console engineer.
ADM="$LGW_BIN/admin/loyalty-admin"

# start_admin [loyalty-admin args...]: sets ADM_PID and URL; waits until it answers over HTTP.
# Under the ACL it and add_staff run as the Redis user loyalty-admin (lib.sh ADM_REDIS).
start_admin() {
  rm -f "$T/adm.port"
  "$ADM" --config "$T/gw.json" "${ADM_REDIS[@]+"${ADM_REDIS[@]}"}" --listen 127.0.0.1:0 \
    --port-file "$T/adm.port" "$@" >"$T/adm.out" 2>>"$T/adm.log" &
  ADM_PID=$!
  PIDS+=("$ADM_PID")
  wait_for 30 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
  URL="http://127.0.0.1:$(cat "$T/adm.port")"
  wait_for 30 sh -c "curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' $URL/api/login | grep -q 400" ||
    fail "loyalty-admin does not answer"
}
stop_admin() {
  kill -TERM "$ADM_PID"
  wait "$ADM_PID" || fail "loyalty-admin exit status"
}
# api METHOD PATH TOKEN [BODY]: sets CODE, the body is in $T/r.json
api() {
  local args=(-s -o "$T/r.json" -w '%{http_code}' -X "$1")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  CODE=$(curl "${args[@]}" "$URL$2")
}
j() { jq -r "$1" "$T/r.json"; }
login() { # USER PASSWORD: prints the token
  api POST /api/login "" "{\"user\":\"$1\",\"password\":\"$2\"}"
  [ "$CODE" = 200 ] || fail "login $1: $CODE $(cat "$T/r.json")"
  j .token
}
# login_retry USER PASSWORD: login, retried: a login runs a slow password hash in the console's
# loop, and on a busy machine the Redis request queued behind it can miss its deadline (503,
# "retry"): retried, as the console's page does
login_retry() {
  local i
  for i in 1 2 3 4 5; do
    api POST /api/login "" "{\"user\":\"$1\",\"password\":\"$2\"}"
    if [ "$CODE" = 200 ]; then j .token; return; fi
    sleep 1
  done
  fail "login $1: $CODE"
}
add_staff() { # NAME ROLE PASSWORD: an account made with loyalty-admin --add-user
  echo "$3" | "$ADM" --config "$T/gw.json" "${ADM_REDIS[@]+"${ADM_REDIS[@]}"}" --add-user "$1" --role "$2" >/dev/null
}
# What the gateway logged: count of a pattern; wait until it was logged COUNT times.
logged() { grep -c -- "$1" "$T/gw.log" || true; }
wait_logged() { # pattern count message
  wait_for 20 sh -c "[ \$(grep -c -- '$1' '$T/gw.log') -ge $2 ]" || fail "$3 (log: '$1')"
}

# whatif_run TOKEN BODY: POST /api/whatif, then GET it until the worker is done (up to 5 min on a
# saturated machine); the last answer is in $T/r.json (asserted done).
whatif_run() {
  api POST /api/whatif "$1" "$2"
  assert_eq 202 "$CODE" "a what-if starts ($(head -c 200 "$T/r.json"))"
  local id state=running
  id=$(j .id)
  for _ in $(seq 3000); do
    api GET "/api/whatif/$id" "$1"
    state=$(j .state)
    [ "$state" = running ] || break
    sleep 0.1
  done
  assert_eq done "$state" "the what-if finished ($(head -c 300 "$T/r.json"))"
}
