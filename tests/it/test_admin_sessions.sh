#!/usr/bin/env bash
# Staff sessions (issue 11 §1) over real HTTP against a real redis-server: Redis holds only the
# SHA-256 of a token (no key or value holds a token); the admin role lists a user's sessions and
# revokes one or all of them, each audited; a password reset (--add-user) and a disabled account
# (--disable-user) end that user's sessions at once, and a disabled account cannot log in until it
# is reset; other roles may not touch sessions; bad ids and unknown users are 400/404.
source "$(dirname "$0")/lib.sh"

start_redis
# the console reads the gateway's file (no gateway runs here); a roomy Redis deadline, so that a
# loaded machine cannot fail a login
write_config 1 ".redis.request_timeout_ms = 5000"
add_user() { echo "$3" | "$ADM" --config "$T/gw.json" --add-user "$1" --role "$2" >/dev/null; }
add_user carl care care-secret-2222
add_user ana admin admin-secret-555
start_admin_api --session-ttl 600 --login-per-min 100
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
me() { adm_api GET /api/me "$1"; echo "$CODE"; }
j() { jq -r "$1" "$T/r.json"; }
audit_last() { rcli xrevrange 'adm:{adm}:audit' + - count 1 | tr '\n' ' '; }

# ------------------------------------------------------------------ stored hashed
T1=$(adm_login carl care-secret-2222)
T2=$(adm_login carl care-secret-2222)
TA=$(adm_login ana admin-secret-555)
assert_eq 200 "$(me "$T1")" "a fresh session works"
assert_eq 1 "$(rcli exists "adm:sess:$(sha "$T1")")" "the session key is the SHA-256 of the token"
assert_eq 0 "$(rcli exists "adm:sess:$T1")" "no key is named by the token"
dump=$(for k in $(rcli --scan --pattern 'adm:*'); do
  echo "$k"
  case "$(rcli type "$k")" in
    string) rcli get "$k" ;;
    hash) rcli hgetall "$k" ;;
  esac
done)
case "$dump" in
  *"$T1"*|*"$T2"*|*"$TA"*) fail "a token is readable in Redis" ;;
  *) echo "ok - no key or value in Redis holds a token (a leaked dump gives no session)" ;;
esac

# ------------------------------------------------------------------ listing
adm_api GET /api/users/carl/sessions "$TA"
assert_eq 200 "$CODE" "the admin lists carl's sessions"
assert_eq 2 "$(j '.sessions | length')" "carl has two sessions"
assert_eq "$(printf '%s\n' "$(sha "$T1")" "$(sha "$T2")" | sort | tr '\n' ' ')" \
  "$(j '.sessions[].id' | sort | tr '\n' ' ')" "they are listed by their ids (token hashes), never the tokens"
assert_eq 127.0.0.1 "$(j '.sessions[0].ip')" "with the client address"
adm_api GET /api/users/carl/sessions "$T1"
assert_eq 403 "$CODE" "care may not list sessions"
adm_api POST "/api/sessions/$(sha "$T2")/revoke" "$T1"
assert_eq 403 "$CODE" "care may not revoke sessions"
adm_api GET /api/users/Bad_Name/sessions "$TA"
assert_eq 400 "$CODE" "a malformed user name: 400"

# ------------------------------------------------------------------ revoke one, then all
A0=$(rcli xlen 'adm:{adm}:audit')
adm_api POST "/api/sessions/$(sha "$T1")/revoke" "$TA"
assert_eq 200 "$CODE" "the admin revokes one session"
assert_eq carl "$(j .user)" "the revoked session was carl's"
assert_eq 401 "$(me "$T1")" "the revoked session ends at once"
assert_eq 200 "$(me "$T2")" "carl's other session goes on"
adm_api GET /api/users/carl/sessions "$TA"
assert_eq 1 "$(j '.sessions | length')" "one session left in the listing"
assert_eq $((A0 + 1)) "$(rcli xlen 'adm:{adm}:audit')" "the revocation is audited"
case "$(audit_last)" in *session.revoke*ana*|*ana*session.revoke*) echo "ok - audit: session.revoke by ana" ;;
  *) fail "audit: $(audit_last)" ;; esac
adm_api POST "/api/sessions/$(sha "$T1")/revoke" "$TA"
assert_eq 404 "$CODE" "revoking it again: 404"
adm_api POST "/api/sessions/xyz/revoke" "$TA"
assert_eq 400 "$CODE" "a malformed session id: 400"

T3=$(adm_login carl care-secret-2222)
adm_api POST /api/users/carl/sessions/revoke "$TA"
assert_eq 200 "$CODE" "the admin revokes all of carl's sessions"
assert_eq 401 "$(me "$T2")" "revoke all: the older session ends"
assert_eq 401 "$(me "$T3")" "revoke all: the newest session ends"
assert_eq 200 "$(me "$TA")" "the admin's own session is untouched"
case "$(audit_last)" in *sessions.revoke*carl*|*carl*sessions.revoke*) echo "ok - audit: sessions.revoke of carl" ;;
  *) fail "audit: $(audit_last)" ;; esac
adm_api POST /api/users/nobody/sessions/revoke "$TA"
assert_eq 404 "$CODE" "revoke all for an unknown user: 404"
assert_eq 0 "$(rcli exists adm:user:nobody)" "... and no account is made by it"

# ------------------------------------------------------------------ password reset, disable
T4=$(adm_login carl care-secret-2222)
assert_eq 200 "$(me "$T4")" "carl logs in again"
add_user carl care care-secret-NEW-1
assert_eq 401 "$(me "$T4")" "a password reset ends the session at once"
adm_api POST /api/login "" '{"user":"carl","password":"care-secret-2222"}'
assert_eq 401 "$CODE" "the old password no longer works"
T5=$(adm_login carl care-secret-NEW-1)
assert_eq 200 "$(me "$T5")" "the new password works"

"$ADM" --config "$T/gw.json" --disable-user carl >/dev/null || fail "--disable-user"
assert_eq 401 "$(me "$T5")" "disabling the account ends its session at once"
adm_api POST /api/login "" '{"user":"carl","password":"care-secret-NEW-1"}'
assert_eq 403 "$CODE" "a disabled account cannot log in"
case "$(audit_last)" in *user.disable*carl*) echo "ok - audit: user.disable" ;; *) fail "audit: $(audit_last)" ;; esac
rc=0; "$ADM" --config "$T/gw.json" --disable-user nobody >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "--disable-user of an unknown account fails"
add_user carl care care-secret-NEW-2
T6=$(adm_login carl care-secret-NEW-2)
assert_eq 200 "$(me "$T6")" "a reset enables the account again"

# ------------------------------------------------------------------ the same from loyaltyctl
CTL="$LGW_BIN/gateway/loyaltyctl"
mkdir -p "$T/home-ana"
ctl() { env -u LOYALTYCTL_TOKEN -u XDG_CONFIG_HOME HOME="$T/home-ana" "$CTL" --api "$URL" "$@"; }
ctl login ana <<<'admin-secret-555' >/dev/null || fail "loyaltyctl login ana"
ctl sessions carl >"$T/ctl-s.json" || fail "loyaltyctl sessions carl"
assert_eq "$(sha "$T6")" "$(jq -r '.sessions[0].id' "$T/ctl-s.json")" "loyaltyctl sessions lists carl's session"
ctl sessions carl revoke "$(sha "$T6")" >/dev/null || fail "loyaltyctl sessions carl revoke ID"
assert_eq 401 "$(me "$T6")" "loyaltyctl revoked it"
T7=$(adm_login carl care-secret-NEW-2)
ctl sessions carl revoke >/dev/null || fail "loyaltyctl sessions carl revoke"
assert_eq 401 "$(me "$T7")" "loyaltyctl revoked all of carl's sessions"
rc=0; ctl sessions carl revoke nothex >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "loyaltyctl: a malformed session id is a usage error"
finish
