"""
Foundation: init, serve, config check, TLS (implicit and STARTTLS),
protocol greetings and capabilities, signals, worker supervision.
"""

import imaplib
import os
import pathlib
import poplib
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import (HOST, HOSTNAME, IMPLICIT_LISTENERS, IO_TIMEOUT,
                      LISTENERS, STARTTLS_LISTENERS, LineConn,
                      client_context, file_fingerprint, fingerprint,
                      insecure_context,
                      legacy_context, open_session, peer_fingerprint,
                      probe_all, protocol_of, run_postern, starttls_session,
                      tls_session, wait_for)

SMTP_STARTTLS = [n for n in STARTTLS_LISTENERS if protocol_of(n) == "smtp"]
OPENSSL_STARTTLS = {"smtp": "smtp", "imap": "imap", "pop3": "pop3"}
# one implicit and one STARTTLS listener per protocol
TLS_SAMPLE = ["submissions", "smtp", "imaps", "imap", "pop3s", "pop3"]


def lib_context(srv, **kw):
    """For smtplib/imaplib/poplib, which pass the IP address as the TLS
    server name: verify the chain only (names are checked in raw tests)."""
    return client_context(srv, check_hostname=False, **kw)


def imap_caps(line):
    m = re.search(r"\[CAPABILITY ([^\]]*)\]", line)
    assert m, f"no CAPABILITY response code in {line!r}"
    return set(m.group(1).upper().split())


def new_selfsigned(dirpath):
    cert = pathlib.Path(dirpath) / "new-cert.pem"
    key = pathlib.Path(dirpath) / "new-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={HOSTNAME}",
         "-addext", f"subjectAltName=DNS:{HOSTNAME}", "-days", "2",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30)
    os.chmod(key, 0o600)
    return cert, key


def s_client(port, *args):
    r = subprocess.run(
        ["openssl", "s_client", "-connect", f"{HOST}:{port}", "-brief",
         "-servername", HOSTNAME, *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    return r, r.stdout + r.stderr


def starttls_args(name):
    if LISTENERS[name][2] == "starttls":
        return ["-starttls", OPENSSL_STARTTLS[protocol_of(name)]]
    return []


# --------------------------------------------------------------------------
# init


def test_init_writes_layout_and_refuses_to_overwrite(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    r = run_postern("init", d, "--hostname", HOSTNAME, "--port-base", 10000)
    assert r.returncode == 0, r
    conf = d / "postern.conf"
    assert conf.is_file()
    assert (d / "data").is_dir()
    assert (d / "tls" / "cert.pem").is_file()
    key = d / "tls" / "key.pem"
    assert key.is_file()
    assert key.stat().st_mode & 0o077 == 0, "private key readable by others"
    # listeners printed
    for std, _, _, _ in LISTENERS.values():
        assert str(10000 + std) in r.stdout + r.stderr, (std, r.stdout)
    text = conf.read_text()
    assert HOSTNAME in text
    assert "127.0.0.1" in text  # --listen default when port base > 0
    for std, _, _, _ in LISTENERS.values():
        assert re.search(rf"\bport\s*[=:]\s*{10000 + std}\b", text), std
    # the certificate is for the host name
    x = subprocess.run(["openssl", "x509", "-in", str(d / "tls" / "cert.pem"),
                        "-noout", "-subject", "-ext", "subjectAltName"],
                       capture_output=True, text=True, check=True)
    assert f"DNS:{HOSTNAME}" in x.stdout, x.stdout
    # the generated file is valid
    c = run_postern("config", "check", "-c", conf)
    assert c.returncode == 0, c
    # a second init does not clobber it
    r2 = run_postern("init", d, "--hostname", "other.test", "--port-base",
                     11000)
    assert r2.returncode == 1, r2
    assert conf.read_text() == text


def test_init_listen_address(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    r = run_postern("init", d, "--hostname", HOSTNAME, "--port-base", 10000,
                    "--listen", "127.0.0.2")
    assert r.returncode == 0, r
    text = (d / "postern.conf").read_text()
    assert text.count('"127.0.0.2"') == len(LISTENERS), text
    assert "127.0.0.1" not in text


# --------------------------------------------------------------------------
# CLI


@pytest.mark.parametrize("args", [["serve"], ["init"], ["config"],
                                  ["config", "check"]], ids=" ".join)
def test_help(args):
    r = run_postern(*args, "--help")
    assert r.returncode == 0, r
    assert r.stdout.strip(), "help printed nothing on stdout"


def test_unknown_subcommand():
    r = run_postern("frobnicate")
    assert r.returncode == 1, r
    assert r.stderr.strip()


# --------------------------------------------------------------------------
# config check


@pytest.fixture
def conf_file(tmp_path):
    d = tmp_path / "c"
    d.mkdir()
    r = run_postern("init", d, "--hostname", HOSTNAME, "--port-base", 10000)
    assert r.returncode == 0, r
    return d / "postern.conf"


def line_of(text, pattern):
    for i, line in enumerate(text.splitlines(), 1):
        if re.search(pattern, line):
            return i
    raise AssertionError(f"{pattern!r} not in config:\n{text}")


def break_port(text):
    pat = r"\bport\s*[=:]\s*10025\b"
    line = line_of(text, pat)
    return re.sub(pat, "port = 70000", text, count=1), line


def error_lines(path, out):
    return [l for l in out.splitlines() if l.startswith(f"{path}:")]


def test_config_check_good(conf_file):
    r = run_postern("config", "check", "-c", conf_file)
    assert r.returncode == 0, r


def test_config_check_unknown_key(conf_file):
    text = conf_file.read_text().rstrip("\n") + "\nbogus_key = 1;\n"
    conf_file.write_text(text)
    r = run_postern("config", "check", "-c", conf_file)
    assert r.returncode == 1, r
    lines = error_lines(conf_file, r.stdout + r.stderr)
    nline = len(text.splitlines())
    assert any(l.startswith(f"{conf_file}:{nline}:") and "bogus_key" in l
               for l in lines), (nline, r.stdout, r.stderr)


def test_config_check_bad_port(conf_file):
    text, nline = break_port(conf_file.read_text())
    conf_file.write_text(text)
    r = run_postern("config", "check", "-c", conf_file)
    assert r.returncode == 1, r
    lines = error_lines(conf_file, r.stdout + r.stderr)
    assert any(l.startswith(f"{conf_file}:{nline}:") for l in lines), \
        (nline, r.stdout, r.stderr)


def test_config_check_reports_every_error(conf_file):
    text, port_line = break_port(conf_file.read_text())
    text = text.rstrip("\n") + "\nbogus_key = 1;\n"
    conf_file.write_text(text)
    r = run_postern("config", "check", "-c", conf_file)
    assert r.returncode == 1, r
    lines = error_lines(conf_file, r.stdout + r.stderr)
    got = {int(l.split(":")[1]) for l in lines
           if re.match(rf"{re.escape(str(conf_file))}:\d+:", l)}
    assert {port_line, len(text.splitlines())} <= got, (r.stdout, r.stderr)


def test_config_check_names_the_file_as_given(conf_file):
    """A certificate that does not load is reported like the loader's
    errors: under the name the operator typed, with the line of tls."""
    (conf_file.parent / "tls" / "cert.pem").unlink()
    r = run_postern("config", "check", "-c", "postern.conf",
                    cwd=conf_file.parent)
    assert r.returncode == 1, r
    tls_line = line_of(conf_file.read_text(), r"^tls\s*=")
    assert r.stdout.startswith(f"postern.conf:{tls_line}: tls: cannot load "
                               "certificate "), (r.stdout, r.stderr)


def test_config_check_syntax_error(conf_file):
    text = conf_file.read_text().rstrip("\n") + "\nhostname = ;\n"
    conf_file.write_text(text)
    r = run_postern("config", "check", "-c", conf_file)
    assert r.returncode == 1, r
    assert error_lines(conf_file, r.stdout + r.stderr), (r.stdout, r.stderr)


def test_config_check_missing_file(tmp_path):
    r = run_postern("config", "check", "-c", tmp_path / "nope.conf")
    assert r.returncode == 1, r


def test_config_check_env_fallback(conf_file):
    r = run_postern("config", "check", env={"POSTERN_CONFIG": str(conf_file)})
    assert r.returncode == 0, r
    conf_file.write_text(conf_file.read_text() + "\nbogus_key = 1;\n")
    r = run_postern("config", "check", env={"POSTERN_CONFIG": str(conf_file)})
    assert r.returncode == 1, r
    assert error_lines(conf_file, r.stdout + r.stderr), r


def test_serve_refuses_invalid_config(conf_file):
    conf_file.write_text(conf_file.read_text() + "\nbogus_key = 1;\n")
    r = run_postern("serve", "-c", conf_file, timeout=10)
    assert r.returncode == 1, r
    assert error_lines(conf_file, r.stdout + r.stderr), r


# --------------------------------------------------------------------------
# Logging


def test_log_lines_are_key_value(shared_server):
    srv = shared_server
    ready = wait_for(
        lambda: [l for l in srv.log_text().splitlines()
                 if " msg=ready" in l and "proc=master" in l
                 and re.search(rf"\bpid={srv.pid}\b", l)],
        5, what="master 'msg=ready' log line")
    assert ready
    for line in srv.log_text().splitlines():
        if line.strip():
            assert re.match(r"^ts=\S+ level=\w+ .*\bmsg=", line), line


# --------------------------------------------------------------------------
# TLS with Python clients


@pytest.mark.parametrize("name", IMPLICIT_LISTENERS)
def test_implicit_tls_python(shared_server, name):
    srv = shared_server
    proto = protocol_of(name)
    # raw: chain and host name verified, TLS 1.3, then the greeting
    conn, greeting = open_session(srv, name)
    with conn:
        assert conn.sock.version() == "TLSv1.3"
        if proto == "smtp":
            assert greeting.startswith(f"{HOSTNAME} ESMTP postern"), greeting
        elif proto == "imap":
            caps = imap_caps(greeting)
            assert "IMAP4REV1" in caps and "STARTTLS" not in caps, greeting
    # the standard library clients
    ctx = lib_context(srv)
    port = srv.port(name)
    if proto == "smtp":
        with smtplib.SMTP_SSL(HOST, port, context=ctx, timeout=IO_TIMEOUT,
                              local_hostname="client.test") as s:
            assert s.sock.version() == "TLSv1.3"
            code, msg = s.ehlo()
            assert code == 250
            assert not s.has_extn("starttls"), msg
            assert s.noop() == (250, b"2.0.0 OK")
            assert s.quit()[0] == 221
    elif proto == "imap":
        m = imaplib.IMAP4_SSL(HOST, port, ssl_context=ctx, timeout=IO_TIMEOUT)
        try:
            assert m.sock.version() == "TLSv1.3"
            assert "STARTTLS" not in m.capabilities
            assert m.noop()[0] == "OK"
            assert m.logout()[0] == "BYE"
        finally:
            m.sock.close()
    else:
        p = poplib.POP3_SSL(HOST, port, context=ctx, timeout=IO_TIMEOUT)
        try:
            assert p.sock.version() == "TLSv1.3"
            assert p.getwelcome().startswith(b"+OK")
            assert "STLS" not in p.capa()
            assert p.quit().startswith(b"+OK")
        finally:
            p.close()


@pytest.mark.parametrize("name", SMTP_STARTTLS)
def test_starttls_smtplib(shared_server, name):
    srv = shared_server
    with smtplib.SMTP(HOST, srv.port(name), timeout=IO_TIMEOUT,
                      local_hostname="client.test") as s:
        code, msg = s.ehlo()
        assert code == 250
        assert s.has_extn("starttls"), msg
        code, _ = s.starttls(context=lib_context(srv))
        assert code == 220
        assert s.sock.version() == "TLSv1.3"
        code, msg = s.ehlo()
        assert code == 250
        assert not s.has_extn("starttls"), msg
        assert s.noop() == (250, b"2.0.0 OK")


def test_starttls_imaplib(shared_server):
    srv = shared_server
    m = imaplib.IMAP4(HOST, srv.port("imap"), timeout=IO_TIMEOUT)
    try:
        assert "STARTTLS" in m.capabilities
        assert "LOGINDISABLED" in m.capabilities
        typ, _ = m.starttls(ssl_context=lib_context(srv))
        assert typ == "OK"
        assert m.sock.version() == "TLSv1.3"
        assert "STARTTLS" not in m.capabilities
        assert m.noop()[0] == "OK"
        assert m.logout()[0] == "BYE"
    finally:
        m.sock.close()


def test_stls_poplib(shared_server):
    srv = shared_server
    p = poplib.POP3(HOST, srv.port("pop3"), timeout=IO_TIMEOUT)
    try:
        assert p.getwelcome().startswith(b"+OK")
        assert "STLS" in p.capa()
        p.stls(context=lib_context(srv))
        assert p.sock.version() == "TLSv1.3"
        assert "STLS" not in p.capa()
        assert p.quit().startswith(b"+OK")
    finally:
        p.close()


@pytest.mark.parametrize("name", ["submissions", "smtp"])
def test_tls12_still_accepted(shared_server, name):
    ctx = client_context(shared_server,
                         maximum_version=ssl.TLSVersion.TLSv1_2)
    with tls_session(shared_server, name, ctx) as conn:
        assert conn.sock.version() == "TLSv1.2"


# --------------------------------------------------------------------------
# TLS with openssl s_client


@pytest.mark.parametrize("name", list(LISTENERS))
def test_openssl_s_client(shared_server, name):
    srv = shared_server
    r, out = s_client(srv.port(name), "-CAfile", str(srv.cert),
                      "-verify_return_error", "-verify_hostname", HOSTNAME,
                      *starttls_args(name))
    assert "Protocol version: TLSv1.3" in out, out
    assert "Verification: OK" in out, out


# --------------------------------------------------------------------------
# TLS 1.0 / 1.1 refused


@pytest.fixture(scope="module")
def legacy_control(tmp_path_factory):
    """Prove that this machine's clients can speak TLS 1.0/1.1 at all (to a
    local Python server), so the refusal tests cannot pass vacuously."""
    d = tmp_path_factory.mktemp("legacy")
    cert, key = new_selfsigned(d)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.minimum_version = ssl.TLSVersion.TLSv1
    sctx.set_ciphers("DEFAULT@SECLEVEL=0")
    sctx.load_cert_chain(str(cert), str(key))
    ls = socket.socket()
    ls.bind((HOST, 0))
    ls.listen(8)
    ls.settimeout(0.2)
    port = ls.getsockname()[1]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            c.settimeout(5)
            try:
                sctx.wrap_socket(c, server_side=True).close()
            except OSError:
                c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    works = {}
    try:
        for ver, flag in (("TLSv1", "-tls1"), ("TLSv1_1", "-tls1_1")):
            try:
                with legacy_context(ver).wrap_socket(
                        socket.create_connection((HOST, port), timeout=5)) as s:
                    works[("python", ver)] = s.version() == \
                        ver.replace("_", ".")
            except OSError:
                works[("python", ver)] = False
            _, out = s_client(port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
            works[("openssl", ver)] = \
                f"Protocol version: {ver.replace('_', '.')}\n" in out
    finally:
        stop.set()
        t.join(2)
        ls.close()
    return works


def legacy_starttls_then_wrap(srv, name, ctx):
    """Upgrade a STARTTLS listener using ctx, or connect implicitly."""
    if LISTENERS[name][2] == "implicit":
        return LineConn.connect(srv.port(name), ctx)
    conn, _ = open_session(srv, name)
    proto = protocol_of(name)
    if proto == "smtp":
        conn.cmd("EHLO client.test")
        conn.smtp_reply()
        conn.cmd("STARTTLS")
        assert conn.smtp_reply()[0] == 220
    elif proto == "imap":
        conn.cmd("a STARTTLS")
        assert conn.imap_tagged("a")[1].startswith("a OK")
    else:
        conn.cmd("STLS")
        assert conn.readline().startswith("+OK")
    try:
        conn.starttls(ctx)
    finally:
        conn.close()
    return conn


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
@pytest.mark.parametrize("name", TLS_SAMPLE)
def test_legacy_tls_refused_python(shared_server, legacy_control, name,
                                   version):
    if not legacy_control[("python", version)]:
        pytest.skip(f"python ssl here cannot speak {version} at all")
    with pytest.raises(OSError) as exc:
        c = legacy_starttls_then_wrap(shared_server, name,
                                      legacy_context(version))
        c.close()
    assert not isinstance(exc.value, (socket.timeout, TimeoutError)), \
        "server hung instead of refusing the handshake"


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
@pytest.mark.parametrize("name", TLS_SAMPLE)
def test_legacy_tls_refused_openssl(shared_server, legacy_control, name,
                                    flag):
    ver = "TLSv1" if flag == "-tls1" else "TLSv1_1"
    if not legacy_control[("openssl", ver)]:
        pytest.skip(f"openssl s_client here cannot speak {ver} at all")
    r, out = s_client(shared_server.port(name), flag, "-cipher",
                      "DEFAULT@SECLEVEL=0", *starttls_args(name))
    assert "CONNECTION ESTABLISHED" not in out, out
    assert "Protocol version:" not in out, out
    assert r.returncode != 0, out


# --------------------------------------------------------------------------
# Protocol dialogues (stubs, but exact)


def test_smtp_dialogue(shared_server):
    srv = shared_server
    conn, greeting = open_session(srv, "smtp")
    with conn:
        assert greeting.startswith(f"{HOSTNAME} ESMTP postern"), greeting
        conn.cmd("EHLO client.test")
        code, lines = conn.smtp_reply()
        assert code == 250 and len(lines) > 1, lines
        assert lines[0].startswith(HOSTNAME), lines
        assert "STARTTLS" in [l.split()[0].upper() for l in lines[1:]], lines
        conn.cmd("NOOP")
        assert conn.smtp_reply() == (250, ["2.0.0 OK"])
        conn.cmd("MAIL FROM:<a@example.test>")
        assert conn.smtp_reply() == (250, ["2.1.0 OK"])
        conn.cmd("STARTTLS")  # RFC 3207 4: not inside a transaction
        assert conn.smtp_reply()[0] == 503
        conn.cmd("RSET")
        assert conn.smtp_reply() == (250, ["2.0.0 OK"])
        conn.cmd("STARTTLS")
        assert conn.smtp_reply() == (220, ["2.0.0 Ready to start TLS"])
        conn.starttls(client_context(srv))
        conn.cmd("EHLO client.test")
        code, lines = conn.smtp_reply()
        assert code == 250
        assert "STARTTLS" not in [l.split()[0].upper() for l in lines[1:]]
        conn.cmd("STARTTLS")  # not again
        assert conn.smtp_reply()[0] >= 400
        conn.cmd("QUIT")
        assert conn.smtp_reply() == (221, [f"2.0.0 {HOSTNAME} Bye"])


def test_imap_dialogue(shared_server):
    srv = shared_server
    conn, greeting = open_session(srv, "imap")
    with conn:
        assert greeting.startswith("* OK [CAPABILITY "), greeting
        assert {"IMAP4REV1", "STARTTLS", "LOGINDISABLED"} <= \
            imap_caps(greeting), greeting
        conn.cmd("a CAPABILITY")
        untagged, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
        caps = [l for l in untagged if l.upper().startswith("* CAPABILITY ")]
        assert len(caps) == 1 and "STARTTLS" in caps[0].upper().split()
        conn.cmd("b NOOP")
        assert conn.imap_tagged("b")[1].startswith("b OK")
        conn.cmd("c STARTTLS")
        assert conn.imap_tagged("c")[1] == "c OK Begin TLS negotiation now"
        conn.starttls(client_context(srv))
        conn.cmd("d CAPABILITY")
        untagged, tagged = conn.imap_tagged("d")
        assert tagged.startswith("d OK")
        caps = [l for l in untagged if l.upper().startswith("* CAPABILITY ")]
        assert len(caps) == 1 and "STARTTLS" not in caps[0].upper().split()
        conn.cmd("e LOGOUT")
        untagged, tagged = conn.imap_tagged("e")
        assert tagged.startswith("e OK"), tagged
        assert any(l.startswith("* BYE") for l in untagged), untagged


def test_pop3_dialogue(shared_server):
    srv = shared_server
    conn, greeting = open_session(srv, "pop3")
    with conn:
        conn.cmd("CAPA")
        assert conn.readline().startswith("+OK")
        caps = conn.pop3_multiline()
        assert "STLS" in [c.split()[0].upper() for c in caps if c], caps
        conn.cmd("STLS")
        assert conn.readline().startswith("+OK")
        conn.starttls(client_context(srv))
        conn.cmd("CAPA")
        assert conn.readline().startswith("+OK")
        caps = conn.pop3_multiline()
        assert "STLS" not in [c.split()[0].upper() for c in caps if c], caps
        conn.cmd("QUIT")
        assert conn.readline().startswith("+OK")


@pytest.mark.parametrize("length", [1000, 100_000])
@pytest.mark.parametrize("name", ["smtp", "submission"])
def test_overlong_smtp_line(shared_server, name, length):
    conn, _ = open_session(shared_server, name)
    with conn:
        conn.cmd("EHLO client.test")
        assert conn.smtp_reply()[0] == 250
        conn.send(b"NOOP " + b"x" * length + b"\r\n")
        code, lines = conn.smtp_reply()
        assert code == 500, (code, lines)
        conn.cmd("NOOP")  # the session goes on, with one reply per command
        assert conn.smtp_reply() == (250, ["2.0.0 OK"])


# --------------------------------------------------------------------------
# STARTTLS command injection (CVE-2011-0411 class)


@pytest.mark.parametrize("name", STARTTLS_LISTENERS)
def test_starttls_discards_pipelined_plaintext(shared_server, name):
    srv = shared_server
    conn, _ = open_session(srv, name)
    proto = protocol_of(name)
    with conn:
        if proto == "smtp":
            conn.cmd("EHLO client.test")
            assert conn.smtp_reply()[0] == 250
            conn.send(b"STARTTLS\r\nNOOP\r\n")
            assert conn.smtp_reply()[0] == 220
        elif proto == "imap":
            conn.send(b"a STARTTLS\r\nb NOOP\r\n")
            assert conn.imap_tagged("a")[1].startswith("a OK")
        else:
            conn.send(b"STLS\r\nCAPA\r\n")
            assert conn.readline().startswith("+OK")
        plain, _ = conn.drain(0.3)
        assert plain == b"", f"plaintext after the STARTTLS reply: {plain!r}"
        conn.starttls(client_context(srv))
        if proto == "smtp":
            conn.cmd("NOOP")
            data, _ = conn.drain()
            assert data.split(b"\r\n") == [b"250 2.0.0 OK", b""], data
        elif proto == "imap":
            conn.cmd("c NOOP")
            data, _ = conn.drain()
            lines = data.decode().split("\r\n")
            tagged = [l for l in lines if l and not l.startswith("* ")]
            assert len(tagged) == 1 and tagged[0].startswith("c OK"), data
        else:
            conn.cmd("QUIT")
            data, _ = conn.drain()
            lines = [l for l in data.split(b"\r\n") if l]
            assert len(lines) == 1 and lines[0].startswith(b"+OK"), data


# --------------------------------------------------------------------------
# Signals and supervision


def test_sighup_reloads_certificate(server, tmp_path):
    srv = server
    old_fp = file_fingerprint(srv.cert)
    assert peer_fingerprint(srv, "submissions") == old_fp
    # sessions established before the reload, TLS and plaintext
    smtps = smtplib.SMTP_SSL(HOST, srv.port("submissions"),
                             context=lib_context(srv), timeout=IO_TIMEOUT)
    imap_tls = starttls_session(srv, "imap")
    pop_plain, _ = open_session(srv, "pop3")
    try:
        cert, key = new_selfsigned(tmp_path)
        new_fp = file_fingerprint(cert)
        assert new_fp != old_fp
        os.replace(key, srv.key)
        os.replace(cert, srv.cert)
        srv.signal(signal.SIGHUP)
        wait_for(lambda: peer_fingerprint(srv, "submissions") == new_fp, 10,
                 interval=0.2, what="new certificate after SIGHUP")
        for name in ("smtp", "imaps", "imap", "pop3s", "pop3"):
            assert peer_fingerprint(srv, name) == new_fp, name
        # verified against the new file too
        with tls_session(srv, "smtp", client_context(srv)) as c:
            assert c.sock.version() == "TLSv1.3"
        # The new workers share the master's login throttle: a failed
        # AUTH is answered (late), not a crash.
        with smtplib.SMTP_SSL(HOST, srv.port("submissions"),
                              context=lib_context(srv),
                              timeout=IO_TIMEOUT + 10) as s:
            with pytest.raises(smtplib.SMTPAuthenticationError) as e:
                s.login("nobody@example.test", "wrong")
            assert e.value.smtp_code == 535
        # old sessions still work, on the old certificate
        assert smtps.noop() == (250, b"2.0.0 OK")
        assert smtps.ehlo()[0] == 250
        imap_tls.cmd("n1 NOOP")
        assert imap_tls.imap_tagged("n1")[1].startswith("n1 OK")
        assert fingerprint_of(imap_tls) == old_fp
        pop_plain.cmd("CAPA")
        assert pop_plain.readline().startswith("+OK")
        assert "STLS" in [c.split()[0] for c in pop_plain.pop3_multiline()
                          if c]
        assert srv.running()
        smtps.quit()
        imap_tls.cmd("n2 LOGOUT")
        assert imap_tls.imap_tagged("n2")[1].startswith("n2 OK")
        pop_plain.cmd("QUIT")
        assert pop_plain.readline().startswith("+OK")
    finally:
        smtps.close()
        imap_tls.close()
        pop_plain.close()


def fingerprint_of(conn):
    return fingerprint(conn.sock.getpeercert(binary_form=True))


def test_sigterm_exits_zero(server):
    srv = server
    probe_all(srv)
    rc, secs = srv.stop(timeout=10)
    assert rc == 0, srv.log_tail()
    assert secs < 5, f"idle server took {secs:.1f}s to stop"
    for name in LISTENERS:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((HOST, srv.port(name)), timeout=2)


def test_sigterm_with_idle_clients(make_server):
    deadline = 3
    srv = make_server(limits={"shutdown_timeout": deadline})
    smtp_plain, _ = open_session(srv, "smtp")
    imaps, _ = open_session(srv, "imaps")
    pop_tls = starttls_session(srv, "pop3")
    conns = [smtp_plain, imaps, pop_tls]
    try:
        rc, secs = srv.stop(timeout=deadline + 10)
        assert rc == 0, srv.log_tail()
        assert secs < deadline + 4, f"took {secs:.1f}s with deadline {deadline}"
        for c in conns:
            _, eof = c.drain(2)
            assert eof, "client connection still open after exit"
    finally:
        for c in conns:
            c.close()


def server_pid_of(srv, conn):
    """The child process holding the server side of conn (via /proc)."""
    lport = conn.sock.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        for row in f.read().splitlines()[1:]:
            parts = row.split()
            local, remote = parts[1], parts[2]
            if (int(local.split(":")[1], 16) == conn.sock.getpeername()[1]
                    and int(remote.split(":")[1], 16) == lport):
                inode = parts[9]
    assert inode, "server-side socket not found in /proc/net/tcp"
    target = f"socket:[{inode}]"
    for kid in srv.children():
        try:
            fds = os.listdir(f"/proc/{kid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{kid}/fd/{fd}") == target:
                    return kid
            except OSError:
                pass
    raise AssertionError("no child of the master holds the session socket")


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_worker_is_restarted(make_server, workers):
    srv = make_server(workers=workers)
    wait_for(lambda: len(srv.children()) >= workers, 10,
             what=f"{workers} worker processes")
    time.sleep(0.3)
    before = srv.children()
    assert len(before) >= workers
    conn, _ = open_session(srv, "smtp")
    with conn:
        victim = server_pid_of(srv, conn)
        os.kill(victim, signal.SIGKILL)
        _, eof = conn.drain(2)
        assert eof
    wait_for(lambda: victim not in srv.children()
             and len(srv.children()) == len(before), 10,
             what="a replacement worker")
    after = srv.children()
    assert after - before, "no new child pid"
    assert srv.running()
    # every port still answers, and several sessions at once
    probe_all(srv)
    held = []
    try:
        for name in ["smtp", "imap", "pop3", "submissions"] * 2:
            held.append(open_session(srv, name)[0])
    finally:
        for c in held:
            c.close()
    assert srv.children() == after


@pytest.mark.parametrize("victim", ["submissions", "imap"])
def test_abrupt_tls_disconnect_leaves_other_sessions_alone(make_server,
                                                           victim):
    """One worker; a session stays open while other clients finish a TLS
    handshake and drop the connection without a goodbye. The open session
    must not notice (a stale OpenSSL error queue would kill it)."""
    srv = make_server(workers=1)
    n = 0
    with tls_session(srv, victim) as conn:
        for other in ["submissions", "pop3", "imaps", "smtp"]:
            tls_session(srv, other, insecure_context()).close()
            for _ in range(2):
                n += 1
                if protocol_of(victim) == "smtp":
                    conn.cmd("NOOP")
                    assert conn.smtp_reply() == (250, ["2.0.0 OK"]), other
                else:
                    conn.cmd(f"t{n} NOOP")
                    assert conn.imap_tagged(f"t{n}")[1].startswith(
                        f"t{n} OK"), other
