#!/usr/bin/python3
"""A fork is logged and reaches Watch (issue: hardening, item 5).

Two firms a and b, each its own keiretsud. a's data directory is restored
from a backup and, with the restore rule overridden and no peer, a signs a
second entry at a seq it had already published: a fork. When a reconnects,
both nodes store the fork proof, and:

  - each logs it at warn level, naming the firm and the seq;
  - a Watch stream open on b receives a feed_stopped event (firm, seq,
    reason "fork", both entry ids);
  - both nodes agree (same digest, one fork in status).

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Daemon, Failure, Tools, check, fail_and_exit, free_port,  # noqa: E402
                     wait_lines)


def wait_until(what, predicate, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise Failure("timed out waiting until " + what)


class Pair:
    def __init__(self, tools, keiretsud, work):
        self.t, self.work = tools, work
        keys = {}
        for f in ("a", "b"):
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            keys[f] = out.strip()
        genesis = os.path.join(work, "genesis.toml")
        check(tools.cli("genesis", "--name", "fork-test", "--out", genesis,
                        "--member", "a=" + keys["a"], "--member", "b=" + keys["b"])[0] == 0,
              "genesis")
        peer = self.peer = {f: free_port() for f in ("a", "b")}
        self.config, self.daemons = {}, {}
        for f, dial in (("a", ["--peer", "b=127.0.0.1:%d" % peer["b"]]), ("b", [])):
            d = os.path.join(work, f)
            code, out, err = tools.cli(
                "init", "--firm", f, "--genesis", genesis, "--key", os.path.join(work, f + ".key"),
                "--dir", d, "--api-listen", "127.0.0.1:%d" % free_port(),
                "--peer-listen", "127.0.0.1:%d" % peer[f], *dial)
            check(code == 0, "init %s (%s)" % (f, err.strip()))
            self.config[f] = os.path.join(d, "keiretsud.toml")
            self.daemons[f] = Daemon(f, keiretsud, self.config[f], os.path.join(work, f + ".log"))
        self.data_a = os.path.join(work, "a", "data")

    def k(self, f, *args):
        return self.t.cli("--config", self.config[f], *args)

    def status(self, f):
        return self.t.cli_json("--config", self.config[f], "status")

    def head_of_a(self, f):
        for h in self.status(f).get("feeds", []):
            if h["firm"]["name"] == "a":
                return int(h.get("head_seq", 0))
        return 0


def run(p):
    p.daemons["b"].start()
    p.daemons["a"].start()
    wait_until("a writable", lambda: p.status("a").get("writable"))
    for i in range(3):
        check(p.k("a", "owe", "b", i + 1, "hours")[0] == 0, "a writes seq %d" % (i + 1))
    wait_until("b holds a's 3 entries", lambda: p.head_of_a("b") == 3)

    check(p.daemons["a"].stop() == 0, "a stops for a backup")
    backup = os.path.join(p.work, "backup")
    shutil.copytree(p.data_a, backup)
    p.daemons["a"].start()
    wait_until("a writable again", lambda: p.status("a").get("writable"))
    check(p.k("a", "owe", "b", 4, "hours")[0] == 0, "a writes seq 4 after the backup")
    wait_until("b holds a's seq 4", lambda: p.head_of_a("b") == 4)

    # The operator restores the backup and overrides the restore rule with no
    # peer configured, on another listener port (so b, which would dial a
    # back at its old one, cannot tell it its head first): a signs another
    # seq 4.
    check(p.daemons["a"].stop() == 0, "a stops to be restored")
    shutil.rmtree(p.data_a)
    shutil.copytree(backup, p.data_a)
    full = open(p.config["a"]).read()
    alone = full.split("[[peer.peers]]")[0].replace(
        "127.0.0.1:%d" % p.peer["a"], "127.0.0.1:%d" % free_port())
    check(alone != full.split("[[peer.peers]]")[0], "a's listener moved for the override")
    open(p.config["a"], "w").write(alone)
    p.daemons["a"].start()
    check(p.k("a", "owe", "b", 99, "hours")[0] == 0, "restored a, alone, signs a second seq 4")
    check(p.daemons["a"].stop() == 0, "a stops")

    # A Watch stream on b from the start of its log: the 4 entries of a it
    # replays show the stream is open before the fork meets b.
    watcher = p.t.popen_cli("--config", p.config["b"], "watch", "--json", "--cursor", "0",
                            "--count", "5", "--for", "60")
    replayed = [json.loads(watcher.stdout.readline()) for _ in range(4)]
    check(all("entry" in e for e in replayed), "b's Watch stream replayed a's 4 entries")
    open(p.config["a"], "w").write(full)
    p.daemons["a"].start()  # dials b: the two seq 4 meet

    events = wait_lines(watcher, 60)
    check(len(events) == 1 and "feed_stopped" in events[0],
          "b's Watch stream receives a feed_stopped event: %s" % events)
    stop = events[0]["feed_stopped"]
    check(stop["firm"]["name"] == "a" and stop["seq"] == "4" and stop["reason"] == "fork"
          and len(stop["entry_ids"]) == 2 and stop["entry_ids"][0] != stop["entry_ids"][1],
          "the event names firm a, seq 4, reason fork and both entry ids")
    for f in ("a", "b"):
        wait_until("%s logs the fork" % f, lambda: any(
            "warn" in l and "fork proof stored: firm a" in l and "seq 4" in l
            for l in p.daemons[f].lines))
        check(True, "%s logged the fork at warn level, naming firm a and seq 4" % f)
    wait_until("both nodes agree", lambda: p.status("a")["state_digest"]
               == p.status("b")["state_digest"])
    for f in ("a", "b"):
        check(p.status(f).get("forks") == 1, "%s reports one fork" % f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    args = ap.parse_args()
    tools = Tools(args.keiretsu, client=None, stubs=None)
    p = None
    with tempfile.TemporaryDirectory(prefix="keiretsu-fork-") as work:
        try:
            p = Pair(tools, args.keiretsud, work)
            run(p)
        except Failure as e:
            fail_and_exit(e, p.daemons.values() if p else [])
        finally:
            if p:
                for d in p.daemons.values():
                    d.kill()
    print("fork watch test passed")


if __name__ == "__main__":
    main()
