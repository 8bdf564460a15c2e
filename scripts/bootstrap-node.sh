#!/usr/bin/env bash
# Installs what the Node.js example client needs (examples/node): node and
# npm (Debian's nodejs and npm when no node or npm is on PATH), then the two
# npm packages pinned in examples/node/package-lock.json, with `npm ci`.
# Idempotent: when the installed packages match the lock file it prints
# nothing and touches nothing. Called by bootstrap.sh.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/examples/node"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap-node: installing Debian nodejs and npm"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/tmp/keiretsu-bootstrap-node.log 2>&1 ||
    { cat /tmp/keiretsu-bootstrap-node.log; exit 1; }
fi

# npm ci leaves its own copy of the lock in node_modules: equal means done.
if cmp -s "$dir/package-lock.json" "$dir/node_modules/.keiretsu-lock-installed" 2>/dev/null; then
  exit 0
fi
echo "bootstrap-node: npm ci in examples/node"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/tmp/keiretsu-npm-ci.log 2>&1) ||
  { cat /tmp/keiretsu-npm-ci.log; exit 1; }
cp "$dir/package-lock.json" "$dir/node_modules/.keiretsu-lock-installed"
