#!/usr/bin/env bash
# Redis locked down (issue 11 §1): Redis runs with the shipped ACL (deploy/redis-users.acl.in made
# by deploy/redis-acl.sh, the default user off), and each process runs green under its own
# least-privilege user with its password from a file: the gateway credits a sample day over SMPP,
# loyalty-admin adds accounts, logs in, reads, adjusts, blocks, saves a document, lists the audit;
# loyaltyctl reads and opts in. Redis's ACL LOG must then be empty: nothing was refused silently.
# Then the same users are refused what is not theirs: FLUSHALL, CONFIG SET, KEYS, SCRIPT FLUSH,
# CLUSTER RESET / FAILOVER (CLUSTER SLOTS alone is theirs: a cluster's map), and XDEL / XTRIM /
# DEL / RENAME of the audit stream (also from inside a script: Redis 7 runs scripts with the
# caller's ACL); the audit keeps every record. A wrong password stops the gateway
# at start with a clear error; no password ever reaches a log or --print-config.
source "$(dirname "$0")/lib.sh"
CTL="$LGW_BIN/gateway/loyaltyctl"
GW="$LGW_BIN/gateway/loyaltygw"
M=212612345678 # 18 points after the sample day (test_ingest_e2e.sh)
AUDIT='adm:{adm}:audit'

redis_acl_on
# DEBUG is allowed by the server here, so that what refuses it below is the ACL
start_redis --enable-debug-command yes
pw() { cat "$REDIS_PASSDIR/redis-$1.pass"; }
assert_eq "" "$(redis-cli -s "$REDIS_SOCK" ping 2>&1 | grep -c PONG | sed 's/^0$//')" \
  "the default user is off: a connection without a user gets nothing"
case "$(redis-cli -s "$REDIS_SOCK" get x 2>&1)" in
  *NOAUTH*|*NOPERM*|*WRONGPASS*) echo "ok - unauthenticated commands are refused" ;;
  *) fail "unauthenticated GET: $(redis-cli -s "$REDIS_SOCK" get x 2>&1)" ;;
esac

# the shipped redis.conf loads the made ACL file (paths moved into the test's directory)
mkdir -p "$T/conf"
redis-server "$LGW_SRC/deploy/redis.conf" --aclfile "$T/users.acl" --port 0 --unixsocket "$T/conf.sock" \
  --dir "$T/conf" --appendonly no --daemonize no --logfile "$T/conf-redis.log" &
CONF_PID=$!
PIDS+=("$CONF_PID")
wait_for 10 sh -c "REDISCLI_AUTH=\$(cat '$REDIS_PASSDIR/redis-operator.pass') redis-cli --no-auth-warning -s '$T/conf.sock' --user operator ping | grep -q PONG" &&
  echo "ok - deploy/redis.conf starts with the made ACL file" || fail "deploy/redis.conf with the ACL file did not start"
case "$(redis-cli -s "$T/conf.sock" get x 2>&1)" in
  *NOAUTH*|*NOPERM*) echo "ok - deploy/redis.conf: the default user is off" ;;
  *) fail "deploy/redis.conf: unauthenticated GET answered" ;;
esac
kill "$CONF_PID"; wait "$CONF_PID" 2>/dev/null || true

# ------------------------------------------------------------------ the gateway as loyaltygw
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
assert_eq loyaltygw "$(jq -r .redis.username "$T/gw.json")" "the gateway is configured as loyaltygw"
start_gw
wait_sim sim 60
assert_eq 21 "$(sim_json sim '.final.ESME_ROK')" "gateway as loyaltygw: 21 events acknowledged ESME_ROK"
assert_eq 4 "$(sim_json sim '.final.ESME_RX_P_APPN')" "gateway as loyaltygw: 4 malformed events dead-lettered"
assert_eq 18 "$(balance $M)" "gateway as loyaltygw: $M has 18 points"
assert_eq 4 "$(rcli xlen lg:dlq:event)" "gateway as loyaltygw: 4 dead letters"
stop_gw

# --print-config masks the password; the password is in no log
"$GW" --config "$T/gw.json" --print-config >"$T/printed.json"
assert_eq '***' "$(jq -r .redis.password "$T/printed.json")" "--print-config masks redis.password"
for u in loyaltygw loyalty-admin loyaltyctl operator; do
  if grep -qF "$(pw $u)" "$T/printed.json" "$T"/*.log "$T"/*.out 2>/dev/null; then
    fail "the password of $u appears in a log or in --print-config"
  fi
done
echo "ok - no password in --print-config or the logs"

# ------------------------------------------------------------------ loyalty-admin as loyalty-admin
ARED=(--redis-user loyalty-admin --redis-password-file "$REDIS_PASSDIR/redis-loyalty-admin.pass")
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" "${ARED[@]}" --add-user carl --role care >/dev/null ||
  fail "--add-user as loyalty-admin"
echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" "${ARED[@]}" --add-user mia --role marketing >/dev/null ||
  fail "--add-user as loyalty-admin"
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" "${ARED[@]}" --add-user ada --role auditor >/dev/null ||
  fail "--add-user as loyalty-admin"
assert_eq 3 "$(rcli xlen $AUDIT)" "--add-user as loyalty-admin: three audited accounts"

start_admin_api "${ARED[@]}"
CARE=$(adm_login carl care-secret-2222)
MKT=$(adm_login mia marketing-secret-1)
AUD=$(adm_login ada auditor-secret-33)
adm_api GET /api/subscribers/$M "$CARE"
assert_eq 200 "$CODE" "admin as loyalty-admin: subscriber read"
adm_api POST /api/subscribers/$M/adjust "$CARE" '{"points":7,"reason":"goodwill","request_id":"acl-1"}'
assert_eq 200 "$CODE" "admin as loyalty-admin: adjustment (its script on the ledger)"
assert_eq 25 "$(balance $M)" "the adjustment reached the wallet"
adm_api POST /api/subscribers/$M/block "$CARE" '{"reason":"lost SIM"}'
assert_eq 200 "$CODE" "admin as loyalty-admin: block"
adm_api POST /api/subscribers/$M/unblock "$CARE"
assert_eq 200 "$CODE" "admin as loyalty-admin: unblock"
adm_api GET /api/giftdays "$MKT"
assert_eq 200 "$CODE" "admin as loyalty-admin: gift days read"
adm_api PUT /api/giftdays "$MKT" "{\"version\":0,\"document\":$(jq -c . "$LGW_SRC/deploy/giftdays.json")}"
case "$CODE" in
  200) echo "ok - admin as loyalty-admin: document saved with its audit record (cfg_put.lua)" ;;
  *) fail "PUT /api/giftdays as loyalty-admin: $CODE $(cat "$T/r.json")" ;;
esac
adm_api GET /api/audit "$AUD"
assert_eq 200 "$CODE" "admin as loyalty-admin: the audit trail is readable"
adm_api GET /api/deadletters "$AUD"
assert_eq 200 "$CODE" "admin as loyalty-admin: dead letters"
adm_api GET /api/board "$MKT"
assert_eq 200 "$CODE" "admin as loyalty-admin: board"
adm_api GET "/api/reports/wallets" "$MKT"
assert_eq 200 "$CODE" "admin as loyalty-admin: wallet report (SCAN)"
adm_api GET /api/campaigns "$MKT"
assert_eq 200 "$CODE" "admin as loyalty-admin: campaigns"
adm_api POST /api/logout "$CARE"
assert_eq 200 "$CODE" "admin as loyalty-admin: logout"

# ------------------------------------------------------------------ loyaltyctl as loyaltyctl
CRED=(--socket "$REDIS_SOCK" --user loyaltyctl --password-file "$REDIS_PASSDIR/redis-loyaltyctl.pass")
"$CTL" "${CRED[@]}" show $M >"$T/ctl-show.out" 2>&1 || fail "loyaltyctl show: $(cat "$T/ctl-show.out")"
grep -q "25" "$T/ctl-show.out" && echo "ok - loyaltyctl as loyaltyctl: show" || fail "show: $(cat "$T/ctl-show.out")"
"$CTL" "${CRED[@]}" top 3 >"$T/ctl-top.out" 2>&1 || fail "loyaltyctl top: $(cat "$T/ctl-top.out")"
"$CTL" "${CRED[@]}" dlq 2 >"$T/ctl-dlq.out" 2>&1 || fail "loyaltyctl dlq: $(cat "$T/ctl-dlq.out")"
"$CTL" "${CRED[@]}" campaign >"$T/ctl-c.out" 2>&1 || fail "loyaltyctl campaign: $(cat "$T/ctl-c.out")"
a0=$(rcli xlen $AUDIT)
"$CTL" "${CRED[@]}" optin 212661000001 >"$T/ctl-optin.out" 2>&1 || fail "loyaltyctl optin: $(cat "$T/ctl-optin.out")"
assert_eq 1 "$(rcli sismember 'bc:{bc}:optin' 212661000001)" "loyaltyctl as loyaltyctl: opt-in recorded"
assert_eq $((a0 + 1)) "$(rcli xlen $AUDIT)" "loyaltyctl as loyaltyctl: opt-in audited"
# the same through the gateway's config file, with the environment's password
LGW_REDIS_PASSWORD="$(pw loyaltyctl)" "$CTL" --config "$T/gw.json" --user loyaltyctl show $M >/dev/null 2>&1 ||
  fail "loyaltyctl --config --user with LGW_REDIS_PASSWORD"

# ------------------------------------------------------------------ nothing refused so far
assert_eq 0 "$(rcli acl log | grep -c '^reason$' || true)" \
  "ACL LOG is empty: no process was refused anything during its normal work"
[ "$(rcli acl log | grep -c '^reason$' || true)" = 0 ] || rcli acl log | head -40 >&2

# ------------------------------------------------------------------ ... and refused outside it
audit_before=$(rcli xlen $AUDIT)
first_id=$(rcli xrange $AUDIT - + count 1 | head -1)
refused() { # message user redis-cli-args...: the command must be refused (NOPERM / script error)
  local msg=$1 u=$2 out; shift 2
  out=$(acl_as "$u" "$@" 2>&1)
  case "$out" in
    *NOPERM*|*"no permissions"*|*"can't access"*) echo "ok - $u: $msg refused" ;;
    *) fail "$u: $msg was not refused: $out" ;;
  esac
}
for u in loyaltygw loyalty-admin loyaltyctl; do
  refused "FLUSHALL" $u flushall
  refused "FLUSHDB" $u flushdb
  refused "CONFIG SET" $u config set appendonly no
  refused "CONFIG GET" $u config get requirepass
  refused "KEYS" $u keys '*'
  refused "SCRIPT FLUSH" $u script flush
  refused "DEBUG" $u debug sleep 0
  refused "SHUTDOWN" $u shutdown nosave
  refused "ACL SETUSER" $u acl setuser $u '+@all'
  refused "XDEL on the audit" $u xdel $AUDIT "$first_id"
  refused "XTRIM on the audit" $u xtrim $AUDIT maxlen 0
  refused "DEL of the audit" $u del $AUDIT
  refused "UNLINK of the audit" $u unlink $AUDIT
  refused "RENAME of the audit" $u rename $AUDIT 'adm:{adm}:gone'
  refused "EXPIRE of the audit" $u expire $AUDIT 1
  refused "CLUSTER RESET" $u cluster reset
  refused "CLUSTER FAILOVER" $u cluster failover
  # ... but each maps a Redis Cluster's slots (every client does, core/gw_redis.c, ctl_masters.c)
  assert_eq OK "$(rcli acl dryrun $u cluster slots)" "$u: CLUSTER SLOTS granted (a Redis Cluster's map)"
done
for u in loyaltygw loyalty-admin; do
  refused "XDEL of the audit inside a script" $u eval "return redis.call('XDEL', KEYS[1], ARGV[1])" 1 $AUDIT "$first_id"
  refused "XTRIM of the audit inside a script" $u eval "return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)" 1 $AUDIT
done
refused "a staff session minted by the gateway's user" loyaltygw set adm:sess:forged "0 carl"
refused "a staff account written by the gateway's user" loyaltygw hset adm:user:eve role care
refused "a wallet written by loyaltyctl" loyaltyctl hset "lg:{$M}:w" bal 1000000
refused "a staff session minted by loyaltyctl" loyaltyctl set adm:sess:forged "0 carl"
assert_ge 10 "$(rcli acl log 128 | grep -c '^reason$' || true)" "the refusals are in ACL LOG (the emptiness check above can fail)"
assert_eq "$audit_before" "$(rcli xlen $AUDIT)" "the audit stream kept every record"
assert_eq "$first_id" "$(rcli xrange $AUDIT - + count 1 | head -1)" "the first audit record is still there"
assert_eq 25 "$(balance $M)" "the wallet is untouched"
kill "$ADM_PID" 2>/dev/null; wait "$ADM_PID" 2>/dev/null || true

# ------------------------------------------------------------------ wrong password: a clear stop
echo "not-the-password" >"$T/wrong.pass"
jq --arg pf "$T/wrong.pass" '.redis.password_file = $pf' "$T/gw.json" >"$T/gw-wrong.json"
start_sim sim2 --events "$T/day.events" --window 5 --timeout-s 20
jq --argjson p "$SIM_PORT" '.smpp.port = $p' "$T/gw-wrong.json" >"$T/gw-wrong2.json"
rc=0
timeout 20 "$GW" --config "$T/gw-wrong2.json" >"$T/gw-wrong.out" 2>"$T/gw-wrong.log" || rc=$?
assert_eq 1 "$rc" "the gateway with a wrong Redis password exits 1 at start"
grep -q "Redis refused our credentials" "$T/gw-wrong.log" && echo "ok - it says why" ||
  fail "no clear error: $(tail -3 "$T/gw-wrong.log")"
grep -q "WRONGPASS" "$T/gw-wrong.log" && echo "ok - Redis's own reason is logged" || fail "no WRONGPASS in the log"
grep -qF "not-the-password" "$T/gw-wrong.log" && fail "the wrong password was logged" || echo "ok - the password is not logged"
rc=0
"$CTL" --socket "$REDIS_SOCK" --user loyaltyctl --password-file "$T/wrong.pass" dlq >"$T/ctl-wrong.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "loyaltyctl with a wrong password exits 1"
grep -q "refused authentication" "$T/ctl-wrong.out" && echo "ok - loyaltyctl says why" || fail "loyaltyctl: $(cat "$T/ctl-wrong.out")"
finish
