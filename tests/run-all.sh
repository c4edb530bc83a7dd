#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: the full
# build, then the routing core again under AddressSanitizer + UBSan with the
# fuzzer smoke run (clang). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
jobs=$(nproc)

echo "== build and test (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCROUTE_WERROR=ON \
  >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== routing core under ASan + UBSan, with the fuzzer (clang)"
# No coverage counters in the core library: the core tests built here
# would run about 45% slower.
CC=clang CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug \
  -DCCROUTE_CORE_ONLY=ON -DCCROUTE_SANITIZE=ON -DCCROUTE_FUZZ=ON \
  -DCCROUTE_FUZZ_COVERAGE=OFF -DCCROUTE_BUILD_BENCH=OFF \
  -DCCROUTE_WERROR=ON >/dev/null
cmake --build build-sanitize -j"$jobs"
CCROUTE_PROPERTY_SEEDS=${CCROUTE_SANITIZE_PROPERTY_SEEDS:-30} \
  ctest --test-dir build-sanitize --output-on-failure -j"$jobs"

echo "== journal reader under ASan + UBSan, with its fuzzer (clang)"
# Only the fuzzer's target: the journal, its records and the routing core.
CC=clang CXX=clang++ cmake -S . -B build-fuzz-journal -DCMAKE_BUILD_TYPE=Debug \
  -DCCROUTE_SANITIZE=ON -DCCROUTE_FUZZ=ON -DCCROUTE_BUILD_BENCH=OFF \
  -DCCROUTE_WERROR=ON >/dev/null
cmake --build build-fuzz-journal -j"$jobs" --target journal_fuzz
ctest --test-dir build-fuzz-journal --output-on-failure -R journal_fuzz_smoke

echo "== the gRPC request handling under ASan + UBSan, with its fuzzer (clang)"
# Only the fuzzer and its seed writer: the server's libraries, the protos.
# -O1 (asserts stay on): the fuzzer runs a whole server, and makes about twice
# as many calls per second as at -O0.
CC=clang CXX=clang++ cmake -S . -B build-fuzz-rpc -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DCCROUTE_SANITIZE=ON -DCCROUTE_FUZZ=ON \
  -DCCROUTE_BUILD_BENCH=OFF -DCCROUTE_WERROR=ON >/dev/null
cmake --build build-fuzz-rpc -j"$jobs" --target rpc_fuzz rpc_fuzz_seeds
ctest --test-dir build-fuzz-rpc --output-on-failure -R rpc_fuzz_smoke
