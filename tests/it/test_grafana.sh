#!/usr/bin/env bash
# deploy/grafana/loyaltygw-giftday.json: valid JSON with panels, and every metric its queries use
# is one the daemons expose (a family declared in gateway/wire_metrics.c or admin/adm_metrics.c;
# histograms through their _bucket/_count/_sum series), so a renamed family cannot leave a
# silently empty panel.
source "$(dirname "$0")/lib.sh"
D="$LGW_SRC/deploy/grafana/loyaltygw-giftday.json"

jq -e '.panels | length > 5' "$D" >/dev/null && echo "ok - the dashboard is JSON with panels" || fail "bad dashboard"
families=$(grep -ho '"loyalty\(gw\|admin\)_[a-z0-9_]*"' "$LGW_SRC/gateway/wire_metrics.c" \
  "$LGW_SRC/admin/adm_metrics.c" | tr -d '"' | sort -u)
used=$(jq -r '.. | .expr? // empty' "$D" | grep -o 'loyalty\(gw\|admin\)_[a-z0-9_]*' | sort -u)
n=0
for u in $used; do
  n=$((n + 1))
  base=$(echo "$u" | sed -E 's/_(bucket|count|sum)$//')
  if echo "$families" | grep -qx -e "$u" -e "$base"; then :; else fail "the dashboard uses $u, which nothing exposes"; fi
done
assert_ge 10 "$n" "the dashboard's queries name $n metrics, all exposed"
finish
