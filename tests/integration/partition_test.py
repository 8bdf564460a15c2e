#!/usr/bin/python3
"""A network partition between real keiretsud processes, each in its own
Linux network namespace (issue: slow partition detection). Must run as root
(CI does); needs `ip` (Debian iproute2).

Three firms, full mesh, namespaces joined by a bridge in a fourth namespace:

  1. the link of f2 is taken down (its bridge port): f2 is cut from f0 and
     f1 with packets silently dropped;
  2. every side notices within a generous bound (keepalive deadline and
     TCP_USER_TIMEOUT: seconds, not the minute of the old idle timeout);
  3. f0 and f2 write during the cut (acknowledged writes on both sides);
  4. the link comes back; all three nodes converge to one state digest
     holding every acknowledged entry, within a generous bound that the old
     redial backoff (tens of seconds) would miss. The measured times are
     printed.

Namespaces and processes are removed however the test ends.

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit  # noqa: E402

FIRMS = ["f0", "f1", "f2"]
PEER_PORT = 7700
API = "127.0.0.1:7701"  # inside each node's namespace
# Generous bounds: they catch the old behaviour (60 s to notice, 20-30 s
# to converge), not a slow machine.
NOTICE_BOUND_S = 15
CONVERGE_BOUND_S = 10


def ip(*args):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise Failure("ip %s: %s" % (" ".join(args), p.stderr.strip()))


class Namespaces:
    """One namespace per firm, each with eth0 on a bridge in a namespace of its own."""

    def __init__(self):
        tag = "kp%d" % (os.getpid() % 100000)
        self.bridge = tag + "br"
        self.ns = {f: "%s%s" % (tag, f) for f in FIRMS}
        self.addr = {f: "10.231.0.%d" % (i + 1) for i, f in enumerate(FIRMS)}
        self.made = []

    def create(self):
        for name in [self.bridge] + list(self.ns.values()):
            ip("netns", "add", name)
            self.made.append(name)
        ip("-n", self.bridge, "link", "add", "br0", "type", "bridge")
        ip("-n", self.bridge, "link", "set", "br0", "up")
        for f, ns in self.ns.items():
            port = "p" + f
            ip("-n", self.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("-n", self.bridge, "link", "set", port, "master", "br0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "addr", "add", self.addr[f] + "/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")

    def cut(self, f, down):
        ip("-n", self.bridge, "link", "set", "p" + f, "down" if down else "up")

    def remove(self):
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.made = []

    def prefix(self, f):
        return ["ip", "netns", "exec", self.ns[f]]


class Net:
    def __init__(self, tools, keiretsud, work, spaces):
        self.t, self.work, self.spaces = tools, work, spaces
        keys = {}
        for f in FIRMS:
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            keys[f] = out.strip()
        genesis = os.path.join(work, "genesis.toml")
        members = sum((["--member", "%s=%s" % (f, k)] for f, k in keys.items()), [])
        check(tools.cli("genesis", "--name", "partition-test", "--out", genesis, *members)[0] == 0,
              "genesis")
        self.config, self.daemons = {}, {}
        for i, f in enumerate(FIRMS):
            d = os.path.join(work, f)
            args = ["init", "--firm", f, "--genesis", genesis, "--key",
                    os.path.join(work, f + ".key"), "--dir", d, "--api-listen", API,
                    "--peer-listen", "%s:%d" % (spaces.addr[f], PEER_PORT)]
            for p in FIRMS[i + 1:]:  # full mesh, each pair dialled once
                args += ["--peer", "%s=%s:%d" % (p, spaces.addr[p], PEER_PORT)]
            code, out, err = tools.cli(*args)
            check(code == 0, "init %s (%s)" % (f, err.strip()))
            self.config[f] = os.path.join(d, "keiretsud.toml")
            self.daemons[f] = Daemon(f, keiretsud, self.config[f], os.path.join(work, f + ".log"),
                                     prefix=spaces.prefix(f))

    def cli(self, f, *args):
        """The CLI inside f's namespace, against f's node."""
        cmd = self.spaces.prefix(f) + [self.t.cli_bin, "--config", self.config[f]] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def status(self, f):
        import json
        code, out, err = self.cli(f, "status", "--json")
        if code != 0:
            raise Failure("status of %s failed: %s" % (f, err.strip()))
        return json.loads(out)

    def connected(self, f):
        """Names of the peers f's node reports connected."""
        return {p["firm"]["name"] for p in self.status(f).get("peers", []) if p.get("connected")}

    def heads(self, f):
        return {h["firm"]["name"]: int(h.get("head_seq", 0)) for h in self.status(f).get("feeds", [])}

    def write(self, f, to, n, when):
        for i in range(n):
            code, out, err = self.cli(f, "owe", to, i + 1, "hours")
            check(code == 0, "%s writes %s (%s)" % (f, when, err.strip()))


def wait_until(what, predicate, seconds):
    """Waits for `predicate`; returns the seconds it took."""
    start = time.time()
    while time.time() - start < seconds:
        if predicate():
            return time.time() - start
        time.sleep(0.1)
    raise Failure("not within %d s: %s" % (seconds, what))


def run(net, spaces):
    for f in FIRMS:
        net.daemons[f].start()
    wait_until("every node writable (both others reported its head)",
               lambda: all(net.status(f).get("writable") for f in FIRMS), 30)
    wait_until("full mesh", lambda: all(len(net.connected(f)) == 2 for f in FIRMS), 30)
    check(True, "three nodes in three namespaces, fully connected, writable")
    net.write("f0", "f1", 2, "before the cut")
    net.write("f2", "f0", 2, "before the cut")
    wait_until("equal digests before the cut",
               lambda: len({net.status(f)["state_digest"] for f in FIRMS}) == 1, 30)

    spaces.cut("f2", True)
    cut_at = time.time()
    noticed = wait_until(
        "both sides of the cut drop their sessions",
        lambda: "f2" not in net.connected("f0") and "f2" not in net.connected("f1")
        and not net.connected("f2"), NOTICE_BOUND_S)
    check(True, "the cut was noticed on every side after %.1f s (bound %d s)"
          % (noticed, NOTICE_BOUND_S))
    net.write("f0", "f1", 3, "during the cut")
    net.write("f2", "f1", 3, "during the cut")
    expected = {f: h for f, h in net.heads("f0").items()}
    expected["f2"] = net.heads("f2")["f2"]
    print("cut for %.1f s; acknowledged heads: %s" % (time.time() - cut_at, expected), flush=True)

    spaces.cut("f2", False)
    took = wait_until(
        "one digest on all three nodes after the heal",
        lambda: len({net.status(f)["state_digest"] for f in FIRMS}) == 1, CONVERGE_BOUND_S)
    check(True, "all nodes converged %.2f s after the partition healed (bound %d s)"
          % (took, CONVERGE_BOUND_S))
    for f in FIRMS:
        heads = net.heads(f)
        lost = {a: h for a, h in expected.items() if heads.get(a, 0) < h}
        check(not lost, "%s holds every acknowledged entry (heads %s)" % (f, heads))
        check(int(net.status(f).get("forks", 0)) == 0, "%s: no fork" % f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("FAILED: the partition test needs root (network namespaces); CI runs it as root",
              file=sys.stderr)
        sys.exit(1)
    tools = Tools(args.keiretsu, client=None, stubs=None)
    spaces = Namespaces()
    net = None
    with tempfile.TemporaryDirectory(prefix="keiretsu-partition-") as work:
        try:
            spaces.create()
            net = Net(tools, args.keiretsud, work, spaces)
            run(net, spaces)
        except (Failure, subprocess.TimeoutExpired) as e:
            fail_and_exit(e, net.daemons.values() if net else [])
        finally:
            if net:
                for d in net.daemons.values():
                    try:
                        d.stop(timeout=15)
                    except Failure:
                        d.kill()
            spaces.remove()
    print("partition test passed")


if __name__ == "__main__":
    main()
