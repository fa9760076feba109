#!/usr/bin/env bash
# deploy/redis-acl.sh - makes the Redis ACL file from deploy/redis-users.acl.in: one random password
# per user (kept in PASSDIR/redis-<user>.pass, mode 0600, made only when missing, so running it again
# keeps the passwords), its SHA-256 in place of #@<user>@, the template's comments dropped (Redis
# ACL files take none).
#   deploy/redis-acl.sh OUT.acl [PASSDIR]     PASSDIR default /etc/loyaltygw
# Then point each process at its user: "redis": {"username": "loyaltygw",
# "password_file": "/etc/loyaltygw/redis-loyaltygw.pass"} (loyalty-admin: loyalty-admin; loyaltyctl
# --user loyaltyctl --password-file ...), and redis.conf's aclfile at OUT.acl.
# The passwords never appear on a command line (they are read from the files by the processes) or
# in the ACL file (only their hashes).
set -euo pipefail

out=${1:?usage: redis-acl.sh OUT.acl [PASSDIR]}
dir=${2:-/etc/loyaltygw}
tmpl="$(cd "$(dirname "$0")" && pwd)/redis-users.acl.in"
umask 077
mkdir -p "$dir"

users=$(grep -v '^#' "$tmpl" | grep -o '#@[a-z-]*@' | tr -d '#@' | sort -u)
script=()
for u in $users; do
  f="$dir/redis-$u.pass"
  if [ ! -s "$f" ]; then
    # 32 random bytes as 64 hex characters: no shell or JSON quoting trouble anywhere
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f.tmp"
    echo >>"$f.tmp"
    mv "$f.tmp" "$f"
  fi
  h=$(head -n 1 "$f" | tr -d '\n' | sha256sum | cut -d' ' -f1)
  script+=(-e "s/#@$u@/#$h/")
done
grep -v '^#' "$tmpl" | grep -v '^[[:space:]]*$' | sed "${script[@]}" >"$out.tmp"
if grep -q '#@' "$out.tmp"; then
  echo "redis-acl.sh: a placeholder was left in $out" >&2
  rm -f "$out.tmp"
  exit 1
fi
chmod 0640 "$out.tmp"
mv "$out.tmp" "$out"
echo "redis-acl.sh: $out written; passwords in $dir/redis-<user>.pass" >&2
