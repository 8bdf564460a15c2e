#!/usr/bin/env bash
# Creates a new network's keys, genesis and per-firm configs from a list of
# firm names and peer addresses: the genesis ceremony of docs/OPERATIONS.md,
# done on one machine (for test networks, demos and containers; real firms
# make their keys on their own machines).
#
#   deploy/new-network.sh --name NETWORK --out DIR [--api-base-port P] [--keiretsu PATH] \
#       firm=peerhost:port [firm=peerhost:port ...]
#
# For each firm it writes DIR/FIRM/{FIRM.key,keiretsud.toml,data/} with the
# firm's peer listener on its port (all interfaces) and every other firm as
# a peer; DIR/genesis.toml is shared. API ports count up from --api-base-port
# (default 7701) on 127.0.0.1, or on 0.0.0.0 with --api-any (containers).
set -euo pipefail

name= out= api_base=7701 api_host=127.0.0.1 keiretsu=${KEIRETSU:-}
firms=()
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --api-base-port) api_base=$2; shift 2 ;;
    --api-any) api_host=0.0.0.0; shift ;;
    --keiretsu) keiretsu=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "new-network: unknown option $1" >&2; exit 1 ;;
    *=*:*) firms+=("$1"); shift ;;
    *) echo "new-network: '$1' is not firm=host:port" >&2; exit 1 ;;
  esac
done
[ -n "$name" ] && [ -n "$out" ] && [ ${#firms[@]} -ge 1 ] || { usage >&2; exit 1; }
if [ -z "$keiretsu" ]; then
  keiretsu=$(command -v keiretsu || true)
  [ -z "$keiretsu" ] && keiretsu=$(dirname "$0")/../build/tools/cli/keiretsu
fi
[ -x "$keiretsu" ] || { echo "new-network: keiretsu CLI not found (build it, or pass --keiretsu)" >&2; exit 1; }
[ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && { echo "new-network: $out is not empty" >&2; exit 1; }
mkdir -p "$out"

declare -A addr
members=()
for spec in "${firms[@]}"; do
  firm=${spec%%=*}
  addr[$firm]=${spec#*=}
  mkdir -p "$out/$firm"
  pk=$("$keiretsu" keygen --out "$out/$firm/$firm.key")
  members+=(--member "$firm=$pk")
  echo "$firm  $pk"
done
"$keiretsu" genesis --name "$name" "${members[@]}" --quorum $(((${#firms[@]} + 1) / 2)) \
  --out "$out/genesis.toml"

port=$api_base
for spec in "${firms[@]}"; do
  firm=${spec%%=*}
  peers=()
  for other in "${firms[@]}"; do
    o=${other%%=*}
    [ "$o" = "$firm" ] || peers+=(--peer "$o=${addr[$o]}")
  done
  "$keiretsu" init --firm "$firm" --genesis "$out/genesis.toml" --key "$out/$firm/$firm.key" \
    --dir "$out/$firm" --api-listen "$api_host:$port" --peer-listen "0.0.0.0:${addr[$firm]##*:}" \
    "${peers[@]}" >/dev/null
  echo "$firm  config $out/$firm/keiretsud.toml  api $api_host:$port"
  port=$((port + 1))
done
