#!/usr/bin/python3
"""The API under a connection flood, and keiretsud under systemd's notify
protocol (issue 10, item 2).

  1. sd_notify: keiretsud started with NOTIFY_SOCKET (a unix datagram socket
     this test reads) and WATCHDOG_USEC sends READY=1 once serving, then
     WATCHDOG=1 while its API self-check passes, and STOPPING=1 on SIGTERM;
     it raises its open-files soft limit to the hard limit and logs it.
  2. Flood: keiretsud runs with a low descriptor limit (192, soft = hard) and
     at most 8 API connections from one address. 400 idle HTTP/2 connections
     (preface, then silence) come from 127.0.0.2. keiretsud admits 8 of them
     (gRPC's SETTINGS frame comes back), closes the rest as they arrive and
     says so in its log; meanwhile a client at 127.0.0.1 is answered, the
     process stays up (its self-check passes every second), and it stops
     cleanly afterwards. (Before the connection caps, such a flood ran the
     process out of descriptors and gRPC never accepted again.)

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Tools, check, clean_env, free_port  # noqa: E402

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


class Node:
    """keiretsud with its own environment and limits; its log kept in memory."""

    def __init__(self, binary, config, env, nofile=None):
        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
        self.proc = subprocess.Popen([binary, "--config", config], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env,
                                     preexec_fn=limits)
        self.lines = []
        self.ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "keiretsud ready" in line:
                self.ready.set()
        self.ready.set()

    def address(self):
        line = next(l for l in self.lines if "keiretsud ready" in l)
        return line.split("api=")[1].split()[0]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self, n=40):
        return "\n".join("  | " + l for l in self.lines[-n:])


class NotifySocket:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait_for(self, text, seconds):
        """Waits until a datagram containing the line `text` arrives."""
        end = time.time() + seconds
        while time.time() < end:
            if any(text in m.split("\n") for m in self.messages):
                return True
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return any(text in m.split("\n") for m in self.messages)

    def close(self):
        self.sock.close()


def make_firm(tools, work, extra_api):
    key = os.path.join(work, "f0.key")
    code, out, _ = tools.cli("keygen", "--out", key)
    check(code == 0, "keygen")
    genesis = os.path.join(work, "genesis.toml")
    check(tools.cli("genesis", "--name", "flood", "--out", genesis,
                    "--member", "f0=" + out.strip())[0] == 0, "genesis")
    code, _, err = tools.cli("init", "--firm", "f0", "--genesis", genesis, "--key", key,
                             "--dir", os.path.join(work, "f0"),
                             "--api-listen", "127.0.0.1:%d" % free_port(), "--peer-listen", "")
    if code != 0:  # an init without a peer listener flag
        code, _, err = tools.cli("init", "--firm", "f0", "--genesis", genesis, "--key", key,
                                 "--dir", os.path.join(work, "f0"),
                                 "--api-listen", "127.0.0.1:%d" % free_port())
    check(code == 0, "init (%s)" % err.strip())
    config = os.path.join(work, "f0", "keiretsud.toml")
    text = open(config).read()
    text = text.replace("[api]\n", "[api]\n" + extra_api, 1)
    # One node alone: no peers to learn its head from, no peer listener.
    text = text[:text.index("[peer]")] if "[peer]" in text else text
    open(config, "w").write(text)
    return config


def notify_run(tools, keiretsud, work, config):
    sock = NotifySocket(os.path.join(work, "notify.sock"))
    env = clean_env()
    env["NOTIFY_SOCKET"] = sock.path
    env["WATCHDOG_USEC"] = "1500000"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(512, hard)
    node = Node(keiretsud, config, env, nofile=(low // 2, low))
    try:
        check(sock.wait_for("READY=1", 30), "READY=1 once the API serves")
        check(node.ready.wait(10) and node.proc.poll() is None, "the ready line was logged")
        check(any("open files limit raised from %d to %d" % (low // 2, low) in l
                  for l in node.lines), "the open-files soft limit is raised to the hard limit")
        check(sock.wait_for("WATCHDOG=1", 10), "WATCHDOG=1 while the self-check passes")
        code, out, err = tools.cli("--config", config, "status", "--json")
        check(code == 0, "the API answers (%s)" % err.strip())
        node.proc.send_signal(signal.SIGTERM)
        check(sock.wait_for("STOPPING=1", 20), "STOPPING=1 on SIGTERM")
        check(node.proc.wait(30) == 0, "exit 0 after SIGTERM")
    except Failure:
        print(node.tail(), file=sys.stderr)
        raise
    finally:
        node.kill()
        sock.close()


def admitted(s):
    """True when the API answered an HTTP/2 preface (SETTINGS came back);
    False when the connection was closed or reset instead."""
    try:
        s.sendall(H2_PREFACE)
        return len(s.recv(9)) > 0
    except OSError:
        return False


def flood_run(tools, keiretsud, work, config):
    env = clean_env()
    node = Node(keiretsud, config, env, nofile=(192, 192))
    conns = []
    try:
        check(node.ready.wait(30) and node.proc.poll() is None, "keiretsud up with 192 descriptors")
        host, port = node.address().rsplit(":", 1)
        refused = 0
        for _ in range(400):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.bind(("127.0.0.2", 0))
                s.connect((host, int(port)))
            except OSError:
                s.close()
                refused += 1
                continue
            if admitted(s):
                conns.append(s)
            else:
                s.close()
                refused += 1
        check(len(conns) == 8 and refused == 392,
              "flood from 127.0.0.2: %d idle connections admitted (the cap per address is 8), "
              "%d refused" % (len(conns), refused))
        code, _, err = tools.cli("--config", config, "--timeout", "5", "status")
        check(code == 0, "a client at 127.0.0.1 is answered during the flood (%s)" % err.strip())
        check(node.proc.poll() is None, "keiretsud is still up")
        check(any("api: refused" in l and "127.0.0.2" in l for l in node.lines),
              "keiretsud logged the refusals with the address")
        check(not any("self-check failed" in l for l in node.lines),
              "its self-check never failed during the flood")
        for s in conns:
            s.close()
        conns = []
        code, _, err = tools.cli("--config", config, "--timeout", "5", "status")
        check(code == 0, "and still after the flood ends (%s)" % err.strip())
        node.proc.send_signal(signal.SIGTERM)
        check(node.proc.wait(30) == 0, "keiretsud stops cleanly after the flood")
    except Failure:
        print(node.tail(), file=sys.stderr)
        raise
    finally:
        for s in conns:
            s.close()
        node.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="keiretsu-flood-")
    tools = Tools(args.keiretsu, None, None)
    try:
        config = make_firm(tools, work, "idle_timeout_seconds = 60\nself_check_seconds = 1\n"
                           "max_connections_per_source = 8\n")
        notify_run(tools, args.keiretsud, work, config)
        flood_run(tools, args.keiretsud, work, config)
    except Failure as e:
        print("FAILED:", e, file=sys.stderr)
        sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("api flood test passed")


if __name__ == "__main__":
    main()
