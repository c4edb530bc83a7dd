#!/usr/bin/env bash
# Installs what is missing, builds ccroute and runs ccrouted in the
# foreground on its built-in demo configuration (gRPC on 127.0.0.1:7400).
# Extra arguments go to ccrouted (e.g. --config deploy/ccrouted.example.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target ccrouted ccroute_demo
exec build/server/ccrouted "$@"
