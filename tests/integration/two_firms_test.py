#!/usr/bin/python3
"""Two real keiretsud processes (firms x and y; z is a member without a node)
on loopback ports, driven through the `keiretsu` CLI and the Python example
client, moving entries between them by export and import:

  x claims 40 hours from y; x's export is imported at y; y accepts; y's export
  goes back to x; both show the same balances and state digest; x releases 15;
  watchers (CLI and Python) see claim, accept, release with their balance
  changes; both restart and keep everything; every bad input gets its exit
  code and one-line message and leaves the state digest unchanged.

Run by ctest (tests/integration/CMakeLists.txt) with /usr/bin/python3.
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Daemon, Failure, Tools, check, expect_refused, fail_and_exit,  # noqa: E402
                     free_port, wait_lines)

TOKENS = {  # extra tokens appended to both configs (each >= 16 characters)
    "auditor": "auditor-token-0001",
    "partner_y": "partner-y-token-0001",
    "partner_z": "partner-z-token-0001",
}


def add_tokens(config):
    with open(config, "a") as f:
        f.write('\n[[api.tokens]]\ntoken = "%s"\nrole = "auditor"\n' % TOKENS["auditor"])
        for firm in ("y", "z"):
            f.write('\n[[api.tokens]]\ntoken = "%s"\nrole = "partner"\nfirm = "%s"\n'
                    % (TOKENS["partner_" + firm], firm))


class Network:
    def __init__(self, tools, keiretsud, work):
        self.t, self.work = tools, work
        keys = {}
        for firm in ("x", "y", "z"):
            code, out, err = tools.cli("keygen", "--out", os.path.join(work, firm + ".key"))
            check(code == 0 and len(out.strip()) == 64, "keygen %s prints a public key" % firm)
            keys[firm] = out.strip()
        genesis = os.path.join(work, "genesis.toml")
        code, out, err = tools.cli("genesis", "--name", "itest", "--out", genesis,
                                   *sum((["--member", "%s=%s" % (f, k)] for f, k in keys.items()),
                                        []))
        check(code == 0, "genesis written")
        self.network_id = out.strip()
        ports = {f: (free_port(), free_port()) for f in ("x", "y")}
        self.config, self.daemons = {}, {}
        for firm, other in (("x", "y"), ("y", "x")):
            d = os.path.join(work, firm)
            code, out, err = tools.cli(
                "init", "--firm", firm, "--genesis", genesis, "--key",
                os.path.join(work, firm + ".key"), "--dir", d,
                "--api-listen", "127.0.0.1:%d" % ports[firm][0],
                "--peer-listen", "127.0.0.1:%d" % ports[firm][1],
                "--peer", "%s=127.0.0.1:%d" % (other, ports[other][1]))
            check(code == 0 and "keiretsud --config" in out, "init %s" % firm)
            self.config[firm] = os.path.join(d, "keiretsud.toml")
            add_tokens(self.config[firm])
            # z runs no node here, so the restore rule (reports from a
            # majority of the other members, x and z for y) could never be
            # met; these data directories are fresh, so it is turned off.
            text = open(self.config[firm]).read()
            assert "\n[peer]\n" in text
            open(self.config[firm], "w").write(
                text.replace("\n[peer]\n", "\n[peer]\nrequire_peer_before_write = false\n", 1))
            self.daemons[firm] = Daemon(firm, keiretsud, self.config[firm],
                                        os.path.join(work, firm + ".log"))
        self.ports = ports

    def start(self):
        for firm, d in self.daemons.items():
            address = d.start()
            check(address == "127.0.0.1:%d" % self.ports[firm][0],
                  "keiretsud %s ready on its configured port (%s)" % (firm, address))

    def stop(self):
        for firm, d in self.daemons.items():
            code = d.stop()
            check(code == 0, "keiretsud %s stops cleanly on SIGTERM" % firm)

    # --- helpers over the CLI, as firm's operator (via --config)
    def op(self, firm, *args):
        return self.t.cli("--config", self.config[firm], *args)

    def op_json(self, firm, *args):
        return self.t.cli_json("--config", self.config[firm], *args)

    def as_token(self, firm, token, *args):
        return self.t.cli("--node", self.daemons[firm].address, "--token", token, *args)

    def digest(self, firm):
        return self.op_json(firm, "status")["state_digest"]

    def balances(self, firm, of):
        rows = self.op_json(firm, "balances", of)["balances"]
        return sorted((r["firm"]["name"], r["counterparty"]["name"], r["unit"], r["net"])
                      for r in rows)

    def ship(self, src, dst, name):
        """src's export imported at dst; returns the ImportResponse."""
        path = os.path.join(self.work, name)
        code, out, err = self.op(src, "export", "--out", path)
        check(code == 0 and os.path.getsize(path) > 0, "export of %s to %s" % (src, name))
        r = self.op_json(dst, "import", path)
        check(r["rejected"] == "0", "import of %s at %s rejects nothing" % (name, dst))
        return r


def scenario(net, t, py_token_x):
    st = net.op_json("x", "status")
    check(st["firm"]["name"] == "x" and st["network_id"] == net.network_id and st["writable"],
          "status of x: firm, network id of the genesis, writable")

    x_addr, y_addr = net.daemons["x"].address, net.daemons["y"].address
    # Watchers from the start of x's log, started before any write.
    cli_watch = t.popen_cli("--config", net.config["x"], "watch", "--cursor", "0", "--count", "3",
                            "--for", "90", "--json")
    py_watch = t.popen_py("--node", x_addr, "--token", py_token_x, "watch", "--cursor", "0",
                          "--count", "3", "--for", "90")

    claim = net.op_json("x", "claim", "y", "40", "hours", "--memo", "forklift loan")["entry"]
    check(claim["kind"] == "claim" and claim["author_name"] == "x" and
          claim["counterparty_name"] == "y" and claim["amount"] == "40",
          "x claims 40 hours from y")
    claim_id = claim["id"]

    r = net.ship("x", "y", "x1.export")
    check(int(r["applied"]) + int(r["duplicates"]) >= 1, "y holds x's claim")
    pending = net.op_json("y", "pending")["claims"]
    check([c["id"] for c in pending] == [claim_id], "y sees the claim pending")

    before = net.digest("x")
    expect_refused("x accepts a claim addressed to y", net.op("x", "accept", claim_id), 4,
                   "is addressed to y", before, net.digest("x"))

    accept = net.op_json("y", "accept", claim_id)["entry"]
    check(accept["kind"] == "accept" and accept["claim_id"] == claim_id, "y accepts the claim")
    before = net.digest("y")
    expect_refused("double accept", net.op("y", "accept", claim_id), 4, "already answered",
                   before, net.digest("y"))
    check(net.op_json("y", "pending")["claims"] == [], "nothing pending at y after the accept")

    net.ship("y", "x", "y1.export")
    check(net.digest("x") == net.digest("y"), "x and y have equal state digests")
    for firm in ("x", "y"):
        b = net.op_json(firm, "balance", "x", "y", "hours")
        check(b["net"] == "40", "at %s: y owes x 40 hours" % firm)
        b = net.op_json(firm, "balance", "y", "x", "hours")
        check(b["net"] == "-40", "at %s: y's side is -40" % firm)
    check(net.balances("x", "x") == net.balances("y", "x") == [("x", "y", "hours", "40")],
          "balances of x listed the same at both nodes")

    release = net.op_json("x", "release", "y", "15", "hours", "--memo", "paid in kind")["entry"]
    check(release["kind"] == "release", "x releases y from 15 hours")
    net.ship("x", "y", "x2.export")
    check(net.digest("x") == net.digest("y"), "digests equal after the release")
    for firm in ("x", "y"):
        check(net.op_json(firm, "balance", "x", "y", "hours")["net"] == "25",
              "at %s: y owes x 25 hours" % firm)

    events = {"cli": wait_lines(cli_watch, 60), "python": wait_lines(py_watch, 60)}
    for who, evs in events.items():
        check([e["entry"]["kind"] for e in evs] == ["claim", "accept", "release"],
              "%s watcher saw claim, accept, release" % who)
        check(evs[0]["changes"] == [], "%s watcher: a claim changes no balance" % who)
        ch = evs[1]["changes"]
        check(len(ch) == 1 and ch[0]["debtor"]["name"] == "y" and
              ch[0]["creditor"]["name"] == "x" and ch[0]["delta"] == "40",
              "%s watcher: the accept makes y owe x 40" % who)
        check(evs[2]["changes"][0]["delta"] == "-15", "%s watcher: the release is -15" % who)
    first_cursor = events["cli"][0]["cursor"]
    resumed = wait_lines(t.popen_cli("--config", net.config["x"], "watch", "--cursor",
                                     first_cursor, "--count", "2", "--for", "30", "--json"), 40)
    check([e["entry"]["id"] for e in resumed] ==
          [e["entry"]["id"] for e in events["cli"][1:]], "watch resumes after a cursor")

    # The Python example client against y: reads, and a write as operator.
    op_y = read_operator_token(net.config["y"])
    st = t.py_json("--node", y_addr, "--token", op_y, "status")
    check(st["state_digest"] == net.digest("x"), "python status: same digest as x")
    b = t.py_json("--node", y_addr, "--token", op_y, "balance", "x", "y", "hours")
    check(b["net"] == "25", "python balance: y owes x 25")
    bs = t.py_json("--node", x_addr, "--token", py_token_x, "balances", "y")
    check([(r["counterparty"]["name"], r["net"]) for r in bs["balances"]] == [("x", "-25")],
          "python balances of y at x")
    owe = t.py_json("--node", y_addr, "--token", op_y, "owe", "x", "5", "hours",
                    "--memo", "coffee")
    check(owe["entry"]["kind"] == "obligation", "python write: y records it owes x 5")
    net.ship("y", "x", "y2.export")
    check(net.digest("x") == net.digest("y"), "digests equal after the python write")
    check(net.op_json("x", "balance", "x", "y", "hours")["net"] == "30", "y owes x 30 now")
    return claim_id, accept["id"], events["cli"]


def read_operator_token(config):
    # The CLI wrote it; read it the simple way (the first `token = "..."`).
    for line in open(config):
        if line.startswith("token = "):
            return line.split('"')[1]
    raise Failure("no token in " + config)


def bad_inputs(net, t, claim_id, accept_id):
    x = net.daemons["x"].address
    op_x = read_operator_token(net.config["x"])

    def refused(what, result, code, says, at="x"):
        """Runs result() against node `at`; its digest must not move."""
        before = net.digest(at)
        expect_refused(what, result(), code, says, before, net.digest(at))

    refused("unknown firm (CLI)", lambda: net.op("x", "claim", "nobody", "5", "hours"), 2,
            "unknown firm 'nobody'")
    refused("unknown firm (python)",
            lambda: t.py("--node", x, "--token", op_x, "claim", "nobody", "5", "hours"), 2,
            "unknown firm")
    refused("negative amount (CLI)", lambda: net.op("x", "claim", "y", "-5", "hours"), 4,
            "amount must be a positive")
    refused("zero amount (python, checked by the node)",
            lambda: t.py("--node", x, "--token", op_x, "claim", "y", "0", "hours"), 4,
            "INVALID_ARGUMENT")
    refused("bad unit", lambda: net.op("x", "claim", "y", "5", "no such unit!"), 4,
            "INVALID_ARGUMENT")
    refused("oversized memo (CLI)",
            lambda: net.op("x", "claim", "y", "5", "hours", "--memo", "m" * 513), 4, "memo")
    refused("oversized memo (python)",
            lambda: t.py("--node", x, "--token", op_x, "owe", "y", "5", "hours", "--memo",
                         "m" * 513), 4, "memo")
    refused("accept of an accept", lambda: net.op("y", "accept", accept_id), 4, "not a claim",
            at="y")
    refused("accept of an unknown id", lambda: net.op("x", "accept", "ab" * 32), 2,
            "NOT_FOUND")
    refused("bad page token (CLI)",
            lambda: net.op("x", "entries", "x", "--page-token", "garbage"), 4, "page_token")
    refused("bad page token (python)",
            lambda: t.py("--node", x, "--token", op_x, "entries", "x", "--page-token", "zz"), 4,
            "page_token")
    page = net.op_json("x", "entries", "x", "--limit", "1")
    check(page["next_page_token"] != "" and len(page["entries"]) == 1,
          "entries page 1 of x has a next page token")
    refused("page token of another feed",
            lambda: net.op("x", "entries", "y", "--page-token", page["next_page_token"]), 4,
            "page_token")
    all_x = net.op_json("x", "entries", "x", "--all", "--limit", "1")
    check([e["kind"] for e in all_x["entries"]] == ["claim", "release"],
          "entries --all follows the page tokens to the end")

    refused("missing token (CLI)", lambda: t.cli("--node", x, "status"), 3, "UNAUTHENTICATED")
    refused("missing token (python)", lambda: t.py("--node", x, "status"), 3, "UNAUTHENTICATED")
    refused("wrong token", lambda: net.as_token("x", "wrong-token-000000", "balances"), 3,
            "UNAUTHENTICATED")
    refused("partner z reads the x/y pair",
            lambda: net.as_token("x", TOKENS["partner_z"], "balance", "x", "y", "hours"), 3,
            "PERMISSION_DENIED")
    refused("partner z reads an x/y entry",
            lambda: net.as_token("x", TOKENS["partner_z"], "entry", claim_id), 3,
            "PERMISSION_DENIED")
    refused("partner writes", lambda: net.as_token("x", TOKENS["partner_y"], "claim", "x", "1",
                                                   "hours"), 3, "PERMISSION_DENIED")
    refused("auditor writes", lambda: net.as_token("x", TOKENS["auditor"], "owe", "y", "1",
                                                   "hours"), 3, "PERMISSION_DENIED")
    refused("partner exports",
            lambda: net.as_token("x", TOKENS["partner_y"], "export", "--out",
                                 os.path.join(net.work, "p.export")), 3, "PERMISSION_DENIED")
    check(not os.path.exists(os.path.join(net.work, "p.export")), "refused export left no file")

    code, out, err = net.as_token("x", TOKENS["partner_z"], "balances", "x", "--json")
    check(code == 0 and '"balances":[]' in out, "partner z lists x's balances: none it may see")
    code, out, err = net.as_token("x", TOKENS["partner_y"], "balance", "x", "y", "hours",
                                  "--json")
    check(code == 0 and '"net":"30"' in out, "partner y reads its own pair")
    code, out, err = net.as_token("x", TOKENS["auditor"], "export", "--out",
                                  os.path.join(net.work, "audit.export"))
    check(code == 0, "auditor exports")
    # Sealed by default (the node's checkpoint ends it): the auditor, run
    # through the CLI, verifies it, and finds the live node's digest in it.
    code, out, err = t.cli("audit", os.path.join(net.work, "audit.export"), "-q")
    check(code == 0 and "VERIFIED" in out and net.digest("x") in out,
          "keiretsu audit of the sealed export: %s" % (out or err).strip()[:400])
    code, out, err = t.cli("--node", x, "--token", TOKENS["auditor"], "audit",
                           os.path.join(net.work, "audit.export"), "-q", "--against", x)
    check(code == 0, "keiretsu audit --against the live node: %s" % (out or err).strip()[:400])

    # A damaged export: one content byte of the last entry flipped (its
    # signature no longer matches), so the node rejects it and nothing
    # changes. Unsealed, so that the last chunk is that entry.
    plain = os.path.join(net.work, "plain.export")
    code, out, err = net.op("x", "export", "--no-checkpoint", "--out", plain)
    check(code == 0, "export --no-checkpoint")
    data = bytearray(open(plain, "rb").read())
    data[-80] ^= 0x01
    bad = os.path.join(net.work, "damaged.export")
    open(bad, "wb").write(bytes(data))
    refused("import of a damaged entry", lambda: net.op("x", "import", bad), 4, "rejected")
    code, out, err = t.cli("audit", bad, "-q", "--allow-unsealed")
    check(code == 1 and "bad-signature" in out, "keiretsu audit of the damaged export fails")


def restart(net, watched):
    digests = {f: net.digest(f) for f in ("x", "y")}
    balances = {f: net.balances(f, "x") for f in ("x", "y")}
    entries = net.op_json("x", "entries", "y", "--all")
    net.stop()
    net.start()
    for f in ("x", "y"):
        check(net.digest(f) == digests[f], "%s keeps its digest across a restart" % f)
        check(net.balances(f, "x") == balances[f], "%s keeps its balances across a restart" % f)
    check(net.op_json("x", "entries", "y", "--all") == entries, "entries survive a restart")
    again = wait_lines(net.t.popen_cli("--config", net.config["x"], "watch", "--cursor", "0",
                                       "--count", "3", "--for", "30", "--json"), 40)
    check([(e["cursor"], e["entry"]["id"]) for e in again] ==
          [(e["cursor"], e["entry"]["id"]) for e in watched],
          "the watch log and its cursors survive a restart")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--keiretsu", required=True)
    p.add_argument("--keiretsud", required=True)
    p.add_argument("--client", required=True, help="examples/python/keiretsu_client.py")
    p.add_argument("--proto-dir", required=True)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="keiretsu-itest-")
    stubs = os.path.join(work, "stubs")
    tools = Tools(args.keiretsu, args.client, stubs)
    net = None
    try:
        # Generate the Python stubs once, from this tree's protos.
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.client)))
        import keiretsu_client
        keiretsu_client.ensure_stubs(args.proto_dir, stubs)

        net = Network(tools, args.keiretsud, work)
        net.start()
        claim_id, accept_id, watched = scenario(net, tools, read_operator_token(net.config["x"]))
        bad_inputs(net, tools, claim_id, accept_id)
        restart(net, watched)
        net.stop()
        print("PASS: two firms, CLI and Python client", flush=True)
    except (Failure, Exception) as exc:  # noqa: B902 - any failure must still stop the daemons
        fail_and_exit(exc, list(net.daemons.values()) if net else [])
    finally:
        if net:
            for d in net.daemons.values():
                d.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
