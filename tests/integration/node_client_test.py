#!/usr/bin/python3
"""The Node.js example client (examples/node, the client docs/API.md shows)
against a live keiretsud: status, writes with an idempotency key (a retry
with the same id writes once), a paging loop over ListEntries that must end
after the right number of pages (it never ends when proto-loader drops
snake_case fields), and Watch from cursor 0.

Run by ctest with /usr/bin/python3; needs node and examples/node/node_modules
(scripts/bootstrap.sh installs them with npm ci).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, clean_env, fail_and_exit, free_port  # noqa: E402

ENTRIES = 17
PAGE = 5


def node_client(args, node, client, address, token, *cmd, timeout=60):
    p = subprocess.run([node, client, "--node", address, "--token", token] + [str(c) for c in cmd],
                       capture_output=True, text=True, env=dict(clean_env(),
                                                                KEIRETSU_PROTO_DIR=args.proto_dir),
                       timeout=timeout)
    if p.returncode != 0:
        raise Failure("node client %s exited %d: %s" % (" ".join(map(str, cmd)), p.returncode,
                                                         p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--keiretsu", required=True)
    p.add_argument("--keiretsud", required=True)
    p.add_argument("--node", required=True, help="the node (Node.js) binary")
    p.add_argument("--client", required=True, help="examples/node/keiretsu_client.js")
    p.add_argument("--proto-dir", required=True)
    args = p.parse_args()
    modules = os.path.join(os.path.dirname(args.client), "node_modules", "@grpc", "proto-loader")
    if not os.path.isdir(modules):
        print("FAILED: %s is missing: run scripts/bootstrap.sh (npm ci in examples/node)"
              % modules, file=sys.stderr)
        sys.exit(1)

    work = tempfile.mkdtemp(prefix="keiretsu-node-")
    tools = Tools(args.keiretsu, None, None)
    daemon = None
    try:
        keys = {}
        for f in ("n", "m"):
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            keys[f] = out.strip()
        genesis = os.path.join(work, "genesis.toml")
        check(tools.cli("genesis", "--name", "node-test", "--out", genesis,
                        "--member", "n=" + keys["n"], "--member", "m=" + keys["m"])[0] == 0,
              "genesis")
        d = os.path.join(work, "n")
        code, out, err = tools.cli("init", "--firm", "n", "--genesis", genesis, "--key",
                                   os.path.join(work, "n.key"), "--dir", d,
                                   "--api-listen", "127.0.0.1:%d" % free_port(),
                                   "--peer-listen", "127.0.0.1:%d" % free_port())
        check(code == 0, "init n (%s)" % err.strip())
        config = os.path.join(d, "keiretsud.toml")
        token = next(l.split('"')[1] for l in open(config) if l.startswith("token = "))
        daemon = Daemon("n", args.keiretsud, config, os.path.join(work, "n.log"))
        address = daemon.start()
        run = lambda *cmd: node_client(args, args.node, args.client, address, token, *cmd)  # noqa

        status = run("status")[0]
        check(status["firm"]["name"] == "n" and status["writable"] is True,
              "GetStatus through the Node client (defaults fill every field)")
        first = run("owe", "m", 1, "hours", "--request-id", "node-1")[0]
        check(first["replayed"] is False and first["entry"]["seq"] == "1",
              "RecordObligation writes seq 1 (uint64 as a string)")
        again = run("owe", "m", 1, "hours", "--request-id", "node-1")[0]
        check(again["replayed"] is True and again["entry"]["id"] == first["entry"]["id"],
              "the same request id again returns the first entry")
        for i in range(2, ENTRIES + 1):
            run("owe", "m", i, "hours")
        lines = run("entries", "n", "--limit", PAGE)
        entries, pages = lines[:-1], lines[-1]["pages"]
        check([e["seq"] for e in entries] == [str(i) for i in range(1, ENTRIES + 1)],
              "the paging loop reads every entry once, in order")
        check(pages == -(-ENTRIES // PAGE), "and ends after %d pages" % pages)
        events = run("watch", "--cursor", "0", "--count", 3)
        check([e["cursor"] for e in events] == ["1", "2", "3"] and events[0]["changes"] == ["1"],
              "Watch from cursor 0 streams the first events")
        check(daemon.stop() == 0, "keiretsud stops cleanly")
        print("PASS: Node.js client", flush=True)
    except (Failure, Exception) as exc:  # noqa: B902 - any failure must still stop the daemon
        fail_and_exit(exc, [daemon] if daemon else [])
    finally:
        if daemon:
            daemon.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
