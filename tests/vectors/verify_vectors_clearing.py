#!/usr/bin/python3
"""Independent verifier of the keiretsu clearing test vectors
(tests/vectors/clearing.json), written from docs/PROTOCOL.md section 20
(kinds 10 and 11, a proposal's validity, stances, outcomes and set-offs)
on top of the protocol v2 model in keiretsu_v2.py (sections 18-19: walks,
epochs, counted prefixes, balances, the state digest).

    /usr/bin/python3 tests/vectors/verify_vectors_clearing.py tests/vectors/clearing.json

Checks every key and the genesis; every record's bytes, signature and id
from its fields; for every scenario each proposal's outcome and stances,
each member's counted prefix, the balances (counted debts plus committed
set-offs) and the state digest; that every bad body breaks a rule of 20.2
and every good one none; then tampers with copies and checks that each
change is caught. The last line is "N passed, M failed"; exit 0 only when
nothing failed.
"""

import copy
import json
import sys

from keiretsu_v1 import ENTRY_TAG, ZERO32, H, is_name, public_key_of, sign, u16, u64, unhex
from keiretsu_v2 import HEADER, D, GenesisV2, Ledger, Record

CLEARING_PROPOSE, CLEARING_VOTE = 10, 11
MAX_AMOUNT = 10**15


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


# --------------------------------------------------------------- 5.1, 5.2, 20.2 encoding

def s8(v):
    return bytes([len(v)]) + v


def encode_body(kind, b):
    if kind == 4:
        return (unhex(b["creditor"], 32) + u64(b["amount"]) + s8(b["unit"].encode()) +
                u16(len(b["memo"].encode())) + b["memo"].encode())
    if kind == 5:
        return (unhex(b["debtor"], 32) + u64(b["amount"]) + s8(b["unit"].encode()) +
                u16(len(b["memo"].encode())) + b["memo"].encode())
    if kind == CLEARING_PROPOSE:
        out = s8(b["unit"].encode()) + u64(b["expiry_ms"]) + bytes([len(b["participants"])])
        for p in b["participants"]:
            out += unhex(p["firm"], 32) + u64(p["head_seq"]) + unhex(p["head_id"], 32)
        out += bytes([len(b["legs"])])
        for leg in b["legs"]:
            out += bytes([leg["debtor"], leg["creditor"]]) + u64(leg["amount"])
        return out
    if kind == CLEARING_VOTE:
        return unhex(b["proposal_id"], 32) + bytes([b["decision"]])
    raise ValueError(f"kind {kind} is not used by these vectors")


def encode_content(network_id, author, r):
    return (bytes([1]) + network_id + author + u64(r["seq"]) + unhex(r["prev"], 32) +
            u64(r["timestamp_ms"]) + bytes([r["kind"]]) + encode_body(r["kind"], r["body"]))


# --------------------------------------------------------------- 20.2 bodies and rules

class ClearingRecord(Record):
    """A record of any v2 kind; kinds 10 and 11 decoded by 20.2."""

    def decode(self, r):
        self.clearing = None  # a well-formed proposal or vote, as a dict
        if self.kind not in (CLEARING_PROPOSE, CLEARING_VOTE):
            return super().decode(r)
        if self.kind == CLEARING_PROPOSE:
            b = {"unit": r.str8(), "expiry_ms": r.u64(), "participants": [], "legs": []}
            for _ in range(r.u8()):
                b["participants"].append((r.take(32), r.u64(), r.take(32)))
            for _ in range(r.u8()):
                b["legs"].append((r.u8(), r.u8(), r.u64()))
        else:
            b = {"proposal_id": r.take(32), "decision": r.u8()}
        if not r.ok or r.remaining():
            self.broken = "body truncated or trailing bytes"
            return
        self.body = b
        self.broken = self.clearing_rule_broken()
        if not self.broken:
            self.clearing = b

    def clearing_rule_broken(self):
        """20.2 rules 1-8."""
        b = self.body
        if self.seq == 0 or (self.seq == 1) != (self.prev == ZERO32):
            return "rule 8: seq and prev"
        if self.kind == CLEARING_VOTE:
            if b["proposal_id"] == ZERO32 or b["decision"] not in (1, 2):
                return "rule 7"
            return None
        if not is_name(b["unit"], 1, 16):
            return "rule 1: unit"
        ps, legs = b["participants"], b["legs"]
        n = len(ps)
        if n < 2 or any(f == ZERO32 for f, _, _ in ps):
            return "rule 2: participants"
        if any(ps[i][0] >= ps[i + 1][0] for i in range(n - 1)):
            return "rule 2: not strictly ascending"
        if any((s == 0) != (i == ZERO32) for _, s, i in ps):
            return "rule 2: head"
        if self.author not in [f for f, _, _ in ps]:
            return "rule 3: proposer"
        if len(legs) < 2:
            return "rule 4: legs"
        for k, (d, c, a) in enumerate(legs):
            if d >= n or c >= n or d == c or not 1 <= a <= MAX_AMOUNT:
                return "rule 4: leg"
            if k and (legs[k - 1][0], legs[k - 1][1]) >= (d, c):
                return "rule 4: legs not strictly ascending"
        if {i for d, c, _ in legs for i in (d, c)} != set(range(n)):
            return "rule 5: idle participant"
        for i in range(n):
            if (sum(a for d, _, a in legs if d == i) != sum(a for _, c, a in legs if c == i)):
                return "rule 6: not a circulation"
        return None


# --------------------------------------------------------------- 20.3-20.5 outcomes

def clearing(led):
    """Every proposal's outcome and stances, and the balances with the
    committed set-offs (20.5), over the counted prefixes of `led`."""
    members = led.epochs[-1].members  # every member of some epoch
    feeds = {f: led.walks[f].prefix[:led.counted[f]] for f in members}

    def debt(rec):
        if rec.debt and rec.debt[0] in members and rec.debt[1] in members:
            return rec.debt
        return None

    def owed(d, s_d, c, s_c, unit):
        total = 0
        for firm, upto in ((d, s_d), (c, s_c)):
            for rec in feeds[firm][:upto]:
                x = debt(rec)
                if x and x[2] == unit:
                    if (x[0], x[1]) == (d, c):
                        total += x[3]
                    elif (x[0], x[1]) == (c, d):
                        total -= x[3]
        return total

    def stance(firm, pid, expiry):
        if firm not in feeds:
            return "undecided"
        for rec in feeds[firm]:
            if rec.timestamp_ms > expiry:
                return "lapsed"
            v = rec.clearing if rec.kind == CLEARING_VOTE else None
            if v and v["proposal_id"] == pid:
                return "accepted" if v["decision"] == 1 else "rejected"
        return "undecided"

    outcomes, balances = {}, dict(led.balances)
    for firm, prefix in feeds.items():
        for rec in prefix:
            if rec.kind != CLEARING_PROPOSE or not rec.clearing:
                continue
            p = rec.clearing
            void, known = False, True
            for f, s, i in p["participants"]:
                if f not in feeds or s > len(feeds[f]):
                    known = False
                elif s > 0 and feeds[f][s - 1].id != i:
                    void = True
            if not void and known:
                for d, c, a in p["legs"]:
                    (fd, sd, _), (fc, sc, _) = p["participants"][d], p["participants"][c]
                    if a > owed(fd, sd, fc, sc, p["unit"]):
                        void = True
            stances = [stance(f, rec.id, p["expiry_ms"]) for f, _, _ in p["participants"]]
            if void:
                outcome = "void"
            elif "rejected" in stances:
                outcome = "rejected"
            elif "lapsed" in stances:
                outcome = "expired"
            elif known and all(s == "accepted" for s in stances):
                outcome = "committed"
                for d, c, a in p["legs"]:
                    debtor, creditor = p["participants"][d][0], p["participants"][c][0]
                    for key, v in (((creditor, debtor, p["unit"]), -a),
                                   ((debtor, creditor, p["unit"]), a)):
                        balances[key] = balances.get(key, 0) + v
            else:
                outcome = "pending"
            outcomes[rec.id] = (outcome, stances)
    return outcomes, {k: v for k, v in balances.items() if v != 0}


# --------------------------------------------------------------- the file

def verify(data, t):
    seeds, names, keys = {}, {}, {}
    for k in data["keys"]:
        seed = unhex(k["seed"], 32)
        pk = public_key_of(seed)
        t.equal(pk.hex(), k["public_key"], f"key {k['name']}: public key from seed")
        digest = unhex(k["next_key_digest"], 32)
        t.check(digest not in (ZERO32, D(pk)), f"key {k['name']}: next-key digest usable")
        seeds[k["name"]], keys[k["name"]], names[pk] = seed, pk, k["name"]
    gj = data["genesis"]
    g = GenesisV2(gj["network"].encode(), gj["created_unix"], gj["threshold"],
                  [(keys[k["name"]], unhex(k["next_key_digest"], 32), k["name"].encode())
                   for k in data["keys"]])
    t.equal(g.canonical.hex(), gj["canonical"], "genesis: canonical bytes")
    t.equal(g.network_id.hex(), gj["network_id"], "genesis: network id")
    founders = [(k, n, d) for k, d, n in g.members]

    def record_of(r, where):
        content = encode_content(g.network_id, keys[r["author"]], r)
        record = unhex(r["record"])
        t.equal(content.hex(), record[:-64].hex(), f"{where}: content from fields")
        sig = sign(seeds[r["author"]], ENTRY_TAG + content)
        t.equal(sig.hex(), record[-64:].hex(), f"{where}: signature")
        return ClearingRecord(record)

    for sc in data["scenarios"]:
        name = sc["name"]
        recs = []
        for i, r in enumerate(sc["records"]):
            rec = record_of(r, f"{name}/{i}")
            t.equal(rec.id.hex(), r["id"], f"{name}/{i}: id")
            t.equal(rec.broken, None, f"{name}/{i}: body rules")
            recs.append(rec)
        want = sc["expected"]
        for order in ("given", "reversed"):
            led = Ledger(g.network_id, g.threshold, founders,
                         recs if order == "given" else list(reversed(recs)))
            outcomes, balances = clearing(led)
            got_p = [{"id": pid.hex(), "outcome": o, "stances": s}
                     for pid, (o, s) in sorted(outcomes.items())]
            t.equal(got_p, want["proposals"], f"{name} ({order}): proposals")
            got_f = [{"firm": names[f], "counted_seq": led.counted[f],
                      "stop_seq": led.walks[f].stop_seq} for f in sorted(led.counted)]
            t.equal(got_f, want["feeds"], f"{name} ({order}): feeds")
            got_b = [{"firm": names[f], "counterparty": names[c], "unit": u.decode(),
                      "net": str(v)} for (f, c, u), v in sorted(balances.items())]
            t.equal(got_b, want["balances"], f"{name} ({order}): balances")
            t.equal(led.digest.hex(), want["state_digest"], f"{name} ({order}): state digest")
        # Net positions do not change by clearing (20.5).
        _, with_set_offs = clearing(led)
        for firm in founders:
            def position(bal):
                return sum(v for (f, _, _), v in bal.items() if f == firm[0])
            t.equal(position(with_set_offs), position(led.balances),
                    f"{name}: net position of {names[firm[0]]} kept")
    for b in data["bad_bodies"]:
        rec = record_of(b, f"bad body {b['label']}")
        got = "invalid-body" if rec.broken else "none"
        t.equal(got, b["check"], f"bad body {b['label']} ({b['rule']}): check")
        if b["rule"] != "none" and rec.broken:
            t.check(rec.broken.startswith("rule " + b["rule"].split()[-1]) or
                    "truncated" in rec.broken,
                    f"bad body {b['label']}: breaks {b['rule']}, not {rec.broken}")
    return True


def tamper_checks(data, t):
    """Each change to a copy of the vectors must be caught."""
    def caught(mutate, what):
        d = copy.deepcopy(data)
        mutate(d)
        quiet = Tally(quiet=True)
        try:
            verify(d, quiet)
        except (ValueError, KeyError, IndexError):
            quiet.failed += 1
        t.check(quiet.failed > 0, f"tamper not caught: {what}")

    def by_name(d, name):
        return next(s for s in d["scenarios"] if s["name"] == name)

    def outcome(name, value):
        def f(d):
            by_name(d, name)["expected"]["proposals"][0]["outcome"] = value
        return f

    caught(outcome("commit", "pending"), "commit reported pending")
    caught(outcome("stale-leg", "committed"), "stale proposal reported committed")
    caught(outcome("first-vote-counts", "committed"), "a later accept counted")
    caught(outcome("expired-by-later-entry", "committed"), "a lapsed participant counted")

    def balance(d):
        by_name(d, "commit")["expected"]["balances"][0]["net"] = "0"
    caught(balance, "a balance changed")

    def leg(d):
        by_name(d, "commit")["records"][4]["body"]["legs"][0]["amount"] += 1
    caught(leg, "a leg's amount changed")

    def decision(d):
        rec = by_name(d, "pending")["records"][-1]
        rec["body"]["decision"] = 2
    caught(decision, "a vote's decision changed")

    def rule(d):
        d["bad_bodies"][0]["check"] = "invalid-body"
    caught(rule, "a good body reported bad")


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    with open(argv[1]) as f:
        data = json.load(f)
    t = Tally()
    verify(data, t)
    t.check(len(data["scenarios"]) >= 12, "twelve named scenarios")
    t.check(len(data["bad_bodies"]) >= 16, "one bad body per rule")
    tamper_checks(data, t)
    print(f"{t.passed} passed, {t.failed} failed")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
