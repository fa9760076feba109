#!/usr/bin/env bash
# Plain `requirepass` (issue 11 §1: "ACL users, and plain requirepass"): Redis with a password and
# no ACL file, the processes with redis.password_file and NO redis.username (the client then sends
# AUTH <password>, the default user). The gateway credits the sample day over SMPP, loyaltyctl
# reads with the password from its file and from LGW_REDIS_PASSWORD, loyalty-admin is ready on
# the same configuration; --print-config masks the password and no log holds it; a wrong password
# stops the gateway at start with a clear error. test_redis_acl covers the ACL users.
source "$(dirname "$0")/lib.sh"
CTL="$LGW_BIN/gateway/loyaltyctl"
GW="$LGW_BIN/gateway/loyaltygw"
ADM="$LGW_BIN/admin/loyalty-admin"
M=212612345678 # 18 points after the sample day (test_ingest_e2e.sh)

start_redis
PW="rp-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$PW" >"$T/redis.pass"
chmod 600 "$T/redis.pass"
rcli config set requirepass "$PW" >/dev/null
rcli() { REDISCLI_AUTH="$PW" redis-cli --no-auth-warning -s "$REDIS_SOCK" "$@"; }
case "$(redis-cli -s "$REDIS_SOCK" get x 2>&1)" in
  *NOAUTH*) echo "ok - Redis requires the password" ;;
  *) fail "unauthenticated GET answered: $(redis-cli -s "$REDIS_SOCK" get x 2>&1)" ;;
esac

# ------------------------------------------------------------------ the gateway
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT" ".redis.password_file = \"$T/redis.pass\""
assert_eq null "$(jq -r .redis.username "$T/gw.json")" "no redis.username: plain requirepass"
start_gw
wait_sim sim 60
assert_eq 21 "$(sim_json sim '.final.ESME_ROK')" "gateway with requirepass: 21 events acknowledged"
assert_eq 18 "$(balance $M)" "gateway with requirepass: $M has 18 points"
stop_gw

"$GW" --config "$T/gw.json" --print-config >"$T/printed.json"
assert_eq '***' "$(jq -r .redis.password "$T/printed.json")" "--print-config masks the password"

# ------------------------------------------------------------------ loyaltyctl, loyalty-admin
"$CTL" --socket "$REDIS_SOCK" --password-file "$T/redis.pass" show $M >"$T/ctl.out" 2>&1 ||
  fail "loyaltyctl --password-file: $(cat "$T/ctl.out")"
grep -q 18 "$T/ctl.out" && echo "ok - loyaltyctl --password-file: show" || fail "show: $(cat "$T/ctl.out")"
jq 'del(.redis.password_file)' "$T/gw.json" >"$T/gw-nopass.json"
LGW_REDIS_PASSWORD="$PW" "$CTL" --config "$T/gw-nopass.json" show $M >"$T/ctl-env.out" 2>&1 ||
  fail "loyaltyctl with LGW_REDIS_PASSWORD: $(cat "$T/ctl-env.out")"
grep -q 18 "$T/ctl-env.out" && echo "ok - loyaltyctl with LGW_REDIS_PASSWORD: show" ||
  fail "show: $(cat "$T/ctl-env.out")"

start_admin_api
adm_api GET /ready ""
assert_eq 200 "$CODE" "loyalty-admin with requirepass: /ready (Redis writable)"
kill "$ADM_PID" 2>/dev/null; wait "$ADM_PID" 2>/dev/null || true

if grep -qF "$PW" "$T/printed.json" "$T"/*.log "$T"/*.out 2>/dev/null; then
  fail "the password appears in a log or in --print-config"
else
  echo "ok - the password is in no log"
fi

# ------------------------------------------------------------------ a wrong password: a clear stop
echo "not-the-password" >"$T/wrong.pass"
start_sim sim2 --events "$T/day.events" --window 5 --timeout-s 20
jq --arg pf "$T/wrong.pass" --argjson p "$SIM_PORT" '.redis.password_file = $pf | .smpp.port = $p' \
  "$T/gw.json" >"$T/gw-wrong.json"
rc=0
timeout 20 "$GW" --config "$T/gw-wrong.json" >"$T/gw-wrong.out" 2>"$T/gw-wrong.log" || rc=$?
assert_eq 1 "$rc" "the gateway with a wrong password exits 1 at start"
grep -q "Redis refused our credentials" "$T/gw-wrong.log" && echo "ok - it says why" ||
  fail "no clear error: $(tail -3 "$T/gw-wrong.log")"
finish
