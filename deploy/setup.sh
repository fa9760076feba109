#!/usr/bin/env bash
# Installs what the gateway needs to build, test and run on a fresh Debian 12 machine, and only what
# is missing (dpkg -s first), so running it again costs a second. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config          # toolchain
  libsmpp34-dev libhiredis-dev libevent-dev libcurl4-openssl-dev libjansson-dev
  libcmocka-dev                             # unit tests
  redis-server redis-tools                  # the store, and redis-cli for tests and the demo
  jq valgrind procps iproute2               # integration tests read JSON summaries; leak checks
  libcrypt-dev curl                         # loyalty-admin's yescrypt hashes; its API tests
  libssl-dev                                # libcrypto: SHA-256 of staff session tokens
  redis-sentinel                            # Redis HA (deploy/sentinel.conf, test_sentinel_failover)
  chromium                                  # the console's browser tests (playwright-core, npm)
  nginx-light openssl                       # the console's TLS site, tested as shipped (test_nginx_site)
  libsystemd-dev                            # sd_notify (Type=notify units) and the journal
  logrotate                                 # deploy/logrotate checked as shipped (test_systemd)
  systemd man-db                            # systemd-analyze verify of the units, man pages rendered
  tzdata adduser                            # the package's own Depends beyond the libraries above:
                                            # test_package installs it for real (dpkg -i)
  clang libclang-rt-14-dev                  # fuzzing (test.sh --fuzz): libFuzzer, ASan/UBSan runtimes
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# The browser tests install playwright-core with npm (tests/browser). A Node.js from elsewhere on
# the PATH will do; a fresh Debian 12 has none, and Debian's npm brings its nodejs.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# An apt cache older than a day may point at package versions the mirror no longer has.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  $SUDO apt-get update -q >&2 || echo "setup: apt-get update failed; trying the cached lists" >&2
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
