#!/usr/bin/python3
"""The operations listener's /metrics on live keiretsud processes, parsed with
Debian's python3-prometheus-client (issue: what an operator sees).

Two firms peered with each other, each with an operations listener:
  1. /metrics parses as the Prometheus text format and names the metrics
     by convention (keiretsu_ prefix, _total counters, base units, build info);
  2. writes at one node move its own-write counters, write and sync latency
     histograms and API call counters; replication moves the sending node's
     entries-sent counter and the receiving node's ingest and entries-received
     counters, by exactly the number of entries written;
  3. a refused API call is counted under its status code;
  4. every metric the Prometheus alerts and the Grafana dashboard in deploy/
     use is one the node exports;
  5. `keiretsu export` shows a progress line on a terminal (a pseudo-terminal
     from `script`), and none with --json or when stderr is a pipe.

Prints 'ok:' lines and exits non-zero on the first failure.
"""

import argparse
import glob
import os
import re
import sys
import tempfile
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, Failure, Tools, check, fail_and_exit, free_port  # noqa: E402

WRITES = 25


def scrape(address):
    with urllib.request.urlopen("http://%s/metrics" % address, timeout=10) as r:
        if r.status != 200:
            raise Failure("GET /metrics: %d" % r.status)
        ctype = r.headers.get("Content-Type", "")
        if not ctype.startswith("text/plain; version=0.0.4"):
            raise Failure("GET /metrics: content type %r" % ctype)
        return r.read().decode()


def samples(text):
    """{(sample name, frozenset(labels)): value} and the family types."""
    out, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, types


def value(sample_map, name, **labels):
    return sample_map.get((name, frozenset(labels.items())), 0.0)


def wait_until(what, predicate, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise Failure("timed out waiting until " + what)


def setup(tools, work):
    keys = {}
    for f in ("asahi", "biwa"):
        code, out, err = tools.cli("keygen", "--out", os.path.join(work, f + ".key"))
        check(code == 0, "keygen " + f)
        keys[f] = out.strip()
    genesis = os.path.join(work, "genesis.toml")
    check(tools.cli("genesis", "--name", "ops-test", "--out", genesis,
                    "--member", "asahi=" + keys["asahi"], "--member", "biwa=" + keys["biwa"])[0]
          == 0, "genesis")
    ports = {"asahi": free_port(), "biwa": free_port()}
    configs = {}
    for f, other in (("asahi", "biwa"), ("biwa", "asahi")):
        code, out, err = tools.cli(
            "init", "--firm", f, "--genesis", genesis, "--key", os.path.join(work, f + ".key"),
            "--dir", os.path.join(work, f), "--api-listen", "127.0.0.1:%d" % free_port(),
            "--peer-listen", "127.0.0.1:%d" % ports[f],
            "--peer", "%s=127.0.0.1:%d" % (other, ports[other]),
            "--ops-listen", "127.0.0.1:%d" % free_port())
        check(code == 0, "init %s with an operations listener (%s)" % (f, err.strip()))
        configs[f] = os.path.join(work, f, "keiretsud.toml")
    return configs


def ops_address(daemon):
    line = next(l for l in daemon.lines if "keiretsud ready" in l)
    return line.split("ops=")[1].split()[0]


def check_conventions(text):
    s, types = samples(text)
    check(types.get("keiretsu_build_info") == "gauge" and any(
        k[0] == "keiretsu_build_info" and dict(k[1]).get("version") and "commit" in dict(k[1])
        for k in s), "keiretsu_build_info has version and commit labels")
    for name, kind in [("keiretsu_ledger_entries", "counter"),
                       ("keiretsu_api_requests", "counter"),
                       ("keiretsu_peer_entries_sent", "counter"),
                       ("keiretsu_peer_entries_received", "counter"),
                       ("keiretsu_write_duration_seconds", "histogram"),
                       ("keiretsu_store_commit_duration_seconds", "histogram"),
                       ("keiretsu_pending_entries", "gauge"),
                       ("keiretsu_peer_entries_to_receive", "gauge"),
                       ("keiretsu_peer_entries_to_send", "gauge"),
                       ("keiretsu_data_dir_free_bytes", "gauge"),
                       ("keiretsu_peers_connected", "gauge")]:
        check(types.get(name) == kind, "%s is a %s" % (name, kind))
    for family in text_string_to_metric_families(text):
        check(family.name.startswith("keiretsu_"), "%s has the keiretsu_ prefix" % family.name)
        if family.type == "counter":
            check(all(x.name.endswith(("_total", "_created")) for x in family.samples),
                  "counter %s samples end in _total" % family.name)
    check(value(s, "keiretsu_data_dir_free_bytes") > 0, "free disk space is reported in bytes")


def check_deploy_names(text, deploy_dir):
    exported = set()
    for family in text_string_to_metric_families(text):
        exported.add(family.name + ("_total" if family.type == "counter" else ""))
        for smp in family.samples:
            exported.add(smp.name)
    files = glob.glob(os.path.join(deploy_dir, "grafana", "*.json")) + \
        glob.glob(os.path.join(deploy_dir, "prometheus", "*.yml"))
    check(len(files) >= 2, "deploy/ has a dashboard and Prometheus files")
    for path in files:
        used = set(re.findall(r"keiretsu_[a-z_]+", open(path).read()))
        unknown = sorted(n for n in used if n not in exported)
        check(not unknown, "%s uses only exported metrics %s" % (os.path.basename(path), unknown))


def check_progress(tools, config, work):
    """export on a pseudo-terminal shows progress; with --json or a pipe it does not."""
    import shlex
    import subprocess
    out = os.path.join(work, "tty.export")
    cmd = " ".join(shlex.quote(x) for x in [tools.cli_bin, "--config", config, "export",
                                            "--out", out])
    # Bytes, not text: universal newlines would turn the progress line's \r into \n.
    p = subprocess.run(["script", "-qefc", cmd, "/dev/null"], capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == 0 and b"\rexporting: " in p.stdout and b" entries (" in p.stdout,
          "export on a terminal shows a progress line: %r" % p.stdout[-200:])
    p = subprocess.run(["script", "-qefc", cmd + " --force --json", "/dev/null"],
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    check(p.returncode == 0 and b"exporting" not in p.stdout,
          "export --json on a terminal shows none: %r" % p.stdout[-200:])
    code, _, err = tools.cli("--config", config, "export", "--out", out, "--force")
    check(code == 0 and "\r" not in err and "exporting:" not in err,
          "export into a pipe shows none: %r" % err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keiretsu", required=True)
    ap.add_argument("--keiretsud", required=True)
    ap.add_argument("--deploy", required=True, help="the deploy/ directory")
    args = ap.parse_args()
    tools = Tools(args.keiretsu, None, None)
    daemons = []
    with tempfile.TemporaryDirectory(prefix="keiretsu-ops-") as work:
        try:
            configs = setup(tools, work)
            nodes = {}
            for f in ("asahi", "biwa"):
                d = Daemon(f, args.keiretsud, configs[f], os.path.join(work, f + ".log"))
                d.start()
                daemons.append(d)
                nodes[f] = ops_address(d)
            k = {f: (lambda *a, f=f: tools.cli("--config", configs[f], *a)) for f in configs}

            def connected(f):
                return value(samples(scrape(nodes[f]))[0], "keiretsu_peers_connected") == 1
            wait_until("both nodes report their peer connected",
                       lambda: connected("asahi") and connected("biwa"))
            wait_until("asahi is writable",
                       lambda: tools.cli_json("--config", configs["asahi"], "status")
                       .get("writable", False))
            check_conventions(scrape(nodes["asahi"]))

            a0, _ = samples(scrape(nodes["asahi"]))
            b0, _ = samples(scrape(nodes["biwa"]))
            for i in range(WRITES):
                code, out, err = k["asahi"]("owe", "biwa", str(i + 1), "hours")
                if code != 0:
                    raise Failure("owe failed: " + err)
            check(True, "asahi wrote %d obligations" % WRITES)
            code, out, err = k["asahi"]("owe", "nobody", "1", "hours")
            check(code != 0, "a write to an unknown firm is refused")

            def replicated():
                b, _ = samples(scrape(nodes["biwa"]))
                return value(b, "keiretsu_ledger_entries_total", origin="ingest",
                             outcome="applied") - value(b0, "keiretsu_ledger_entries_total",
                                                        origin="ingest", outcome="applied") >= WRITES
            wait_until("biwa applied the %d entries" % WRITES, replicated)
            a1, _ = samples(scrape(nodes["asahi"]))
            b1, _ = samples(scrape(nodes["biwa"]))

            def moved(before, after, name, **labels):
                return value(after, name, **labels) - value(before, name, **labels)
            check(moved(a0, a1, "keiretsu_ledger_entries_total", origin="own",
                        outcome="applied") == WRITES,
                  "asahi's own applied entries moved by %d" % WRITES)
            check(moved(a0, a1, "keiretsu_write_duration_seconds_count", result="ok") == WRITES,
                  "asahi's write latency histogram counted %d writes" % WRITES)
            check(moved(a0, a1, "keiretsu_store_commit_duration_seconds_count",
                        synced="true") >= 1, "asahi's sync latency histogram moved")
            check(moved(a0, a1, "keiretsu_api_requests_total",
                        method="keiretsu.v1.Ledger/RecordObligation", code="OK") == WRITES,
                  "asahi counted %d RecordObligation calls with code OK" % WRITES)
            check(moved(a0, a1, "keiretsu_api_requests_total",
                        method="keiretsu.v1.Ledger/RecordObligation", code="NOT_FOUND") == 1,
                  "the refused call is counted under NOT_FOUND")
            check(moved(a0, a1, "keiretsu_peer_entries_sent_total", peer="biwa") >= WRITES,
                  "asahi's entries sent to biwa moved by at least %d" % WRITES)
            check(moved(b0, b1, "keiretsu_ledger_entries_total", origin="ingest",
                        outcome="applied") == WRITES,
                  "biwa's ingested applied entries moved by exactly %d" % WRITES)
            check(moved(b0, b1, "keiretsu_peer_entries_received_total", peer="asahi") == WRITES,
                  "biwa's entries received from asahi moved by exactly %d" % WRITES)
            check(value(b1, "keiretsu_feed_head_seq", firm="asahi") == WRITES,
                  "biwa holds asahi's feed up to seq %d" % WRITES)
            check(value(a1, "keiretsu_pending_entries") == 0 and
                  value(b1, "keiretsu_pending_entries") == 0, "nothing pending")
            check_deploy_names(scrape(nodes["asahi"]), args.deploy)
            check_progress(tools, configs["asahi"], work)
            for d in daemons:
                check(d.stop() == 0, "%s stops cleanly" % d.name)
        except Exception as e:  # noqa: BLE001 - report and fail
            for d in daemons:
                d.kill()
            fail_and_exit(e, daemons)
    print("all ok")


if __name__ == "__main__":
    main()
