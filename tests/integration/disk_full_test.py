#!/usr/bin/python3
"""A full disk under a real keiretsud (issue 10, item 1). Needs root: it
mounts a small tmpfs, which it always unmounts.

Two firms peer with each other; f0's whole directory (config, data) lives on
a 64 MiB tmpfs with a free-space reserve of 8 MiB, f1's on the ordinary disk.

  1. f0 and f1 write; every acknowledged entry is remembered.
  2. A file fills f0's tmpfs to the last byte. f0's writes are refused with
     RESOURCE_EXHAUSTED naming the data directory and the free space; its
     status says writable: false and why; reads go on; the node stays up.
  3. f1 writes meanwhile: f0's ingest pauses, its session with f1 stays up
     (no reconnect loop) and nothing is counted against f1.
  4. The file is removed: f0 becomes writable by itself, catches up with
     f1's entries and writes again.
  5. The disk is filled again and f0 restarted on it: it comes up (read-
     only), serves reads, says writable: false; freed, it writes again.
  6. Every acknowledged entry is on both nodes, their digests are equal and
     an audit of the export agrees with both.

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit, free_port  # noqa: E402

TMPFS_MIB = 64
RESERVE_MIB = 8


def wait_until(what, predicate, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise Failure("timed out after %ss waiting until %s" % (seconds, what))


def fill(path):
    """Writes `path` until the filesystem has no byte left."""
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # The last partial megabyte, byte by byte in smaller pieces.
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            while True:
                try:
                    f.write(b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    st = os.statvfs(os.path.dirname(path))
    return st.f_bavail * st.f_frsize


class Pair:
    def __init__(self, tools, keiretsud, work, mount):
        self.t, self.keiretsud, self.work, self.mount = tools, keiretsud, work, mount
        keys = {}
        for f in ("f0", "f1"):
            code, out, _ = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            keys[f] = out.strip()
        self.genesis = os.path.join(work, "genesis.toml")
        check(tools.cli("genesis", "--name", "disk-full", "--out", self.genesis,
                        "--member", "f0=" + keys["f0"], "--member", "f1=" + keys["f1"])[0] == 0,
              "genesis")
        self.port = {f: free_port() for f in ("f0", "f1")}
        self.dirs = {"f0": os.path.join(mount, "f0"), "f1": os.path.join(work, "f1")}
        self.config, self.daemons = {}, {}
        for f, other in (("f0", "f1"), ("f1", "f0")):
            code, _, err = tools.cli(
                "init", "--firm", f, "--genesis", self.genesis, "--key",
                os.path.join(work, f + ".key"), "--dir", self.dirs[f],
                "--api-listen", "127.0.0.1:%d" % free_port(),
                "--peer-listen", "127.0.0.1:%d" % self.port[f],
                "--peer", "%s=127.0.0.1:%d" % (other, self.port[other]))
            check(code == 0, "init %s (%s)" % (f, err.strip()))
            self.config[f] = os.path.join(self.dirs[f], "keiretsud.toml")
        with open(self.config["f0"], "a") as c:
            c.write("\n[storage]\nfree_space_reserve_mib = %d\n" % RESERVE_MIB)
        self.acked = {"f0": [], "f1": []}

    def start(self, f):
        d = Daemon(f, self.keiretsud, self.config[f], os.path.join(self.work, f + ".log"))
        d.start()
        self.daemons[f] = d

    def k(self, f, *args):
        return self.t.cli("--config", self.config[f], *args)

    def status(self, f):
        return self.t.cli_json("--config", self.config[f], "status")

    def write(self, f, n, creditor):
        """An obligation through the CLI; remembers its id when acknowledged."""
        code, out, err = self.k(f, "owe", creditor, n, "hours", "--json")
        if code == 0:
            self.acked[f].append(json.loads(out)["entry"]["id"])
        return code, out, err

    def f0_sessions(self):
        """Lines of f0's log about sessions with f1 starting or ending."""
        return [l for l in self.daemons["f0"].lines
                if "local storage failure" in l or ("f1" in l and ("session" in l or
                                                                    "connected" in l))]

    def peer(self, f, name):
        for p in self.status(f).get("peers", []):
            if p["firm"]["name"] == name:
                return p
        return {}


def refused_for_space(pair, what):
    code, _, err = pair.write("f0", 1, "f1")
    check(code != 0 and "(RESOURCE_EXHAUSTED)" in err and pair.dirs["f0"] in err
          and "free" in err,
          "%s: f0's write is refused with RESOURCE_EXHAUSTED naming %s and the free space: %s"
          % (what, pair.dirs["f0"], err.strip()))


def reads_work(pair, f, what):
    st = pair.status(f)
    check(not st["writable"] and "disk" in st["write_block_reason"],
          "%s: status says writable: false because %r" % (what, st["write_block_reason"]))
    code, out, err = pair.k(f, "balance", "f0", "f1", "hours", "--json")
    check(code == 0, "%s: f0 still answers balance queries (%s)" % (what, err.strip()))
    for entry_id in pair.acked["f0"]:
        code, _, err = pair.k(f, "entry", entry_id)
        if code != 0:
            raise Failure("%s: acknowledged entry %s cannot be read: %s" % (what, entry_id, err))
    check(True, "%s: all %d acknowledged entries of f0 are readable" % (what, len(pair.acked["f0"])))


def run(pair, audit):
    pair.start("f1")
    pair.start("f0")
    wait_until("both nodes are writable",
               lambda: pair.status("f0")["writable"] and pair.status("f1")["writable"])
    for n in range(1, 6):
        check(pair.write("f0", n, "f1")[0] == 0, "f0 writes obligation %d" % n)
        check(pair.write("f1", n, "f0")[0] == 0, "f1 writes obligation %d" % n)
    wait_until("the nodes agree", lambda: pair.status("f0")["state_digest"]
               == pair.status("f1")["state_digest"])

    # 2. Fill the disk while the node runs.
    filler = os.path.join(pair.mount, "filler")
    left = fill(filler)
    check(left < RESERVE_MIB << 20, "tmpfs filled: %d bytes left" % left)
    refused_for_space(pair, "disk full")
    wait_until("f0 reports the full disk", lambda: not pair.status("f0")["writable"], 10)
    reads_work(pair, "f0", "disk full")
    check(pair.daemons["f0"].proc.poll() is None, "f0 is still running")
    # The disk watch logs the change on its next tick (once a second), which
    # may come after the refused write and the status above.
    wait_until("f0 logged that writes stopped at error level",
               lambda: any((" error " in l or " warn" in l) and "writes stopped" in l
                           for l in pair.daemons["f0"].lines), 10)

    # 3. f1 writes: f0's ingest pauses without dropping the session.
    sessions_before = len(pair.f0_sessions())
    sent_before = int(pair.peer("f1", "f0").get("entries_sent", 0))
    for n in range(10, 15):
        check(pair.write("f1", n, "f0")[0] == 0, "f1 writes obligation %d while f0 is full" % n)
    wait_until("f1 has pushed its new entries to f0",
               lambda: int(pair.peer("f1", "f0").get("entries_sent", 0)) >= sent_before + 5)
    end = time.time() + 3
    while time.time() < end:  # a steady state, watched for 3 s
        p = pair.peer("f1", "f0")
        if not p.get("connected"):
            raise Failure("f1's session with f0 dropped while f0's disk was full")
        time.sleep(0.2)
    check(len(pair.f0_sessions()) == sessions_before and
          int(pair.peer("f1", "f0").get("invalid_received", 0)) == 0 and
          int(pair.peer("f0", "f1").get("invalid_received", 0)) == 0,
          "f0's session with f1 stayed up with nothing counted against either side")
    stopped = [l for l in pair.daemons["f0"].lines if "writes stopped" in l]
    check(len(stopped) == 1, "f0 logged the full disk once, not per attempt (%d)" % len(stopped))

    # 4. Space back: f0 recovers by itself and catches up.
    os.remove(filler)
    wait_until("f0 becomes writable again", lambda: pair.status("f0")["writable"], 15)
    wait_until("f0 catches up with f1's entries written while it was full",
               lambda: pair.status("f0")["state_digest"] == pair.status("f1")["state_digest"])
    check(pair.write("f0", 6, "f1")[0] == 0, "f0 writes again after the space is freed")

    # 5. Restart on a full disk.
    check(pair.daemons["f0"].stop() == 0, "f0 stops cleanly")
    fill(filler)
    pair.start("f0")
    check(True, "f0 starts on a full disk")
    reads_work(pair, "f0", "started on a full disk")
    refused_for_space(pair, "started on a full disk")
    os.remove(filler)
    wait_until("f0 started on a full disk becomes writable once space is freed",
               lambda: pair.status("f0")["writable"], 15)
    for n in range(7, 10):
        check(pair.write("f0", n, "f1")[0] == 0, "f0 writes obligation %d after recovery" % n)

    # 6. Nothing acknowledged lost; both nodes agree; the audit is clean.
    wait_until("the nodes agree at the end", lambda: pair.status("f0")["state_digest"]
               == pair.status("f1")["state_digest"])
    for f in ("f0", "f1"):
        for author in ("f0", "f1"):
            for entry_id in pair.acked[author]:
                if pair.k(f, "entry", entry_id)[0] != 0:
                    raise Failure("acknowledged entry %s of %s missing on %s" % (entry_id, author, f))
    check(True, "every acknowledged entry (%d of f0, %d of f1) is on both nodes"
          % (len(pair.acked["f0"]), len(pair.acked["f1"])))
    export = os.path.join(pair.work, "export.bin")
    code, _, err = pair.k("f1", "export", "--out", export)
    check(code == 0, "export from f1 (%s)" % err.strip())
    for f in ("f0", "f1"):
        token = next(l.split("=", 1)[1].strip().strip('"') for l in open(pair.config[f])
                     if l.strip().startswith("token"))
        p = subprocess.run([audit, export, "--against", pair.daemons[f].address, "--token", token,
                            "-q"], capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "the audit of the export agrees with %s (exit %d)%s"
              % (f, p.returncode, "" if p.returncode == 0 else "\n" + p.stdout[-2000:]))
    for f in ("f0", "f1"):
        check(pair.daemons[f].stop() == 0, "%s stops cleanly" % f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    ap.add_argument("--audit", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="keiretsu-disk-full-")
    mount = os.path.join(work, "tmpfs")
    os.mkdir(mount)
    mounted = False
    pair = None
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % TMPFS_MIB,
                            "keiretsu-disk-full", mount], capture_output=True, text=True)
        if p.returncode != 0:
            raise Failure("cannot mount a tmpfs (this test needs root): " + p.stderr.strip())
        mounted = True
        pair = Pair(Tools(args.keiretsu, None, None), args.keiretsud, work, mount)
        run(pair, args.audit)
    except Failure as e:
        fail_and_exit(e, list(pair.daemons.values()) if pair else [])
    finally:
        if pair:
            for d in pair.daemons.values():
                d.kill()
        if mounted:
            subprocess.run(["umount", mount])
        shutil.rmtree(work, ignore_errors=True)
    print("disk full test passed")


if __name__ == "__main__":
    main()
