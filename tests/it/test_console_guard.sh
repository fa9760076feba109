#!/usr/bin/env bash
# The staff console under hostile or awkward input (issue 11), over real HTTP against a real
# redis-server: a flood of stalled and oversize logins (the legitimate login still answered,
# bodies over the pre-auth limit refused 413 from their head, before they are buffered, connections over the cap refused 503,
# stalled ones cut 408 at their deadline), the per-account login lock (audited; the right password
# gets in once the lock is over; other accounts never locked), block reasons full of quotes,
# backslashes and Arabic kept whole in the audit record, and dead letters masked for marketing.
# Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
M=212612345678

start_redis
# no gateway here: the port is never dialled. A yescrypt holds the admin's loop for a while on a
# busy machine: Redis deadlines of 5 s, so no answer is a timeout of ours.
write_config 1 '.redis.request_timeout_ms = 5000'
echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" --add-user ada --role auditor >/dev/null
rcli hset "lg:{$M}:w" bal 18 >/dev/null # an enrolled wallet, as the gateway leaves it

MAX_CONNS=56
# The stalled connections must still be open when the over-cap ones arrive: opening 48 of them
# and a login (a yescrypt run) take seconds on a loaded machine, so their deadline is 10 s.
REQ_TIMEOUT=10
"$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" --login-per-min 1000 \
  --account-fails 3 --account-window 60 --account-lock 3 --max-conns $MAX_CONNS \
  --request-timeout $REQ_TIMEOUT >"$T/adm.out" 2>>"$T/adm.log" &
ADM_PID=$!
PIDS+=("$ADM_PID")
wait_for 60 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
PORT=$(cat "$T/adm.port")
URL="http://127.0.0.1:$PORT"
wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $(printf 'a%.0s' $(seq 64))' $URL/api/me)\" = 401 ]" ||
  fail "loyalty-admin does not answer"

api() { # METHOD PATH TOKEN [BODY]: sets CODE; body in $T/r.json, headers in $T/r.hdr
  local args=(-s -o "$T/r.json" -D "$T/r.hdr" -w '%{http_code}' -X "$1")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  CODE=$(curl "${args[@]}" "$URL$2")
}
j() { jq -r "$1" "$T/r.json"; }
login() { # user password -> token
  api POST /api/login "" "{\"user\":\"$1\",\"password\":\"$2\"}"
  [ "$CODE" = 200 ] || fail "login $1: $CODE $(cat "$T/r.json")"
  j .token
}

# ------------------------------------------------------------------ 1. the flood
# open_stalled N LENGTH SENT: N connections each announcing a login body of LENGTH bytes and
# sending SENT of them, then stalling. Their descriptors are in FLOOD.
FLOOD=()
trap '' PIPE # the server may close a flooding connection while we still write to it
open_stalled() {
  local fd
  for _ in $(seq "$1"); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n' "$2" >&"$fd" 2>/dev/null || true
    { head -c "$3" /dev/zero | tr '\0' ' '; } 2>/dev/null >&"$fd" || true
    FLOOD+=("$fd")
  done
}
# status_of FD: the status code the server wrote on that connection ("" if none within the
# request deadline + 5 s)
status_of() { timeout $((REQ_TIMEOUT + 5)) head -c 12 <&"$1" 2>/dev/null | sed -n 's/^HTTP\/1\.1 \([0-9]*\).*/\1/p' || true; }
close_flood() { for fd in "${FLOOD[@]}"; do exec {fd}>&-; done; FLOOD=(); }

# 48 logins of 1 MiB: refused from their Content-Length, before the body is buffered.
open_stalled 48 1048576 65536
n413=0
for fd in "${FLOOD[@]}"; do [ "$(status_of "$fd")" = 413 ] && n413=$((n413 + 1)); done
assert_eq 48 "$n413" "48 logins announcing 1 MiB: each refused 413"
close_flood

# A login body over the pre-auth limit (--preauth-body, 4096): 413 from its head, JSON.
head -c 5000 /dev/zero | tr '\0' x >"$T/b5k"
CODE=$(curl -s -o "$T/r.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$T/b5k" "$URL/api/login")
assert_eq 413 "$CODE" "a 5000-byte login body: 413 before authentication"
assert_eq body "$(jq -r .field "$T/r.json")" "... with a JSON error naming the body"
CODE=$(curl -s -o "$T/r.json" -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary '{}' "$URL/api/login")
assert_eq 413 "$CODE" "a chunked body without a session: 413 (its size is unknown)"
# with a well-formed token the body goes on to the session check (and to --max-body)
CODE=$(curl -s -o "$T/r.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(printf 'a%.0s' $(seq 64))" -H 'Content-Type: application/json' --data-binary @"$T/b5k" "$URL/api/logout")
assert_eq 401 "$CODE" "the same body with a token: checked against the sessions (401), not cut"

# 48 stalled logins within the pre-auth limit hold their connections; the real login gets in.
open_stalled 48 4000 1000
MKT=$(login mia marketing-secret-1)
assert_eq 64 "${#MKT}" "a legitimate login is answered while 48 stalled logins hold connections"
# Over the cap: the connections beyond it are answered 503 at once, nothing buffered.
open_stalled $((MAX_CONNS - 48 + 4)) 4000 1000
n503=0
for fd in "${FLOOD[@]:48}"; do [ "$(status_of "$fd")" = 503 ] && n503=$((n503 + 1)); done
[ "$n503" -ge 4 ] && echo "ok - connections over the cap ($MAX_CONNS): 503 ($n503)" || fail "over the cap: $n503 answered 503"
# The stalled ones are cut at their deadline (--request-timeout) with 408.
n408=0
for fd in "${FLOOD[@]:0:48}"; do [ "$(status_of "$fd")" = 408 ] && n408=$((n408 + 1)); done
assert_eq 48 "$n408" "stalled requests cut with 408 at their deadline"
close_flood
wait_for 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{\"user\":\"mia\",\"password\":\"marketing-secret-1\"}' $URL/api/login)\" = 200 ]" &&
  echo "ok - logins answered once the flood is gone" || fail "no login after the flood"
grep -q "connection closed: no whole request within $REQ_TIMEOUT s" "$T/adm.log" && echo "ok - slow clients logged" || fail "no log of cut connections"

# ------------------------------------------------------------------ 2. per-account login lock
A0=$(rcli xlen 'adm:{adm}:audit')
for i in 1 2; do
  api POST /api/login "" '{"user":"carl","password":"wrong-password!"}'
  assert_eq 401 "$CODE" "wrong password $i: 401"
done
api POST /api/login "" '{"user":"carl","password":"wrong-password!"}'
assert_eq 401 "$CODE" "the failure that locks the account is answered like any other"
assert_eq $((A0 + 1)) "$(rcli xlen 'adm:{adm}:audit')" "the lock is audited"
rec=$(rcli --raw xrevrange 'adm:{adm}:audit' + - count 1 | tr '\n' ' ')
case "$rec" in *"what account.locked target carl "*'"failures":3'*) echo "ok - audit: account.locked, carl, 3 failures" ;; *) fail "audit record: $rec" ;; esac
api POST /api/login "" '{"user":"carl","password":"care-secret-2222"}'
assert_eq 429 "$CODE" "while locked even the right password is refused"
grep -qi '^retry-after: [1-9]' "$T/r.hdr" && echo "ok - Retry-After on a locked account" || fail "no Retry-After"
AUD=$(login ada auditor-secret-33)
assert_eq 64 "${#AUD}" "another account is not locked"
api POST /api/login "" '{"user":"nobody","password":"wrong-password!"}'
assert_eq 401 "$CODE" "an unknown name: the same 401"
wait_for 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{\"user\":\"carl\",\"password\":\"care-secret-2222\"}' $URL/api/login)\" = 200 ]" &&
  echo "ok - the right password gets in once the lock is over" || fail "carl still locked"
assert_eq "" "$(rcli get 'adm:rl:acct:{carl}:n')" "a good login clears the failure count"
CARE=$(login carl care-secret-2222)

# ------------------------------------------------------------------ 4. block reasons kept whole
block_reason() { # reason-json-string label
  api POST "/api/subscribers/$M/block" "$CARE" "{\"reason\":$1}"
  assert_eq 200 "$CODE" "block with $2"
  api GET "/api/audit?count=1" "$AUD"
  assert_eq "$(jq -r . <<<"$1")" "$(j '.items[0].after.reason')" "audit after.reason intact: $2"
  assert_eq true "$(j '.items[0].after.blocked')" "audit after.blocked: $2"
  api POST "/api/subscribers/$M/unblock" "$CARE"
  assert_eq 200 "$CODE" "unblock after $2"
}
q200=$(printf '\\"%.0s' $(seq 200))     # 200 quotes: 200 bytes, 400 once escaped
b200=$(printf '\\\\%.0s' $(seq 200))    # 200 backslashes
ar=$(printf 'حظر بسبب احتيال %.0s' 1 2 3 4 5 6) # Arabic, two bytes a letter: 174 bytes
ar200="${ar}حظر بسبب احتيا"                        # 200 bytes exactly: the limit
block_reason "\"$q200\"" "200 quotes (the length limit)"
block_reason "\"$b200\"" "200 backslashes"
block_reason "\"$ar\"" "Arabic text"
block_reason "\"$ar200\"" "Arabic text at the limit (200 bytes)"
block_reason "\"a \\\"quoted\\\" \\\\ mix حظر بسبب احتيال\"" "quotes, backslashes and Arabic"
q135=$(printf '\\"%.0s' $(seq 135)) # 135 quotes + 65 bytes of Arabic = 200: escaped, past 320
block_reason "\"$q135 احتيال احتيال احتيال احتيال احتيال\"" "quotes then Arabic at the limit"
api POST "/api/subscribers/$M/block" "$CARE" "{\"reason\":\"$q200\\\"\"}"
assert_eq 400 "$CODE" "a reason over the limit: 400"

# ------------------------------------------------------------------ 3. dead letters masked by role
rcli xadd lg:dlq:event '*' raw "TOPUP|$M|50|r1" reason "unknown sender for $M" source 'smpp{SIM}' at 1 >/dev/null
for who in "$MKT marketing" "$CARE care" "$AUD auditor"; do
  set -- $who
  api GET "/api/deadletters?count=5" "$1"
  assert_eq 200 "$CODE" "dead letters for $2"
  if [ "$2" = marketing ]; then
    assert_eq "TOPUP|********5678|50|r1" "$(j '.items[0].raw')" "marketing: the raw event masked"
    assert_eq "unknown sender for ********5678" "$(j '.items[0].reason')" "marketing: the reason masked"
    api GET "/api/deadletters?count=5&format=csv" "$1"
    if grep -q "$M" "$T/r.json"; then fail "marketing's CSV shows a full MSISDN"; else echo "ok - marketing: the CSV masked"; fi
  else
    assert_eq "TOPUP|$M|50|r1" "$(j '.items[0].raw')" "$2: the raw event whole"
  fi
done

kill -TERM "$ADM_PID"
rc=0; wait "$ADM_PID" || rc=$?
assert_eq 0 "$rc" "loyalty-admin exits 0 after SIGTERM"
finish
