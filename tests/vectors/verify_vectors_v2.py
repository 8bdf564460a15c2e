#!/usr/bin/python3
"""Independent verifier of the keiretsu protocol v2 test vectors
(tests/vectors/v2.json), written from docs/PROTOCOL.md alone (sections 16,
18, 19; the model is keiretsu_v2.py beside this file).

    /usr/bin/python3 tests/vectors/verify_vectors_v2.py tests/vectors/v2.json \
        [--audit path/to/keiretsu-audit]

Checks every key, the version-2 genesis, every record's bytes and signature
from its fields, and for every scenario every expected value (per-record
outcomes, feeds and key chains, evidence, the epoch chain, proposal states,
balances, the state digest) and every checkpoint (docs/PROTOCOL.md 15.2:
its signature, a valid one's statement rebuilt from the model, the verdict).
Then tampers with copies and checks that each change is caught. With
--audit it also writes each scenario as an export file (docs/PROTOCOL.md
14), gives its checkpoints with --checkpoint, and requires the auditor's
membership history, feeds, balances and digest to equal this model's and
exactly the valid checkpoints to verify. The last line is
"N passed, M failed"; exit 0 only when nothing failed.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile

from keiretsu_v1 import (ENTRY_TAG, ZERO32, Genesis, H, genesis_from_toml, public_key_of, sign,
                         u16, u64, unhex)
from keiretsu_v2 import (ACTIONS, CHECKPOINT_TAG_V2, D, GenesisV2, Ledger, Record,
                         checkpoint_statement_v2, epoch_zero_hash, genesis_v2_from_toml, u32,
                         verify_checkpoint_v2)


class Tally:
    def __init__(self, quiet=False):
        self.passed, self.failed, self.quiet = 0, 0, quiet

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if not self.quiet:
                print(f"FAIL: {what}")
        return ok

    def equal(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")


def hx(b):
    return b.hex() if b is not None else None


# --------------------------------------------------------------- encoding (5.1, 5.2, 19.3)

def encode_body(kind, b):
    def s8(v):
        v = v.encode()
        return bytes([len(v)]) + v

    def s16(v):
        v = v.encode()
        return u16(len(v)) + v

    if kind == 4:
        return unhex(b["creditor"], 32) + u64(b["amount"]) + s8(b["unit"]) + s16(b["memo"])
    if kind == 6:
        codes = {v: k for k, v in ACTIONS.items()}
        out = unhex(b["epoch_hash"], 32) + u32(b["round"]) + bytes([codes[b["action"]]])
        out += u16(b["threshold"])
        if b["action"] == "admit":
            out += unhex(b["inception_key"], 32) + unhex(b["next_key_digest"], 32) + s8(b["name"])
        elif b["action"] == "remove":
            out += unhex(b["member"], 32) + u64(b["last_seq"])
        return out + s16(b["memo"])
    if kind == 7:
        return unhex(b["epoch_hash"], 32) + u32(b["round"]) + unhex(b["proposal_id"], 32)
    if kind == 8:
        return s16(b["memo"])
    if kind == 9:
        return unhex(b["new_key"], 32) + unhex(b["next_key_digest"], 32)
    raise ValueError(f"no encoder for kind {kind}")


def encode_content(network_id, r):
    return (bytes([1]) + network_id + unhex(r["author"], 32) + u64(r["seq"]) +
            unhex(r["prev"], 32) + u64(r["timestamp_ms"]) + bytes([r["kind"]]) +
            encode_body(r["kind"], r["body"]))


# --------------------------------------------------------------- the model's view

def model_view(led, recs):
    """Everything a scenario's `expected` holds, computed by the model."""
    now = led.epochs[-1]
    feeds, evidence = [], []
    for firm in sorted(now.members):
        w = led.walks[firm]
        feeds.append({"firm": hx(firm), "effective_seq": w.effective_seq,
                      "effective_id": hx(w.effective_id), "stop_seq": w.stop_seq,
                      "stop_reason": w.stop_reason, "left_seq": w.left_seq,
                      "counted_seq": led.counted[firm], "counted_id": hx(led.counted_id(firm)),
                      "keys": [{"from_seq": s, "key": hx(k), "next_key_digest": hx(d)}
                               for s, k, d in w.keys]})
        for kind, seq, first, second in w.evidence:
            evidence.append({"firm": hx(firm), "kind": kind, "seq": seq, "first": hx(first),
                             "second": hx(second)})
    epochs = []
    for e in led.epochs:
        epochs.append({"number": e.number, "hash": hx(e.hash), "threshold": e.threshold,
                       "passed": hx(e.passed),
                       "members": [{"firm": hx(m.id), "name": m.name.decode(),
                                    "next_key_digest": hx(m.next_key_digest),
                                    "since_epoch": m.since, "removed": m.removed,
                                    "removed_in_epoch": m.removed_in, "last_seq": m.last_seq}
                                   for _, m in sorted(e.members.items())]})
    proposals = []
    for pid in sorted(led.proposals):
        p = led.proposals[pid]
        item = {"id": hx(pid), "epoch": p.epoch, "round": p.body["round"], "state": p.state}
        if p.state == "passed":
            item["supporters"] = p.supporters
        proposals.append(item)
    return {
        "outcomes": [{"label": label, "outcome": led.outcome(rec)} for label, rec in recs],
        "feeds": feeds,
        "evidence": evidence,
        "epochs": epochs,
        "proposals": proposals,
        "pending_authors": [{"firm": hx(a), "records": n}
                            for a, n in sorted(led.pending_authors.items())],
        "balances": [{"firm": hx(f), "counterparty": hx(c), "unit": u.decode(), "net": str(v)}
                     for (f, c, u), v in sorted(led.balances.items())],
        "state_digest": hx(led.digest),
    }


def expected_view(exp):
    """The vectors' expected values in the model view's shape (supporters are
    listed for passed proposals only: 16)."""
    out = copy.deepcopy(exp)
    for p in out["proposals"]:
        if p["state"] != "passed":
            p.pop("supporters", None)
    return out


# --------------------------------------------------------------- verification

def verify(data, t):
    seeds = {}
    for k in data["keys"]:
        seed = unhex(k["seed"], 32)
        t.equal(seed, H(b"keiretsu-v2-vectors/" + k["name"].encode()), f"key {k['name']}: seed")
        pk = public_key_of(seed)
        seeds[k["name"]] = seed
        t.equal(pk.hex(), k["public_key"], f"key {k['name']}: public key")
        t.equal(D(pk).hex(), k["next_key_digest"], f"key {k['name']}: D(key) (19.1)")
    gj = data["genesis"]
    try:
        g = genesis_v2_from_toml(gj["toml"])
        t.equal(g.canonical.hex(), gj["canonical"], "genesis: canonical bytes from TOML (19.2)")
        back = GenesisV2.decode(unhex(gj["canonical"]))
        t.equal(back.canonical, g.canonical, "genesis: decode re-encodes")
    except ValueError as e:
        t.check(False, f"genesis: {e}")
        return None
    t.equal(g.network_id.hex(), gj["network_id"], "genesis: network id")
    t.equal(epoch_zero_hash(g.network_id).hex(), gj["epoch_hash"], "genesis: h(0) (19.1)")
    # The same founders under a version-1 genesis (19.2): no next keys, and
    # epoch 0's threshold floor(m/2)+1 whatever its admission_quorum.
    g1j = data["genesis_v1"]
    try:
        _, g1 = genesis_from_toml(g1j["toml"])
        t.equal(g1.canonical.hex(), g1j["canonical"], "genesis v1: canonical bytes from TOML")
        t.equal(Genesis.decode(unhex(g1j["canonical"])).canonical, g1.canonical,
                "genesis v1: decode re-encodes")
    except ValueError as e:
        t.check(False, f"genesis v1: {e}")
        return None
    t.equal(g1.network_id.hex(), g1j["network_id"], "genesis v1: network id")
    t.equal(epoch_zero_hash(g1.network_id).hex(), g1j["epoch_hash"], "genesis v1: h(0)")
    networks = {
        "v2": (g, g.threshold, [(k, n, d) for k, d, n in g.members]),
        "v1": (g1, len(g1.members) // 2 + 1, [(k, n, ZERO32) for k, n in g1.members]),
    }

    ledgers = {}
    for sc in data["scenarios"]:
        name = sc["name"]
        gen, threshold, founders = networks[sc["genesis"]]
        recs = []
        for r in sc["records"]:
            where = f"{name}/{r['label']}"
            content = encode_content(gen.network_id, r)
            t.equal(content.hex(), r["content"], f"{where}: content from fields")
            t.equal(H(content).hex(), r["id"], f"{where}: id")
            sig = sign(seeds[r["signer"]], ENTRY_TAG + content)
            t.equal(sig.hex(), r["signature"], f"{where}: signature by {r['signer']}")
            recs.append((r["label"], Record(unhex(r["content"]) + unhex(r["signature"]))))
        led = Ledger(gen.network_id, threshold, founders, [rec for _, rec in recs])
        ledgers[name] = (gen, led, recs)
        got, want = model_view(led, recs), expected_view(sc["expected"])
        for key in want:
            if isinstance(want[key], list) and len(got[key]) == len(want[key]):
                for i, (a, b) in enumerate(zip(got[key], want[key])):
                    t.equal(a, b, f"{name}: {key}[{i}]")
            else:
                t.equal(got[key], want[key], f"{name}: {key}")
        check_checkpoints(sc, led, seeds, t)
    return ledgers


def check_checkpoints(sc, led, seeds, t):
    """A scenario's checkpoints (15.2): each signature is the named key's over
    the v2 tag and the statement; a valid one's statement is exactly the one
    this model builds; and this model's verification gives the verdict."""
    for c in sc.get("checkpoints", []):
        where = f"{sc['name']}/checkpoint {c['label']}"
        statement, signer = unhex(c["statement"]), unhex(c["signer"], 32)
        signature = unhex(c["signature"], 64)
        t.equal(sign(seeds[c["signing_key"]], CHECKPOINT_TAG_V2 + statement).hex(),
                c["signature"], f"{where}: signature by {c['signing_key']}")
        if c["verdict"] == "valid":
            t.equal(checkpoint_statement_v2(led, signer, c["time_ms"]).hex(), c["statement"],
                    f"{where}: statement from the model")
        t.equal(verify_checkpoint_v2(led, statement, signer, signature), c["verdict"],
                f"{where}: verdict")


def tamper_checks(data, t):
    """Each change to a copy of the vectors must be caught."""
    def caught(mutate, what):
        d = copy.deepcopy(data)
        mutate(d)
        inner = Tally(quiet=True)
        verify(d, inner)
        t.check(inner.failed > 0, f"tamper not caught: {what}")

    def drop_vote(d):
        sc = next(s for s in d["scenarios"] if s["name"] == "admission")
        sc["records"] = [r for r in sc["records"] if r["label"] != "cobalt-votes"]
        sc["expected"]["outcomes"] = [o for o in sc["expected"]["outcomes"]
                                      if o["label"] != "cobalt-votes"]

    def flip(scenario, key, index, field, value):
        def f(d):
            sc = next(s for s in d["scenarios"] if s["name"] == scenario)
            sc["expected"][key][index][field] = value
        return f

    def drop_stop(d):
        sc = next(s for s in d["scenarios"] if s["name"] == "rotation-by-wrong-key")
        next(f for f in sc["expected"]["feeds"] if f["stop_seq"])["stop_seq"] = 0

    def digest(d):
        d["scenarios"][0]["expected"]["state_digest"] = "00" * 32

    caught(drop_vote, "a vote removed from the admission")
    caught(flip("removal", "outcomes", 2, "outcome", "counted"), "a removed member's entry counted")
    caught(drop_stop, "a stop dropped")
    caught(flip("competing-proposals", "proposals", 0, "state", "passed"), "a proposal's state")
    caught(digest, "a state digest")

    def checkpoint(label, field_, value):
        def f(d):
            sc = next(s for s in d["scenarios"] if label in
                      [c["label"] for c in s.get("checkpoints", [])])
            c = next(c for c in sc["checkpoints"] if c["label"] == label)
            c[field_] = value(c[field_]) if callable(value) else value
        return f

    caught(checkpoint("retired-key", "verdict", "valid"), "a retired key's checkpoint valid")
    caught(checkpoint("wrong-epoch-hash", "verdict", "valid"), "a wrong epoch hash valid")
    caught(checkpoint("atlas-checkpoint", "statement",
                      lambda h: h[:200] + ("0" if h[200] != "0" else "1") + h[201:]),
           "a changed byte in a valid checkpoint's epoch hash")


# --------------------------------------------------------------- the auditor

def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field(no, payload):
    return varint(no << 3 | 2) + varint(len(payload)) + payload


def export_file(genesis, recs, exporter):
    """An export (docs/PROTOCOL.md 14): the header, then every record feed by
    feed in seq order. Unsealed: the auditor runs with --allow-unsealed."""
    header = (varint(1 << 3) + varint(1) + field(2, field(1, genesis.canonical)) +
              field(3, exporter.hex().encode()) + varint(4 << 3) + varint(1790009999000))
    chunks = [field(1, header)]
    for rec in sorted((r for _, r in recs), key=lambda r: (r.author, r.seq, r.id)):
        chunks.append(field(2, field(1, rec.record)))
    return b"".join(len(c).to_bytes(4, "big") + c for c in chunks)


def audit_view(report):
    g = report["governance"]
    return {
        "state_digest": report["state_digest"],
        "balances": [(b["firm"], b["counterparty"], b["unit"], b["net"])
                     for b in report["balances"]],
        "epochs": [(e["number"], e["hash"], e["threshold"],
                    e["passed"] if e["number"] else None) for e in g["epochs"]],
        "members": [(m["firm"], m["since_epoch"], m["removed"], m["removed_in_epoch"],
                     m["last_seq"], m["left_seq"],
                     [(k["from_seq"], k["key"], k["next_key_digest"]) for k in m["keys"]])
                    for m in g["members"]],
        "proposals": sorted((p["id"], p["state"], p["epoch"]) for p in g["proposals"]),
        "feeds": [(f["firm"], f["effective_seq"], f["effective_id"], f["stop_seq"])
                  for f in report["feeds"]],
        "pending_authors": [(p["firm"], p["records"]) for p in g["pending_authors"]],
    }


def model_audit_view(led):
    now = led.epochs[-1]
    return {
        "state_digest": hx(led.digest),
        "balances": [(hx(f), hx(c), u.decode(), str(v))
                     for (f, c, u), v in sorted(led.balances.items())],
        "epochs": [(e.number, hx(e.hash), e.threshold, hx(e.passed)) for e in led.epochs],
        "members": [(hx(m.id), m.since, m.removed, m.removed_in, m.last_seq,
                     led.walks[m.id].left_seq,
                     [(s, hx(k), hx(d)) for s, k, d in led.walks[m.id].keys])
                    for _, m in sorted(now.members.items())],
        "proposals": sorted((hx(p.id), p.state, p.epoch) for p in led.proposals.values()),
        "feeds": [(hx(f), led.counted[f], hx(led.counted_id(f)), led.walks[f].stop_seq)
                  for f in sorted(now.members)],
        "pending_authors": [(hx(a), n) for a, n in sorted(led.pending_authors.items())],
    }


def checkpoint_file(c):
    """A keiretsu.v1.Checkpoint (binary): statement 1, signer 2, signature 3."""
    return (field(1, unhex(c["statement"])) + field(2, unhex(c["signer"], 32)) +
            field(3, unhex(c["signature"], 64)))


def compare_auditor(auditor, ledgers, checkpoints, t):
    with tempfile.TemporaryDirectory() as tmp:
        for name, (genesis, led, recs) in ledgers.items():
            exporter = genesis.members[0][0]
            path = os.path.join(tmp, name + ".export")
            with open(path, "wb") as f:
                f.write(export_file(genesis, recs, exporter))
            # The scenario's checkpoints, each given with --checkpoint: the
            # auditor must verify exactly those whose verdict is valid.
            cp_args = []
            for i, c in enumerate(checkpoints.get(name, [])):
                cp_path = os.path.join(tmp, f"{name}.{i}.checkpoint")
                with open(cp_path, "wb") as f:
                    f.write(checkpoint_file(c))
                cp_args += ["--checkpoint", cp_path]
            run = subprocess.run([auditor, "--json", "--allow-unsealed", "-q", "--threads", "1",
                                  *cp_args, path], capture_output=True, text=True, timeout=60)
            try:
                report = json.loads(run.stdout)
            except json.JSONDecodeError:
                t.check(False, f"auditor on {name}: no JSON report (exit {run.returncode}): "
                               f"{run.stdout[:300]} {run.stderr[:300]}")
                continue
            t.equal(report.get("protocol_rules"), 2, f"auditor on {name}: v2 rules")
            if report.get("governance") is None:
                t.check(False, f"auditor on {name}: no membership history")
                continue
            got, want = audit_view(report), model_audit_view(led)
            for key in want:
                t.equal(got[key], want[key], f"auditor on {name}: {key}")
            given = checkpoints.get(name, [])
            reported = report.get("checkpoints", [])
            if t.equal(len(reported), len(given), f"auditor on {name}: checkpoints reported"):
                for c, r in zip(given, reported):
                    t.equal(r["verified"], c["verdict"] == "valid",
                            f"auditor on {name}: checkpoint {c['label']} verified")
                    if c["verdict"] == "valid":
                        t.check(r["matches"], f"auditor on {name}: checkpoint {c['label']} "
                                              f"matches the audited digest")


def main(argv):
    args = argv[1:]
    auditor = None
    if "--audit" in args:
        i = args.index("--audit")
        auditor = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__)
        return 2
    with open(args[0]) as f:
        data = json.load(f)
    t = Tally()
    result = verify(data, t)
    t.check(len(data["scenarios"]) >= 39, "fifteen named scenarios and 24 random histories")
    if result:
        tamper_checks(data, t)
        if auditor:
            checkpoints = {sc["name"]: sc.get("checkpoints", []) for sc in data["scenarios"]}
            compare_auditor(auditor, result, checkpoints, t)
    print(f"{t.passed} passed, {t.failed} failed")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
