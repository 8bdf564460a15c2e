#!/usr/bin/python3
"""Governance between real keiretsud processes (protocol v2, issue 11), driven
through the `keiretsu` CLI. Five founders on a version-2 genesis (threshold 3),
each dialling the next two:

  1. the members admit a sixth firm by vote; its node, started before the
     vote and refused until then, connects and catches up (same digest), and
     its entries count;
  2. one member is removed at a named last seq: its entry above that seq,
     counted before the vote, counts nowhere once the removal passes; its
     sessions end on both sides, and its node refuses new writes;
  3. a member rotates its key while a peer is offline; that peer, back
     online, authenticates the member under its new key (a live session with
     it) and holds the same digest as everyone;
  4. an audit of an export reports the membership history.

Every wait is on a condition with a bounded deadline; every process started
is stopped. Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit, free_port  # noqa: E402

FOUNDERS = ["f0", "f1", "f2", "f3", "f4"]
NEWCOMER = "f5"


def wait_until(what, predicate, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)  # the polling interval, not a synchronisation
    raise Failure("timed out after %ss waiting until %s" % (seconds, what))


class Net:
    def __init__(self, tools, keiretsud, work):
        self.t, self.keiretsud, self.work = tools, keiretsud, work
        self.offline = os.path.join(work, "offline")  # next keys: never on a node
        os.makedirs(self.offline)
        self.pk, self.next_digest = {}, {}
        for f in FOUNDERS + [NEWCOMER]:
            self.make_keys(f)
        self.genesis = os.path.join(work, "genesis.toml")
        members = sum((["--member", "%s=%s:%s" % (f, self.pk[f], self.next_digest[f])]
                       for f in FOUNDERS), [])
        code, out, err = tools.cli("genesis", "--name", "gov-test", "--threshold", 3,
                                   "--out", self.genesis, *members)
        check(code == 0, "version-2 genesis of five, threshold 3 (%s)" % err.strip())
        self.peer_port = {f: free_port() for f in FOUNDERS + [NEWCOMER]}
        self.config, self.daemons = {}, {}
        for i, f in enumerate(FOUNDERS):
            self.init(f, [FOUNDERS[(i + 1) % 5], FOUNDERS[(i + 2) % 5]])
        self.init(NEWCOMER, ["f0", "f1", "f2"], joining=True)

    def make_keys(self, f):
        code, out, err = self.t.cli("keygen", "--out", os.path.join(self.work, f + ".key"))
        check(code == 0, "keygen " + f)
        self.pk[f] = out.strip()
        code, out, err = self.t.cli("keygen", "--next", self.next_key_file(f))
        check(code == 0 and len(out.strip()) == 64, "keygen --next %s: its digest" % f)
        self.next_digest[f] = out.strip()

    def next_key_file(self, f):
        return os.path.join(self.offline, f + ".next.key")

    def init(self, f, peers, joining=False):
        d = os.path.join(self.work, f)
        args = ["init", "--firm", f, "--genesis", self.genesis, "--key",
                os.path.join(self.work, f + ".key"), "--dir", d,
                "--api-listen", "127.0.0.1:%d" % free_port(),
                "--peer-listen", "127.0.0.1:%d" % self.peer_port[f]]
        if joining:
            args += ["--joining", "--next-digest", self.next_digest[f]]
        for p in peers:
            args += ["--peer", "%s=127.0.0.1:%d" % (p, self.peer_port[p])]
        code, out, err = self.t.cli(*args)
        check(code == 0, "init %s%s (%s)" % (f, " --joining" if joining else "", err.strip()))
        if joining:
            check("keiretsu propose admit %s --key %s --next-digest %s"
                  % (f, self.pk[f], self.next_digest[f]) in out,
                  "init --joining prints the admission command for the members")
        self.config[f] = os.path.join(d, "keiretsud.toml")

    def start(self, f):
        d = Daemon(f, self.keiretsud, self.config[f], os.path.join(self.work, f + ".log"))
        self.daemons[f] = d
        d.start()

    def k(self, f, *args):
        return self.t.cli("--config", self.config[f], *args)

    def kj(self, f, *args):
        return self.t.cli_json("--config", self.config[f], *args)

    def status(self, f):
        return self.kj(f, "status")

    def digest(self, f):
        return self.status(f)["state_digest"]

    def same_digest(self, firms):
        return len({self.digest(f) for f in firms}) == 1

    def writable(self, f):
        return self.status(f).get("writable", False)

    def connected_to(self, f, other):
        """True when f's node has a live (authenticated) session with other."""
        return any(p.get("connected") and p["firm"]["public_key"] == self.pk[other]
                   for p in self.status(f).get("peers", []))

    def member_status(self, f, of):
        """`of`'s status in f's node's ListMembers ("" when not listed)."""
        for m in self.kj(f, "members").get("members", []):
            if m["firm"]["public_key"] == self.pk[of]:
                return m
        return {}

    def proposal(self, f, pid):
        for p in self.kj(f, "proposals").get("proposals", []):
            if p["id"] == pid:
                return p
        return None

    def write(self, f, *args):
        code, out, err = self.k(f, *(list(args) + ["--json"]))
        if code != 0:
            raise Failure("%s: keiretsu %s failed (%d): %s" % (f, " ".join(map(str, args)),
                                                              code, err))
        return json.loads(out)["entry"]

    def balance(self, f, firm, counterparty, unit):
        return int(self.kj(f, "balance", firm, counterparty, unit)["net"])


def pass_proposal(net, proposer, voters, everyone, propose_args, what):
    """proposer proposes; voters vote in turn; waits until it passed on every node."""
    entry = net.write(proposer, "propose", *propose_args)
    pid = entry["id"]
    check(len(pid) == 64, "%s proposes to %s (proposal %s)" % (proposer, what, pid[:8]))
    for i, v in enumerate(voters):
        wait_until("%s holds proposal %s" % (v, pid[:8]), lambda: net.proposal(v, pid), 60)
        if i == len(voters) - 1:
            p = net.proposal(v, pid)
            check(p["state"] == "pending" and int(p["votes"]) == i,
                  "before the last vote the proposal is pending with %d votes on %s" % (i, v))
        net.write(v, "vote", pid, "--yes")
    for f in everyone:
        wait_until("proposal %s passed on %s" % (pid[:8], f),
                   lambda: (net.proposal(f, pid) or {}).get("state") == "passed", 60)
    check(True, "%s passed on every node with %d votes" % (what, len(voters)))
    return pid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="keiretsu-gov-")
    tools = Tools(args.keiretsu, None, None)
    net = None
    try:
        net = Net(tools, args.keiretsud, work)
        for f in FOUNDERS:
            net.start(f)
        wait_until("every founder is writable", lambda: all(net.writable(f) for f in FOUNDERS))
        check(True, "five founders up and writable")
        c = net.write("f0", "claim", "f1", 40, "hours")
        wait_until("the claim reaches f1", lambda: any(
            x["id"] == c["id"] for x in net.kj("f1", "pending").get("claims", [])))
        net.write("f1", "accept", c["id"])
        net.write("f2", "owe", "f3", 12, "kg")

        # 1. Admission of a sixth firm. Its node starts first: not a member
        #    yet, the members refuse it.
        net.start(NEWCOMER)
        refusal = "peer key %s is not the key in force of any member" % net.pk[NEWCOMER][:8]
        wait_until("a member refuses the newcomer's handshake",
                   lambda: any(refusal in l for l in net.daemons["f0"].lines), 30)
        check(not any(net.connected_to(NEWCOMER, f) for f in FOUNDERS),
              "before its admission the members refuse the newcomer's node: no session")
        check(net.member_status("f0", NEWCOMER) == {}, "the newcomer is not a member yet")
        pass_proposal(net, "f0", ["f0", "f1", "f2"], FOUNDERS,
                      ["admit", NEWCOMER, "--key", net.pk[NEWCOMER], "--next-digest",
                       net.next_digest[NEWCOMER], "--threshold", 4, "--memo", "joins the pool"],
                      "admit " + NEWCOMER)
        for f in FOUNDERS:
            m = net.member_status(f, NEWCOMER)
            check(m.get("status") == "active" and int(m.get("since_epoch", 0)) == 1,
                  "%s lists %s active since epoch 1" % (f, NEWCOMER))
            check(int(net.kj(f, "members")["threshold"]) == 4,
                  "%s: the threshold of epoch 1 is 4 of 6" % f)
        everyone = FOUNDERS + [NEWCOMER]
        wait_until("the newcomer connects to a member",
                   lambda: any(net.connected_to(NEWCOMER, f) for f in ["f0", "f1", "f2"]), 60)
        wait_until("the newcomer catches up (same digest as the members)",
                   lambda: net.same_digest(everyone), 90)
        check(True, "the admitted newcomer caught up: digest %s on all six"
              % net.digest("f0")[:16])
        wait_until("the newcomer is writable", lambda: net.writable(NEWCOMER), 60)
        net.write(NEWCOMER, "owe", "f0", 5, "hours")
        wait_until("the newcomer's entry counts on every node",
                   lambda: all(net.balance(f, "f0", NEWCOMER, "hours") == 5 for f in everyone),
                   60)
        check(True, "the newcomer's obligation counts on every node")

        # 2. Removal of f4, frozen at seq 1: its entry at seq 2, written and
        #    counted before the vote, counts nowhere once the removal passes.
        net.write("f4", "owe", "f0", 7, "hours")
        last_seq = 1
        net.write("f4", "owe", "f0", 1000, "hours")
        wait_until("f4's two obligations count everywhere",
                   lambda: all(net.balance(f, "f0", "f4", "hours") == 1007 for f in everyone), 60)
        check(True, "before its removal f4's entries 1 and 2 count: f0's balance with f4 is 1007")
        remaining = ["f0", "f1", "f2", "f3", NEWCOMER]
        # Six members, threshold 4 since the admission: four votes.
        pass_proposal(net, "f1", ["f1", "f2", NEWCOMER, "f0"], remaining,
                      ["remove", "f4", "--last-seq", last_seq, "--memo", "leaves the pool"],
                      "remove f4 at seq %d" % last_seq)
        for f in remaining:
            check(net.balance(f, "f0", "f4", "hours") == 7,
                  "%s: f4's entry above its last seq counts nowhere (balance 7, not 1007)" % f)
        for f in remaining:
            m = net.member_status(f, "f4")
            check(m.get("status") == "removed" and int(m.get("last_seq", -1)) == last_seq,
                  "%s lists f4 removed, counting to seq %d" % (f, last_seq))
        wait_until("every session with f4 ends",
                   lambda: not any(net.connected_to(f, "f4") or net.connected_to("f4", f)
                                   for f in remaining), 60)
        check(True, "no member has a session with the removed f4, nor f4 with any")
        digest_before = net.digest("f0")
        code, out, err = net.k("f4", "owe", "f0", 50, "hours")
        check(code == 4 and "removed" in err,
              "the removed f4's node refuses a new write (exit %d: %s)" % (code, err.strip()))
        check(net.balance("f0", "f0", "f4", "hours") == 7 and net.digest("f0") == digest_before,
              "nothing changed on f0")
        wait_until("the remaining members agree", lambda: net.same_digest(remaining), 60)

        # 3. f1 rotates its key while f3 is offline.
        check(net.daemons["f3"].stop() == 0, "f3 stops (SIGTERM)")
        online = ["f0", "f1", "f2", NEWCOMER]
        code, out, err = net.k("f1", "rotate", "--next-key", net.next_key_file("f1"), "--json")
        check(code == 0, "f1 rotates to its pre-committed next key (%s)" % err.strip())
        rotated = json.loads(out)
        new_key = rotated["new_key"]
        check(os.path.exists(rotated["after_key_file"]),
              "the key after it was written to %s" % rotated["after_key_file"])
        net.write("f1", "owe", "f2", 3, "kg")
        wait_until("the online nodes agree after the rotation",
                   lambda: net.same_digest(online), 60)
        for f in online:
            m = net.member_status(f, "f1")
            check(m.get("current_key") == new_key,
                  "%s holds f1's new key %s in force" % (f, new_key[:8]))
        net.start("f3")
        wait_until("f3 authenticates f1 under its new key (a live session)",
                   lambda: net.connected_to("f3", "f1"), 60)
        wait_until("f3 catches up", lambda: net.same_digest(remaining), 90)
        check(net.member_status("f3", "f1").get("current_key") == new_key,
              "f3 learned f1's rotation: its key in force is the new key")
        check(net.balance("f3", "f2", "f1", "kg") == 3,
              "f1's entry signed with its new key counts on f3")
        check(True, "same digest %s on all five members" % net.digest("f0")[:16])

        # 4. The audit of an export reports the membership history.
        export = os.path.join(work, "final-export.bin")
        # Exported by the admitted newcomer, sealed with its checkpoint.
        code, out, err = net.k(NEWCOMER, "export", "--out", export)
        check(code == 0 and "1 checkpoint" in err,
              "sealed export from the admitted %s (%s)" % (NEWCOMER, err.strip()))
        code, out, err = tools.cli("audit", export)
        check(code == 0, "audit of the export is clean (exit %d: %s)" % (code, err.strip()))
        for change in ["admit " + NEWCOMER, "remove f4"]:
            check(change in out, "the audit's membership history has '%s'" % change)
        code, out, err = tools.cli("audit", export, "--json")
        check(code == 0 and "epoch" in out, "the audit's JSON report carries the epochs")

        for f in list(net.daemons):
            check(net.daemons[f].stop() == 0, "%s stops cleanly" % f)
    except Failure as e:
        fail_and_exit(e, list(net.daemons.values()) if net else [])
    finally:
        if net:
            for d in net.daemons.values():
                d.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("governance test passed")


if __name__ == "__main__":
    main()
