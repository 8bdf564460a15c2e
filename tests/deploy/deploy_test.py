#!/usr/bin/python3
"""Checks deploy/: the systemd unit verifies, the example config is accepted
by the real daemon's parser, new-network.sh founds a network whose nodes
start and accept the generated configs, and the container files reference
what exists. Prints 'N passed, M failed' and exits non-zero on a failure."""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--source", required=True)
ap.add_argument("--keiretsud", required=True)
ap.add_argument("--keiretsu", required=True)
args = ap.parse_args()
args.keiretsud = os.path.abspath(args.keiretsud)
args.keiretsu = os.path.abspath(args.keiretsu)
passed, failed = 0, 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


work = tempfile.mkdtemp(prefix="keiretsu-deploy-")
try:
    # 1. The systemd unit verifies (ExecStart pointed at the built daemon).
    unit = open(os.path.join(args.source, "deploy/systemd/keiretsud.service")).read()
    check("User=keiretsu" in unit and "NoNewPrivileges=yes" in unit, "unit runs hardened as keiretsu")
    unit_path = os.path.join(work, "keiretsud.service")
    open(unit_path, "w").write(unit.replace("/usr/local/bin/keiretsud", args.keiretsud))
    r = run(["systemd-analyze", "verify", unit_path])
    check(r.returncode == 0 and r.stderr.strip() == "",
          f"systemd-analyze verify is clean: rc={r.returncode} {r.stderr.strip()}")
    broken = os.path.join(work, "broken.service")
    open(broken, "w").write(unit.replace("Restart=on-failure", "Restart=sometimes"))
    r = run(["systemd-analyze", "verify", broken])
    check(r.returncode != 0 or "Restart" in r.stderr, "systemd-analyze catches a broken unit")

    # 2. new-network.sh founds a network of three firms.
    net = os.path.join(work, "net")
    peers = [f"{f}=127.0.0.1:{free_port()}" for f in "abc"]
    r = run(["bash", os.path.join(args.source, "deploy/new-network.sh"), "--name", "deploy-test",
             "--out", net, "--keiretsu", args.keiretsu, "--api-base-port", str(free_port())] + peers)
    check(r.returncode == 0, f"new-network.sh succeeds: {r.stderr.strip()}")
    for firm in "abc":
        key = os.path.join(net, firm, f"{firm}.key")
        check(os.path.exists(key) and (os.stat(key).st_mode & 0o777) == 0o600, f"{firm} key is 0600")
        cfg = os.path.join(net, firm, "keiretsud.toml")
        check(os.path.exists(cfg) and (os.stat(cfg).st_mode & 0o777) == 0o600, f"{firm} config is 0600")
    r = run(["bash", os.path.join(args.source, "deploy/new-network.sh"), "--name", "x",
             "--out", net, "--keiretsu", args.keiretsu, "a=127.0.0.1:1"])
    check(r.returncode != 0 and "not empty" in r.stderr, "new-network.sh refuses a non-empty dir")
    r = run(["bash", os.path.join(args.source, "deploy/new-network.sh"), "--name", "x",
             "--out", os.path.join(work, "n2"), "--keiretsu", args.keiretsu, "nonsense"])
    check(r.returncode != 0 and "firm=host:port" in r.stderr, "new-network.sh refuses a bad firm spec")

    # 3. A generated config starts the real daemon, which stops cleanly on SIGTERM.
    cfg = os.path.join(net, "a", "keiretsud.toml")
    log = open(os.path.join(work, "a.log"), "w")
    p = subprocess.Popen([args.keiretsud, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    ready = False
    for _ in range(100):
        if "keiretsud ready" in open(os.path.join(work, "a.log")).read():
            ready = True
            break
        if p.poll() is not None:
            break
        time.sleep(0.1)
    check(ready, "keiretsud starts from a new-network.sh config: " +
          open(os.path.join(work, "a.log")).read()[-400:])
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=30) == 0, "keiretsud exits 0 on SIGTERM")

    # 4. The example config is accepted by the daemon's own parser (its
    #    paths point nowhere, so the daemon must fail on the key, not the syntax).
    example = os.path.join(args.source, "deploy/keiretsud.example.toml")
    r = run([args.keiretsud, "--config", example])
    out = r.stdout + r.stderr
    check(r.returncode != 0 and "cannot read" in out and "unknown key" not in out
          and "line" not in out,
          f"example config parses: {(r.stdout + r.stderr).strip()[-300:]}")

    # 5. Container files: the Dockerfile uses the bootstrap script and paths
    #    that exist; compose names three firms and the Dockerfile.
    docker = open(os.path.join(args.source, "deploy/docker/Dockerfile")).read()
    check(docker.startswith("#") and "FROM debian:bookworm" in docker, "Dockerfile on bookworm")
    check("scripts/bootstrap.sh" in docker, "Dockerfile uses the bootstrap script")
    for path in re.findall(r"build/[\w/.-]+/(?:keiretsud|keiretsu)\b", docker):
        check(path in ("build/node/daemon/keiretsud", "build/tools/cli/keiretsu"),
              f"Dockerfile binary path {path}")
    check(os.path.exists(os.path.join(args.source, "node/daemon/CMakeLists.txt")), "daemon target exists")
    compose = open(os.path.join(args.source, "deploy/docker/compose.yaml")).read()
    for firm in ("asahi", "biwa", "chikuma"):
        check(re.search(rf"^  {firm}:$", compose, re.M) is not None, f"compose has {firm}")
    check("dockerfile: deploy/docker/Dockerfile" in compose, "compose builds the Dockerfile")
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
