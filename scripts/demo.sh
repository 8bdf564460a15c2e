#!/usr/bin/env bash
# The main job: a local keiretsu of four firms, each a real keiretsud with
# its own key, data dir and ports on loopback, peered in a ring (no central
# node), founded on a version-2 genesis (members by vote, key rotation). It
# runs favours through the `keiretsu` CLI, admits a fifth firm (echigo) by
# the members' vote and starts its node, which catches up; rotates daisen's
# key to its pre-committed next key and restarts daisen on it; writes more
# entries; shows the state digests (equal), the balance matrix from every
# node (they agree) and an audit of the newcomer's export (clean, sealed, with the
# membership history), then stops the network.
#
#   scripts/demo.sh            build if needed, run, stop everything
#   scripts/demo.sh --keep     leave the network running and say how to use it
#   scripts/demo.sh --no-build use the binaries already in build/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

keep=0
build=1
for arg in "$@"; do
  case $arg in
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $arg (try --help)" >&2; exit 1 ;;
  esac
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() { printf '   %s\n' "$*"; }

if [ "$build" = 1 ]; then
  say "installing what is missing and building (first time: several minutes)"
  bash scripts/bootstrap.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j "$(nproc)" --target keiretsud keiretsu keiretsu-audit
fi
bin=${KEIRETSU_BUILD_DIR:-$root/build}  # the tests point it at their own build
KEIRETSUD=$bin/node/daemon/keiretsud
KEIRETSU=$bin/tools/cli/keiretsu
AUDIT=$bin/tools/audit/keiretsu-audit
for bin in "$KEIRETSUD" "$KEIRETSU" "$AUDIT"; do
  [ -x "$bin" ] || { echo "demo: $bin is missing; run without --no-build" >&2; exit 1; }
done

start_time=$SECONDS
net=$(mktemp -d /tmp/keiretsu-demo.XXXXXX)
firms=(asahi biwa chikuma daisen)  # the founders; echigo joins later
all=(asahi biwa chikuma daisen echigo)
declare -A pid api peer

cleanup() {
  local code=$?
  if [ "$keep" = 0 ] || [ $code -ne 0 ]; then
    for f in "${all[@]}"; do
      [ -n "${pid[$f]:-}" ] && kill -TERM "${pid[$f]}" 2>/dev/null || true
    done
    for f in "${all[@]}"; do
      [ -n "${pid[$f]:-}" ] && wait "${pid[$f]}" 2>/dev/null || true
    done
    [ $code -ne 0 ] && echo "demo: failed; logs kept in $net/*/keiretsud.log" >&2
    [ $code -eq 0 ] && rm -rf "$net"
  fi
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports, asked of the kernel (bind to port 0, read it back).
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One field of a JSON document on stdin: json_field '["entry"]["id"]'.
json_field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

say "founding the network: keys, a version-2 genesis, one config per firm (in $net)"
# Each firm makes its node's key and its NEXT key, whose digest the first
# key commits to. The next key goes to offline storage ($net/offline here):
# it alone can rotate the firm's key, so a thief of the node's key cannot.
mkdir -p "$net/offline"
members=()
for f in "${firms[@]}"; do
  mkdir -p "$net/$f"
  pk=$("$KEIRETSU" keygen --out "$net/$f/$f.key" --json | json_field '["public_key"]')
  nd=$("$KEIRETSU" keygen --next "$net/offline/$f.next.key" 2>/dev/null)
  members+=(--member "$f=$pk:$nd")
  api[$f]=127.0.0.1:$(free_port)
  peer[$f]=127.0.0.1:$(free_port)
  step "$f  key ${pk:0:16}…  next-key digest ${nd:0:16}…  api ${api[$f]}  peers ${peer[$f]}"
done
"$KEIRETSU" genesis --name demo-keiretsu "${members[@]}" --threshold 3 --out "$net/genesis.toml" >/dev/null
step "network id $(grep -o 'network_id = [0-9a-f]*' "$net/genesis.toml" | cut -d' ' -f3)"
step "threshold 3 of 4: a proposal passes with three members' votes"

# A ring: each firm dials the next one; replication relays around it.
n=${#firms[@]}
for i in "${!firms[@]}"; do
  f=${firms[$i]}
  next=${firms[$(((i + 1) % n))]}
  prev=${firms[$(((i + n - 1) % n))]}
  "$KEIRETSU" init --firm "$f" --genesis "$net/genesis.toml" --key "$net/$f/$f.key" \
    --dir "$net/$f" --api-listen "${api[$f]}" --peer-listen "${peer[$f]}" \
    --peer "$next=${peer[$next]}" --peer "$prev=${peer[$prev]}" >/dev/null
done

# Starts firm $1's node (its log appended to) and waits until it is ready.
start_node() {
  local f=$1
  : >>"$net/$f/keiretsud.log"
  "$KEIRETSUD" --config "$net/$f/keiretsud.toml" >>"$net/$f/keiretsud.log" 2>&1 &
  pid[$f]=$!
}
wait_ready() {
  local f=$1 before=${2:-0}  # ready lines already in the log before this start
  for _ in $(seq 1 100); do
    [ "$(grep -c "keiretsud ready" "$net/$f/keiretsud.log")" -gt "$before" ] && break
    kill -0 "${pid[$f]}" 2>/dev/null || { cat "$net/$f/keiretsud.log" >&2; exit 1; }
    sleep 0.1
  done
  [ "$(grep -c "keiretsud ready" "$net/$f/keiretsud.log")" -gt "$before" ] ||
    { echo "demo: $f did not start" >&2; exit 1; }
  step "$f ready (pid ${pid[$f]})"
}
k() { local f=$1; shift; "$KEIRETSU" --config "$net/$f/keiretsud.toml" "$@"; }
# Writes wait until a node has learned its own feed's head from its peers.
wait_writable() {
  for _ in $(seq 1 100); do
    k "$1" status --json | grep -q '"writable": *true' && return 0
    sleep 0.1
  done
  echo "demo: $1 never became writable" >&2; return 1
}

say "starting four keiretsud nodes"
for f in "${firms[@]}"; do start_node "$f"; done
for f in "${firms[@]}"; do wait_ready "$f"; done
for f in "${firms[@]}"; do wait_writable "$f"; done

say "favours: claims, acceptances, a direct IOU, a settlement, a declined claim"
claim_id() { json_field '["entry"]["id"]'; }
c1=$(k asahi claim biwa 40 hours --memo "forklift and driver, two days" --json | claim_id)
step "asahi claims 40 hours from biwa (claim ${c1:0:8})"
c2=$(k chikuma claim daisen 1200 kg --memo "steel offcuts" --json | claim_id)
step "chikuma claims 1200 kg from daisen (claim ${c2:0:8})"
c3=$(k daisen claim asahi 15 hours --memo "weekend warehouse space" --json | claim_id)
step "daisen claims 15 hours from asahi (claim ${c3:0:8})"
c4=$(k biwa claim chikuma 900 JPYk --memo "shared trade-fair stand" --json | claim_id)
step "biwa claims 900 JPYk from chikuma (claim ${c4:0:8})"

wait_for_claim() {  # firm claim-id: until the claim has replicated to firm
  for _ in $(seq 1 200); do
    k "$1" pending --json | grep -q "$2" && return 0
    sleep 0.1
  done
  echo "demo: claim $2 never reached $1" >&2; return 1
}
wait_for_claim biwa "$c1";    k biwa accept "$c1" >/dev/null;    step "biwa accepts asahi's claim"
wait_for_claim daisen "$c2";  k daisen accept "$c2" >/dev/null;  step "daisen accepts chikuma's claim"
wait_for_claim asahi "$c3";   k asahi accept "$c3" >/dev/null;   step "asahi accepts daisen's claim"
wait_for_claim chikuma "$c4"
k chikuma decline "$c4" --reason "the stand was shared evenly" >/dev/null
step "chikuma declines biwa's claim"
k daisen owe biwa 300 kg --memo "borrowed pallets" >/dev/null
step "daisen records an IOU: it owes biwa 300 kg"
k asahi release biwa 10 hours --memo "paid back with a delivery run" >/dev/null
step "biwa settles 10 of its hours with a delivery run; asahi records the release"

digest_of() { k "$1" status --json | json_field '["state_digest"]'; }
# Waits until every firm named holds the same ledger (equal state digests).
wait_converged() {
  local d
  for _ in $(seq 1 300); do
    d=$(for f in "$@"; do digest_of "$f"; done | sort -u)
    [ "$(echo "$d" | wc -l)" = 1 ] && return 0
    sleep 0.1
  done
  echo "demo: nodes did not converge:" >&2
  for f in "$@"; do echo "  $f $(digest_of "$f")" >&2; done
  return 1
}
show_digests() {
  for f in "$@"; do step "$f  state digest $(digest_of "$f")"; done
}

say "waiting for every node to hold the same ledger"
wait_converged "${firms[@]}"
show_digests "${firms[@]}"

say "admitting a fifth firm, echigo, by the members' vote"
mkdir -p "$net/echigo"
epk=$("$KEIRETSU" keygen --out "$net/echigo/echigo.key" 2>/dev/null)
end=$("$KEIRETSU" keygen --next "$net/offline/echigo.next.key" 2>/dev/null)
api[echigo]=127.0.0.1:$(free_port)
peer[echigo]=127.0.0.1:$(free_port)
# Not in the genesis: init --joining. Echigo dials two members; once it is
# admitted they accept its sessions.
"$KEIRETSU" init --joining --firm echigo --genesis "$net/genesis.toml" \
  --key "$net/echigo/echigo.key" --dir "$net/echigo" --next-digest "$end" \
  --api-listen "${api[echigo]}" --peer-listen "${peer[echigo]}" \
  --peer "asahi=${peer[asahi]}" --peer "chikuma=${peer[chikuma]}" >/dev/null
step "echigo  key ${epk:0:16}…  next-key digest ${end:0:16}… (init --joining: not a member yet)"
prop=$(k asahi propose admit echigo --key "$epk" --next-digest "$end" \
  --memo "echigo brings cold storage to the pool" --json | json_field '["entry"]["id"]')
step "asahi proposes to admit echigo (proposal ${prop:0:8})"
# Each voter's node must hold the proposal before it can vote for it.
wait_for_proposal() {
  for _ in $(seq 1 200); do
    k "$1" proposals --json | grep -q "$prop" && return 0
    sleep 0.1
  done
  echo "demo: proposal $prop never reached $1" >&2; return 1
}
for f in asahi biwa chikuma; do
  wait_for_proposal "$f"
  k "$f" vote "$prop" --yes | tail -1 | sed "s/^/   $f: /"
done
step "daisen does not vote: three of four is the threshold"
# Every node computes the same outcome from the signed votes.
wait_member() {  # firm member status: until firm's node lists member with status
  for _ in $(seq 1 300); do
    k "$1" members --json | /usr/bin/python3 -c '
import json, sys
m = {x["firm"]["name"]: x["status"] for x in json.load(sys.stdin).get("members", [])}
sys.exit(0 if m.get(sys.argv[1]) == sys.argv[2] else 1)' "$2" "$3" && return 0
    sleep 0.1
  done
  echo "demo: $1 never saw $2 $3" >&2; return 1
}
for f in "${firms[@]}"; do wait_member "$f" echigo active; done
step "every node lists echigo as an active member:"
k daisen members | sed 's/^/   /'

say "starting echigo's node: it fetches every feed from its peers"
start_node echigo
wait_ready echigo
firms=("${all[@]}")
wait_writable echigo
wait_converged "${firms[@]}"
show_digests "${firms[@]}"
# An obligation rather than a claim: the API's entry views (pending,
# entries) still decode stored entries against the genesis members only
# (node/api/src/views.cc), so a claim naming echigo is not listed yet.
k echigo owe asahi 8 hours --memo "forklift hire, one weekend" >/dev/null
step "echigo's first entry: it owes asahi 8 hours"

say "daisen rotates its key to the next key it committed to at the genesis"
# The next key comes out of offline storage for the rotation; the key after
# it is made now and goes back there.
k daisen rotate --next-key "$net/offline/daisen.next.key" | sed 's/^/   /'
k daisen owe chikuma 50 kg --memo "signed with the new key" >/dev/null
step "daisen owes chikuma 50 kg, signed with its new key"
say "restarting daisen: it comes back on its new key (its id is unchanged)"
kill -TERM "${pid[daisen]}"; wait "${pid[daisen]}"
ready_before=$(grep -c "keiretsud ready" "$net/daisen/keiretsud.log")
start_node daisen
wait_ready daisen "$ready_before"
wait_writable daisen
k daisen owe asahi 5 hours --memo "loading help, after the restart" >/dev/null
step "daisen owes asahi 5 hours, written after the restart"

say "waiting for all five nodes to hold the same ledger"
wait_converged "${firms[@]}"
show_digests "${firms[@]}"
step "members as asahi's node sees them (daisen's key rotated, echigo admitted in epoch 1):"
k asahi members | sed 's/^/   /'

say "the balance matrix, as each firm's own node reports it"
# Row firm's net position with the column firm: +N means the column firm owes
# the row firm N. Built from ListBalances of every firm at one node.
# Firms are matched by public key (a firm admitted since the genesis too).
declare -A pubkey
for f in "${firms[@]}"; do pubkey[$f]=$(k "$f" status --json | json_field '["firm"]["public_key"]'); done
matrix() {
  local f=$1
  for g in "${firms[@]}"; do k "$f" balances "${pubkey[$g]}" --json; done | /usr/bin/python3 -c '
import json, sys
firms = [a.split("=")[0] for a in sys.argv[1:]]
name = {a.split("=")[1]: a.split("=")[0] for a in sys.argv[1:]}
net = {}
for line in sys.stdin:
    for b in json.loads(line).get("balances", []):
        net[(b["unit"], name[b["firm"]["public_key"]], name[b["counterparty"]["public_key"]])] = int(b["net"])
for unit in sorted({u for u, _, _ in net}):
    print(f"[{unit}]".ljust(10) + "".join(g.rjust(9) for g in firms))
    for r in firms:
        print(r.ljust(10) + "".join(("-" if r == c else str(net.get((unit, r, c), 0))).rjust(9) for c in firms))
' $(for g in "${firms[@]}"; do echo "$g=${pubkey[$g]}"; done)
}
reference=$(matrix "${firms[0]}")
for f in "${firms[@]}"; do
  view=$(matrix "$f")
  if [ "$view" = "$reference" ]; then
    echo "   --- at $f's node"
  else
    echo "   --- at $f's node: DIFFERS from ${firms[0]}'s"; agree=no
  fi
  echo "$view" | sed 's/^/   /'
done
[ "${agree:-yes}" = yes ] || { echo "demo: the nodes disagree" >&2; exit 1; }
step "all five nodes report the same matrix"

# --- Clearing (docs/API.md "Clearing"): one cycle of debt set off with the
# consent of every firm on it; every net position stays what it was.
say "clearing: a cycle of debt set off, with every participant's consent"
k daisen owe biwa 20 hours --memo "night shift cover" >/dev/null
step "daisen records that it owes biwa 20 hours: biwa -> asahi -> daisen -> biwa is now a cycle"
# Each firm's net position per unit (what it is owed minus what it owes).
positions() {
  for g in "${firms[@]}"; do k "$1" balances "$g" --json; done | /usr/bin/python3 -c '
import json, sys
pos = {}
for line in sys.stdin:
    for b in json.loads(line).get("balances", []):
        key = (b["firm"].get("name") or b["firm"]["public_key"][:8], b["unit"])
        pos[key] = pos.get(key, 0) + int(b["net"])
for (f, u), v in sorted(pos.items()):
    if v: print(f"{f} {u} {v:+d}")
'
}
wait_same() { wait_converged "${firms[@]}"; }
wait_same
before_matrix=$(matrix asahi); before_positions=$(positions asahi)
echo "$before_matrix" | sed 's/^/   before  /'
k asahi clearing find | sed 's/^/   /'
clr=$(k asahi clearing propose --unit hours --found 1 --expires 1h --json | claim_id)
step "asahi proposes clearing ${clr:0:8}; it names every participant's feed head"
participants=$(k asahi clearing list --json | /usr/bin/python3 -c '
import json, sys
for c in json.load(sys.stdin)["clearings"]:
    if c["id"] == sys.argv[1]: print(" ".join(v["firm"]["name"] for v in c["votes"]))
' "$clr")
for f in $participants; do
  for _ in $(seq 1 200); do k "$f" clearing list --json | grep -q "$clr" && break; sleep 0.1; done
  k "$f" clearing vote "$clr" accept >/dev/null
  step "$f accepts"
done
wait_same
for _ in $(seq 1 100); do
  k asahi clearing list --state committed --json | grep -q "$clr" && break; sleep 0.1
done
k asahi clearing list | sed 's/^/   /'
after_matrix=$(matrix asahi); after_positions=$(positions asahi)
echo "$after_matrix" | sed 's/^/   after   /'
echo "$after_positions" | sed 's/^/   net position  /'
[ "$before_positions" = "$after_positions" ] || { echo "demo: clearing changed a net position" >&2; exit 1; }
[ "$before_matrix" != "$after_matrix" ] || { echo "demo: the clearing did not commit" >&2; exit 1; }
step "every firm's net position is unchanged; the debt around the cycle is gone"

say "an auditor's check of echigo's export: every signature, the key chains, the membership history"
# Sealed with a checkpoint signed by echigo's node: the audit also proves
# the export complete.
k echigo export --out "$net/echigo-export.bin" >/dev/null
"$KEIRETSU" audit "$net/echigo-export.bin" | sed 's/^/   /'

if [ "$keep" = 1 ]; then
  say "the network keeps running (pids: ${pid[*]})"
  echo "   talk to a node:   $KEIRETSU --config $net/asahi/keiretsud.toml status"
  echo "   stop it:          kill ${pid[*]}"
  echo "   logs:             $net/*/keiretsud.log"
  trap - EXIT
  exit 0
fi
say "stopping the network (SIGTERM: each node finishes in-flight writes and closes its store)"
for f in "${firms[@]}"; do kill -TERM "${pid[$f]}"; done
for f in "${firms[@]}"; do wait "${pid[$f]}" && step "$f stopped cleanly"; pid[$f]=""; done
say "done in $((SECONDS - start_time)) s after the build"
