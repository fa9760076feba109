#!/usr/bin/env bash
# docs/configuration.md is generated from the config key table (loyaltygw
# --print-config-reference): the committed file must be exactly what the binary prints, so the
# reference cannot drift from the keys, their bounds and their defaults. After changing a key:
#   cmake --build build --target config-reference   (rewrites docs/configuration.md)
source "$(dirname "$0")/lib.sh"

"$LGW_BIN/gateway/loyaltygw" --print-config-reference >"$T/configuration.md"
if diff -u "$LGW_SRC/docs/configuration.md" "$T/configuration.md" >"$T/diff.txt"; then
  echo "ok - docs/configuration.md is the generated reference"
else
  fail "docs/configuration.md differs from loyaltygw --print-config-reference (regenerate it:
cmake --build <build> --target config-reference):
$(head -40 "$T/diff.txt")"
fi
# every key of --print-config appears in the reference, with its section
keys=$("$LGW_BIN/gateway/loyaltygw" --print-config | jq -r 'to_entries[] | .key as $s | .value | keys_unsorted[] | "\($s).\(.)"')
n=0; missing=0
for k in $keys; do
  n=$((n + 1))
  grep -qF "| \`$k\` |" "$T/configuration.md" || { missing=$((missing + 1)); fail "key $k not in the reference"; }
done
assert_ge 90 "$n" "--print-config lists the keys ($n)"
assert_eq 0 "$missing" "every key is in the reference"
undescribed=$(grep -c 'not described yet' "$T/configuration.md" || true)
[ "$undescribed" = 0 ] || note "$undescribed key(s) have no meaning yet in gateway/gw_config_doc.c"
finish
