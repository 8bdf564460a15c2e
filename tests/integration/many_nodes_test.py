#!/usr/bin/python3
"""Eight real keiretsud processes, sparsely peered (issue 15: many nodes).

The firms sit on a ring with two chords (1-5, 3-7): each node has sessions
with two or three of the seven others, so most entries reach most nodes
only through relays. The restore rule is off on every node (it waits for
reports from a majority of the other members, which a sparse node never
has directly; fresh data directories cannot have lost entries).

  1. every node connects to exactly its neighbours in the graph;
  2. entries written at three nodes converge: every node holds all of them
     and the eight state digests are equal;
  3. a write at one node reaches the node farthest from it (three hops, no
     session with the writer), which relays' counters show were sent on;
  4. every node stops cleanly on SIGTERM.

Every wait is on a condition with a bounded deadline; every process started
is stopped (killed on failure). Prints 'ok:' lines, exits non-zero on the
first failure.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit, free_port  # noqa: E402

N = 8
FIRMS = ["m%d" % i for i in range(N)]
# (dialler, listener): the ring, then two chords.
EDGES = [(i, (i + 1) % N) for i in range(N)] + [(1, 5), (3, 7)]


def wait_until(what, predicate, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.1)  # the polling interval, not a synchronisation
    raise Failure("timed out after %ss waiting until %s" % (seconds, what))


def neighbours(i):
    return {b for a, b in EDGES if a == i} | {a for a, b in EDGES if b == i}


def hops_from(origin):
    dist, frontier = {origin: 0}, [origin]
    while frontier:
        nxt = []
        for u in frontier:
            for v in neighbours(u):
                if v not in dist:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        frontier = nxt
    return dist


class Net:
    def __init__(self, tools, keiretsud, work):
        self.t, self.keiretsud, self.work = tools, keiretsud, work
        self.pk = {}
        for f in FIRMS:
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            self.pk[f] = out.strip()
        self.genesis = os.path.join(work, "genesis.toml")
        members = sum((["--member", "%s=%s" % (f, self.pk[f])] for f in FIRMS), [])
        check(tools.cli("genesis", "--name", "many-test", "--out", self.genesis, *members)[0] == 0,
              "genesis of %d members" % N)
        self.peer_port = {f: free_port() for f in FIRMS}
        self.config, self.daemons = {}, {}
        for i, f in enumerate(FIRMS):
            self.init(f, [FIRMS[b] for a, b in EDGES if a == i])

    def init(self, f, peers):
        d = os.path.join(self.work, f)
        args = ["init", "--firm", f, "--genesis", self.genesis, "--key",
                os.path.join(self.work, f + ".key"), "--dir", d,
                "--api-listen", "127.0.0.1:%d" % free_port(),
                "--peer-listen", "127.0.0.1:%d" % self.peer_port[f]]
        for p in peers:
            args += ["--peer", "%s=127.0.0.1:%d" % (p, self.peer_port[p])]
        code, out, err = self.t.cli(*args)
        check(code == 0, "init %s dialling %s (%s)" % (f, ",".join(peers) or "nobody",
                                                      err.strip()))
        config = os.path.join(d, "keiretsud.toml")
        with open(config) as c:
            text = c.read()
        check(text.count("[peer]\n") == 1, "%s's config has one [peer] table" % f)
        with open(config, "w") as c:
            c.write(text.replace("[peer]\n", "[peer]\nrequire_peer_before_write = false\n"))
        self.config[f] = config

    def start(self, f):
        d = Daemon(f, self.keiretsud, self.config[f], os.path.join(self.work, f + ".log"))
        self.daemons[f] = d
        d.start()

    def status(self, f):
        return self.t.cli_json("--config", self.config[f], "status")

    def connected(self, f):
        """Public keys of the firms f's node has a live session with."""
        return {p["firm"]["public_key"] for p in self.status(f).get("peers", [])
                if p.get("connected")}

    def head(self, f, of):
        """How far f's node holds `of`'s feed (0: none of it)."""
        for feed in self.status(f).get("feeds", []):
            if feed["firm"]["public_key"] == self.pk[of]:
                return int(feed.get("head_seq", 0))
        return 0

    def owe(self, f, creditor, amount):
        return self.t.cli_json("--config", self.config[f], "owe", creditor, amount, "hours")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="keiretsu-many-")
    tools = Tools(args.keiretsu, None, None)
    net = None
    try:
        net = Net(tools, args.keiretsud, work)
        for f in FIRMS:
            net.start(f)
        check(True, "%d nodes started" % N)

        # 1. Sessions follow the graph exactly.
        want = {f: {net.pk[FIRMS[j]] for j in neighbours(i)} for i, f in enumerate(FIRMS)}
        wait_until("every node has a session with each of its neighbours and no other",
                   lambda: all(net.connected(f) == want[f] for f in FIRMS), 60)
        check(True, "sessions follow the graph: degrees %s"
              % [len(neighbours(i)) for i in range(N)])

        # 2. Entries at three nodes converge everywhere.
        writers = ["m1", "m3", "m6"]
        per_writer = 3
        for r in range(per_writer):
            for w in writers:
                net.owe(w, FIRMS[(FIRMS.index(w) + 4) % N], 10 + r)
        total = len(writers) * per_writer

        def held(f):
            return sum(int(x.get("head_seq", 0)) for x in net.status(f).get("feeds", []))

        wait_until("every node holds all %d entries" % total,
                   lambda: all(held(f) == total for f in FIRMS), 60)
        digests = {net.status(f)["state_digest"] for f in FIRMS}
        check(len(digests) == 1, "after writes at %s all %d nodes hold %d entries and one digest"
              % (",".join(writers), N, total))

        # 3. A write at m0 reaches the node farthest from it.
        dist = hops_from(0)
        far = max(range(N), key=lambda i: dist[i])
        check(dist[far] >= 3 and net.pk["m0"] not in net.connected(FIRMS[far]),
              "m%d is %d hops from m0 and has no session with it" % (far, dist[far]))
        before = net.head(FIRMS[far], "m0")
        entry = net.owe("m0", "m1", 77)["entry"]
        seq = int(entry["seq"])
        check(seq == before + 1, "m0 writes its entry %d" % seq)
        wait_until("m0's entry %d reaches m%d" % (seq, far),
                   lambda: net.head(FIRMS[far], "m0") == seq, 30)
        check(True, "m0's entry %d reached m%d, %d hops away" % (seq, far, dist[far]))
        wait_until("all digests equal again",
                   lambda: len({net.status(f)["state_digest"] for f in FIRMS}) == 1, 30)
        check(True, "one digest on all %d nodes after the last write" % N)

        # 4. Clean stops.
        for f in FIRMS:
            code = net.daemons[f].stop()
            check(code == 0, "%s stops cleanly on SIGTERM (exit %s)" % (f, code))
    except (Failure, OSError, KeyError, ValueError) as e:
        fail_and_exit(e, net.daemons.values() if net else [])
    finally:
        if net:
            for d in net.daemons.values():
                d.kill()
    shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
