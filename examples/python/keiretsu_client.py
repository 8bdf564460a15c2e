#!/usr/bin/python3
"""A small keiretsu API client in Python (Debian's python3-grpcio and python3-protobuf).

It shows what a partner's or operator's program needs: a channel, the bearer
token in the call metadata, the generated stubs, and gRPC status codes.

Stubs are generated from proto/ with protoc and grpc_python_plugin (Debian
packages protobuf-compiler and protobuf-compiler-grpc) into --stubs DIR the
first time; nothing needs pip.

    ./keiretsu_client.py --node 127.0.0.1:7701 --token "$TOKEN" status
    ./keiretsu_client.py ... balance osaka kobe hours
    ./keiretsu_client.py ... balances [FIRM]
    ./keiretsu_client.py ... claim kobe 40 hours --memo "forklift loan"   (operator)
    ./keiretsu_client.py ... owe kobe 5 hours                            (operator)
    ./keiretsu_client.py ... watch --cursor 0 --count 3
    ./keiretsu_client.py ... entries osaka --page-token TOKEN

Every result is printed as one JSON object per line (the proto3 JSON mapping,
field names as in api.proto). Errors print one line on stderr and exit with
the same codes as the `keiretsu` CLI (docs/API.md "Exit codes").
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
PROTOS = ["keiretsu/v1/ledger.proto", "keiretsu/v1/api.proto"]


def ensure_stubs(proto_dir, out_dir):
    """Generates the Python modules for PROTOS into out_dir unless present."""
    marker = os.path.join(out_dir, "keiretsu", "v1", "api_pb2_grpc.py")
    newest = max(os.path.getmtime(os.path.join(proto_dir, f)) for f in PROTOS)
    if not os.path.exists(marker) or os.path.getmtime(marker) < newest:
        os.makedirs(out_dir, exist_ok=True)
        plugin = "/usr/bin/grpc_python_plugin"
        cmd = ["protoc", "-I", proto_dir, "--python_out=" + out_dir,
               "--grpc_python_out=" + out_dir, "--plugin=protoc-gen-grpc_python=" + plugin]
        try:
            subprocess.run(cmd + PROTOS, check=True, capture_output=True, text=True)
        except FileNotFoundError:
            sys.exit("keiretsu_client: protoc not found (apt-get install protobuf-compiler "
                     "protobuf-compiler-grpc)")
        except subprocess.CalledProcessError as e:
            sys.exit("keiretsu_client: protoc failed: " + e.stderr.strip().replace("\n", " "))
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)


# The `keiretsu` CLI's exit codes, so scripts can treat both alike.
EXIT_CODES = {
    "NOT_FOUND": 2,
    "UNAUTHENTICATED": 3, "PERMISSION_DENIED": 3,
    "INVALID_ARGUMENT": 4, "FAILED_PRECONDITION": 4, "ALREADY_EXISTS": 4, "OUT_OF_RANGE": 4,
    "UNAVAILABLE": 5, "DEADLINE_EXCEEDED": 5, "CANCELLED": 5, "ABORTED": 5,
    "RESOURCE_EXHAUSTED": 6,
}


class Client:
    """One channel to one node; every call carries the bearer token."""

    def __init__(self, node, token, ca_file=None, timeout=10.0):
        import grpc
        from keiretsu.v1 import api_pb2, api_pb2_grpc
        self.pb = api_pb2
        if ca_file:
            with open(ca_file, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
            self.channel = grpc.secure_channel(node, creds)
        else:
            self.channel = grpc.insecure_channel(node)
        self.stub = api_pb2_grpc.LedgerStub(self.channel)
        self.metadata = [("authorization", "Bearer " + token)] if token else []
        self.timeout = timeout

    def _call(self, method, request):
        return method(request, metadata=self.metadata, timeout=self.timeout)

    def status(self):
        return self._call(self.stub.GetStatus, self.pb.GetStatusRequest())

    def balance(self, firm, counterparty, unit):
        req = self.pb.GetBalanceRequest(firm=firm, counterparty=counterparty, unit=unit)
        return self._call(self.stub.GetBalance, req)

    def balances(self, firm=""):
        return self._call(self.stub.ListBalances, self.pb.ListBalancesRequest(firm=firm))

    def claim(self, debtor, amount, unit, memo=""):
        req = self.pb.ClaimRequest(debtor=debtor, amount=amount, unit=unit, memo=memo)
        return self._call(self.stub.Claim, req)

    def owe(self, creditor, amount, unit, memo=""):
        req = self.pb.RecordObligationRequest(creditor=creditor, amount=amount, unit=unit,
                                              memo=memo)
        return self._call(self.stub.RecordObligation, req)

    def entries(self, author, from_seq=0, limit=0, page_token=""):
        req = self.pb.ListEntriesRequest(author=author, from_seq=from_seq, limit=limit,
                                         page_token=page_token)
        return self._call(self.stub.ListEntries, req)

    def watch(self, cursor="", count=0, timeout=None):
        """Yields WatchEvents from `cursor` ("" = from now); stops after `count` if > 0."""
        stream = self.stub.Watch(self.pb.WatchRequest(cursor=cursor), metadata=self.metadata,
                                 timeout=timeout)
        seen = 0
        try:
            for event in stream:
                yield event
                seen += 1
                if count and seen >= count:
                    break
        finally:
            stream.cancel()


def to_json(message):
    from google.protobuf.json_format import MessageToDict
    return json.dumps(MessageToDict(message, preserving_proto_field_name=True,
                                    including_default_value_fields=True), sort_keys=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--node", default=os.environ.get("KEIRETSU_NODE", "127.0.0.1:7701"))
    p.add_argument("--token", default=os.environ.get("KEIRETSU_TOKEN", ""))
    p.add_argument("--tls-ca", help="PEM CA to trust (turns TLS on)")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    p.add_argument("--stubs", default=os.path.join(cache, "keiretsu", "python-stubs"),
                   help="where the generated modules go (made when missing or stale)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("status")
    b = sub.add_parser("balance")
    b.add_argument("firm")
    b.add_argument("counterparty")
    b.add_argument("unit")
    bs = sub.add_parser("balances")
    bs.add_argument("firm", nargs="?", default="")
    for name in ("claim", "owe"):
        w = sub.add_parser(name)
        w.add_argument("firm")
        w.add_argument("amount", type=int)
        w.add_argument("unit")
        w.add_argument("--memo", default="")
    e = sub.add_parser("entries")
    e.add_argument("author")
    e.add_argument("--from", dest="from_seq", type=int, default=0)
    e.add_argument("--limit", type=int, default=0)
    e.add_argument("--page-token", default="")
    wa = sub.add_parser("watch")
    wa.add_argument("--cursor", default="")
    wa.add_argument("--count", type=int, default=0)
    wa.add_argument("--for", dest="seconds", type=float, default=None)
    args = p.parse_args(argv)

    ensure_stubs(args.proto_dir, args.stubs)
    import grpc
    client = Client(args.node, args.token, args.tls_ca, args.timeout)
    try:
        if args.command == "status":
            print(to_json(client.status()))
        elif args.command == "balance":
            print(to_json(client.balance(args.firm, args.counterparty, args.unit)))
        elif args.command == "balances":
            print(to_json(client.balances(args.firm)))
        elif args.command in ("claim", "owe"):
            if args.amount < 0:  # proto amounts are unsigned; say so instead of crashing
                print("keiretsu_client: amount must not be negative (INVALID_ARGUMENT)",
                      file=sys.stderr)
                return 4
            call = client.claim if args.command == "claim" else client.owe
            print(to_json(call(args.firm, args.amount, args.unit, args.memo)))
        elif args.command == "entries":
            print(to_json(client.entries(args.author, args.from_seq, args.limit,
                                         args.page_token)))
        elif args.command == "watch":
            for event in client.watch(args.cursor, args.count, args.seconds):
                print(to_json(event), flush=True)
    except grpc.RpcError as err:
        code = err.code().name
        details = (err.details() or "").replace("\n", " ")
        print("keiretsu_client: %s (%s)" % (details, code), file=sys.stderr)
        return EXIT_CODES.get(code, 8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
