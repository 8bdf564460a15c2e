"""keiretsu protocol v2 (membership, leaving, key rotation), modelled from
docs/PROTOCOL.md sections 18 and 19 alone.

The three strata as a pure function of a set of records: each known firm's
feed walked under its key chain (19.7), the epoch chain (19.8-19.9), counted
prefixes, balances and the state digest (19.11). Nothing here was translated
from the C++ sources; every function names the section it implements. Uses
keiretsu_v1 for what v2 keeps (hash, Ed25519, readers) and PyNaCl.
"""

import tomllib

import nacl.bindings

from keiretsu_v1 import (ENTRY_TAG, GENESIS_MAGIC, STATE_TAG, ZERO32, H, Reader, ed25519_verify,
                         is_name, is_utf8, u16, u64, unhex)

NEXT_KEY_TAG = b"keiretsu/v2/next-key"
EPOCH_TAG = b"keiretsu/v2/epoch"
STATE_TAG_V2 = b"keiretsu/v2/state"
W = 256  # the recovery window (19.1)
HEADER, SIGNATURE = 114, 64
PROPOSE, VOTE, LEAVE, ROTATE = 6, 7, 8, 9
ACTIONS = {1: "admit", 2: "remove", 3: "set-threshold"}


def D(key):
    """The next-key digest (19.1)."""
    return H(NEXT_KEY_TAG + key)


def epoch_zero_hash(network_id):
    return H(EPOCH_TAG + network_id)


def next_epoch_hash(previous, proposal_id):
    return H(EPOCH_TAG + previous + proposal_id)


def usable_key(key):
    """A usable Ed25519 public key (4.1): a point on the main subgroup, not of
    small order (libsodium crypto_core_ed25519_is_valid_point)."""
    return len(key) == 32 and nacl.bindings.crypto_core_ed25519_is_valid_point(key)


def u32(v):
    return v.to_bytes(4, "big")


# --------------------------------------------------------------- 19.2 Genesis v2


class GenesisV2:
    def __init__(self, name, created_unix, threshold, members):
        self.name, self.created_unix, self.threshold = name, created_unix, threshold
        self.members = sorted(members)  # (key, next_key_digest, name), by key
        self.check()
        self.canonical = self.encode()
        self.network_id = H(self.canonical)

    def check(self):  # 4.1 and 19.2
        m = len(self.members)
        if not is_name(self.name, 1, 64) or not 1 <= m <= 1024:
            raise ValueError("bad network name or member count")
        if not 0 <= self.created_unix < 2**63:
            raise ValueError("created_unix out of range")
        if not (2 * self.threshold > m and self.threshold <= m):
            raise ValueError("threshold must be above m/2 and at most m")
        keys = [k for k, _, _ in self.members]
        digests = [d for _, d, _ in self.members]
        if len(set(keys)) != m or len(set(digests)) != m:
            raise ValueError("two members share a key or a next-key digest")
        if len({n.lower() for _, _, n in self.members}) != m:
            raise ValueError("two members share a name")
        for key, digest, name in self.members:
            if not usable_key(key) or not is_name(name, 1, 64):
                raise ValueError(f"bad member {name!r}")
            if digest == ZERO32 or digest == D(key):
                raise ValueError(f"bad next_key_digest of {name!r}")

    def encode(self):  # the table of 19.2
        out = GENESIS_MAGIC + bytes([2, len(self.name)]) + self.name
        out += u64(self.created_unix) + u16(self.threshold) + u16(len(self.members))
        for key, digest, name in self.members:
            out += key + digest + bytes([len(name)]) + name
        return out

    @staticmethod
    def decode(data):
        r = Reader(data)
        if r.take(16) != GENESIS_MAGIC or r.u8() != 2:
            raise ValueError("not a version-2 genesis")
        name, created, threshold, count = r.str8(), r.u64(), r.u16(), r.u16()
        members = []
        for _ in range(count):
            key, digest = r.take(32), r.take(32)
            members.append((key, digest, r.str8()))
        if not r.ok or r.remaining():
            raise ValueError("genesis truncated or trailing bytes")
        g = GenesisV2(name, created, threshold, members)
        if g.canonical != data:
            raise ValueError("genesis not in canonical form")
        return g


def genesis_v2_from_toml(text):
    doc = tomllib.loads(text)
    if "threshold" not in doc or "admission_quorum" in doc:
        raise ValueError("a version-2 document has threshold and no admission_quorum")
    for key in ("created_unix", "threshold"):
        if type(doc.get(key)) is not int:
            raise ValueError(f"{key} must be an integer")
    members = []
    for m in doc["members"]:
        members.append((unhex(m["public_key"], 32), unhex(m["next_key_digest"], 32),
                        m["name"].encode("ascii")))
    return GenesisV2(doc["network"].encode("ascii"), doc["created_unix"], doc["threshold"],
                     members)


# --------------------------------------------------------------- 5, 18.3, 19.3 Records


class Record:
    """One record's header and body, parsed without checking the signature
    (which key must verify it is what the walk of 19.7 decides)."""

    def __init__(self, record):
        self.record = record
        self.content, self.signature = record[:-SIGNATURE], record[-SIGNATURE:]
        self.id = H(self.content)
        r = Reader(self.content)
        self.version, self.network_id = r.u8(), r.take(32)
        self.author, self.seq, self.prev = r.take(32), r.u64(), r.take(32)
        self.timestamp_ms, self.kind = r.u64(), r.u8()
        self.body = None      # the decoded body, a dict
        self.broken = None    # why the body breaks a stateless rule, or None
        self.rotate = None    # (N, d') of a decoded rotate
        self.leave = False
        self.governance = None  # a well-formed propose or vote
        self.debt = None      # (debtor, creditor, unit, delta) of an accept/obligation/release
        self.decode(Reader(self.content[HEADER:]))

    def verifies_under(self, key):
        return ed25519_verify(key, ENTRY_TAG + self.content, self.signature)

    def decode(self, r):
        v1 = {1: [("debtor", "key"), ("amount", "u64"), ("unit", "str8"), ("memo", "str16")],
              2: [("claim_id", "key"), ("creditor", "key"), ("amount", "u64"), ("unit", "str8"),
                  ("memo", "str16")],
              3: [("claim_id", "key"), ("creditor", "key"), ("memo", "str16")],
              4: [("creditor", "key"), ("amount", "u64"), ("unit", "str8"), ("memo", "str16")],
              5: [("debtor", "key"), ("amount", "u64"), ("unit", "str8"), ("memo", "str16")]}
        read = {"key": lambda: r.take(32), "u32": lambda: int.from_bytes(r.take(4), "big"),
                "u64": r.u64, "u16": r.u16, "u8": r.u8, "str8": r.str8, "str16": r.str16}
        if self.kind in v1:
            b = {name: read[t]() for name, t in v1[self.kind]}
        elif self.kind == PROPOSE:
            b = {"epoch_hash": r.take(32), "round": read["u32"](), "action": r.u8(),
                 "threshold": r.u16()}
            if b["action"] == 1:
                b.update(inception_key=r.take(32), next_key_digest=r.take(32), name=r.str8())
            elif b["action"] == 2:
                b.update(member=r.take(32), last_seq=r.u64())
            elif b["action"] != 3:
                self.broken = "unknown proposal action"
                return
            b["memo"] = r.str16()
        elif self.kind == VOTE:
            b = {"epoch_hash": r.take(32), "round": read["u32"](), "proposal_id": r.take(32)}
        elif self.kind == LEAVE:
            b = {"memo": r.str16()}
        elif self.kind == ROTATE:
            b = {"new_key": r.take(32), "next_key_digest": r.take(32)}
        else:
            raise ValueError(f"kind {self.kind} is not one of v2's (18.2)")
        if not r.ok or r.remaining():
            self.broken = "body truncated or trailing bytes"
            return
        self.body = b
        if self.kind == ROTATE:  # the walk needs N even if a rule below fails
            self.rotate = (b["new_key"], b["next_key_digest"])
        self.broken = self.rule_broken()
        if self.broken:
            return
        if self.kind == LEAVE:
            self.leave = True
        elif self.kind in (PROPOSE, VOTE):
            self.governance = b
        elif self.kind in (2, 4):
            self.debt = (self.author, b["creditor"], b["unit"], b["amount"])
        elif self.kind == 5:
            self.debt = (b["debtor"], self.author, b["unit"], -b["amount"])

    def rule_broken(self):
        """Stateless body rules: v1 rules 1-3 and 5-7 (7, 18.3), 19.3 rules 1-7."""
        b, k = self.body, self.kind
        if self.seq == 0:
            return "seq 0"
        if (self.seq == 1) != (self.prev == ZERO32):
            return "prev must be zero exactly at seq 1"
        if k <= 5:
            other = b["debtor"] if k in (1, 5) else b["creditor"]
            if other == self.author:
                return "counterparty is the author"
            if k in (2, 3) and b["claim_id"] == ZERO32:
                return "claim_id is zero"
            if k != 3 and (not 1 <= b["amount"] <= 10**15 or not is_name(b["unit"], 1, 16)):
                return "amount or unit"
        if k == PROPOSE:
            if not 1 <= b["threshold"] <= 1024:
                return "threshold out of range"
            if b["action"] == 1:
                if not is_name(b["name"], 1, 64):
                    return "bad name"
                if b["inception_key"] == self.author:
                    return "admits its author"
                if not usable_key(b["inception_key"]):
                    return "inception key not usable"
                if b["next_key_digest"] in (ZERO32, D(b["inception_key"])):
                    return "bad next_key_digest"
            if b["action"] == 2 and b["member"] == ZERO32:
                return "remove names no member"
        if k == VOTE and b["proposal_id"] == ZERO32:
            return "vote names no proposal"
        if k == ROTATE:
            if not usable_key(b["new_key"]) or b["new_key"] == self.author:
                return "bad new key"
            if b["next_key_digest"] in (ZERO32, D(b["new_key"])):
                return "bad next_key_digest"
        if "memo" in b and (len(b["memo"]) > 512 or not is_utf8(b["memo"])):
            return "bad memo"
        return None


# --------------------------------------------------------------- 19.7 The walk


class Walk:
    def __init__(self):
        self.prefix = []         # Records, seq 1..n
        self.stop_seq, self.stop_reason, self.left_seq = 0, "", 0
        self.keys = []           # (from_seq, key, next_key_digest)
        self.evidence = []       # (kind, seq, first id, second id or None)

    @property
    def effective_seq(self):
        return len(self.prefix)

    @property
    def effective_id(self):
        return self.prefix[-1].id if self.prefix else ZERO32

    @property
    def open(self):
        return self.stop_seq == 0 and self.left_seq == 0


def walk_feed(firm, d1, records):
    """19.7: the feed-local state of firm (inception commitment (firm, d1))
    over the set of its records."""
    by_seq = {}
    for rec in {r.id: r for r in records}.values():  # every record once, by id
        by_seq.setdefault(rec.seq, []).append(rec)
    out = Walk()
    K, d, used, prev, s = firm, d1, {firm}, ZERO32, 1
    out.keys.append((1, K, d))

    def stop(seq, reason, kind, first, second):
        out.stop_seq, out.stop_reason = seq, reason
        out.evidence.append((kind, seq, first, second))

    def fork(seq, a, b):
        stop(seq, "fork", "fork", min(a, b), max(a, b))

    while True:
        at = by_seq.get(s, [])
        A = sorted((r for r in at if r.verifies_under(K)), key=lambda r: r.id)
        B = sorted((r for r in at if r.rotate and d != ZERO32 and D(r.rotate[0]) == d
                    and r.verifies_under(r.rotate[0])), key=lambda r: r.id)
        from_b = False
        if len(B) >= 2:
            fork(s, B[0].id, B[1].id)
            break
        if len(B) == 1 and A:
            R, O = B[0], A[0]
            beyond = any(r.verifies_under(K) for t, rs in by_seq.items() if t >= s + W
                         for r in rs)
            if R.prev != prev or beyond:
                fork(s, R.id, O.id)
                break
            out.evidence.append(("key-recovery", s, R.id, O.id))
            chosen, from_b = R, True
        elif len(B) == 1:
            chosen, from_b = B[0], True
        elif len(A) >= 2:
            fork(s, A[0].id, A[1].id)
            break
        elif len(A) == 1:
            chosen = A[0]
        else:
            break  # a gap
        if chosen.prev != prev:
            break  # a wrong prev: kept, never applied
        invalid = chosen.broken is not None
        if not invalid and chosen.rotate:
            N, d2 = chosen.rotate
            invalid = (not from_b or N in used or any(d2 == D(x) for x in used | {N}))
        if invalid:
            stop(s, "invalid-entry", "invalid-entry", chosen.id, None)
            break
        out.prefix.append(chosen)
        prev = chosen.id
        if chosen.rotate:
            K, d = chosen.rotate
            used.add(K)
            out.keys.append((s, K, d))
        if chosen.leave:
            out.left_seq = s
            break
        s += 1
    # A key that can never change (no next key committed): the v1 rule, a
    # fork proven anywhere above the head stops the feed (19.7, 8.2 step 5).
    if out.open and d == ZERO32:
        for t in sorted(by_seq):
            if t <= out.effective_seq:
                continue
            ids = sorted({r.id for r in by_seq[t] if r.verifies_under(K)})
            if len(ids) >= 2:
                fork(t, ids[0], ids[1])
                break
    return out


# --------------------------------------------------------------- 19.8-19.10 Epochs


class Member:
    def __init__(self, firm, name, digest, since):
        self.id, self.name, self.next_key_digest, self.since = firm, name, digest, since
        self.removed, self.removed_in, self.last_seq = False, 0, 0

    def copy(self):
        m = Member(self.id, self.name, self.next_key_digest, self.since)
        m.removed, m.removed_in, m.last_seq = self.removed, self.removed_in, self.last_seq
        return m


class Epoch:
    def __init__(self, number, hash_, threshold, members, passed=None):
        self.number, self.hash, self.threshold = number, hash_, threshold
        self.members = members  # id -> Member, everyone ever admitted so far
        self.passed = passed

    def active(self):
        return [m for m in self.members.values() if not m.removed]

    def is_active(self, firm):
        m = self.members.get(firm)
        return m is not None and not m.removed


class Proposal:
    def __init__(self, rec):
        self.rec, self.id, self.author, self.body = rec, rec.id, rec.author, rec.governance
        self.state, self.epoch, self.supporters = "void", None, 0


def valid_against(p, e):
    """19.8: is proposal body p valid against epoch e?"""
    n = len(e.active())
    if p["action"] == 1:
        for m in e.members.values():
            if m.id == p["inception_key"] or m.name.lower() == p["name"].lower():
                return False
        n2 = n + 1
    elif p["action"] == 2:
        if not e.is_active(p["member"]) or n == 1:
            return False
        n2 = n - 1
    else:
        n2 = n
    return 2 * p["threshold"] > n2 and p["threshold"] <= n2


class Ledger:
    """Strata 1-3 over a set of records (19.12)."""

    def __init__(self, network_id, threshold, founders, records):
        """founders: (id, name bytes, next_key_digest)."""
        self.network_id = network_id
        self.records = {}
        for rec in records:
            self.records.setdefault(rec.id, rec)
        self.by_author = {}
        for rec in self.records.values():
            self.by_author.setdefault(rec.author, []).append(rec)
        self.walks = {}
        self.proposals = {}
        members = {f: Member(f, n, d, 0) for f, n, d in founders}
        self.epochs = [Epoch(0, epoch_zero_hash(network_id), threshold, members)]
        for m in members.values():
            self.load(m)
        while self.decide():
            pass
        for p in self.proposals.values():  # the epoch a proposal names, if any
            for e in self.epochs:
                if e.hash == p.body["epoch_hash"]:
                    p.epoch = e.number
        self.effects()

    def load(self, m):
        w = walk_feed(m.id, m.next_key_digest, self.by_author.get(m.id, []))
        self.walks[m.id] = w
        for rec in w.prefix:
            if rec.kind == PROPOSE and rec.governance:
                self.proposals[rec.id] = Proposal(rec)

    def votes(self, firm, h):
        """Ballots of member `firm` for epoch hash h (19.8): round -> proposal
        id, and the highest round any of its votes names (-1: none)."""
        ballots, highest = {}, -1
        for rec in self.walks[firm].prefix:  # in seq order
            g = rec.governance
            if rec.kind != VOTE or not g or g["epoch_hash"] != h:
                continue
            if g["round"] >= highest and g["round"] not in ballots:
                ballots[g["round"]] = g["proposal_id"]
            highest = max(highest, g["round"])
        return ballots, highest

    def decide(self):
        """19.9: the successor of the last epoch; True when one is decided."""
        e = self.epochs[-1]
        k = e.threshold
        by_round = {}
        for p in self.proposals.values():
            if p.body["epoch_hash"] != e.hash or not e.is_active(p.author):
                continue
            if valid_against(p.body, e):
                p.state = "pending"
                by_round.setdefault(p.body["round"], []).append(p)
        active = e.active()
        votes = {m.id: self.votes(m.id, e.hash) for m in active}
        is_open = {m.id: self.walks[m.id].open for m in active}
        known_proposes = {rec.id for w in self.walks.values() for rec in w.prefix
                          if rec.kind == PROPOSE}

        def undecided(r):
            return sum(1 for m in active if is_open[m.id] and r not in votes[m.id][0]
                       and votes[m.id][1] <= r)

        # Rounds in order from 0 (19.9). Only rounds some proposal or ballot
        # names can pass; an empty round fails once U(r) < k, and U only
        # grows with r, so the empty rounds below a named round r all fail
        # exactly when the one just below r does.
        rounds = sorted(set(by_round) | {r for b, _ in votes.values() for r in b}
                        | {h for _, h in votes.values() if h >= 0})
        below = -1
        for r in rounds:
            if r - 1 > below and undecided(r - 1) >= k:
                return False  # an empty round below r is not decided yet
            below = r
            props = {p.id: p for p in by_round.get(r, [])}
            named = {}
            for m in active:
                if r in votes[m.id][0]:
                    named[votes[m.id][0][r]] = named.get(votes[m.id][0][r], 0) + 1
            for pid, count in named.items():
                if pid in props:
                    props[pid].supporters = count
            winner = next((p for p in props.values() if p.supporters >= k), None)
            if winner:
                return self.advance(e, winner, by_round)
            best = max([c for pid, c in named.items()
                        if pid in props or pid not in known_proposes] + [0])
            if best + undecided(r) >= k:
                return False  # not decided yet
            for p in props.values():
                p.state = "failed"
        return False

    def advance(self, e, winner, by_round):
        winner.state = "passed"
        for r, ps in by_round.items():
            for p in ps:
                if p is winner:
                    continue
                if r == winner.body["round"]:
                    p.state = "failed"
                elif r > winner.body["round"]:
                    p.state = "void"
        members = {f: m.copy() for f, m in e.members.items()}
        b = winner.body
        admitted = None
        if b["action"] == 1:
            admitted = Member(b["inception_key"], b["name"], b["next_key_digest"], e.number + 1)
            members[admitted.id] = admitted
        elif b["action"] == 2:
            m = members[b["member"]]
            m.removed, m.removed_in, m.last_seq = True, e.number + 1, b["last_seq"]
        self.epochs.append(Epoch(e.number + 1, next_epoch_hash(e.hash, winner.id),
                                 b["threshold"], members, winner.id))
        if admitted:
            self.load(admitted)
        return True

    # ----------------------------------------------------------- 19.11 Effects

    def effects(self):
        now = self.epochs[-1]
        self.counted = {}
        self.balances = {}
        for firm, m in now.members.items():
            w = self.walks[firm]
            n = min(w.effective_seq, m.last_seq) if m.removed else w.effective_seq
            self.counted[firm] = n
            for rec in w.prefix[:n]:
                if rec.debt and rec.debt[0] in now.members and rec.debt[1] in now.members:
                    debtor, creditor, unit, delta = rec.debt
                    for key, v in (((creditor, debtor, unit), delta),
                                   ((debtor, creditor, unit), -delta)):
                        self.balances[key] = self.balances.get(key, 0) + v
        self.balances = {k: v for k, v in self.balances.items() if v != 0}
        feeds = b""
        for firm in sorted(now.members):
            w, n = self.walks[firm], self.counted[firm]
            if n == 0 and w.stop_seq == 0:
                continue
            cid = w.prefix[n - 1].id if n else ZERO32
            feeds += firm + u64(n) + cid + u64(w.stop_seq)
        if now.number == 0:
            self.digest = H(STATE_TAG + self.network_id + feeds)
        else:
            self.digest = H(STATE_TAG_V2 + self.network_id + u64(now.number) + now.hash + feeds)
        self.pending_authors = {a: len(rs) for a, rs in self.by_author.items()
                                if a not in now.members}

    def counted_id(self, firm):
        n = self.counted[firm]
        return self.walks[firm].prefix[n - 1].id if n else ZERO32

    def outcome(self, rec):
        """The vectors' per-record outcome (16, version 2 vectors)."""
        if rec.author not in self.epochs[-1].members:
            return "pending-author"
        w = self.walks[rec.author]
        if any(p.id == rec.id for p in w.prefix):
            return "counted" if rec.seq <= self.counted[rec.author] else "uncounted"
        if w.stop_seq and rec.seq >= w.stop_seq:
            return "above-stop"
        if w.left_seq and rec.seq > w.left_seq:
            return "above-leave"
        if rec.seq <= w.effective_seq:
            return "overridden"
        return "beyond"


# --------------------------------------------------------------- 15.2 Checkpoints v2

CHECKPOINT_MAGIC = b"keiretsu-checkpoint"
CHECKPOINT_TAG_V2 = b"keiretsu/v2/checkpoint"


def state_digest_v2(network_id, epoch, epoch_hash, feeds):
    """19.11 over the listed 80-byte feeds (already sorted and filtered)."""
    body = b"".join(a + u64(s) + i + u64(stop) for a, s, i, stop in feeds)
    if epoch == 0:
        return H(STATE_TAG + network_id + body)
    return H(STATE_TAG_V2 + network_id + u64(epoch) + epoch_hash + body)


def checkpoint_feeds(led):
    """The feeds a checkpoint of `led` lists (15.2): every member of some
    epoch, its counted prefix and stop, sorted, the empty ones left out."""
    out = []
    for firm in sorted(led.epochs[-1].members):
        n, stop = led.counted[firm], led.walks[firm].stop_seq
        if n or stop:
            out.append((firm, n, led.counted_id(firm), stop))
    return out


def checkpoint_statement_v2(led, signer, time_ms):
    """The version-2 statement of `led`'s state by firm `signer` (15.2)."""
    now = led.epochs[-1]
    feeds = checkpoint_feeds(led)
    return (CHECKPOINT_MAGIC + bytes([2]) + led.network_id + signer + u64(time_ms) +
            u64(now.number) + now.hash + state_digest_v2(led.network_id, now.number, now.hash,
                                                         feeds) +
            u32(len(feeds)) + b"".join(a + u64(s) + i + u64(t) for a, s, i, t in feeds))


def verify_checkpoint_v2(led, statement, signer, signature):
    """15.2's verification against the verifier's own chains (`led`): "valid",
    or the name of the first check that refuses the checkpoint."""
    if len(statement) < 168 or statement[:19] != CHECKPOINT_MAGIC or statement[19] != 2:
        return "malformed"
    r = Reader(statement[20:])
    network, named, _time = r.take(32), r.take(32), r.u64()
    epoch, epoch_hash, digest = r.u64(), r.take(32), r.take(32)
    n = int.from_bytes(r.take(4), "big")
    if len(statement) != 168 + 80 * n:
        return "malformed"
    feeds = []
    for _ in range(n):
        a, s, i, stop = r.take(32), r.u64(), r.take(32), r.u64()
        if feeds and not feeds[-1][0] < a:
            return "malformed"
        if (s == 0 and stop == 0) or ((s == 0) != (i == ZERO32)) or (stop and s >= stop):
            return "malformed"
        feeds.append((a, s, i, stop))
    if state_digest_v2(network, epoch, epoch_hash, feeds) != digest:
        return "digest"
    if named != signer:
        return "signer-mismatch"
    if network != led.network_id:
        return "network"
    if epoch >= len(led.epochs) or led.epochs[epoch].hash != epoch_hash:
        return "epoch"
    e = led.epochs[epoch]
    if not e.is_active(signer):
        return "signer-not-member"
    if any(a not in e.members for a, _, _, _ in feeds):
        return "author-not-member"
    if len(signature) != 64:
        return "malformed"
    head = next((s for a, s, _, _ in feeds if a == signer), 0)
    chain = led.walks[signer].keys if signer in led.walks else [(1, signer, ZERO32)]
    key = chain[0][1]
    for from_seq, k, _ in chain:
        if from_seq <= head:
            key = k
    if not ed25519_verify(key, CHECKPOINT_TAG_V2 + statement, signature):
        return "signature"
    return "valid"
