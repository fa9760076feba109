#!/usr/bin/env bash
# The Debian package (deploy/package.cmake): `cmake --build <build> --target package` builds it;
# dpkg-deb shows the right control data (depends on redis-server and libsystemd0, conffiles for
# /etc, executable maintainer scripts that create the system user); the files land where the units
# and the docs say; extracted into an empty root, the binaries start from the installed paths
# (--help, --version, --check-config on the installed example configuration), the man pages
# render without warnings, and the installed units pass systemd-analyze verify.
# Then, when the suite runs as root and the kernel allows it, a REAL `dpkg -i` / `dpkg -r` /
# `dpkg -P` in a throwaway root: a private mount namespace (unshare -m) with an overlay of / whose
# writes go to $T only, so the machine itself is never changed. Otherwise that part is skipped
# with a message.
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
         etc/loyaltygw/loyaltygw.json etc/logrotate.d/loyaltygw; do
  [ -e "$R/$f" ] && echo "ok - /$f" || fail "/$f missing from the package"
done
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
  echo "SKIP: man is not installed; the man pages are not rendered"
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
  echo "SKIP: systemd-analyze is not installed; the installed units are not verified"
fi

note "a real dpkg -i in a throwaway root (overlay of / in a private mount namespace)"
M="$T/ov/merged"; mkdir -p "$T/ov/upper" "$T/ov/work" "$M"
missing_deps=""
for d in redis-server tzdata adduser; do dpkg -s "$d" >/dev/null 2>&1 || missing_deps="$missing_deps $d"; done
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: not root; the real dpkg -i is not run (dpkg-deb checks above only)"
elif [ -n "$missing_deps" ]; then
  echo "SKIP: this machine lacks the package's dependencies ($missing_deps); the real dpkg -i is not run"
elif ! unshare -m sh -c "mount -t overlay overlay -o lowerdir=/,upperdir=$T/ov/upper,workdir=$T/ov/work $M" 2>"$T/ov.err"; then
  echo "SKIP: cannot mount an overlay of / here ($(head -c 200 "$T/ov.err")); the real dpkg -i is not run"
else
  host_user=$(getent passwd loyaltygw || true)
  host_etc=$(ls -d /etc/loyaltygw 2>/dev/null || true)
  cp "$DEB" "$T/ov/pkg.deb"
  cat >"$T/ov/inside.sh" <<'INSIDE'
set -e
dpkg -i /pkg.deb
getent passwd loyaltygw
stat -c '%U:%G %a' /etc/loyaltygw /etc/loyaltygw/loyaltygw.json /var/lib/loyaltygw
setpriv --reuid=loyaltygw --regid=loyaltygw --init-groups /usr/sbin/loyaltygw --check-config --config /etc/loyaltygw/loyaltygw.json
dpkg -s loyaltygw | grep '^Status'
dpkg -r loyaltygw
test -e /etc/loyaltygw/loyaltygw.json && echo "conffiles kept after remove"
test ! -e /usr/sbin/loyaltygw && echo "binaries gone after remove"
dpkg -P loyaltygw
test ! -e /etc/loyaltygw/loyaltygw.json && echo "conffiles gone after purge"
test ! -e /var/lib/loyaltygw && echo "state gone after purge"
INSIDE
  unshare -m sh -c "
    mount -t overlay overlay -o lowerdir=/,upperdir=$T/ov/upper,workdir=$T/ov/work $M &&
    mount --bind /proc $M/proc && mount --bind /dev $M/dev &&
    cp $T/ov/pkg.deb $M/pkg.deb && cp $T/ov/inside.sh $M/inside.sh &&
    chroot $M sh /inside.sh" >"$T/dpkg.log" 2>&1 || fail "real install failed: $(tail -20 "$T/dpkg.log")"
  grep -q '^loyaltygw:' "$T/dpkg.log" && echo "ok - dpkg -i: postinst created the system user" || fail "no user: $(cat "$T/dpkg.log")"
  grep -q '^root:loyaltygw 750$' "$T/dpkg.log" && echo "ok - /etc/loyaltygw root:loyaltygw 0750" || fail "perms: $(cat "$T/dpkg.log")"
  grep -q '^root:loyaltygw 640$' "$T/dpkg.log" && echo "ok - the config root:loyaltygw 0640 (secrets)" || fail "perms: $(cat "$T/dpkg.log")"
  grep -q '^loyaltygw:loyaltygw 750$' "$T/dpkg.log" && echo "ok - /var/lib/loyaltygw owned by the user" || fail "state dir"
  grep -q 'configuration valid' "$T/dpkg.log" && echo "ok - the installed binary reads the installed config as user loyaltygw" || fail "check-config as loyaltygw"
  grep -q 'Status: install ok installed' "$T/dpkg.log" && echo "ok - dpkg: install ok installed" || fail "status"
  for s in "conffiles kept after remove" "binaries gone after remove" "conffiles gone after purge" "state gone after purge"; do
    grep -q "$s" "$T/dpkg.log" && echo "ok - $s" || fail "$s: $(tail -5 "$T/dpkg.log")"
  done
  assert_eq "$host_user" "$(getent passwd loyaltygw || true)" "the machine's users are untouched"
  assert_eq "$host_etc" "$(ls -d /etc/loyaltygw 2>/dev/null || true)" "the machine's /etc is untouched"
fi
finish
