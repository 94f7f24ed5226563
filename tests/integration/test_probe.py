"""
`postern probe`: the report and the JSON say what really happened on
postern instances started here (every port open, some closed, a wrong
and an expired certificate), on a listener that never answers, on one
whose SYNs are dropped (a full backlog), on small Python servers (AUTH
before TLS, TLS 1.0 accepted), and on a private Postfix and Dovecot.
Names come from a local unbound.
"""

import json
import os
import pathlib
import pwd
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import warnings

import pytest

from conftest import (HOST, HOSTNAME, LISTENERS, Server, find_port_base,
                      finish_server, postern_bin, set_in_group,
                      start_or_kill, unbound_server, wait_port)

DOMAIN = "example.test"
PASSWORD = "correct horse"
TIMEOUT = 2  # --timeout: every silent step costs this much


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    """unbound on 127.0.0.1: mail.test, a mail domain, NXDOMAIN for the
    rest of .test."""
    with unbound_server(tmp_path_factory.mktemp("dns"), [("test", [
            f"{HOSTNAME}. IN A 127.0.0.1",
            f"{DOMAIN}. IN MX 10 mx.{DOMAIN}.",
            f"mx.{DOMAIN}. IN A 127.0.0.1",
            f"smtp.{DOMAIN}. IN A 127.0.0.1",
            f"imap.{DOMAIN}. IN A 127.0.0.1",
            f"pop.{DOMAIN}. IN A 127.0.0.1"])]) as addr:
        yield addr


def cli(srv, *args, stdin=""):
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(srv.conf)], input=stdin, capture_output=True,
                          text=True, timeout=20)


class ProbeServer(Server):
    """A postern whose listeners named in `closed` are left out."""

    def __init__(self, root, closed=()):
        super().__init__(root, workers=1, limits={"shutdown_timeout": 3})
        self.closed = set(closed)

    def start(self):
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [postern_bin(), "serve", "-c", str(self.conf)],
            stdin=subprocess.DEVNULL, stdout=self._logf, stderr=self._logf,
            cwd=self.root, start_new_session=True)
        for name in LISTENERS:
            if name not in self.closed:
                wait_port(self.port(name), proc=self.proc)
        time.sleep(0.3)  # a worker is up (the master binds first)


def make_server(root, closed=(), cert=None, user=False):
    srv = ProbeServer(root, closed)
    srv.init(find_port_base())
    text = srv.conf.read_text()
    for name in closed:
        text = re.sub(rf"(?m)^.*port = {srv.port(name)};.*\n", "", text)
    text = re.sub(r"\},\n\);", "}\n);", text)  # no comma after the last
    if cert is not None:
        text = set_in_group(text, "tls", "cert", f'"{cert[0]}"')
        text = set_in_group(text, "tls", "key", f'"{cert[1]}"')
    srv.conf.write_text(text)
    if user:
        assert cli(srv, "domain", "add", DOMAIN).returncode == 0
        r = cli(srv, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
                stdin=PASSWORD + "\n")
        assert r.returncode == 0, r
    return start_or_kill(srv)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("good"), user=True)
    yield srv
    finish_server(srv)


def probe(*args, stdin=None, timeout=60):
    r = subprocess.run([postern_bin(), "probe", *map(str, args)],
                       input=stdin, capture_output=True, text=True,
                       timeout=timeout,
                       stdin=None if stdin is not None else
                       subprocess.DEVNULL)
    return r


def probe_json(*args, **kw):
    r = probe(*args, "--json", **kw)
    assert r.stdout.strip(), r
    doc = json.loads(r.stdout)
    assert doc["exit"] == r.returncode, (doc, r.stderr)
    return doc, r.returncode


def target(doc, role, host=None):
    found = [t for t in doc["targets"] if t["role"] == role
             and (host is None or t["host"] == host)]
    assert len(found) == 1, (role, host, doc["targets"])
    return found[0]


def openssl_cert(d, name, days):
    """A self-signed P-256 certificate for name; days < 0: expired."""
    d.mkdir(parents=True, exist_ok=True)
    key, csr, cert = d / "key.pem", d / "req.csr", d / "cert.pem"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-subj", f"/CN={name}", "-out", csr],
                   check=True, capture_output=True)
    ext = d / "ext.cnf"
    ext.write_text(f"subjectAltName = DNS:{name}\n")
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-signkey", key,
                    "-days", str(days), "-extfile", ext, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)  # the workers (nobody) read it after the fork
    return cert, key


# --------------------------------------------------------------------------
# Every port open


def test_all_open_all_good(good, dns):
    doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base", good.base,
                         "--ca-file", good.cert, "--timeout", TIMEOUT)
    assert rc == 0, doc["warnings"]
    assert doc["kind"] == "host" and doc["error"] is None
    assert len(doc["targets"]) == 8
    for t in doc["targets"]:
        assert t["status"] == "open", t
        assert t["port"] == good.base + t["role"]
        assert t["address"] == "127.0.0.1"
        assert t["tls"]["version"] in ("TLSv1.2", "TLSv1.3"), t
        assert t["tls"]["name_match"] is True
        assert t["tls"]["trusted"] is True, t["tls"]
        assert t["tls"]["expired"] is False
        assert t["tls"]["sans"] == [HOSTNAME]
        assert t["tls"]["subject"] == f"CN={HOSTNAME}"
        assert t["legacy_tls"] == ""  # TLS 1.0/1.1 refused
        assert t["warnings"] == []
    sub = target(doc, 587)
    assert sub["greeting"].startswith(f"220 {HOSTNAME}")
    assert "STARTTLS" in sub["ehlo"] and sub["starttls"] is True
    assert sub["auth"] == []
    assert "PLAIN" in sub["auth_tls"] and "LOGIN" in sub["auth_tls"]
    assert sub["size_max"] == 52428800
    assert sub["tls"]["mode"] == "starttls"
    assert not any(k.startswith("STARTTLS") for k in sub["ehlo_tls"])
    assert target(doc, 465)["tls"]["mode"] == "implicit"
    assert target(doc, 25)["auth_tls"] == []  # no AUTH on the MX port
    imap = target(doc, 143)
    assert "STARTTLS" in imap["capabilities"]
    assert "LOGINDISABLED" in imap["capabilities"]
    assert imap["login_before_tls"] is False
    assert "STLS" in target(doc, 110)["capabilities"]
    rec = doc["recommendation"]
    assert rec["submission"] == {"host": HOSTNAME, "port": good.base + 587,
                                 "role": 587, "tls": "starttls"}
    assert rec["imap"]["role"] == 993 and rec["pop3"]["role"] == 995
    assert rec["port25"] == "usable"
    assert doc["warnings"] == []


def test_text_report(good, dns):
    r = probe(HOSTNAME, "--dns", dns, "--port-base", good.base,
              "--ca-file", good.cert, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stdout
    out = r.stdout
    assert f"port 587 (submission, STARTTLS) on {HOSTNAME}" in out
    assert f"use {HOSTNAME} port {good.base + 587} with STARTTLS" in out
    assert "Port 25: reachable from this network" in out
    assert "Reading mail: use IMAP" in out
    assert "no problems found" in out


def test_untrusted_and_address_literal(good):
    """Without --ca-file the generated certificate is self-signed, and an
    address literal does not match its name."""
    doc, rc = probe_json(HOST, "--port-base", good.base, "--ports",
                         "587", "--timeout", TIMEOUT)
    assert rc == 1
    t = target(doc, 587)
    assert t["tls"]["trusted"] is False
    assert "self-signed" in t["tls"]["verify_error"]
    assert t["tls"]["name_match"] is False
    assert any("not trusted" in w for w in t["warnings"])
    assert any("does not match 127.0.0.1" in w for w in t["warnings"])
    # still the port to use: it works, the warnings say what to fix
    assert doc["recommendation"]["submission"]["role"] == 587


def test_login(good, dns):
    doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base", good.base,
                         "--ca-file", good.cert, "--ports",
                         "587,465,25,993,110", "--user", f"alice@{DOMAIN}",
                         "--password-stdin", "--timeout", 5,
                         stdin=PASSWORD + "\n")
    assert rc == 0, doc["warnings"]
    for role in (587, 465, 993, 110):  # IMAP LOGIN, POP3 USER/PASS
        assert target(doc, role)["login"] == "ok", target(doc, role)
    assert target(doc, 25)["login"] == "not_tried"  # never on port 25

    doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base", good.base,
                         "--ca-file", good.cert, "--ports", "587,993,995",
                         "--user", f"alice@{DOMAIN}", "--password-stdin",
                         "--timeout", 15, stdin="wrong\n")
    assert rc == 1
    t = target(doc, 587)
    assert t["login"] == "failed" and t["login_detail"].startswith("535")
    assert doc["recommendation"]["submission"] is None
    # One throttle for every service: each refusal comes after a longer
    # delay than the one before, hence the longer step timeout.
    for port in (993, 995):  # a refused IMAP LOGIN, a refused POP3 PASS
        assert target(doc, port)["login"] == "failed", target(doc, port)


def test_mail_domain(good, dns):
    """A domain: port 25 on its MX host, submission on smtp.DOMAIN, IMAP
    on imap.DOMAIN, POP3 on pop.DOMAIN."""
    doc, _ = probe_json(DOMAIN, "--dns", dns, "--port-base", good.base,
                        "--ports", "25,587,993,995", "--timeout", TIMEOUT)
    assert doc["kind"] == "domain"
    mx = target(doc, 25)
    assert mx["host"] == f"mx.{DOMAIN}" and mx["mx"] is True
    assert mx["status"] == "open"
    # smtp.DOMAIN and mx.DOMAIN share an address: probed once
    sub = target(doc, 587)
    assert sub["host"] == f"smtp.{DOMAIN}" and sub["mx"] is False
    assert target(doc, 993)["host"] == f"imap.{DOMAIN}"
    assert target(doc, 993)["status"] == "open"
    assert target(doc, 995)["host"] == f"pop.{DOMAIN}"
    assert target(doc, 995)["status"] == "open"
    assert doc["recommendation"]["port25"] == "usable"


def test_dns_from_config(good, dns):
    """Without --dns the resolver is the configuration's dns.forward."""
    conf = good.root / "probe.conf"
    conf.write_text(good.conf.read_text() +
                    f'\ndns = {{ forward = "{dns}"; }};\n')
    doc, rc = probe_json(HOSTNAME, "-c", conf, "--port-base", good.base,
                         "--ports", "587", "--ca-file", good.cert,
                         "--timeout", TIMEOUT)
    assert rc == 0, doc
    assert target(doc, 587)["address"] == "127.0.0.1"
    r = probe(HOSTNAME, "-c", good.root / "missing.conf")
    assert r.returncode == 2


# --------------------------------------------------------------------------
# Closed ports


def test_587_closed_picks_465(tmp_path, dns):
    srv = make_server(tmp_path, closed=("submission", "imaps", "pop3",
                                        "pop3s"))
    try:
        doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base",
                             srv.base, "--ca-file", srv.cert,
                             "--timeout", TIMEOUT)
        r = probe(HOSTNAME, "--dns", dns, "--port-base", srv.base,
                  "--ca-file", srv.cert, "--timeout", TIMEOUT)
    finally:
        finish_server(srv)
    assert target(doc, 587)["status"] == "closed"
    assert target(doc, 587)["warnings"] == []  # a choice, not a fault
    assert target(doc, 465)["status"] == "open"
    rec = doc["recommendation"]
    assert rec["submission"]["role"] == 465
    assert rec["submission"]["tls"] == "implicit"
    assert rec["imap"]["role"] == 143  # 993 closed: STARTTLS on 143
    assert rec["pop3"] is None
    assert rc == 0, doc["warnings"]
    assert "closed on the server (connection refused)" in r.stdout
    assert f"port {srv.base + 465} with SSL/TLS" in r.stdout
    assert "POP3 is not available." in r.stdout


def test_all_submission_closed(tmp_path, dns):
    srv = make_server(tmp_path, closed=("submission", "submissions",
                                        "submission_alt"))
    try:
        doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base",
                             srv.base, "--ca-file", srv.cert, "--ports",
                             "587,465,2525,25", "--timeout", TIMEOUT)
    finally:
        finish_server(srv)
    assert rc == 1
    assert doc["recommendation"]["submission"] is None
    assert any("no submission port works" in w for w in doc["warnings"])


# --------------------------------------------------------------------------
# Certificates


def test_wrong_name_certificate(tmp_path, dns):
    cert = openssl_cert(tmp_path / "c", "wrong.test", 30)
    srv = make_server(tmp_path / "s", cert=cert)
    try:
        doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base",
                             srv.base, "--ca-file", cert[0], "--ports",
                             "587,993", "--timeout", TIMEOUT)
    finally:
        finish_server(srv)
    assert rc == 1
    for role in (587, 993):
        t = target(doc, role)
        assert t["tls"]["name_match"] is False
        assert t["tls"]["sans"] == ["wrong.test"]
        assert t["tls"]["trusted"] is True  # the chain itself is fine
        assert any(f"does not match {HOSTNAME} (it is for wrong.test)"
                   in w for w in t["warnings"]), t["warnings"]


def test_expired_certificate(tmp_path, dns):
    cert = openssl_cert(tmp_path / "c", HOSTNAME, -1)
    srv = make_server(tmp_path / "s", cert=cert)
    try:
        doc, rc = probe_json(HOSTNAME, "--dns", dns, "--port-base",
                             srv.base, "--ca-file", cert[0], "--ports",
                             "465,110", "--timeout", TIMEOUT)
        r = probe(HOSTNAME, "--dns", dns, "--port-base", srv.base,
                  "--ca-file", cert[0], "--ports", "465",
                  "--timeout", TIMEOUT)
    finally:
        finish_server(srv)
    assert rc == 1
    for role in (465, 110):
        t = target(doc, role)
        assert t["tls"]["expired"] is True
        assert t["tls"]["name_match"] is True
        assert t["tls"]["trusted"] is False
        assert "expired" in t["tls"]["verify_error"]
        assert any(w.startswith("the certificate expired on ")
                   for w in t["warnings"]), t["warnings"]
    assert "EXPIRED" in r.stdout


# --------------------------------------------------------------------------
# Listeners that are not postern


class Silent:
    """Accepts TCP and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


class Dropping:
    """A listener whose backlog is full: the kernel drops further SYNs
    without an answer, as a filtering firewall does."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fill = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect((HOST, self.port))
            except BlockingIOError:
                pass
            self.fill.append(c)
        time.sleep(0.2)

    def close(self):
        for c in self.fill:
            c.close()
        self.sock.close()


def test_silent_and_dropped_and_refused():
    silent, dropping = Silent(), Dropping()
    s = socket.socket()
    s.bind((HOST, 0))
    refused = s.getsockname()[1]
    s.close()
    try:
        t0 = time.monotonic()
        doc, rc = probe_json(HOST, "--ports",
                             f"{silent.port}=587,{dropping.port}=465,"
                             f"{refused}=2525,{silent.port}=993",
                             "--timeout", TIMEOUT)
        took = time.monotonic() - t0
        r = probe(HOST, "--ports", f"{dropping.port}=25,{refused}=587",
                  "--timeout", TIMEOUT)
    finally:
        silent.close()
        dropping.close()
    assert rc == 1
    # concurrent: the three silent steps together, not one after another
    assert took < 3 * TIMEOUT, took
    t = target(doc, 587)
    assert t["status"] == "silent" and t["greeting"] is None
    assert any("no greeting" in w for w in t["warnings"])
    assert target(doc, 993)["status"] == "silent"  # TLS never answered
    t = target(doc, 465)
    assert t["status"] == "blocked"
    assert any("probably blocked by your network" in w
               for w in t["warnings"])
    t = target(doc, 2525)
    assert t["status"] == "closed" and t["warnings"] == []
    assert doc["recommendation"]["submission"] is None
    # the words: a drop is "blocked", a refusal is "closed"
    assert r.returncode == 1
    assert "no answer: probably blocked by your network" in r.stdout
    assert "closed on the server (connection refused)" in r.stdout
    assert "Port 25: probably blocked by your network" in r.stdout


class AuthBeforeTls(socketserver.StreamRequestHandler):
    """An SMTP server that offers AUTH in clear and has no STARTTLS."""

    def handle(self):
        self.wfile.write(b"220 old.test ESMTP ready\r\n")
        for line in self.rfile:
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                self.wfile.write(b"250-old.test\r\n250-SIZE 1000000\r\n"
                                 b"250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                                 b"250 8BITMIME\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


def test_auth_before_tls_warning():
    srv = socketserver.ThreadingTCPServer((HOST, 0), AuthBeforeTls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    try:
        doc, rc = probe_json(HOST, "--ports", f"{port}=587",
                             "--timeout", TIMEOUT)
        r = probe(HOST, "--ports", f"{port}=25", "--timeout", TIMEOUT)
        # credentials are never sent without TLS
        doc2, _ = probe_json(HOST, "--ports", f"{port}=587", "--user", "u",
                             "--password-stdin", "--timeout", TIMEOUT,
                             stdin="secret\n")
    finally:
        srv.shutdown()
        srv.server_close()
    assert rc == 1
    t = target(doc, 587)
    assert t["status"] == "open"
    assert t["greeting"] == "220 old.test ESMTP ready"
    assert t["ehlo"] == ["SIZE 1000000", "AUTH PLAIN LOGIN CRAM-MD5",
                         "8BITMIME"]
    assert t["auth"] == ["PLAIN", "LOGIN", "CRAM-MD5"]
    assert t["size_max"] == 1000000
    assert t["starttls"] is False and t["tls"] is None
    assert any("AUTH before TLS" in w for w in t["warnings"])
    assert any("STARTTLS is not offered" in w for w in t["warnings"])
    assert "STARTTLS is not offered on port 25" in r.stdout
    assert r.returncode == 1
    assert target(doc2, 587)["login"] == "no_tls"


# --------------------------------------------------------------------------
# Could not probe


def test_could_not_probe(dns):
    doc, rc = probe_json("nosuch.test", "--dns", dns, "--timeout", TIMEOUT)
    assert rc == 2
    assert "nxdomain" in doc["error"] and doc["targets"] == []
    r = probe("--ports", "587")  # no host
    assert r.returncode == 2 and "usage" in r.stderr
    r = probe(HOST, "--ports", "588")  # not a mail port
    assert r.returncode == 2


# --------------------------------------------------------------------------
# TLS 1.0/1.1 and peers that are not postern


class LegacyTls(socketserver.StreamRequestHandler):
    """Implicit-TLS SMTP that still accepts TLS 1.0 and 1.1."""

    ctx = None

    def setup(self):
        self.request = self.ctx.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self):
        self.wfile.write(b"220 legacy.test ESMTP\r\n")
        for line in self.rfile:
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                self.wfile.write(b"250-legacy.test\r\n250 AUTH PLAIN\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


def test_tls_1_0_accepted_warning(tmp_path):
    cert, key = openssl_cert(tmp_path, HOSTNAME, 30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    ctx.load_cert_chain(cert, key)
    handler = type("H", (LegacyTls,), {"ctx": ctx})
    srv = socketserver.ThreadingTCPServer((HOST, 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        doc, rc = probe_json(HOST, "--ports", f"{srv.server_address[1]}=465",
                             "--ca-file", cert, "--timeout", TIMEOUT)
        doc2, _ = probe_json(HOST, "--ports",
                             f"{srv.server_address[1]}=465", "--ca-file",
                             cert, "--no-legacy-tls", "--timeout", TIMEOUT)
    finally:
        srv.shutdown()
        srv.server_close()
    t = target(doc, 465)
    assert t["tls"]["version"] == "TLSv1.3"  # the best it can do
    assert t["legacy_tls"] in ("TLSv1", "TLSv1.1")
    assert any("TLS 1.0 and 1.1 are broken" in w for w in t["warnings"])
    assert rc == 1
    assert target(doc2, 465)["legacy_tls"] is None  # not tested


DOVECOT_CONF = """\
base_dir = {run}
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
mail_location = maildir:{d}/home/%u/Maildir
default_internal_user = dovecot
default_login_user = dovenull
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
"""


@pytest.fixture
def dovecot(tmp_path):
    """A private Dovecot (IMAP only: Debian's POP3 server is a separate
    package) on two free ports, as root with its own base_dir."""
    exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.access(exe, os.X_OK) or os.geteuid() != 0:
        pytest.skip("dovecot (run as root) not available")
    d = tmp_path / "dovecot"
    d.mkdir()
    (d / "home").mkdir()
    cert, key = openssl_cert(d / "tls", HOSTNAME, 30)
    (d / "passwd").write_text(f"alice@{DOMAIN}:{{PLAIN}}{PASSWORD}\n")
    run = tempfile.mkdtemp(prefix="dv", dir="/tmp")  # short socket paths
    ports = []
    for _ in range(2):
        s = socket.socket()
        s.bind((HOST, 0))
        ports.append(s.getsockname()[1])
        s.close()
    conf = d / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(run=run, d=d, cert=cert, key=key,
                                        imap=ports[0], imaps=ports[1]))
    Server(d).make_traversable()
    for p in (d, d / "tls", d / "home"):
        os.chmod(p, 0o755)
    os.chmod(d / "passwd", 0o644)
    proc = subprocess.Popen([exe, "-F", "-c", str(conf)],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for p in ports:
            wait_port(p, proc=proc)
        yield {"imap": ports[0], "imaps": ports[1], "cert": cert}
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(run, ignore_errors=True)


def test_dovecot(dovecot, dns):
    ports = f"{dovecot['imap']}=143,{dovecot['imaps']}=993"
    doc, _ = probe_json(HOSTNAME, "--dns", dns, "--ports", ports,
                        "--ca-file", dovecot["cert"], "--user",
                        f"alice@{DOMAIN}", "--password-stdin",
                        "--timeout", TIMEOUT, stdin=PASSWORD + "\n")
    imap, imaps = target(doc, 143), target(doc, 993)
    for t in (imap, imaps):
        assert t["status"] == "open"
        assert "Dovecot" in t["greeting"]
        assert t["login"] == "ok", t
        assert t["tls"]["trusted"] and t["tls"]["name_match"]
        assert "IMAP4rev1" in t["capabilities_tls"]
        assert "PLAIN" in t["auth_tls"]
    assert imap["starttls"] is True and "STARTTLS" in imap["capabilities"]
    assert "STARTTLS" not in imap["capabilities_tls"]
    # Dovecot trusts loopback as secure and offers AUTH in clear here:
    # the probe reports what really happened.
    if imap["auth"]:
        assert any("login before TLS" in w for w in imap["warnings"])
    assert doc["recommendation"]["imap"]["role"] == 993

    doc, rc = probe_json(HOSTNAME, "--dns", dns, "--ports", ports,
                         "--ca-file", dovecot["cert"], "--user",
                         f"alice@{DOMAIN}", "--password-stdin",
                         "--timeout", 6, stdin="wrong\n")
    assert rc == 1
    for role in (143, 993):
        t = target(doc, role)
        assert t["login"] == "failed" and t["login_detail"], json.dumps(t)
    assert doc["recommendation"]["imap"] is None


POSTFIX_MAIN = """\
compatibility_level = 3.6
config_directory = {d}/conf
queue_directory = {d}/queue
data_directory = {d}/data
maillog_file_prefixes = {d}
maillog_file = {d}/maillog
mail_owner = postfix
setgid_group = postdrop
myhostname = {host}
mydomain = test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
alias_maps =
alias_database =
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
"""

POSTFIX_MASTER = """\
127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_mandatory_protocols=>=TLSv1.2
127.0.0.1:{submissions} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


@pytest.fixture
def postfix(tmp_path):
    """A private Postfix (no SASL: it offers no AUTH) with its own
    configuration and queue folders, on three free ports."""
    exe = shutil.which("postfix") or "/usr/sbin/postfix"
    if not os.access(exe, os.X_OK) or os.geteuid() != 0:
        pytest.skip("postfix (run as root) not available")
    d = pathlib.Path(tempfile.mkdtemp(prefix="pf", dir="/tmp"))
    for sub in ("conf", "queue", "data"):
        (d / sub).mkdir()
    os.chmod(d, 0o755)
    os.chown(d / "data", pwd.getpwnam("postfix").pw_uid, -1)
    cert, key = openssl_cert(tmp_path / "tls", HOSTNAME, 30)
    ports = {}
    for name in ("smtp", "submission", "submissions"):
        s = socket.socket()
        s.bind((HOST, 0))
        ports[name] = s.getsockname()[1]
        s.close()
    (d / "conf" / "main.cf").write_text(
        POSTFIX_MAIN.format(d=d, host=HOSTNAME, cert=cert, key=key))
    (d / "conf" / "master.cf").write_text(POSTFIX_MASTER.format(**ports))
    conf = str(d / "conf")
    proc = subprocess.Popen([exe, "-c", conf, "start-fg"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for p in ports.values():
            wait_port(p, proc=proc)
        ports["cert"] = cert
        yield ports
    finally:
        subprocess.run([exe, "-c", conf, "stop"], capture_output=True,
                       timeout=30)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(d, ignore_errors=True)


def test_postfix(postfix, dns):
    ports = (f"{postfix['smtp']}=25,{postfix['submission']}=587,"
             f"{postfix['submissions']}=465")
    doc, rc = probe_json(HOSTNAME, "--dns", dns, "--ports", ports,
                         "--ca-file", postfix["cert"], "--timeout", TIMEOUT)
    assert rc == 1
    mx, sub, subs = target(doc, 25), target(doc, 587), target(doc, 465)
    for t in (mx, sub, subs):
        assert t["status"] == "open"
        assert t["greeting"] == f"220 {HOSTNAME} ESMTP Postfix"
        assert t["tls"]["trusted"] and t["tls"]["name_match"], t["tls"]
        assert "PIPELINING" in t["ehlo_tls"]
        assert t["size_max"] == 10240000
        assert t["auth_tls"] == []  # no SASL configured
    assert "STARTTLS" in mx["ehlo"] and "STARTTLS" not in mx["ehlo_tls"]
    assert subs["tls"]["mode"] == "implicit" and subs["ehlo"] == []
    # Postfix's default still takes TLS 1.0/1.1; the port that says
    # smtpd_tls_mandatory_protocols = >=TLSv1.2 does not.
    assert mx["legacy_tls"] in ("TLSv1", "TLSv1.1")
    assert any("TLS 1.0 and 1.1" in w for w in mx["warnings"])
    assert sub["legacy_tls"] == ""
    rec = doc["recommendation"]
    assert rec["port25"] == "usable"
    assert rec["submission"] is None  # no AUTH anywhere
    assert any("no submission port works" in w for w in doc["warnings"])
