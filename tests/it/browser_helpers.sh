# tests/it/browser_helpers.sh - the headless-browser tests' tools, sourced after lib.sh:
# playwright-core (and the pinned chart.js the console vendors) from tests/browser's lock file,
# installed with npm ci into the build directory (the source tree stays clean), again only when
# the lock file changes. Debian's /usr/bin/chromium is the browser (no download).
# Owner: the staff-console engineer.

# browser_deps: sets DEPS (its node_modules is the NODE_PATH); exits 0 with SKIP when Chromium is
# not installed, fails the test when npm is missing or npm ci fails.
browser_deps() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "SKIP: /usr/bin/chromium is not installed (deploy/setup.sh installs Debian's chromium)"
    exit 0
  fi
  command -v npm >/dev/null || { fail "npm is missing: playwright-core cannot be installed"; finish; }
  DEPS="$LGW_BIN/browser-deps"
  mkdir -p "$DEPS"
  # the browser tests run in parallel (ctest -j2): one npm ci at a time, the others wait for it
  # (npm ci empties node_modules first, so a reader meanwhile would find nothing)
  exec {deps_lock}>"$DEPS.lock"
  flock "$deps_lock"
  if ! cmp -s "$LGW_SRC/tests/browser/package-lock.json" "$DEPS/package-lock.json" ||
     [ ! -d "$DEPS/node_modules/playwright-core" ] || [ ! -f "$DEPS/node_modules/.complete" ]; then
    rm -f "$DEPS/node_modules/.complete"
    cp "$LGW_SRC/tests/browser/package.json" "$LGW_SRC/tests/browser/package-lock.json" "$DEPS/"
    (cd "$DEPS" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) ||
      { flock -u "$deps_lock"; cat "$T/npm.log" >&2; fail "npm ci failed"; finish; }
    touch "$DEPS/node_modules/.complete"
  fi
  flock -u "$deps_lock"
  exec {deps_lock}>&-
}
