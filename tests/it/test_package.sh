#!/usr/bin/env bash
# The Debian package (deploy/package.cmake): `cmake --build <build> --target package` builds it;
# dpkg-deb shows the right control data (depends on redis-server and libsystemd0, conffiles for
# /etc, executable maintainer scripts that create the system user); the files land where the units
# and the docs say; extracted into an empty root, the binaries start from the installed paths
# (--help, --version, --check-config on the installed example configuration), the installed
# redis-acl.sh makes an ACL file Redis loads, the man pages render without warnings, and the
# installed units pass systemd-analyze verify.
# Then a REAL `dpkg -i` / `dpkg -r` / `dpkg -P` in a throwaway root: a private mount namespace
# (unshare -m) with an overlay of / whose writes go to $T only, so the machine itself is never
# changed. Inside it, a systemctl-less smoke start: the Exec lines of the installed units run as
# the package's system user (instance "smoke": the installed example pointed at a private Redis
# and the SMSC simulator), loyaltygw becomes ready and credits the sample day (read back with the
# installed loyaltyctl), loyalty-admin serves the installed web files, both exit 0 on SIGTERM.
# That part runs in CI (deploy/setup.sh installs every package of Depends and needs root or
# sudo): missing dependencies or no overlay fail the test; it is skipped, saying why, only where
# the suite runs neither as root nor with a passwordless sudo.
source "$(dirname "$0")/lib.sh"

note "building the package"
cmake --build "$LGW_BIN" --target package >"$T/package.log" 2>&1 || { tail -20 "$T/package.log"; fail "package target failed"; finish; }
DEB=$(ls -t "$LGW_BIN"/loyaltygw_*_*.deb | head -1)
[ -f "$DEB" ] && echo "ok - built $(basename "$DEB")" || { fail "no .deb"; finish; }

dpkg-deb --field "$DEB" Package Version Architecture Depends >"$T/control"
assert_eq loyaltygw "$(dpkg-deb --field "$DEB" Package)" "Package: loyaltygw"
deps=$(dpkg-deb --field "$DEB" Depends)
for d in 'redis-server (>= 5:7.0)' libsystemd0 libsmpp34-1 libhiredis0.14 libevent-2.1-7 adduser tzdata; do
  case "$deps" in *"$d"*) echo "ok - Depends: $d" ;; *) fail "Depends lacks $d: $deps" ;; esac
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -t >"$T/control.list"
for f in conffiles postinst prerm postrm md5sums; do
  grep -qx "./$f" "$T/control.list" && echo "ok - control has $f" || fail "control lacks $f"
done
mkdir -p "$T/ctrl"; dpkg-deb -e "$DEB" "$T/ctrl"
for f in /etc/loyaltygw/loyaltygw.json /etc/loyaltygw/loyalty-table.json /etc/loyaltygw/ussd-menus.json \
         /etc/logrotate.d/loyaltygw; do
  grep -qx "$f" "$T/ctrl/conffiles" && echo "ok - conffile $f" || fail "$f is not a conffile"
done
for s in postinst prerm postrm; do
  [ -x "$T/ctrl/$s" ] && sh -n "$T/ctrl/$s" && echo "ok - $s: executable, valid sh" || fail "$s"
done
grep -q 'adduser --system --group' "$T/ctrl/postinst" && echo "ok - postinst creates the system user" || fail "postinst: no user"

note "extracted into an empty root"
R="$T/root"; mkdir -p "$R"
dpkg-deb -x "$DEB" "$R"
for f in usr/sbin/loyaltygw usr/sbin/loyalty-admin usr/bin/loyaltyctl lib/systemd/system/loyaltygw@.service \
         lib/systemd/system/loyalty-admin.service usr/share/man/man8/loyaltygw.8.gz \
         usr/share/man/man8/loyalty-admin.8.gz usr/share/man/man1/loyaltyctl.1.gz \
         usr/share/doc/loyaltygw/README.md usr/share/doc/loyaltygw/configuration.md \
         usr/share/doc/loyaltygw/operations.md usr/share/doc/loyaltygw/examples/nginx/loyalty-admin.conf \
         usr/share/loyaltygw/web/index.html usr/share/loyaltygw/grafana/loyaltygw-giftday.json \
         etc/loyaltygw/loyaltygw.json etc/logrotate.d/loyaltygw usr/share/doc/loyaltygw/redis-ops.md \
         usr/share/doc/loyaltygw/examples/redis.conf usr/share/doc/loyaltygw/examples/redis-users.acl.in \
         usr/share/doc/loyaltygw/examples/sentinel.conf usr/share/doc/loyaltygw/examples/stunnel-redis.conf; do
  [ -e "$R/$f" ] && echo "ok - /$f" || fail "/$f missing from the package"
done
# the installed redis-acl.sh makes the ACL file from the installed template, and Redis loads it
X="$R/usr/share/doc/loyaltygw/examples"
if [ -x "$X/redis-acl.sh" ] && "$X/redis-acl.sh" "$T/pkg-users.acl" "$T/pkg-pass" 2>"$T/pkg-acl.err"; then
  echo "ok - the installed redis-acl.sh made an ACL file"
  redis-server --port 0 --unixsocket "$T/pkg-acl.sock" --save '' --appendonly no --daemonize no \
    --aclfile "$T/pkg-users.acl" --logfile "$T/pkg-acl-redis.log" &
  ACL_PID=$!
  PIDS+=("$ACL_PID")
  wait_for 10 sh -c "REDISCLI_AUTH=\$(cat '$T/pkg-pass/redis-operator.pass') redis-cli --no-auth-warning -s '$T/pkg-acl.sock' --user operator ping | grep -q PONG" &&
    echo "ok - Redis loads it: the operator authenticates" || fail "Redis with the installed ACL: $(tail -3 "$T/pkg-acl-redis.log")"
  case "$(redis-cli -s "$T/pkg-acl.sock" get x 2>&1)" in
    *NOAUTH*|*NOPERM*) echo "ok - ... and the default user is off" ;;
    *) fail "the installed ACL leaves the default user on" ;;
  esac
  kill "$ACL_PID"; wait "$ACL_PID" 2>/dev/null || true
else
  fail "the installed redis-acl.sh: $(cat "$T/pkg-acl.err" 2>/dev/null)"
fi
# every path the units execute is in the package
for u in "$R"/lib/systemd/system/*.service; do
  for x in $(sed -n 's/^Exec[A-Za-z]*=[-@!+]*\(\/[^ ]*\).*/\1/p' "$u" | sort -u); do
    [ -x "$R$x" ] || [ -x "$x" ] && echo "ok - $(basename "$u") runs $x, which exists" || fail "$(basename "$u"): $x missing"
  done
done
"$R/usr/sbin/loyaltygw" --help >"$T/h1" && grep -q -- --check-config "$T/h1" && echo "ok - loyaltygw --help" || fail "loyaltygw --help"
assert_eq "loyaltygw $(dpkg-deb --field "$DEB" Version)" "$("$R/usr/sbin/loyaltygw" --version)" "loyaltygw --version is the package version"
out=$("$R/usr/sbin/loyaltygw" --check-config --config "$R/etc/loyaltygw/loyaltygw.json" 2>&1) &&
  echo "ok - loyaltygw --check-config on the installed example: $out" || fail "check-config: $out"
"$R/usr/sbin/loyalty-admin" --help >"$T/h2" && grep -q -- --listen "$T/h2" && echo "ok - loyalty-admin --help" || fail "loyalty-admin --help"
"$R/usr/bin/loyaltyctl" --help >"$T/h3" 2>&1; grep -q 'show MSISDN' "$T/h3" && echo "ok - loyaltyctl --help" || fail "loyaltyctl --help: $(cat "$T/h3")"
if command -v man >/dev/null 2>&1; then
  for m in man8/loyaltygw.8 man8/loyalty-admin.8 man1/loyaltyctl.1; do
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$R/usr/share/man/$m.gz" 2>&1 >"$T/man.txt")
    [ -z "$w" ] && grep -q NAME "$T/man.txt" && echo "ok - $m renders without warnings" || fail "$m: $w"
  done
else
  echo "SKIP: man is not installed (deploy/setup.sh installs man-db); the man pages are not rendered"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$T/units"
  for u in loyaltygw@.service loyalty-admin.service; do
    sed "s#/usr/sbin/#$R/usr/sbin/#g" "$R/lib/systemd/system/$u" >"$T/units/$u"
  done
  cp "$T/units/loyaltygw@.service" "$T/units/loyaltygw@smsc1.service"
  out=$(systemd-analyze verify --man=no "$T/units/loyaltygw@smsc1.service" "$T/units/loyalty-admin.service" 2>&1) &&
    [ -z "$out" ] && echo "ok - the installed units pass systemd-analyze verify" || fail "verify: $out"
else
  echo "SKIP: systemd-analyze is not installed (deploy/setup.sh installs systemd); the installed units are not verified"
fi

note "a real dpkg -i in a throwaway root (overlay of / in a private mount namespace)"
# It must run in CI: deploy/setup.sh installs the package's dependencies on a fresh Debian 12 and
# needs root (or sudo) to do it, so the one case skipped is a machine where this suite runs
# neither as root nor with a passwordless sudo. Anything else that stops the install fails.
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"
  else
    echo "SKIP: not root and no passwordless sudo, so dpkg -i cannot run; only the dpkg-deb checks" \
         "above were made (CI runs deploy/setup.sh, which needs root or sudo, so it always has one)"
    finish; exit 0
  fi
fi
# every package named in Depends (alternatives: one of them) must be installed: deploy/setup.sh
missing_deps=""
for alt in $(dpkg-deb --field "$DEB" Depends | sed 's/([^)]*)//g; s/ //g' | tr ',' ' '); do
  ok=0
  for d in $(echo "$alt" | tr '|' ' '); do dpkg -s "$d" >/dev/null 2>&1 && { ok=1; break; }; done
  [ $ok = 1 ] || missing_deps="$missing_deps $alt"
done
[ -z "$missing_deps" ] && echo "ok - every package of Depends is installed here" ||
  { fail "this machine lacks the package's dependencies ($missing_deps): run deploy/setup.sh"; finish; }
M="$T/ov/merged"; mkdir -p "$T/ov/upper" "$T/ov/work" "$M"
if ! $SUDO unshare -m sh -c "mount -t overlay overlay -o lowerdir=/,upperdir=$T/ov/upper,workdir=$T/ov/work $M" 2>"$T/ov.err"; then
  fail "cannot mount an overlay of / in a private mount namespace ($(head -c 200 "$T/ov.err")): a container needs CAP_SYS_ADMIN (docker --privileged) for this test"
  finish
fi

# The smoke start, systemctl-less: what the units would run, from the installed paths, as the
# system user the package made, against the Redis the package depends on (in the throwaway root)
# and the SMSC simulator (here, on loopback) sending the sample day.
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_sim day --events "$T/day.events" --window 5 --timeout-s 120
host_user=$(getent passwd loyaltygw || true)
host_etc=$(ls -d /etc/loyaltygw 2>/dev/null || true)
cp "$DEB" "$T/ov/pkg.deb"
{
  echo "SIM_PORT=$SIM_PORT"
  cat <<'INSIDE'
set -e
dpkg -i /pkg.deb
getent passwd loyaltygw
stat -c '%U:%G %a' /etc/loyaltygw /etc/loyaltygw/loyaltygw.json /var/lib/loyaltygw
AS_USER="setpriv --reuid=loyaltygw --regid=loyaltygw --init-groups"
as_user() { $AS_USER "$@"; }
as_user /usr/sbin/loyaltygw --check-config --config /etc/loyaltygw/loyaltygw.json
dpkg -s loyaltygw | grep '^Status'

S=/run/lgw-smoke; mkdir -p $S; chown loyaltygw $S # the console writes its port file here
GW=""; ADM=""
stop_all() {
  [ -n "$GW" ] && kill "$GW" 2>/dev/null; [ -n "$ADM" ] && kill "$ADM" 2>/dev/null
  redis-cli -s $S/redis.sock shutdown nosave >/dev/null 2>&1 || true
}
trap stop_all EXIT
wait_ok() { # up to 60 s: a loaded machine, a sanitizer build
  i=0; while ! "$@" >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 600 ] || return 1; sleep 0.1; done
}
redis-server --port 0 --unixsocket $S/redis.sock --unixsocketperm 777 --save '' --appendonly no \
  --dir $S --logfile $S/redis.log --daemonize yes --pidfile $S/redis.pid
wait_ok redis-cli -s $S/redis.sock ping
# the instance "smoke": /etc/loyaltygw/smoke.json, the shipped example pointed at these two
jq --arg s $S/redis.sock --argjson p "$SIM_PORT" '.redis.unix_socket = $s | .smpp.port = $p
   | .smpp.reconnect_min_ms = 100 | .metrics.listen = "127.0.0.1:0"' \
  /etc/loyaltygw/loyaltygw.json >/etc/loyaltygw/smoke.json
chown root:loyaltygw /etc/loyaltygw/smoke.json; chmod 0640 /etc/loyaltygw/smoke.json
unit_cmd() { # UNIT KEY: that Exec line of the installed unit, instance "smoke"
  sed -n "s/^$2=//p" "/lib/systemd/system/$1" | sed 's/%i/smoke/g'
}
as_user $(unit_cmd loyaltygw@.service ExecStartPre) && echo "smoke: ExecStartPre passed"
# a command, not a function, in the background: $! is then the daemon itself (setpriv execs it)
$AS_USER $(unit_cmd loyaltygw@.service ExecStart) 2>$S/gw.log & GW=$!
wait_ok grep -q 'GET /metrics.*(port ' $S/gw.log || { echo "loyaltygw did not start: $(cat $S/gw.log)"; exit 1; }
MP=$(sed -n 's/.*GET \/metrics, \/health, \/ready on .* (port \([0-9]*\)).*/\1/p' $S/gw.log | head -1)
wait_ok sh -c "curl -sf http://127.0.0.1:$MP/ready" && echo "smoke: loyaltygw ready (bound, Redis writable)"
curl -sf http://127.0.0.1:$MP/metrics | grep -q '^loyaltygw_build_info' && echo "smoke: loyaltygw /metrics"
M1=212612345678 # in the sample day
wait_ok sh -c "/usr/bin/loyaltyctl --config /etc/loyaltygw/smoke.json show $M1 | grep -q '^  bal  *[1-9]'" &&
  echo "smoke: loyaltyctl reads the credit of the sample day"
wait_ok sh -c "ls /var/lib/loyaltygw/journal/*.lj" && echo "smoke: the journal is written in the state directory"
# the console: its unit's command with this instance's config and a free port
$AS_USER $(unit_cmd loyalty-admin.service ExecStart | sed 's#/etc/loyaltygw/loyaltygw.json#/etc/loyaltygw/smoke.json#;
  s#--listen [^ ]*#--listen 127.0.0.1:0 --port-file /run/lgw-smoke/adm.port#') 2>$S/adm.log & ADM=$!
wait_ok test -s $S/adm.port || { echo "loyalty-admin did not start: $(cat $S/adm.log)"; exit 1; }
AP=$(cat $S/adm.port)
wait_ok sh -c "curl -sf http://127.0.0.1:$AP/ready" && echo "smoke: loyalty-admin ready"
curl -sf http://127.0.0.1:$AP/ | grep -qi '<html' && echo "smoke: loyalty-admin serves the installed web files"
stopped() { # NAME PID: SIGTERM, then its exit status must be 0
  rc=0; kill "$2"; wait "$2" || rc=$?
  [ $rc = 0 ] && echo "smoke: $1 stopped cleanly" || echo "smoke: $1 exit $rc: $(tail -3 $S/$1.log)"
}
stopped gw $GW; GW=""
stopped adm $ADM; ADM=""
stop_all
rm -rf $S /etc/loyaltygw/smoke.json /var/lib/loyaltygw/journal

dpkg -r loyaltygw
test -e /etc/loyaltygw/loyaltygw.json && echo "conffiles kept after remove"
test ! -e /usr/sbin/loyaltygw && echo "binaries gone after remove"
dpkg -P loyaltygw
test ! -e /etc/loyaltygw/loyaltygw.json && echo "conffiles gone after purge"
test ! -e /var/lib/loyaltygw && echo "state gone after purge"
INSIDE
} >"$T/ov/inside.sh"
$SUDO unshare -m sh -c "
  mount -t overlay overlay -o lowerdir=/,upperdir=$T/ov/upper,workdir=$T/ov/work $M &&
  mount --bind /proc $M/proc && mount --bind /dev $M/dev && mount -t tmpfs tmpfs $M/run &&
  cp $T/ov/pkg.deb $M/pkg.deb && cp $T/ov/inside.sh $M/inside.sh &&
  chroot $M sh /inside.sh" >"$T/dpkg.log" 2>&1 || fail "real install failed: $(tail -20 "$T/dpkg.log")"
grep -q '^loyaltygw:' "$T/dpkg.log" && echo "ok - dpkg -i: postinst created the system user" || fail "no user: $(cat "$T/dpkg.log")"
grep -q '^root:loyaltygw 750$' "$T/dpkg.log" && echo "ok - /etc/loyaltygw root:loyaltygw 0750" || fail "perms: $(cat "$T/dpkg.log")"
grep -q '^root:loyaltygw 640$' "$T/dpkg.log" && echo "ok - the config root:loyaltygw 0640 (secrets)" || fail "perms: $(cat "$T/dpkg.log")"
grep -q '^loyaltygw:loyaltygw 750$' "$T/dpkg.log" && echo "ok - /var/lib/loyaltygw owned by the user" || fail "state dir"
grep -q 'configuration valid' "$T/dpkg.log" && echo "ok - the installed binary reads the installed config as user loyaltygw" || fail "check-config as loyaltygw"
grep -q 'Status: install ok installed' "$T/dpkg.log" && echo "ok - dpkg: install ok installed" || fail "status"
for s in "smoke: ExecStartPre passed" "smoke: loyaltygw ready (bound, Redis writable)" "smoke: loyaltygw /metrics" \
         "smoke: loyaltyctl reads the credit of the sample day" \
         "smoke: the journal is written in the state directory" "smoke: loyalty-admin ready" \
         "smoke: loyalty-admin serves the installed web files" "smoke: gw stopped cleanly" "smoke: adm stopped cleanly" \
         "conffiles kept after remove" "binaries gone after remove" "conffiles gone after purge" "state gone after purge"; do
  grep -qF "$s" "$T/dpkg.log" && echo "ok - $s" || fail "$s: $(tail -5 "$T/dpkg.log")"
done
assert_eq "$host_user" "$(getent passwd loyaltygw || true)" "the machine's users are untouched"
assert_eq "$host_etc" "$(ls -d /etc/loyaltygw 2>/dev/null || true)" "the machine's /etc is untouched"
[ -z "$SUDO" ] || $SUDO rm -rf "$T/ov" # root's files in the overlay's upper layer
finish
