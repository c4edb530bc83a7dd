#!/usr/bin/env bash
# Installs the Debian 12 packages ccroute needs to build and test. Idempotent:
# when everything is present it only checks and returns.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev clang-format
  libabsl-dev libyaml-cpp-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev openssl
  libboost-dev
  librocksdb-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox
  prometheus
  nodejs npm
  tmux jq
)

missing=()
for p in "${packages[@]}"; do
  # Node.js for the interop test (tests/interop) may come from elsewhere,
  # e.g. NodeSource's nodejs, which bundles npm and conflicts with Debian's.
  case $p in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi
