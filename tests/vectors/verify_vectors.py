#!/usr/bin/python3
"""Independent verifier of the keiretsu v1 test vectors (tests/vectors/v1.json).

Written from docs/PROTOCOL.md alone, not from the C++ sources: it is the
proof that the document is enough to check an implementation. The protocol
itself is modelled in keiretsu_v1.py beside this file; this script holds the
model against every value of the vectors file. It uses only the standard
library (hashlib.blake2b with digest_size=32, tomllib, json) and PyNaCl
(Debian package python3-nacl).

    /usr/bin/python3 tests/vectors/verify_vectors.py tests/vectors/v1.json

After verifying the file it tampers with copies of it and checks that each
change is caught, so a verifier that checks nothing cannot pass. Exits 0 only
if everything holds; the last line is "N passed, M failed".
"""

import copy
import json
import random
import sys
import tomllib

from keiretsu_v1 import (ENTRY_TAG, KEY_FILE_PREFIX, ZERO32, Genesis, Ledger, H,
                         check_record, ed25519_verify, encode_content, genesis_from_toml,
                         parse_key_file, public_key_of, s_plus_l, sign, unhex)

# --------------------------------------------------------------- verification


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


def verify_keys(t, data, genesis):
    seeds = {}
    for k in data["keys"]:
        seed = unhex(k["seed"], 32)
        seeds[k["name"]] = seed
        pk = public_key_of(seed)
        t.equal(pk.hex(), k["public_key"], f"key {k['name']}: public key")
        t.equal(k["key_file"], KEY_FILE_PREFIX + seed.hex() + "\n", f"key {k['name']}: file")
        t.equal(parse_key_file(k["key_file"]), seed, f"key {k['name']}: file parses")
        t.equal(pk in genesis.keys, k["member"], f"key {k['name']}: member")
    return seeds


def verify_genesis(t, g):
    doc, genesis = genesis_from_toml(g["toml"])
    t.equal(doc["network"], g["network"], "genesis: TOML network")
    t.equal(doc["created_unix"], g["created_unix"], "genesis: TOML created_unix")
    t.equal(doc.get("admission_quorum", 1), g["admission_quorum"], "genesis: TOML quorum")
    t.equal([(m["name"], m["public_key"].lower()) for m in doc["members"]],
            [(m["name"], m["public_key"]) for m in g["members"]], "genesis: TOML members")
    from_fields = Genesis(g["network"].encode(), g["created_unix"], g["admission_quorum"],
                          [(unhex(m["public_key"], 32), m["name"].encode()) for m in g["members"]])
    t.equal(from_fields.canonical, genesis.canonical, "genesis: fields agree with TOML")
    t.equal(genesis.canonical.hex(), g["canonical"], "genesis: canonical bytes")
    t.equal(genesis.network_id.hex(), g["network_id"], "genesis: network id")
    t.equal(Genesis.decode(unhex(g["canonical"])).network_id, genesis.network_id,
            "genesis: canonical bytes decode")
    return genesis


def as_json(body):
    """A parsed body in the vectors' notation: keys and ids hex, texts decoded."""
    return {k: v.decode() if k in ("unit", "memo") else v.hex() if isinstance(v, bytes) else v
            for k, v in body.items()}


def verify_entries(t, data, genesis, seeds):
    records = {}
    for e in data["entries"]:
        what, fields = f"entry {e['label']}", e["fields"]
        content = encode_content(fields)
        signature = sign(seeds[e["signer"]], ENTRY_TAG + content)
        if e["tamper"] == "s-plus-l":
            signature = s_plus_l(signature)
        else:
            t.equal(e["tamper"], "none", f"{what}: tamper")
        record = content + signature
        t.equal(content.hex(), e["content"], f"{what}: content")
        t.equal(signature.hex(), e["signature"], f"{what}: signature")
        t.equal(record.hex(), e["record"], f"{what}: record")
        t.equal(H(content).hex(), e["id"], f"{what}: id")
        c = check_record(unhex(e["record"]), genesis)
        t.equal(c.fault, e["check"], f"{what}: check")
        if c.header is not None and c.fault != "malformed":  # the parse agrees with the fields
            h = c.header
            t.equal([h["network_id"].hex(), h["author"].hex(), h["seq"], h["prev"].hex(),
                     h["timestamp_ms"]],
                    [fields["network_id"], fields["author"], fields["seq"], fields["prev"],
                     fields["timestamp_ms"]], f"{what}: parsed header")
        if c.body is not None:
            t.equal((c.header["kind"], as_json(c.body)), (fields["kind"], fields["body"]),
                    f"{what}: parsed body")
        records[e["label"]] = unhex(e["record"])
    return records


def verify_records(t, data, genesis, seeds):
    """Raw records at the edges of the checks of section 7."""
    for r in data["records"]:
        what = f"record {r['label']}"
        content = unhex(r["content"])
        signature = sign(seeds[r["signer"]], ENTRY_TAG + content)
        t.equal(signature.hex(), r["signature"], f"{what}: signature")
        t.equal((content + signature).hex(), r["record"], f"{what}: record")
        t.equal(H(content).hex(), r["id"], f"{what}: id")
        t.equal(check_record(unhex(r["record"]), genesis).fault, r["check"], f"{what}: check")


def verify_ingest(t, data, genesis, records, entries_json):
    ledger = Ledger(genesis)
    for step in data["ingest"]:
        what = f"ingest step {step['step']} ({step['entry']})"
        t.equal(ledger.ingest(records[step["entry"]]), step["outcome"], f"{what}: outcome")
        t.equal(H(ledger.digest_input()).hex(), step["state_digest"], f"{what}: state digest")
    final = data["final"]
    feeds = []
    for author in sorted(ledger.feeds):
        f = ledger.feeds[author]
        if f.head_seq or f.stop_seq:
            feeds.append({"author": author.hex(), "head_seq": f.head_seq,
                          "head_id": f.head_id.hex(), "effective_seq": f.effective_seq,
                          "effective_id": f.effective_id.hex(), "stop_seq": f.stop_seq,
                          "stop_reason": f.stop_reason})
    t.equal(feeds, final["feeds"], "final feeds")
    balances = [{"firm": a.hex(), "counterparty": b.hex(), "unit": u.decode(), "net": str(v)}
                for (a, b, u), v in sorted(ledger.net.items()) if v]
    t.equal(balances, final["balances"], "final balances")
    t.equal({k: v for k, v in ledger.net.items() if v}, ledger.balances_from_scratch(),
            "balances equal the sum over effective entries")
    t.check(all(ledger.net.get((b, a, u), 0) == -v for (a, b, u), v in ledger.net.items()),
            "net(a, b) = -net(b, a)")
    evidence = [{"kind": kind, "author": a.hex(), "seq": s, "first": x.id.hex(),
                 "second": y.id.hex() if y else None}
                for (a, s), (kind, x, y) in sorted(ledger.evidence.items())]
    t.equal(evidence, final["evidence"], "final evidence")
    for (a, s), (kind, x, y) in sorted(ledger.evidence.items()):
        verify_evidence(t, ledger, kind, a, s, x, y)
    open_claims = {}
    for (debtor, claim), _ in sorted(ledger.claims.items()):
        if not ledger.answers.get((debtor, claim)):
            open_claims.setdefault(debtor, []).append(claim.hex())
    t.equal([{"debtor": d.hex(), "claims": c} for d, c in sorted(open_claims.items())],
            final["open_claims"], "final open claims")
    asked = sorted({(unhex(e["fields"]["author"]), unhex(e["fields"]["body"]["claim_id"]))
                    for e in entries_json if e["fields"]["kind"] in ("accept", "decline")})
    # The lowest answer id when a debtor answered a claim more than once.
    answers = [{"debtor": d.hex(), "claim_id": c.hex(), "answer_id": min(ledger.answers[(d, c)]).hex()}
               for d, c in asked if ledger.answers.get((d, c))]
    t.equal(answers, final["answers"], "final answers")
    t.equal(ledger.pending_count(), final["pending"], "final pending")
    t.equal(ledger.digest_input().hex(), final["state_digest_input"], "state digest input")
    t.equal(H(ledger.digest_input()).hex(), final["state_digest"], "state digest")
    return ledger


def verify_evidence(t, ledger, kind, author, seq, first, second):
    """Section 11: each evidence item checked on its own."""
    what = f"evidence {kind} {author.hex()[:8]}/{seq}"
    for c in (first, second) if second else (first,):
        again = check_record(c.record, ledger.genesis)
        t.check(again.fault in ("none", "invalid-body", "unknown-kind") and again.author == author
                and again.seq == seq, f"{what}: record passes checks 1-6 at its place")
    if kind == "fork":
        t.check(first.id < second.id, f"{what}: two different records, lower id first")
    else:
        t.equal(first.fault, "invalid-body", f"{what}: the record breaks a rule")
        prev = ledger.feeds[author].entries[seq - 1].id if seq > 1 else ZERO32
        t.equal(first.header["prev"], prev, f"{what}: chained onto the feed")


def verify_convergence(t, data, genesis, records):
    """8.7: other arrival orders of the same records reach the same state."""
    want = data["final"]
    labels = [s["entry"] for s in data["ingest"]]
    rng = random.Random(1)
    want_balances = {(b["firm"], b["counterparty"], b["unit"]): int(b["net"])
                     for b in want["balances"]}
    for round_ in range(12):
        order = labels[:]
        rng.shuffle(order)
        ledger = Ledger(genesis)
        for label in order:
            ledger.ingest(records[label])
        t.equal(H(ledger.digest_input()).hex(), want["state_digest"],
                f"shuffled order {round_}: state digest")
        t.equal({(a.hex(), b.hex(), u.decode()): v for (a, b, u), v in ledger.net.items() if v},
                want_balances, f"shuffled order {round_}: balances")


def verify(data, quiet=False):
    t = Tally(quiet)
    try:
        t.equal(data["format"], "keiretsu-test-vectors", "format")
        genesis = verify_genesis(t, data["genesis"])
        seeds = verify_keys(t, data, genesis)
        for c in data["signature_checks"]:
            t.equal(ed25519_verify(unhex(c["public_key"], 32), unhex(c["message"]),
                           unhex(c["signature"], 64)),
                    c["valid"], f"signature check {c['label']}")
        records = verify_entries(t, data, genesis, seeds)
        verify_records(t, data, genesis, seeds)
        # Ingest steps name entries or raw records (protocol v2's unknown kind).
        for r in data["records"]:
            records.setdefault(r["label"], unhex(r["record"]))
        verify_ingest(t, data, genesis, records, data["entries"])
        verify_convergence(t, data, genesis, records)
    except (KeyError, ValueError, TypeError, IndexError, tomllib.TOMLDecodeError) as e:
        t.check(False, f"vectors unreadable: {type(e).__name__}: {e}")
    return t


# Changes to the vectors that a working verifier must catch.
MUTATIONS = {
    "a signature byte": lambda d: flip(d["entries"][0], "signature"),
    "an entry id": lambda d: flip(d["entries"][3], "id"),
    "a content field": lambda d: d["entries"][0]["fields"]["body"].update(amount=71),
    "the network id": lambda d: flip(d["genesis"], "network_id"),
    "a member's name in the TOML": lambda d: d["genesis"].update(
        toml=d["genesis"]["toml"].replace('"atlas-logistics"', '"atlas-logistix"')),
    "a key file": lambda d: d["keys"][1].update(key_file=d["keys"][0]["key_file"]),
    "a signature verdict": lambda d: d["signature_checks"][1].update(valid=True),
    "a check fault": lambda d: d["entries"][-1].update(check="invalid-body"),
    "a raw record's check": lambda d: d["records"][6].update(check="invalid-body"),
    "an ingest outcome": lambda d: d["ingest"][7].update(outcome="applied"),
    "a step's digest": lambda d: flip(d["ingest"][12], "state_digest"),
    "a balance": lambda d: d["final"]["balances"][0].update(net="5"),
    "an evidence id": lambda d: flip(d["final"]["evidence"][0], "first"),
    "an open claim": lambda d: d["final"]["open_claims"].clear(),
    "the final digest": lambda d: flip(d["final"], "state_digest"),
}


def flip(obj, key):
    obj[key] = ("1" if obj[key][0] != "1" else "2") + obj[key][1:]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        data = json.load(f)
    t = verify(data)
    print(f"vectors: {t.passed} checks passed, {t.failed} failed")
    caught = 0
    for name, mutate in MUTATIONS.items():
        bad = copy.deepcopy(data)
        mutate(bad)
        if verify(bad, quiet=True).failed > 0:
            caught += 1
        else:
            print(f"FAIL: tampering with {name} went unnoticed")
    print(f"self-test: {caught} of {len(MUTATIONS)} tamperings caught")
    failed = t.failed + len(MUTATIONS) - caught
    print(f"{t.passed + caught} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
