"""
The POP3 service (110 STLS / 995 implicit TLS, + base): login only over
TLS, the maildrop lock, DELE removed only at QUIT, stable UIDL, dot
stuffing and exact sizes, pipelining and back-pressure, driven by
Python's poplib and raw sockets, then by fetchmail, getmail6, mpop and
curl. Mail arrives through the MX port with smtplib first.
"""

import base64
import hashlib
import hmac
import imaplib
import os
import poplib
import re
import signal
import smtplib
import subprocess
import time

import pytest

from conftest import (start_or_kill, wait_for, HOST, HOSTNAME, STOP_TIMEOUT,
                      LineConn, Server, client_context, find_port_base,
                      finish_server, postern_bin)

DOMAIN = "example.test"
PASSWORD = "correct horse"  # a space: PASS takes the rest of the line
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace",
         "heidi", "ivan", "judy", "ken", "lena", "mike", "nina", "olga",
         "pete", "quinn", "rita", "sam"]
UIDL_RE = re.compile(r"^[0-9a-f]{8}\.[0-9a-f]{8}$")


def cli(srv, *args, stdin=""):
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(srv.conf)], input=stdin, capture_output=True,
                          text=True, timeout=20)


def make_pop_server(root, users):
    srv = Server(root, workers=1, limits={"shutdown_timeout": 3})
    srv.init(find_port_base())
    with open(srv.conf, "a") as f:
        f.write('\ndns = { forward = "127.0.0.1@9"; };\n')
    assert cli(srv, "domain", "add", DOMAIN).returncode == 0
    for user in users:
        r = cli(srv, "user", "add", f"{user}@{DOMAIN}", "--password-stdin",
                stdin=PASSWORD + "\n")
        assert r.returncode == 0, r
    return start_or_kill(srv)


@pytest.fixture(scope="module")
def pop(tmp_path_factory):
    srv = make_pop_server(tmp_path_factory.mktemp("pop3"), USERS)
    yield srv
    finish_server(srv)


def addr(user):
    return f"{user}@{DOMAIN}"


def ctx_for(srv):
    ctx = client_context(srv)
    ctx.check_hostname = False  # we connect by address; the cert is mail.test
    return ctx


def message(subject, body="hello\r\n"):
    return (f"From: sender@remote.test\r\nTo: someone@{DOMAIN}\r\n"
            f"Subject: {subject}\r\n\r\n{body}")


def deliver(srv, user, subject, body="hello\r\n"):
    """Through the MX port, as the Internet would."""
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        refused = s.sendmail("sender@remote.test", [addr(user)],
                             message(subject, body).encode())
        assert refused == {}


def deliver_in_order(srv, user, *subjects_bodies):
    """Deliver one by one, each seen by a POP3 login before the next, so
    the store gives them ascending UIDs (message numbers) in this order
    whatever order it scans new/ in."""
    for subject, body in subjects_bodies:
        deliver(srv, user, subject, body)
        ssl_login(srv, user).quit()


def stls_login(srv, user):
    p = poplib.POP3(HOST, srv.port("pop3"), timeout=15)
    p.stls(context=ctx_for(srv))
    p.user(addr(user))
    p.pass_(PASSWORD)
    return p


def ssl_login(srv, user):
    p = poplib.POP3_SSL(HOST, srv.port("pop3s"), timeout=15,
                        context=ctx_for(srv))
    p.user(addr(user))
    p.pass_(PASSWORD)
    return p


def raw_login(srv, user):
    """A raw TLS session (pop3s) in TRANSACTION state."""
    c = LineConn.connect(srv.port("pop3s"), ctx_for(srv))
    assert c.readline().startswith("+OK")
    c.cmd(f"USER {addr(user)}")
    assert c.readline().startswith("+OK")
    c.cmd(f"PASS {PASSWORD}")
    line = c.readline()
    assert line.startswith("+OK"), line
    return c


def capa(c):
    c.cmd("CAPA")
    assert c.readline().startswith("+OK")
    return c.pop3_multiline()


def crlf_size(lines):
    return sum(len(l) + 2 for l in lines)


def read_until(c, end):
    """Raw bytes up to and including end (LineConn.readline would copy
    its buffer once per line of a big body)."""
    buf = bytearray(c.buf)
    c.buf = b""
    start = 0
    while True:
        i = buf.find(end, max(0, start - len(end)))
        if i >= 0:
            break
        start = len(buf)
        data = c.sock.recv(1 << 20)
        if not data:
            raise EOFError("connection closed in a multi-line response")
        buf += data
    i += len(end)
    c.buf = bytes(buf[i:])
    return bytes(buf[:i])


def maildir_files(srv, user):
    d = srv.root / "data" / "mail" / DOMAIN / user
    return [f for sub in ("new", "cur") if (d / sub).is_dir()
            for f in (d / sub).iterdir()]


# --------------------------------------------------------------------------
# Capabilities and TLS


def test_capa_before_and_after_stls(pop):
    with LineConn.connect(pop.port("pop3")) as c:
        greeting = c.readline()
        assert greeting.startswith("+OK") and "<" not in greeting  # no APOP
        caps = capa(c)
        for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE",
                    "PIPELINING", "STLS", "IMPLEMENTATION postern"):
            assert cap in caps, caps
        assert "USER" not in caps
        assert not any(l.startswith("SASL") for l in caps), caps
        c.cmd("STLS")
        assert c.readline().startswith("+OK")
        c.starttls(ctx_for(pop))
        caps = capa(c)
        assert "STLS" not in caps
        assert "USER" in caps
        assert "SASL PLAIN LOGIN SCRAM-SHA-256" in caps
        c.cmd("STLS")
        assert c.readline().startswith("-ERR")
        c.cmd("QUIT")
        assert c.readline().startswith("+OK")


def test_capa_on_implicit_tls(pop):
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        assert c.readline().startswith("+OK")
        caps = capa(c)
        assert "USER" in caps and "STLS" not in caps
        assert any(l.startswith("SASL ") for l in caps)
        c.cmd("STLS")
        assert c.readline().startswith("-ERR")


def test_login_refused_before_tls(pop):
    with LineConn.connect(pop.port("pop3")) as c:
        c.readline()
        for line in (f"USER {addr('alice')}", f"PASS {PASSWORD}",
                     "AUTH PLAIN " + base64.b64encode(
                         f"\0{addr('alice')}\0{PASSWORD}".encode()).decode(),
                     "AUTH"):
            c.cmd(line)
            reply = c.readline()
            assert reply.startswith("-ERR [AUTH]") and "STLS" in reply, \
                reply
        # the session lives on
        c.cmd("STAT")
        assert c.readline().startswith("-ERR")
        c.cmd("QUIT")
        assert c.readline().startswith("+OK")


def test_stls_discards_pipelined_plaintext(pop):
    """RFC 2595 / DESIGN.md 7: commands sent after STLS in the same
    plaintext packet are never run under TLS."""
    with LineConn.connect(pop.port("pop3")) as c:
        c.readline()
        c.send(b"STLS\r\nUSER " + addr("alice").encode() + b"\r\nCAPA\r\n")
        assert c.readline().startswith("+OK")
        c.starttls(ctx_for(pop))
        c.cmd("NOOP")  # not valid in AUTHORIZATION: the first reply
        assert c.readline().startswith("-ERR")
        c.cmd(f"PASS {PASSWORD}")  # USER was discarded with the CAPA
        assert c.readline().startswith("-ERR")
        c.cmd("QUIT")
        assert c.readline().startswith("+OK")


# --------------------------------------------------------------------------
# poplib end to end


def test_poplib_stls_download_and_delete(pop):
    body = "line one\r\n.leading dot\r\n..two dots\r\n.\r\nlast\r\n"
    deliver_in_order(pop, "alice", ("first", body), ("second", "hi\r\n"))
    p = stls_login(pop, "alice")
    count, octets = p.stat()
    assert count == 2
    _, listing, _ = p.list()
    sizes = [int(l.split()[1]) for l in listing]
    assert [int(l.split()[0]) for l in listing] == [1, 2]
    assert sum(sizes) == octets
    _, lines, got = p.retr(1)
    assert got == sizes[0] == crlf_size(lines)  # CRLF sizes
    text = b"\r\n".join(lines).decode()
    assert "Subject: first" in text
    assert text.endswith("\r\n\r\n" + body[:-2])  # dots unstuffed intact
    assert p.dele(1).startswith(b"+OK")
    with pytest.raises(poplib.error_proto):
        p.retr(1)  # marked deleted
    assert p.stat() == (1, sizes[1])
    assert p.quit().startswith(b"+OK")
    assert len(maildir_files(pop, "alice")) == 1
    p = stls_login(pop, "alice")
    assert p.stat() == (1, sizes[1])
    _, lines, _ = p.retr(1)
    assert b"Subject: second" in lines
    p.dele(1)
    p.quit()
    assert maildir_files(pop, "alice") == []


def test_pop3_ssl_uidl_top(pop):
    deliver(pop, "bob", "top test", "b1\r\nb2\r\nb3\r\n")
    p = ssl_login(pop, "bob")
    _, uidls, _ = p.uidl()
    assert len(uidls) == 1
    num, uid = uidls[0].decode().split()
    assert num == "1" and UIDL_RE.match(uid), uid
    assert p.uidl(1).decode().split()[1:] == ["1", uid]
    _, lines, _ = p.top(1, 0)
    assert lines[-1] == b"" and b"Subject: top test" in lines
    assert b"b1" not in lines
    _, lines, _ = p.top(1, 2)
    assert lines[-3:] == [b"", b"b1", b"b2"]
    _, lines, _ = p.top(1, 100)
    assert lines[-3:] == [b"b1", b"b2", b"b3"]
    p.quit()


def test_uidl_and_list_stable_across_sessions(pop):
    for i in range(3):
        deliver(pop, "carol", f"stable {i}")
    p = ssl_login(pop, "carol")
    uidl1 = p.uidl()[1]
    list1 = p.list()[1]
    p.quit()
    p = ssl_login(pop, "carol")
    assert p.uidl()[1] == uidl1
    assert p.list()[1] == list1
    p.dele(1)
    p.quit()
    p = ssl_login(pop, "carol")
    uidl3 = [l.split()[1] for l in p.uidl()[1]]
    assert uidl3 == [l.split()[1] for l in uidl1[1:]]
    assert len(set(uidl3)) == 2
    p.quit()


def test_rset_undeletes(pop):
    deliver(pop, "dave", "keep me")
    p = ssl_login(pop, "dave")
    p.dele(1)
    assert p.stat()[0] == 0
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 1
    p.quit()
    p = ssl_login(pop, "dave")
    assert p.stat()[0] == 1
    p.quit()


def test_noop_and_retr_marks_seen(pop):
    deliver(pop, "erin", "seen")
    p = ssl_login(pop, "erin")
    assert p.noop() == b"+OK"
    p.retr(1)
    p.quit()
    files = maildir_files(pop, "erin")
    assert len(files) == 1
    assert re.search(r":2,[A-Z]*S", files[0].name), files[0].name


# --------------------------------------------------------------------------
# SASL


def auth_line(c, line):
    c.cmd(line)
    return c.readline()


def test_auth_plain_initial_and_continued(pop):
    plain = base64.b64encode(f"\0{addr('frank')}\0{PASSWORD}".encode())
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        assert auth_line(c, "AUTH PLAIN " + plain.decode()).startswith(
            "+OK")
        c.cmd("AUTH PLAIN")  # RFC 5034 4: not again
        assert c.readline().startswith("-ERR")
        c.cmd("QUIT")
        c.readline()
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        # RFC 5034 4: an empty challenge is "+ " exactly
        c.cmd("AUTH PLAIN")
        assert c.sock.recv(10) == b"+ \r\n"
        assert auth_line(c, plain.decode()).startswith("+OK")
        c.cmd("STAT")
        assert re.match(r"^\+OK \d+ \d+$", c.readline())


def test_auth_login_cancel_and_list(pop):
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        c.cmd("AUTH")
        assert c.readline().startswith("+OK")
        assert c.pop3_multiline() == ["PLAIN", "LOGIN", "SCRAM-SHA-256"]
        assert auth_line(c, "AUTH LOGIN") == "+ VXNlcm5hbWU6"
        assert auth_line(c, "*").startswith("-ERR")
        assert auth_line(c, "AUTH FOO").startswith("-ERR")
        assert auth_line(c, "AUTH PLAIN !!!").startswith("-ERR")
        assert auth_line(c, "AUTH LOGIN") == "+ VXNlcm5hbWU6"
        assert auth_line(c, base64.b64encode(
            addr("frank").encode()).decode()) == "+ UGFzc3dvcmQ6"
        assert auth_line(c, base64.b64encode(
            PASSWORD.encode()).decode()).startswith("+OK")


def scram_login(c, user, password):
    """RFC 5802 client over POP3 AUTH (RFC 5034); returns the last line."""
    cnonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={cnonce}"
    line = auth_line(c, "AUTH SCRAM-SHA-256 " + base64.b64encode(
        ("n,," + first_bare).encode()).decode())
    assert line.startswith("+ "), line
    server_first = base64.b64decode(line[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                 base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = f"c=biws,r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{final_bare}".encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    line = auth_line(c, base64.b64encode(
        (final_bare + ",p=" + base64.b64encode(proof).decode())
        .encode()).decode())
    if not line.startswith("+ "):
        return line
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expect = base64.b64encode(hmac.new(server_key, auth_msg,
                                       hashlib.sha256).digest()).decode()
    assert base64.b64decode(line[2:]).decode() == "v=" + expect
    return auth_line(c, "")


def test_auth_scram_sha_256(pop):
    deliver(pop, "grace", "scram")
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        assert scram_login(c, addr("grace"), PASSWORD).startswith("+OK")
        c.cmd("STAT")
        assert c.readline().startswith("+OK 1 ")


def test_bad_credentials_are_delayed_and_session_lives(pop):
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.sock.settimeout(20)
        c.readline()
        c.cmd(f"USER {addr('heidi')}")
        assert c.readline().startswith("+OK")
        t0 = time.monotonic()
        c.cmd("PASS wrong password")
        line = c.readline()
        assert line.startswith("-ERR [AUTH]"), line
        assert time.monotonic() - t0 >= 0.9
        c.cmd("PASS " + PASSWORD)  # PASS needs a USER right before
        assert c.readline().startswith("-ERR")
        c.cmd(f"USER {addr('heidi')}")
        c.readline()
        c.cmd("PASS " + PASSWORD)
        assert c.readline().startswith("+OK")  # success resets the brake


# --------------------------------------------------------------------------
# The maildrop lock and the UPDATE state


def test_second_session_gets_in_use(pop):
    deliver(pop, "ivan", "locked")
    first = raw_login(pop, "ivan")
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        c.cmd(f"USER {addr('ivan')}")
        c.readline()
        c.cmd(f"PASS {PASSWORD}")
        line = c.readline()
        assert line.startswith("-ERR [IN-USE]"), line
        first.cmd("QUIT")
        assert first.readline().startswith("+OK")
        first.close()
        # RFC 1939 4: the client may try again in the same session
        c.cmd(f"USER {addr('ivan')}")
        c.readline()
        c.cmd(f"PASS {PASSWORD}")
        assert c.readline().startswith("+OK")


def relogin(srv, user, timeout=10):
    """A new session once the server noticed the old one is gone."""
    def attempt():
        c = LineConn.connect(srv.port("pop3s"), ctx_for(srv))
        c.readline()
        c.cmd(f"USER {addr(user)}")
        c.readline()
        c.cmd(f"PASS {PASSWORD}")
        line = c.readline()
        if line.startswith("+OK"):
            return c
        c.close()
        assert line.startswith("-ERR [IN-USE]"), line
        return None
    return wait_for(attempt, timeout, interval=0.1, what="the lock")


def test_dropped_connection_deletes_nothing(pop):
    deliver(pop, "judy", "one")
    deliver(pop, "judy", "two")
    c = raw_login(pop, "judy")
    c.cmd("DELE 1")
    assert c.readline().startswith("+OK")
    c.cmd("DELE 2")
    assert c.readline().startswith("+OK")
    c.sock.close()  # no QUIT: RFC 1939 6, no UPDATE state
    c = relogin(pop, "judy")
    c.cmd("STAT")
    assert c.readline().startswith("+OK 2 ")
    c.cmd("QUIT")
    c.readline()
    assert len(maildir_files(pop, "judy")) == 2


def imap_login(srv, user):
    """An IMAP session on the same store."""
    m = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=ctx_for(srv),
                          timeout=15)
    m.login(addr(user), PASSWORD)
    return m


def test_imap_sees_pop3_expunge_after_quit(pop):
    deliver_in_order(pop, "sam", ("imap one", "a\r\n"),
                     ("imap two", "b\r\n"))
    m = imap_login(pop, "sam")
    try:
        typ, data = m.select("INBOX")
        assert typ == "OK" and int(data[0]) >= 2
        before = int(data[0])
        p = ssl_login(pop, "sam")
        p.dele(1)
        m.noop()
        assert not m.response("EXPUNGE")[1][0]  # not before QUIT
        p.quit()
        typ, _ = m.noop()
        assert typ == "OK"
        assert m.response("EXPUNGE")[1][0] == b"1"
        typ, data = m.status("INBOX", "(MESSAGES)")
        assert f"MESSAGES {before - 1}".encode() in data[0]
    finally:
        m.logout()


def test_shutdown_mid_session_deletes_nothing(tmp_path):
    """SIGTERM is not QUIT: the session ends without the UPDATE state."""
    srv = make_pop_server(tmp_path, ["alice"])
    try:
        deliver(srv, "alice", "survives")
        c = raw_login(srv, "alice")
        c.cmd("DELE 1")
        assert c.readline().startswith("+OK")
        srv.signal(signal.SIGTERM)
        assert c.readline() == "-ERR [SYS/TEMP] Server shutting down"
        assert c.drain()[1]  # then the server hangs up
        assert srv.proc.wait(STOP_TIMEOUT) == 0
        assert len(maildir_files(srv, "alice")) == 1
    finally:
        finish_server(srv)


# --------------------------------------------------------------------------
# Robustness


def test_bad_commands_get_err_and_session_lives(pop):
    deliver(pop, "ken", "robust")
    c = raw_login(pop, "ken")
    for bad in ("XYZZY", "RETR", "RETR x", "RETR 0", "RETR 2", "RETR -1",
                "LIST 1 2", "TOP 1", "TOP 1 x", "DELE 99999999999",
                "USER again", "STLS", "APOP a b", "AUTH PLAIN", "",
                "RETR  1", "LIST\t1", "X" * 300):
        c.cmd(bad)
        line = c.readline()
        assert line.startswith("-ERR"), (bad, line)
    c.send(b"NO\0OP\r\n")
    assert c.readline().startswith("-ERR")
    c.send(b"NOOP\n")  # bare LF
    assert c.readline().startswith("-ERR")
    c.cmd("NOOP")
    assert c.readline() == "+OK"
    c.cmd("stat")  # keywords are case-insensitive
    assert c.readline().startswith("+OK 1 ")
    c.cmd("QUIT")
    assert c.readline().startswith("+OK")
    assert len(maildir_files(pop, "ken")) == 1


def test_too_many_errors_disconnect(pop):
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        c.send(b"BOGUS\r\n" * 40)
        data, eof = c.drain(quiet=2)
        assert eof
        assert data.count(b"-ERR") <= 22


def test_pipelining(pop):
    deliver_in_order(pop, "lena", ("p1", ".dot\r\n"), ("p2", "hi\r\n"))
    with LineConn.connect(pop.port("pop3s"), ctx_for(pop)) as c:
        c.readline()
        c.send(f"USER {addr('lena')}\r\nPASS {PASSWORD}\r\nSTAT\r\nLIST\r\n"
               "UIDL\r\nRETR 1\r\nTOP 2 0\r\nDELE 2\r\nNOOP\r\nSTAT\r\n"
               "RSET\r\nQUIT\r\n")
        assert c.readline().startswith("+OK")  # USER
        assert c.readline().startswith("+OK")  # PASS
        stat = c.readline()
        assert stat.startswith("+OK 2 ")
        assert c.readline().startswith("+OK")
        assert len(c.pop3_multiline()) == 2
        assert c.readline().startswith("+OK")
        assert all(UIDL_RE.match(l.split()[1]) for l in c.pop3_multiline())
        assert c.readline().startswith("+OK")
        assert c.pop3_multiline()[-1] == ".dot"
        assert c.readline().startswith("+OK")
        assert "Subject: p2" in c.pop3_multiline()
        assert c.readline().startswith("+OK")  # DELE
        assert c.readline() == "+OK"  # NOOP
        assert c.readline().startswith("+OK 1 ")
        assert c.readline().startswith("+OK")  # RSET
        assert c.readline().startswith("+OK")  # QUIT
    assert len(maildir_files(pop, "lena")) == 2


def test_big_message_respects_back_pressure(pop):
    """A message larger than the connection's output cap (4 MiB) arrives
    whole even when the client reads late: the server writes as the
    socket drains instead of queueing it all."""
    line = "x" * 70 + "\r\n"
    body = line * (6 * 1024 * 1024 // len(line))
    deliver(pop, "mike", "big", body)
    c = raw_login(pop, "mike")
    c.sock.settimeout(30)
    c.cmd("LIST 1")
    size = int(c.readline().split()[2])
    assert size > 6 * 1024 * 1024
    c.cmd("RETR 1")
    c.cmd("NOOP")  # pipelined behind the big response
    time.sleep(2)  # let the server hit the high-water mark
    assert c.readline() == f"+OK {size} octets"
    data = read_until(c, b"\r\n.\r\n")
    assert len(data) == size + 3 and data.endswith(line.encode() + b".\r\n")
    assert c.readline() == "+OK"
    c.cmd("QUIT")
    assert c.readline().startswith("+OK")


# --------------------------------------------------------------------------
# Real clients


def test_fetchmail_stls_downloads_and_deletes(pop, tmp_path):
    deliver(pop, "nina", "fm one")
    deliver(pop, "nina", "fm two")
    mbox = tmp_path / "mbox"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f"set no syslog\n"
        f"poll {HOST} with proto POP3 port {pop.port('pop3')}\n"
        f"  user \"{addr('nina')}\" there with password \"{PASSWORD}\"\n"
        f"  sslproto 'tls1.2+' sslcertck sslcertfile \"{pop.cert}\"\n"
        f"  sslcommonname \"{HOSTNAME}\"\n"
        f"  mda \"/bin/sh -c 'cat >> {mbox}'\"\n")
    rc.chmod(0o600)
    r = subprocess.run(["fetchmail", "-f", str(rc), "-i",
                        str(tmp_path / "ids"), "--nodetach", "-v"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "STLS" in r.stdout + r.stderr
    text = mbox.read_text()
    assert "Subject: fm one" in text and "Subject: fm two" in text
    assert maildir_files(pop, "nina") == []


def test_getmail6_pop3s_downloads_and_deletes(pop, tmp_path):
    deliver(pop, "olga", "gm one")
    deliver(pop, "olga", "gm two")
    dest = tmp_path / "got"
    dest.mkdir()
    rc = tmp_path / "getmailrc"
    # an external MDA: getmail's Maildir writer refuses to run as root
    rc.write_text(
        "[retriever]\ntype = SimplePOP3SSLRetriever\n"
        f"server = {HOST}\nport = {pop.port('pop3s')}\n"
        f"username = {addr('olga')}\npassword = {PASSWORD}\n"
        f"ca_certs = {pop.cert}\nssl_cert_hostname = {HOSTNAME}\n"
        "[destination]\ntype = MDA_external\npath = /bin/sh\n"
        f"arguments = (\"-c\", \"cat > {dest}/msg.$$\")\n"
        "allow_root_commands = true\n"
        "[options]\ndelete = true\nread_all = true\n")
    r = subprocess.run(["getmail", f"--getmaildir={tmp_path}",
                        f"--rcfile={rc}"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = sorted(f.read_bytes() for f in dest.iterdir())
    assert len(got) == 2
    assert sorted(b"Subject: gm one" in m for m in got) == [False, True]
    assert maildir_files(pop, "olga") == []


def test_mpop_stls_downloads_and_deletes(pop, tmp_path):
    deliver(pop, "pete", "mpop one")
    mbox = tmp_path / "mbox"
    mbox.touch()
    r = subprocess.run(
        ["mpop", f"--host={HOST}", f"--port={pop.port('pop3')}",
         "--tls=on", "--tls-starttls=on", f"--tls-trust-file={pop.cert}",
         f"--tls-host-override={HOSTNAME}", "--auth=plain",
         f"--user={addr('pete')}", f"--passwordeval=echo '{PASSWORD}'",
         f"--delivery=mbox,{mbox}", "--keep=off",
         f"--uidls-file={tmp_path / 'uidls'}"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Subject: mpop one" in mbox.read_text()
    assert maildir_files(pop, "pete") == []


def curl(srv, path, *args):
    port = srv.port("pop3s")
    return subprocess.run(
        ["curl", "-sS", "--cacert", str(srv.cert), "--resolve",
         f"{HOSTNAME}:{port}:{HOST}", "-u", f"{addr('quinn')}:{PASSWORD}",
         f"pop3s://{HOSTNAME}:{port}/{path}", *args],
        capture_output=True, timeout=60)


def test_curl_pop3s_retrieve_and_delete(pop):
    deliver(pop, "quinn", "curl one")
    r = curl(pop, "")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split()[0] == "1"  # LIST
    r = curl(pop, "1")
    assert r.returncode == 0, r.stderr
    assert b"Subject: curl one" in r.stdout
    r = curl(pop, "1", "-X", "DELE", "-I")
    assert r.returncode == 0, r.stderr
    assert maildir_files(pop, "quinn") == []


def test_curl_stls_required(pop):
    deliver(pop, "rita", "curl stls")
    port = pop.port("pop3")
    r = subprocess.run(
        ["curl", "-sS", "--ssl-reqd", "--cacert", str(pop.cert),
         "--resolve", f"{HOSTNAME}:{port}:{HOST}",
         "-u", f"{addr('rita')}:{PASSWORD}",
         f"pop3://{HOSTNAME}:{port}/1"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert b"Subject: curl stls" in r.stdout
    # and without TLS, curl cannot log in
    r = subprocess.run(
        ["curl", "-sS", "-u", f"{addr('rita')}:{PASSWORD}",
         f"pop3://{HOST}:{port}/1"], capture_output=True, timeout=60)
    assert r.returncode != 0
