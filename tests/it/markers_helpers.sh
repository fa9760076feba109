# tests/it/markers_helpers.sh - shared by the tests of the retired markers' sweep
# (test_campaign_markers*.sh), sourced after lib.sh. MK_CLI names the redis-cli function that
# reaches lg:mk:{mk}, the sweep's progress (rcli on one Redis, ccli on a cluster).
MK_CLI=rcli
mk() { "$MK_CLI" hget 'lg:mk:{mk}' "$1"; } # a field of the sweep's progress
mid_pass() { # a page of the pass that deleted markers was saved (a SCAN page of a few keys may
  local c d  # hold no wallet at all: a cursor alone does not say the pass has begun deleting)
  c=$(mk cur); d=$(mk deleted)
  [ -n "$c" ] && [ "$c" != 0 ] && [ "${d:-0}" -gt 0 ]
}
# Waits for a saved page, then kills the gateway with SIGKILL (no drain, nothing saved on exit).
kill_mid_pass() {
  wait_for 30 mid_pass || fail "no page of the sweep was saved"
  kill -9 "$GW_PID"
  wait "$GW_PID" 2>/dev/null || true
}
swept_ids() { [ "$(mk ids)" = "$1" ]; } # IDS: the ids swept by completed passes, ",a,b,"
