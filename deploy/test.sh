#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, builds warning-free, runs the
# cmocka unit tests and the integration tests (each starts its own redis-server on a unix socket in
# a temp dir, the SMSC simulator and the gateway, and stops them).
#   deploy/test.sh              plain build   (build-test/)
#   deploy/test.sh --sanitize   ASan + UBSan  (build-asan/)
#   deploy/test.sh --valgrind   plain build, integration path under valgrind (build-test/)
#   deploy/test.sh --fuzz       clang + libFuzzer, ASan+UBSan (build-fuzz/): every target of
#                               tests/fuzz for LGW_FUZZ_SECONDS (30) each (tests/fuzz/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh

mode="${1:-plain}"
case "$mode" in
  # The plain build is optimised like what ships (some -Werror warnings only appear with -O2);
  # the sanitizer build is -O0 for exact reports.
  plain|--plain)   dir=build-test; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo); env=() ;;
  --sanitize)      dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DLGW_SANITIZE=ON)
                   env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1) ;;
  --valgrind)      dir=build-test; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo); env=(LGW_VALGRIND=1) ;;
  --fuzz)          dir=build-fuzz; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLGW_FUZZ=ON) ;;
  *) echo "usage: $0 [--sanitize|--valgrind|--fuzz]" >&2; exit 2 ;;
esac

if [ "$mode" = "--fuzz" ]; then
  # Only the fuzz targets are built (the libraries they link, instrumented); a short bounded run
  # of each. The long recorded runs: tests/fuzz/run.sh --runs 10000000 (tests/bench/RESULTS.md).
  CC=clang cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" --target fuzz -j"$(nproc)"
  exec tests/fuzz/run.sh --build "$dir" --time "${LGW_FUZZ_SECONDS:-30}"
fi

cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
if [ "$mode" = "--valgrind" ]; then
  env "${env[@]}" ctest --test-dir "$dir" --output-on-failure -L '^it$'
else
  env "${env[@]+"${env[@]}"}" ctest --test-dir "$dir" --output-on-failure -j2
fi
