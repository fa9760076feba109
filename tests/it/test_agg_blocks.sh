#!/usr/bin/env bash
# The ledger scripts cannot share code: each carries the same "aggregates" block (docs/data-model.md
# 6). This test keeps the copies identical, so a fix in one is not forgotten in the others;
# commit.lua's copy also takes the TOPUP channel and is compared apart from those lines.
# The same for the "ref index" block of commit.lua and refidx.lua (docs/data-model.md 4): the
# 13-byte record layout is read and written by both.
source "$(dirname "$0")/lib.sh"

block() { awk '/^-- -+ aggregates/ { p = 1 } p { print } /^-- -+ end of aggregates/ { p = 0 }' "$1"; }
REF=$(block "$LGW_SRC/gateway/lua/expire.lua")
[ "$(wc -l <<<"$REF")" -ge 40 ] || fail "expire.lua: no aggregates block found"
for f in catalog/lua/sub.lua admin/lua/adjust.lua admin/lua/hold.lua gateway/lua/campaign.lua \
  gateway/lua/transfer.lua; do
  if [ "$(block "$LGW_SRC/$f")" = "$REF" ]; then
    echo "ok - $f: the same aggregates block as expire.lua"
  else
    fail "$f: its aggregates block differs from expire.lua's: $(diff <(echo "$REF") <(block "$LGW_SRC/$f") | head -10)"
  fi
done
# commit.lua: the same functions (ag_bucket, ag_wallet, ag_flow), from the first one to the end
fns() { sed -n '/^local function ag_bucket/,$p'; }
assert_eq "$(fns <<<"$REF")" "$(block "$LGW_SRC/gateway/lua/commit.lua" | fns)" \
  "commit.lua: the same ag_bucket, ag_wallet and ag_flow"
# the ref index: commit.lua (one Redis) and refidx.lua (a cluster's first step), but for the
# comments before its first line of code (commit.lua's copy describes the layout)
ri() {
  awk '/^-- -+ ref index/ { p = 1 } p { print } /^-- -+ end of ref index/ { p = 0 }' "$1" |
    sed -n '/^local RI_REC/,$p'
}
RI=$(ri "$LGW_SRC/gateway/lua/refidx.lua")
[ "$(wc -l <<<"$RI")" -ge 15 ] || fail "refidx.lua: no ref index block found"
assert_eq "$(ri "$LGW_SRC/gateway/lua/commit.lua")" "$RI" \
  "commit.lua and refidx.lua: the same ref index block"
finish
