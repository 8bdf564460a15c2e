"""Process plumbing for the multi-process tests: free ports, keiretsud
processes that are always stopped, and runners for the `keiretsu` CLI and the
Python example client that return (exit code, stdout, stderr)."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)
    print("ok:", what, flush=True)


def free_port():
    """A loopback port free at the time of asking (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env():
    """The environment without KEIRETSU_* so only explicit flags count."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KEIRETSU_")}


class Daemon:
    """One keiretsud process. Its log is kept in memory and in a file."""

    def __init__(self, name, binary, config, log_path, prefix=()):
        """`prefix`: a command to run keiretsud under (e.g. ip netns exec NS)."""
        self.name, self.binary, self.config, self.log_path = name, binary, config, log_path
        self.prefix = list(prefix)
        self.proc = None
        self.lines = []
        self.address = None

    def start(self, timeout=30):
        log = open(self.log_path, "a")
        self.lines = []
        self.proc = subprocess.Popen(self.prefix + [self.binary, "--config", self.config],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=clean_env())
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line.rstrip("\n"))
                if "keiretsud ready" in line:
                    ready.set()
            log.close()
            ready.set()  # the process ended: wake the waiter

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            raise Failure("%s did not become ready:\n%s" % (self.name, self.tail()))
        ready_line = next(l for l in self.lines if "keiretsud ready" in l)
        self.address = ready_line.split("api=")[1].split()[0]
        return self.address

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("%s did not stop within %ss of SIGTERM" % (self.name, timeout))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self, n=30):
        return "\n".join("  %s| %s" % (self.name, l) for l in self.lines[-n:])


class Tools:
    """Runs the CLI and the Python client with a clean environment."""

    def __init__(self, cli, client, stubs, python="/usr/bin/python3"):
        self.cli_bin, self.client, self.stubs, self.python = cli, client, stubs, python

    def cli(self, *args, timeout=60):
        p = subprocess.run([self.cli_bin] + [str(a) for a in args], capture_output=True,
                           text=True, env=clean_env(), timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def cli_json(self, *args):
        """Runs with --json, requires success, returns the parsed object."""
        code, out, err = self.cli(*(list(args) + ["--json"]))
        if code != 0:
            raise Failure("keiretsu %s failed (%d): %s" % (" ".join(map(str, args)), code, err))
        return json.loads(out)

    def py(self, *args, timeout=60):
        cmd = [self.python, self.client, "--stubs", self.stubs] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(),
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def py_json(self, *args):
        code, out, err = self.py(*args)
        if code != 0:
            raise Failure("keiretsu_client %s failed (%d): %s" % (" ".join(map(str, args)),
                                                                  code, err))
        return json.loads(out)

    def popen_cli(self, *args):
        return subprocess.Popen([self.cli_bin] + [str(a) for a in args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_env())

    def popen_py(self, *args):
        cmd = [self.python, self.client, "--stubs", self.stubs] + [str(a) for a in args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_env())


def one_line(err):
    return err.endswith("\n") and err.count("\n") == 1


def expect_refused(what, result, code, says, digest_before=None, digest_after=None):
    """A refusal: the exit code, one stderr line containing `says`, nothing changed."""
    got, out, err = result
    if got != code or says not in err or not one_line(err):
        raise Failure("%s: expected exit %d with one line containing %r, got exit %d: %r"
                      % (what, code, says, got, err))
    if digest_before is not None and digest_before != digest_after:
        raise Failure("%s changed the state digest" % what)
    print("ok: %s -> exit %d: %s" % (what, code, err.strip()), flush=True)


def fail_and_exit(exc, daemons):
    print("FAILED:", exc, file=sys.stderr)
    for d in daemons:
        print(d.tail(), file=sys.stderr)
    sys.exit(1)


def wait_lines(proc, timeout):
    """Waits for a watcher process; returns its parsed JSON lines."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise Failure("watcher did not finish in %ss: %s" % (timeout, err))
    if proc.returncode != 0:
        raise Failure("watcher exited %d: %s" % (proc.returncode, err))
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def deadline_loop(seconds, step=0.1):
    end = time.time() + seconds
    while time.time() < end:
        yield
        time.sleep(step)
