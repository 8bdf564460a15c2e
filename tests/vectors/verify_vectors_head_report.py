#!/usr/bin/python3
"""Independent verifier of the keiretsu head report vectors
(tests/vectors/head_report.json), written from docs/PROTOCOL.md 13.2.8
("Relayed head reports": the statement layout, the signed message and the
acceptance rules).

    /usr/bin/python3 tests/vectors/verify_vectors_head_report.py tests/vectors/head_report.json

Checks every key from its seed; for every case, that the statement decodes
to the listed fields (or, for tampered cases, what it decodes to), that the
acceptance rules give the listed outcome and broken rule, and for every
counting case that the signature is the signer seed's Ed25519 signature of
"keiretsu/v1/head-report" || statement re-encoded from the fields; then
tampers with each counting case (every byte of the statement in turn, and the
signature) and checks that nothing tampered counts. The last line is
"N passed, M failed"; exit 0 only when nothing failed.
"""

import json
import sys

from keiretsu_v1 import ZERO32, ed25519_verify, public_key_of, sign, u64, unhex

TAG = b"keiretsu/v1/head-report"
STATEMENT_BYTES = 210
HELD = {"none": 0, "open": 1, "stopped": 2}


def encode(f):
    return (
        bytes([f["version"]])
        + unhex(f["network"], 32)
        + unhex(f["reporter"], 32)
        + unhex(f["subject"], 32)
        + unhex(f["nonce"], 32)
        + bytes([HELD[f["held"]]])
        + u64(f["head_seq"])
        + unhex(f["head_id"], 32)
        + u64(f["stop_seq"])
        + unhex(f["effective_id"], 32)
    )


def decode(s):
    """The statement's fields, or None when its form is wrong (13.2.8)."""
    if len(s) != STATEMENT_BYTES or s[0] != 1 or s[129] > 2:
        return None
    d = {
        "network": s[1:33],
        "reporter": s[33:65],
        "subject": s[65:97],
        "nonce": s[97:129],
        "held": s[129],
        "head_seq": int.from_bytes(s[130:138], "big"),
        "head_id": s[138:170],
        "stop_seq": int.from_bytes(s[170:178], "big"),
        "effective_id": s[178:210],
    }
    if d["reporter"] == d["subject"]:
        return None
    h, hid, st, eid = d["head_seq"], d["head_id"], d["stop_seq"], d["effective_id"]
    if d["held"] == 0:
        ok = h == 0 and st == 0 and hid == ZERO32 and eid == ZERO32
    elif d["held"] == 1:
        ok = h >= 1 and st == 0 and hid != ZERO32 and eid == hid
    else:
        eff = min(h, st - 1) if st >= 1 else 0
        ok = st >= 1 and (eff == 0) == (eid == ZERO32) and (h == 0) == (hid == ZERO32)
    return d if ok else None


def judge(statement, signature, network, subject, nonce, members):
    """(counts, broken rule) by the acceptance rules of 13.2.8, in order."""
    d = decode(statement)
    if d is None:
        return False, "form"
    if d["network"] != network:
        return False, "network"
    if d["subject"] != subject:
        return False, "subject"
    if d["nonce"] != nonce:
        return False, "nonce"
    key = members.get(d["reporter"])
    if key is None:
        return False, "member"
    if not ed25519_verify(key, TAG + statement, signature):
        return False, "signature"
    return True, ""


def main(path):
    v = json.load(open(path))
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what}")

    check(v["signature_tag"] == TAG.decode(), "signature tag")
    for k in v["keys"]:
        check(public_key_of(unhex(k["seed"], 32)) == unhex(k["public_key"], 32), "key from seed")
    network = unhex(v["network_id"], 32)
    subject = unhex(v["query"]["subject"], 32)
    nonce = unhex(v["query"]["nonce"], 32)
    members = {unhex(m["firm"], 32): unhex(m["key_in_force"], 32) for m in v["members"]}
    counting = 0
    rules = set()
    for c in v["cases"]:
        name = c["name"]
        statement = unhex(c["statement"])
        signature = unhex(c["signature"], 64)
        counts, rule = judge(statement, signature, network, subject, nonce, members)
        check(counts == c["counts"], f"{name}: counts {counts}, file says {c['counts']}")
        check(rule == c.get("broken_rule", ""), f"{name}: broken rule {rule!r}")
        rules.add(rule)
        if c["counts"]:
            counting += 1
            check(statement == encode(c["fields"]), f"{name}: statement = fields' encoding")
            check(
                sign(unhex(c["signer_seed"], 32), TAG + statement) == signature,
                f"{name}: signature by the signer seed",
            )
            # Tampering: any statement byte, or the signature.
            caught = True
            for i in range(len(statement)):
                t = bytearray(statement)
                t[i] ^= 0x01
                if judge(bytes(t), signature, network, subject, nonce, members)[0]:
                    caught = False
            s = bytearray(signature)
            s[10] ^= 0x01
            if judge(statement, bytes(s), network, subject, nonce, members)[0]:
                caught = False
            check(caught, f"{name}: every tampered copy is refused")
    check(counting >= 3, "valid cases: none, open, stopped")
    check(
        {"form", "network", "subject", "nonce", "member", "signature"} <= rules,
        "every acceptance rule is broken by some case",
    )
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
