#!/usr/bin/env bash
# Installs the Debian 12 packages keiretsu needs to build, test and run.
# Idempotent: when nothing is missing it prints nothing and touches nothing.
# Must run as root (or through sudo) on Debian 12 "bookworm".
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build clang libclang-rt-14-dev clang-format pkg-config
  # libraries
  libasio-dev libsodium-dev libprotobuf-dev protobuf-compiler libgrpc++-dev
  protobuf-compiler-grpc librocksdb-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev liblemon-dev
  # tests: the Python example client, Noise test vectors, systemd unit checks
  python3 python3-grpcio python3-protobuf python3-nacl golang-github-flynn-noise-dev systemd
  # tools the scripts use
  procps psmisc openssl
  # the partition test (network namespaces, veth, bridge)
  iproute2
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "bootstrap: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
else SUDO=; fi

echo "bootstrap: installing ${#missing[@]} missing package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/keiretsu-bootstrap.log 2>&1 || { cat /tmp/keiretsu-bootstrap.log; exit 1; }
echo "bootstrap: done"
