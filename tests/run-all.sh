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
CC=clang CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug \
  -DCCROUTE_CORE_ONLY=ON -DCCROUTE_SANITIZE=ON -DCCROUTE_FUZZ=ON \
  -DCCROUTE_BUILD_BENCH=OFF -DCCROUTE_WERROR=ON >/dev/null
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
