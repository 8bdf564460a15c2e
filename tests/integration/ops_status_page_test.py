#!/usr/bin/python3
"""The status page of a live keiretsud in headless Chromium (issue: what an
operator sees).

Four firms, peered in a ring, record favours in two units and leave a claim
open. Once every node holds the same state, asahi's /status is loaded in
Debian's headless Chromium (through the operations token, as HTTP Basic
credentials): the balance matrix in the rendered page must equal what the
API's ListBalances says for every firm, the page must fetch nothing from
anywhere else, and a screenshot is saved. Every Chromium process is ended.

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import html.parser
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit, free_port  # noqa: E402

FIRMS = ["asahi", "biwa", "chikuma", "daisen"]


def group(n):
    return "{:,}".format(int(n))


class Matrix(html.parser.HTMLParser):
    """Collects the cells of every table.matrix: (unit, debtor, creditor, amount, text)."""

    def __init__(self):
        super().__init__()
        self.unit, self.cell, self.cells = None, None, []
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "matrix" in a.get("class", "").split():
            self.unit = a.get("data-unit")
        if tag == "td" and "owed" in a.get("class", "").split():
            self.cell = [self.unit, a["data-debtor"], a["data-creditor"], a["data-amount"], ""]
        for attr in ("src", "href"):
            if tag in ("script", "link", "img", "iframe") and a.get(attr):
                self.external.append((tag, a[attr]))

    def handle_endtag(self, tag):
        if tag == "table":
            self.unit = None
        if tag == "td" and self.cell is not None:
            self.cells.append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[4] += data


def chromium(args, timeout=120):
    """Runs headless Chromium in its own process group and ends the whole group."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = "", "timed out"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # renderer, GPU and zygote processes too
        except ProcessLookupError:
            pass
        proc.wait()
    return proc.returncode, out, err


def browser_args(profile, url, *extra):
    return ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-default-apps", "--mute-audio", "--user-data-dir=" + profile,
            "--hide-scrollbars", *extra, url]


class Net:
    def __init__(self, tools, keiretsud, work):
        self.t, self.work = tools, work
        keys = {}
        for f in FIRMS:
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
            check(code == 0, "keygen " + f)
            keys[f] = out.strip()
        genesis = os.path.join(work, "genesis.toml")
        members = sum((["--member", "%s=%s" % (f, k)] for f, k in keys.items()), [])
        check(tools.cli("genesis", "--name", "kansai-keiretsu", "--out", genesis, *members)[0]
              == 0, "genesis")
        port = {f: free_port() for f in FIRMS}
        self.config, self.daemons = {}, []
        for i, f in enumerate(FIRMS):
            ring = [FIRMS[(i + 1) % len(FIRMS)], FIRMS[(i - 1) % len(FIRMS)]]
            args = ["init", "--firm", f, "--genesis", genesis, "--key",
                    os.path.join(work, f + ".key"), "--dir", os.path.join(work, f),
                    "--api-listen", "127.0.0.1:%d" % free_port(), "--peer-listen", "127.0.0.1:%d" % port[f]]
            for p in ring:
                args += ["--peer", "%s=127.0.0.1:%d" % (p, port[p])]
            if f == "asahi":  # not loopback-only in spirit: give it a token file
                args += ["--ops-listen", "127.0.0.1:%d" % free_port()]
            code, out, err = tools.cli(*args)
            check(code == 0, "init %s (%s)" % (f, err.strip()))
            self.config[f] = os.path.join(work, f, "keiretsud.toml")
        # The operations token, as an operator would add it.
        self.token = "status-page-token-0123456789"
        token_file = os.path.join(work, "asahi", "ops.token")
        with open(token_file, "w") as fh:
            fh.write(self.token + "\n")
        os.chmod(token_file, 0o600)
        with open(self.config["asahi"], "a") as fh:
            fh.write('token_file = "ops.token"\n')
        for f in FIRMS:
            d = Daemon(f, keiretsud, self.config[f], os.path.join(work, f + ".log"))
            d.start()
            self.daemons.append(d)
        line = next(l for l in self.daemons[0].lines if "keiretsud ready" in l)
        self.ops = line.split("ops=")[1].split()[0]

    def k(self, f, *args):
        code, out, err = self.t.cli("--config", self.config[f], *args)
        if code != 0:
            raise Failure("%s: keiretsu %s failed: %s" % (f, " ".join(args), err.strip()))
        return out

    def js(self, f, *args):
        return self.t.cli_json("--config", self.config[f], *args)

    def wait(self, what, predicate, seconds=90):
        end = time.time() + seconds
        while time.time() < end:
            if predicate():
                check(True, what)
                return
            time.sleep(0.3)
        raise Failure("timed out waiting until " + what)


def record_favours(net):
    net.wait("every node is writable", lambda: all(net.js(f, "status").get("writable")
                                                   for f in FIRMS))
    net.k("asahi", "owe", "biwa", "1250", "hours", "--memo", "harbour crane, two shifts")
    net.k("biwa", "owe", "chikuma", "300", "hours")
    net.k("chikuma", "owe", "asahi", "75", "hours")
    net.k("daisen", "owe", "asahi", "2400", "hours", "--memo", "kiln repair")
    net.k("biwa", "release", "asahi", "250", "hours", "--memo", "settled in kind")
    net.k("daisen", "owe", "biwa", "12000", "kg")
    net.k("biwa", "owe", "chikuma", "1800", "kg")
    claim = net.js("asahi", "claim", "daisen", "40", "kg", "--memo", "rice, autumn")
    net.wait("daisen sees asahi's claim",
             lambda: len(net.js("daisen", "pending").get("claims", [])) == 1)
    net.k("daisen", "accept", claim["entry"]["id"])
    net.k("chikuma", "claim", "biwa", "5", "hours", "--memo", "<b>forklift</b> & driver")
    net.wait("all four nodes hold the same state",
             lambda: len({net.js(f, "status")["state_digest"] for f in FIRMS}) == 1 and
             len(net.js("biwa", "pending").get("claims", [])) == 1)


def expected_matrix(net):
    """{(unit, debtor, creditor): amount} from ListBalances of every firm."""
    want = {}
    for f in FIRMS:
        for b in net.js("asahi", "balances", f).get("balances", []):
            net_amount = int(b["net"])
            if net_amount == 0:
                continue
            firm, other = b["firm"]["name"], b["counterparty"]["name"]
            debtor, creditor = (other, firm) if net_amount > 0 else (firm, other)
            key = (b["unit"], debtor, creditor)
            if key in want and want[key] != abs(net_amount):
                raise Failure("ListBalances disagrees with itself on %r" % (key,))
            want[key] = abs(net_amount)
    return want


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    ap.add_argument("--screenshot", required=True, help="where to save the PNG")
    args = ap.parse_args()
    if shutil.which("chromium") is None:
        fail_and_exit(Failure("chromium is not installed (scripts/bootstrap.sh)"), [])
    tools = Tools(args.keiretsu, None, None)
    net = None
    with tempfile.TemporaryDirectory(prefix="keiretsu-status-") as work:
        try:
            net = Net(tools, args.keiretsud, work)
            record_favours(net)
            want = expected_matrix(net)
            check(len(want) >= 6, "ListBalances reports %d debts in two units" % len(want))
            url = "http://operator:%s@%s/status" % (net.token, net.ops)
            code, dom, err = chromium(browser_args(os.path.join(work, "profile"), url,
                                                   "--dump-dom"))
            check(code == 0 and "<html" in dom, "chromium rendered /status (exit %s)" % code)
            page = Matrix()
            page.feed(dom)
            got = {(u, d, c): int(a) for (u, d, c, a, _) in page.cells}
            check(got == want, "the rendered balance matrix equals ListBalances: %s" %
                  sorted(got.items()))
            check(all(text.strip() == group(a) for (_, _, _, a, text) in page.cells),
                  "every cell shows its amount grouped by thousands")
            check(not page.external, "the page loads nothing from elsewhere: %s" % page.external)
            check("&lt;b&gt;forklift&lt;/b&gt; &amp; driver" in dom and "<b>forklift" not in dom,
                  "a memo's markup is shown as text, not interpreted")
            check(dom.count("<svg") >= 2, "an obligation graph is drawn per unit")
            denied, dom2, _ = chromium(browser_args(os.path.join(work, "profile2"),
                                                    "http://%s/status" % net.ops, "--dump-dom"))
            check("who owes whom" not in dom2.lower() and "asahi</h1>" not in dom2,
                  "without the token the browser is shown no status")
            if os.path.exists(args.screenshot):
                os.unlink(args.screenshot)
            code, _, err = chromium(browser_args(os.path.join(work, "profile3"), url,
                                                 "--screenshot=" + args.screenshot,
                                                 "--window-size=1280,1560"))
            with open(args.screenshot, "rb") as fh:
                head = fh.read(8)
            check(head == b"\x89PNG\r\n\x1a\n" and os.path.getsize(args.screenshot) > 20000,
                  "screenshot saved to %s" % args.screenshot)
            for d in net.daemons:
                check(d.stop() == 0, "%s stops cleanly" % d.name)
        except Exception as e:  # noqa: BLE001 - report and fail
            daemons = net.daemons if net else []
            for d in daemons:
                d.kill()
            fail_and_exit(e, daemons)
    print("all ok")


if __name__ == "__main__":
    main()
