#!/usr/bin/python3
"""The CLI's and the Python client's TLS options against a real keiretsud:
TLS with a self-signed node certificate (trusted through --config or
--tls-ca), then mutual TLS (a client certificate signed by the configured
client CA is required). Certificates are made with the openssl command.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Daemon, Failure, Tools, check, expect_refused, fail_and_exit,  # noqa: E402
                     free_port)


def openssl(*args, cwd):
    try:
        subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)
    except FileNotFoundError:
        raise Failure("the openssl command is missing (Debian package openssl)")


def make_certs(d):
    """node.crt: self-signed for 127.0.0.1; ca.crt signs client.crt; other.crt is unrelated."""
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"]
    openssl("req", "-x509", *ec, "-keyout", "node.key", "-out", "node.crt", "-subj",
            "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=test-ca",
            cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.crt", "-subj",
            "/CN=other-ca", cwd=d)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=client", cwd=d)
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "client.crt", cwd=d)


def set_api_tls(config, lines):
    text = open(config).read()
    head, sep, rest = text.partition("[api]\n")
    if not sep:
        raise Failure("no [api] table in " + config)
    open(config, "w").write(head + sep + "".join(l + "\n" for l in lines) + rest)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--keiretsu", required=True)
    p.add_argument("--keiretsud", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--proto-dir", required=True)
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="keiretsu-tls-")
    t = Tools(args.keiretsu, args.client, os.path.join(work, "stubs"))
    daemon = None
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.client)))
        import keiretsu_client
        keiretsu_client.ensure_stubs(args.proto_dir, t.stubs)
        make_certs(work)
        cert = lambda name: os.path.join(work, name)  # noqa: E731

        code, pk, _ = t.cli("keygen", "--out", cert("a.key"))
        check(code == 0, "keygen")
        genesis = cert("genesis.toml")
        check(t.cli("genesis", "--name", "tls", "--member", "a=" + pk.strip(), "--out",
                    genesis)[0] == 0, "genesis")
        port = free_port()
        check(t.cli("init", "--firm", "a", "--genesis", genesis, "--key", cert("a.key"),
                    "--dir", cert("a"), "--api-listen", "127.0.0.1:%d" % port)[0] == 0, "init")
        config = cert("a/keiretsud.toml")
        token = next(l.split('"')[1] for l in open(config) if l.startswith("token = "))
        set_api_tls(config, ['tls_cert = "%s"' % cert("node.crt"),
                             'tls_key = "%s"' % cert("node.key")])
        daemon = Daemon("a", args.keiretsud, config, cert("a.log"))
        address = daemon.start()

        # TLS: --config trusts the node's own (self-signed) certificate.
        code, out, err = t.cli("--config", config, "status", "--json")
        check(code == 0 and '"name":"a"' in out, "TLS: status through --config")
        code, out, err = t.cli("--node", address, "--token", token, "--tls-ca", cert("node.crt"),
                               "balances")
        check(code == 0, "TLS: --tls-ca with the node's certificate")
        code, out, err = t.py("--node", address, "--token", token, "--tls-ca", cert("node.crt"),
                              "status")
        check(code == 0 and '"writable": true' in out, "TLS: the Python client")
        expect_refused("TLS: a CA that did not sign the node's certificate",
                       t.cli("--node", address, "--token", token, "--tls-ca", cert("other.crt"),
                             "status"), 5, "UNAVAILABLE")
        expect_refused("TLS: a plaintext client",
                       t.cli("--node", address, "--token", token, "status"), 5, "UNAVAILABLE")
        check(daemon.stop() == 0, "stop")

        # Mutual TLS: clients need a certificate signed by ca.crt.
        set_api_tls(config, ['tls_client_ca = "%s"' % cert("ca.crt")])
        daemon.start()
        code, out, err = t.cli("--config", config, "--tls-cert", cert("client.crt"),
                               "--tls-key", cert("client.key"), "status")
        check(code == 0, "mTLS: status with a client certificate")
        expect_refused("mTLS: no client certificate", t.cli("--config", config, "status"), 5,
                       "UNAVAILABLE")
        expect_refused("mTLS: a client certificate from another CA",
                       t.cli("--config", config, "--tls-cert", cert("other.crt"), "--tls-key",
                             cert("other.key"), "status"), 5, "UNAVAILABLE")
        expect_refused("mTLS: a certificate but a wrong token",
                       t.cli("--config", config, "--token", "wrong-token-000000", "--tls-cert",
                             cert("client.crt"), "--tls-key", cert("client.key"), "status"),
                       3, "UNAUTHENTICATED")
        expect_refused("mTLS: --tls-cert without --tls-key",
                       t.cli("--config", config, "--tls-cert", cert("client.crt"), "status"), 4,
                       "go together")
        check(daemon.stop() == 0, "stop")
        print("PASS: TLS and mutual TLS from the CLI and the Python client", flush=True)
    except Exception as exc:  # noqa: B902 - the daemon must be stopped whatever failed
        fail_and_exit(exc, [daemon] if daemon else [])
    finally:
        if daemon:
            daemon.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
