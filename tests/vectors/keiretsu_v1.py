"""keiretsu protocol v1, modelled from docs/PROTOCOL.md alone.

An independent implementation for auditors: the encodings (genesis, entries,
key files), the checks of an entry, the ledger's decision procedure, balances
and the state digest. Nothing here was translated from the C++ sources; every
function names the section of docs/PROTOCOL.md it implements. Needs only the
standard library and PyNaCl (Debian package python3-nacl) for Ed25519.

tests/vectors/verify_vectors.py holds this model against the test vectors.
"""

import hashlib
import tomllib

import nacl.exceptions
import nacl.signing

# --------------------------------------------------------------- 1. Conventions


def H(data):
    return hashlib.blake2b(data, digest_size=32).digest()


ZERO32 = bytes(32)
NAME_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
ENTRY_TAG = b"keiretsu/v1/entry"
STATE_TAG = b"keiretsu/v1/state"
GENESIS_MAGIC = b"keiretsu-genesis"
KEY_FILE_PREFIX = "keiretsu-ed25519-secret-v1 "
HEX = frozenset("0123456789abcdefABCDEF")


def unhex(text, size=None):
    """Strict hex: even length, hex digits only (bytes.fromhex allows spaces)."""
    if not isinstance(text, str) or len(text) % 2 or not set(text) <= HEX:
        raise ValueError(f"not hex: {text!r}")
    data = bytes.fromhex(text)
    if size is not None and len(data) != size:
        raise ValueError(f"expected {size} bytes, got {len(data)}")
    return data


def u16(v):
    return v.to_bytes(2, "big")


def u64(v):
    return v.to_bytes(8, "big")


def is_name(data, lo, hi):
    return lo <= len(data) <= hi and all(c in NAME_CHARS for c in data)


def is_utf8(data):
    # Python's strict UTF-8 codec refuses overlong forms, surrogates and
    # code points above U+10FFFF, as section 6 requires.
    try:
        data.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


class Reader:
    """Big-endian reads; `ok` turns false on the first read past the end."""

    def __init__(self, data):
        self.data, self.pos, self.ok = data, 0, True

    def take(self, n):
        if not self.ok or len(self.data) - self.pos < n:
            self.ok = False
            return bytes(n)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return int.from_bytes(self.take(2), "big")

    def u64(self):
        return int.from_bytes(self.take(8), "big")

    def str8(self):
        return self.take(self.u8())

    def str16(self):
        return self.take(self.u16())

    def remaining(self):
        return len(self.data) - self.pos


# --------------------------------------------------------------- 2. Identities

# L, the order of the Ed25519 base point (section 2).
L = 2**252 + 27742317777372353535851937790883648493


def public_key_of(seed):
    return nacl.signing.SigningKey(seed).verify_key.encode()


def sign(seed, message):
    return nacl.signing.SigningKey(seed).sign(message).signature


def ed25519_verify(public_key, message, signature):
    # PyNaCl calls libsodium's crypto_sign_open, which applies all five
    # checks of section 2 (canonical S, no small-order R or A, canonical A).
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
        return False


def s_plus_l(signature):
    s = int.from_bytes(signature[32:], "little") + L
    return signature[:32] + s.to_bytes(32, "little")


# --------------------------------------------------------------- 3. Key files


def parse_key_file(text):
    """The seed of a key file's text (section 3)."""
    raw = text.encode("ascii")
    if len(raw) == 92:
        if raw[91:] != b"\n":
            raise ValueError("key file must end with one line feed")
        raw = raw[:91]
    if len(raw) != 91 or not text.startswith(KEY_FILE_PREFIX):
        raise ValueError("not a keiretsu key file")
    return unhex(raw[27:].decode("ascii"), 32)


# --------------------------------------------------------------- 4. Genesis


class Genesis:
    def __init__(self, name, created_unix, quorum, members):
        self.name, self.created_unix, self.quorum = name, created_unix, quorum
        self.members = sorted(members)  # (key, name) pairs, sorted by key
        self.keys = {k for k, _ in self.members}
        self.check()
        self.canonical = self.encode()
        self.network_id = H(self.canonical)

    def check(self):  # the rules of 4.1
        if not is_name(self.name, 1, 64):
            raise ValueError("bad network name")
        if not 1 <= len(self.members) <= 1024:
            raise ValueError("1-1024 members")
        if not 0 <= self.created_unix < 2**63:
            raise ValueError("created_unix out of range")
        if len(self.keys) != len(self.members):
            raise ValueError("two members share a key")
        if len({n.lower() for _, n in self.members}) != len(self.members):
            raise ValueError("two members share a name")
        for key, name in self.members:
            if len(key) != 32 or key == ZERO32 or not is_name(name, 1, 64):
                raise ValueError(f"bad member {name!r}")
        if not 1 <= self.quorum <= len(self.members):
            raise ValueError("admission quorum out of range")

    def encode(self):  # the table of 4.2
        out = GENESIS_MAGIC + bytes([1, len(self.name)]) + self.name
        out += u64(self.created_unix) + u16(self.quorum) + u16(len(self.members))
        for key, name in self.members:
            out += key + bytes([len(name)]) + name
        return out

    @staticmethod
    def decode(data):
        r = Reader(data)
        if r.take(16) != GENESIS_MAGIC or r.u8() != 1:
            raise ValueError("not a v1 genesis")
        name, created, quorum, count = r.str8(), r.u64(), r.u16(), r.u16()
        members = [(r.take(32), r.str8()) for _ in range(count)]
        if not r.ok or r.remaining():
            raise ValueError("genesis truncated or trailing bytes")
        g = Genesis(name, created, quorum, members)
        if g.canonical != data:
            raise ValueError("genesis not in canonical form")
        return g


def genesis_from_toml(text):
    doc = tomllib.loads(text)

    def integer(key, default=None):
        v = doc.get(key, default)
        if type(v) is not int:  # bool is an int subclass: refuse it too
            raise ValueError(f"{key} must be an integer")
        return v

    members = []
    for m in doc["members"]:
        if not isinstance(m.get("name"), str) or not isinstance(m.get("public_key"), str):
            raise ValueError("each member needs name and public_key")
        members.append((unhex(m["public_key"], 32), m["name"].encode("ascii")))
    if not isinstance(doc.get("network"), str):
        raise ValueError("network must be a string")
    return doc, Genesis(doc["network"].encode("ascii"), integer("created_unix"),
                        integer("admission_quorum", 1), members)


# --------------------------------------------------------------- 5. Entries

KINDS = {1: "claim", 2: "accept", 3: "decline", 4: "obligation", 5: "release"}
KIND_CODES = {v: k for k, v in KINDS.items()}
HEADER, SIGNATURE = 114, 64
# Body fields in encoding order (5.2): (name, type).
BODY_LAYOUT = {
    "claim": [("debtor", "key"), ("amount", "u64"), ("unit", "str8"), ("memo", "str16")],
    "accept": [("claim_id", "key"), ("creditor", "key"), ("amount", "u64"), ("unit", "str8"),
               ("memo", "str16")],
    "decline": [("claim_id", "key"), ("creditor", "key"), ("memo", "str16")],
    "obligation": [("creditor", "key"), ("amount", "u64"), ("unit", "str8"), ("memo", "str16")],
    "release": [("debtor", "key"), ("amount", "u64"), ("unit", "str8"), ("memo", "str16")],
}


def encode_content(fields):
    """Content bytes from the vectors' `fields` object (5.1, 5.2)."""
    out = bytes([fields["version"]]) + unhex(fields["network_id"], 32)
    out += unhex(fields["author"], 32) + u64(fields["seq"]) + unhex(fields["prev"], 32)
    out += u64(fields["timestamp_ms"]) + bytes([KIND_CODES[fields["kind"]]])
    for name, kind in BODY_LAYOUT[fields["kind"]]:
        v = fields["body"][name]
        if kind == "key":
            out += unhex(v, 32)
        elif kind == "u64":
            out += u64(v)
        elif kind == "str8":
            out += bytes([len(v.encode())]) + v.encode()
        else:
            out += u16(len(v.encode())) + v.encode()
    return out


class Checked:
    """A record after the checks of section 7."""

    def __init__(self, record, fault, header=None, body=None, reason=""):
        self.record, self.fault, self.reason = record, fault, reason
        self.header, self.body = header, body  # dicts; body None if it did not decode
        self.id = H(record[:-SIGNATURE]) if len(record) >= SIGNATURE else None

    @property
    def author(self):
        return self.header["author"]

    @property
    def seq(self):
        return self.header["seq"]


def counterparty(kind, body):
    return body["debtor"] if kind in ("claim", "release") else body["creditor"]


def body_rule_broken(header, kind, body):
    """The body rules of section 7 that need nothing but the record
    (stratum 1), or None."""
    seq, prev = header["seq"], header["prev"]
    if seq == 0:
        return "seq must be at least 1"
    if (seq == 1) != (prev == ZERO32):
        return "prev must be zero exactly at seq 1"
    other = counterparty(kind, body)
    if other == header["author"]:
        return "counterparty is the author"
    if kind in ("accept", "decline") and body["claim_id"] == ZERO32:
        return "claim_id is zero"
    if kind != "decline":
        if not 1 <= body["amount"] <= 10**15:
            return "amount out of range"
        if not is_name(body["unit"], 1, 16):
            return "bad unit"
    if len(body["memo"]) > 512 or not is_utf8(body["memo"]):
        return "bad memo"
    return None


def check_feed_local(record, network_id, kinds=KINDS):
    """Stratum 1 (section 18.3): the record and its own feed only. The key in
    force is the author's id (no kind rotates keys yet)."""
    if len(record) > 1024 or len(record) < HEADER + SIGNATURE:
        return Checked(record, "malformed")
    content, signature = record[:-SIGNATURE], record[-SIGNATURE:]
    r = Reader(content)
    header = {"version": r.u8(), "network_id": r.take(32), "author": r.take(32),
              "seq": r.u64(), "prev": r.take(32), "timestamp_ms": r.u64(), "kind": r.u8()}
    if header["version"] != 1:
        return Checked(record, "malformed", header)
    if header["network_id"] != network_id:
        return Checked(record, "wrong-network", header)
    if not ed25519_verify(header["author"], ENTRY_TAG + content, signature):
        return Checked(record, "bad-signature", header)
    kind = kinds.get(header["kind"])
    if kind is None:  # a newer version's kind: kept for an upgrade (18.4)
        return Checked(record, "unknown-kind", header, None, "unknown kind")
    body = {}
    for name, typ in BODY_LAYOUT[kind]:
        body[name] = {"key": lambda: r.take(32), "u64": r.u64, "str8": r.str8,
                      "str16": r.str16}[typ]()
    if not r.ok or r.remaining():
        return Checked(record, "invalid-body", header, None, "body truncated or trailing bytes")
    header["kind"] = kind
    broken = body_rule_broken(header, kind, body)
    return Checked(record, "invalid-body" if broken else "none", header, body, broken or "")


def check_membership(c, genesis):
    """Stratum 2 (section 18.3): the author is a member, and so is every firm
    a decoded body names."""
    if c.fault not in ("none", "invalid-body", "unknown-kind"):
        return c
    if c.author not in genesis.keys:
        c.fault, c.reason = "unknown-author", "author not (yet) a member"
    elif c.fault == "none" and counterparty(c.header["kind"], c.body) not in genesis.keys:
        c.fault, c.reason = "invalid-body", "counterparty is not a member"
    return c


def check_record(record, genesis, kinds=KINDS):
    """Checks 1-9 of section 7, in the order of section 18.3."""
    return check_membership(check_feed_local(record, genesis.network_id, kinds), genesis)


# --------------------------------------------------------------- 8-12. The ledger


class Feed:
    def __init__(self):
        self.head_seq, self.head_id = 0, ZERO32
        self.stop_seq, self.stop_reason, self.effective_id = 0, "", ZERO32
        self.entries = {}  # seq -> Checked
        self.pending = {}  # seq -> {id: Checked}

    @property
    def effective_seq(self):
        return self.head_seq if self.stop_seq == 0 else min(self.head_seq, self.stop_seq - 1)


class Ledger:
    """One node's state, by the procedure of section 8."""

    def __init__(self, genesis, max_pending_ahead=1_000_000, kinds=KINDS):
        self.genesis, self.max_ahead, self.kinds = genesis, max_pending_ahead, kinds
        self.feeds = {}
        self.strangers = {}  # id -> Checked: records of authors not (yet) members (18.5)
        self.net = {}  # (firm, counterparty, unit) -> int       (section 9)
        self.claims = {}  # (debtor, claim id) -> (creditor, seq)  (section 12)
        self.answers = {}  # (debtor, claim id) -> set of answer ids
        self.evidence = {}  # (author, seq) -> (kind, first, second)

    def feed(self, author):
        return self.feeds.setdefault(author, Feed())

    def ingest(self, record):
        c = check_record(record, self.genesis, self.kinds)
        outcome = self.decide(c)
        if outcome == "applied":
            self.promote(c.author)
        return outcome

    def decide(self, c):  # 8.2
        if c.fault not in ("none", "invalid-body", "unknown-kind", "unknown-author"):
            return "rejected"
        s = c.seq
        if s == 0:
            return "rejected"
        if c.fault == "unknown-author":  # kept, no feed state, until admission
            if c.id in self.strangers:
                return "duplicate"
            self.strangers[c.id] = c
            return "pending"
        f = self.feed(c.author)
        if s <= f.head_seq:
            held = f.entries[s]
            return "duplicate" if held.id == c.id else self.fork(c.author, s, held, c)
        if f.stop_seq and s >= f.stop_seq:
            return "ignored"
        if s - f.head_seq > self.max_ahead:
            return "rejected"
        waiting = f.pending.setdefault(s, {})
        if c.id in waiting:
            return "duplicate"
        if waiting:  # any other signed record kept at this seq proves a fork
            return self.fork(c.author, s, waiting[min(waiting)], c)
        if s > f.head_seq + 1 or c.header["prev"] != f.head_id or c.fault == "unknown-kind":
            waiting[c.id] = c  # ahead, a wrong prev, or an unknown kind: kept
            return "pending"
        del f.pending[s]
        if c.fault == "invalid-body":
            self.stop(c.author, s, "invalid-entry")
            self.evidence[(c.author, s)] = ("invalid-entry", c, None)
            return "feed-ended"
        f.entries[s] = c
        f.head_seq, f.head_id, f.effective_id = s, c.id, c.id
        self.effect(c, +1)
        return "applied"

    def promote(self, author):  # 8.3
        f = self.feed(author)
        while True:
            if f.stop_seq and f.head_seq + 1 >= f.stop_seq:
                return
            t = f.head_seq + 1
            waiting = f.pending.get(t, {})
            if not waiting:
                return
            if len(waiting) > 1:
                ids = sorted(waiting)
                self.fork(author, t, waiting[ids[0]], waiting[ids[1]])
                return
            (only,) = waiting.values()
            if only.header["prev"] != f.head_id or only.fault == "unknown-kind":
                return  # a wrong prev stays kept; an unknown kind waits for an upgrade
            del f.pending[t]
            if self.decide(only) != "applied":
                return

    def fork(self, author, s, x, y):  # 8.4
        f = self.feed(author)
        if f.stop_seq and f.stop_seq <= s:
            return "ignored"
        first, second = (x, y) if x.id < y.id else (y, x)
        self.stop(author, s, "fork")
        self.evidence[(author, s)] = ("fork", first, second)
        return "fork-proven"

    def stop(self, author, s, reason):  # 8.6
        f = self.feed(author)
        for q in range(s, f.effective_seq + 1):
            self.effect(f.entries[q], -1)
        if s - 1 < f.effective_seq:
            f.effective_id = f.entries[s - 1].id if s > 1 else ZERO32
        f.stop_seq, f.stop_reason = s, reason
        for seq in [q for q in f.pending if q >= s]:
            del f.pending[seq]

    def pending_count(self):
        return len(self.strangers) + sum(len(w) for f in self.feeds.values()
                                         for w in f.pending.values())

    def upgrades_needed(self):
        """Pending records of kinds this model does not know (18.4)."""
        return sorted((a, q, i, c.header["kind"]) for a, f in self.feeds.items()
                      for q, w in f.pending.items() for i, c in w.items()
                      if c.fault == "unknown-kind")

    def effect(self, c, sign):  # sections 9 and 12; sign -1 undoes
        kind, body, author = c.header["kind"], c.body, c.author
        if kind in ("accept", "obligation"):
            self.add(author, body["creditor"], body["unit"], sign * body["amount"])
        elif kind == "release":
            self.add(body["debtor"], author, body["unit"], -sign * body["amount"])
        if kind == "claim":
            key = (body["debtor"], c.id)
            if sign > 0:
                self.claims[key] = (author, c.seq)
            else:
                self.claims.pop(key, None)
        elif kind in ("accept", "decline"):
            ids = self.answers.setdefault((author, body["claim_id"]), set())
            if sign > 0:
                ids.add(c.id)
            else:
                ids.discard(c.id)

    def add(self, debtor, creditor, unit, delta):
        """What `debtor` owes `creditor` in `unit` grows by `delta`."""
        for key, d in (((creditor, debtor, unit), delta), ((debtor, creditor, unit), -delta)):
            self.net[key] = self.net.get(key, 0) + d

    def digest_input(self):  # section 10
        out = STATE_TAG + self.genesis.network_id
        for author in sorted(self.feeds):
            f = self.feeds[author]
            if f.effective_seq == 0 and f.stop_seq == 0:
                continue
            out += author + u64(f.effective_seq) + f.effective_id + u64(f.stop_seq)
        return out

    def balances_from_scratch(self):
        """Section 9 again, summed over the effective entries only."""
        fresh = Ledger(self.genesis)
        for f in self.feeds.values():
            for q in range(1, f.effective_seq + 1):
                fresh.effect(f.entries[q], +1)
        return {k: v for k, v in fresh.net.items() if v}
