#!/usr/bin/env bash
# Installs what is missing, builds ccroute and runs the main job on its
# built-in default configuration. Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target ccroute_demo
exec build/bench/ccroute-demo "$@"
