#!/usr/bin/python3
"""Replication between real keiretsud processes on loopback (issue: peer-to-
peer replication). Five firms, each its own daemon, each dialling the next two:

  1. every firm writes concurrently through the CLI (obligations, claims,
     accepts, releases); all five nodes reach the same state digest, and an
     audit of one node's export (which recomputes every balance from the
     signed entries) agrees with every node's live digest and balances;
  2. a node stopped while the others write, restarted dialling one peer,
     catches up;
  3. a node restored from an older copy of its data directory keeps writes
     closed until it has learned its own feed's head from a peer, then
     appends at the right seq: no node ever holds a fork.

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit, free_port  # noqa: E402

FIRMS = ["f0", "f1", "f2", "f3", "f4"]


def wait_until(what, predicate, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise Failure("timed out waiting until " + what)


class Net:
    def __init__(self, tools, keiretsud, work):
        self.t, self.keiretsud, self.work = tools, keiretsud, work
        keys = {}
        for f in FIRMS:
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            keys[f] = out.strip()
        self.genesis = os.path.join(work, "genesis.toml")
        members = sum((["--member", "%s=%s" % (f, k)] for f, k in keys.items()), [])
        check(tools.cli("genesis", "--name", "repl-test", "--out", self.genesis, *members)[0] == 0,
              "genesis")
        self.peer_port = {f: free_port() for f in FIRMS}
        self.config, self.daemons = {}, {}
        for i, f in enumerate(FIRMS):
            # Each dials the next two: every pair of the five is linked, so
            # each node has sessions with all four others, as the restore
            # rule needs a majority (three) of them to report.
            ring = [FIRMS[(i + 1) % len(FIRMS)], FIRMS[(i + 2) % len(FIRMS)]]
            self.init(f, ring)

    def init(self, f, peers, dirname=None):
        d = os.path.join(self.work, dirname or f)
        args = ["init", "--firm", f, "--genesis", self.genesis, "--key",
                os.path.join(self.work, f + ".key"), "--dir", d,
                "--api-listen", "127.0.0.1:%d" % free_port(),
                "--peer-listen", "127.0.0.1:%d" % self.peer_port[f]]
        for p in peers:
            args += ["--peer", "%s=127.0.0.1:%d" % (p, self.peer_port[p])]
        code, out, err = self.t.cli(*args)
        check(code == 0, "init %s (%s)" % (f, err.strip()))
        self.config[f] = os.path.join(d, "keiretsud.toml")

    def start(self, f):
        d = Daemon(f, self.keiretsud, self.config[f], os.path.join(self.work, f + ".log"))
        d.start()
        self.daemons[f] = d

    def k(self, f, *args):
        return self.t.cli("--config", self.config[f], *args)

    def status(self, f):
        return self.t.cli_json("--config", self.config[f], "status")

    def digest(self, f):
        return self.status(f)["state_digest"]

    def writable(self, f):
        return self.status(f).get("writable", False)

    def same_digest(self, firms):
        return len({self.digest(f) for f in firms}) == 1


def concurrent_writes(net, firms, rounds):
    """Each firm runs a shell loop of CLI writes, all firms at once."""
    procs = []
    for i, f in enumerate(firms):
        other = firms[(i + 1) % len(firms)]
        third = firms[(i + 2) % len(firms)]
        script = []
        for r in range(rounds):
            script.append("keiretsu owe %s %d hours --memo 'round %d'" % (other, r + 1, r))
            script.append("keiretsu claim %s %d kg" % (third, 10 * (r + 1)))
            if r % 3 == 2:
                script.append("keiretsu release %s 1 hours" % third)
        cmd = " && ".join("%s --config %s %s" % (net.t.cli_bin, net.config[f], s[len("keiretsu "):])
                          for s in script)
        procs.append(subprocess.Popen(["bash", "-c", "{ " + cmd + "; } >/dev/null"],
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=240)
        if p.returncode != 0:
            raise Failure("concurrent writer failed: " + err)


def accept_everything(net, firms):
    for f in firms:
        pending = net.t.cli_json("--config", net.config[f], "pending").get("claims", [])
        for c in pending:
            code, _, err = net.k(f, "accept", c["id"])
            check(code == 0, "%s accepts claim %s (%s)" % (f, c["id"][:8], err.strip()))


def audit_against_all(net, audit_bin, firms):
    export = os.path.join(net.work, "export.bin")
    if os.path.exists(export):
        os.remove(export)
    code, out, err = net.k(firms[0], "export", "--out", export)
    check(code == 0, "export from %s (%s)" % (firms[0], err.strip()))
    for f in firms:
        st = net.status(f)
        token = None
        for line in open(net.config[f]):
            if line.strip().startswith("token"):
                token = line.split("=", 1)[1].strip().strip('"')
                break
        addr = net.daemons[f].address
        p = subprocess.run([audit_bin, export, "--against", addr, "--token", token, "-q"],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0,
              "audit of the export (balances recomputed from signed entries) agrees with %s's "
              "live digest %s and balances (exit %d)%s" % (
                  f, st["state_digest"][:12], p.returncode,
                  "" if p.returncode == 0 else "\n" + p.stdout[-2000:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    ap.add_argument("--audit", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="keiretsu-repl-")
    tools = Tools(args.keiretsu, None, None)
    net = None
    try:
        net = Net(tools, args.keiretsud, work)
        for f in FIRMS:
            net.start(f)
        wait_until("every node is writable", lambda: all(net.writable(f) for f in FIRMS))
        check(True, "five nodes up, each writable after learning its head from a peer")

        # 1. Concurrent writers, then convergence and the audit.
        concurrent_writes(net, FIRMS, rounds=6)
        wait_until("claims replicate", lambda: net.same_digest(FIRMS))
        accept_everything(net, FIRMS)
        wait_until("all five digests are equal", lambda: net.same_digest(FIRMS), 90)
        check(True, "all five nodes hold the same state digest %s" % net.digest(FIRMS[0])[:16])
        audit_against_all(net, args.audit, FIRMS)

        # 2. f4 stops; the others write; f4 restarts dialling f0 only (f2 and
        #    f3 dial it too).
        check(net.daemons["f4"].stop() == 0, "f4 stops cleanly (SIGTERM)")
        concurrent_writes(net, FIRMS[:4], rounds=3)
        live = FIRMS[:4]
        wait_until("the four live nodes agree", lambda: net.same_digest(live), 90)
        shutil.copyfile(net.config["f4"], net.config["f4"] + ".ring")
        lines = open(net.config["f4"]).read()
        # Keep only the peer f0 (drop every other [[peer.peers]] table).
        blocks = lines.split("[[peer.peers]]")
        kept = [b for b in blocks[1:] if '"f0"' in b]
        open(net.config["f4"], "w").write(blocks[0] + "".join("[[peer.peers]]" + b for b in kept))
        net.start("f4")
        wait_until("f4 catches up after its downtime",
                   lambda: net.digest("f4") == net.digest("f0"), 90)
        check(True, "restarted f4 caught up to digest %s"
              % net.digest("f4")[:16])

        # 3. Restore: f2's data dir copied, f2 writes on, then is restored.
        check(net.daemons["f2"].stop() == 0, "f2 stops for a backup")
        backup = os.path.join(work, "f2-backup")
        shutil.copytree(os.path.join(work, "f2"), backup)
        net.start("f2")
        wait_until("f2 writable again", lambda: net.writable("f2"))
        for n in range(3):
            check(net.k("f2", "owe", "f0", n + 1, "hours")[0] == 0, "f2 writes after the backup")
        head_before = max(int(x["head_seq"]) for x in net.status("f2")["feeds"]
                          if x["firm"]["name"] == "f2")
        wait_until("f2's writes reach f1 and f3",
                   lambda: net.same_digest(["f1", "f2", "f3"]), 60)
        check(net.daemons["f2"].stop() == 0, "f2 stops to be restored")
        shutil.rmtree(os.path.join(work, "f2"))
        shutil.copytree(backup, os.path.join(work, "f2"))
        net.start("f2")
        wait_until("restored f2 learns its head and reopens writes", lambda: net.writable("f2"), 60)
        code, out, err = net.k("f2", "owe", "f1", 7, "hours", "--json")
        check(code == 0, "restored f2 writes (%s)" % err.strip())
        import json
        seq = int(json.loads(out)["entry"]["seq"])
        check(seq == head_before + 1,
              "restored f2 appended at seq %d, right after its real head %d" % (seq, head_before))
        wait_until("all nodes agree after the restore", lambda: net.same_digest(FIRMS), 90)
        for f in FIRMS:
            check(net.status(f).get("forks", 0) == 0, "%s holds no fork" % f)
        audit_against_all(net, args.audit, FIRMS)
        for f in FIRMS:
            check(net.daemons[f].stop() == 0, "%s stops cleanly" % f)
    except Failure as e:
        fail_and_exit(e, list(net.daemons.values()) if net else [])
    finally:
        if net:
            for d in net.daemons.values():
                d.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("replication test passed")


if __name__ == "__main__":
    main()
