"""
The IMAP server (143 STARTTLS, 993 implicit TLS): login rules, the
folder commands, APPEND, SELECT, IDLE woken by an SMTP delivery, literal
handling and syntax errors, driven by Python's imaplib and a raw line
client (exact bytes where the RFC fixes them).
"""

import base64
import hashlib
import hmac
import imaplib
import os
import re
import smtplib
import socket
import subprocess
import time
import zlib

import pytest

from conftest import (HOST, LineConn, Server, client_context, file_fingerprint,
                      find_port_base,
                      finish_server, postern_bin, start_or_kill,
                      starttls_session, open_session, without_inotify)

DOMAIN = "example.test"
PASSWORD = "correct horse"
ALICE = f"alice@{DOMAIN}"
BOB = f"bob@{DOMAIN}"


def cli(srv, *args, stdin=""):
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(srv.conf)], input=stdin, capture_output=True,
                          text=True, timeout=20)


def imap_server(root, users, quotas=None):
    """A started two-worker server for DOMAIN, without DNS, with these
    users (password PASSWORD); quotas maps some of them to --quota."""
    s = Server(root, workers=2, limits={"shutdown_timeout": 3})
    s.init(find_port_base())
    s.conf.write_text(s.conf.read_text() +
                      '\ndns = { forward = "127.0.0.1@9"; };\n')
    assert cli(s, "domain", "add", DOMAIN).returncode == 0
    for user in users:
        quota = (quotas or {}).get(user)
        r = cli(s, "user", "add", f"{user}@{DOMAIN}", "--password-stdin",
                *(["--quota", quota] if quota else []),
                stdin=PASSWORD + "\n")
        assert r.returncode == 0, r
    return start_or_kill(s)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = imap_server(tmp_path_factory.mktemp("imap"),
                    ("alice", "bob", "carol", "dave"))
    yield s
    finish_server(s)


def ctx_for(srv):
    ctx = client_context(srv)
    ctx.check_hostname = False  # we connect by address; the cert is mail.test
    return ctx


def imaps(srv, user=ALICE):
    m = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=ctx_for(srv),
                          timeout=15)
    if user is not None:
        m.login(user, PASSWORD)
    return m


def imap_starttls(srv, user=ALICE):
    m = imaplib.IMAP4(HOST, srv.port("imap"), timeout=15)
    m.starttls(ssl_context=ctx_for(srv))
    if user is not None:
        m.login(user, PASSWORD)
    return m


def raw_tls(srv, user=None):
    """A raw line client over implicit TLS, logged in as user if given."""
    conn, _ = open_session(srv, "imaps", ctx_for(srv))
    if user is not None:
        conn.cmd(f'l1 LOGIN {user} "{PASSWORD}"')
        _, tagged = conn.imap_tagged("l1")
        assert tagged.startswith("l1 OK"), tagged
    return conn


def list_names(m, *args):
    typ, data = m.list(*args) if args else m.list()
    assert typ == "OK", data
    out = {}
    for line in data:
        if line is None:
            continue
        text = line.decode() if isinstance(line, bytes) else line
        mm = re.match(r'\((.*?)\) "/" "?(.*?)"?$', text)
        assert mm, text
        out[mm.group(2)] = set(mm.group(1).split())
    return out


MSG = (f"From: Bob <{BOB}>\r\nTo: {ALICE}\r\nSubject: hello\r\n"
       "Message-ID: <m1@example.test>\r\n\r\nHello Alice.\r\n")

# --------------------------------------------------------------------------
# Login rules


def test_plaintext_refuses_credentials(srv):
    conn, greeting = open_session(srv, "imap")
    with conn:
        caps = greeting.upper().split()
        assert "STARTTLS" in greeting and "LOGINDISABLED" in greeting
        assert not any(c.startswith("AUTH=") for c in caps), greeting
        conn.cmd(f'a LOGIN {ALICE} "{PASSWORD}"')
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a NO [PRIVACYREQUIRED]"), tagged
        conn.cmd("b AUTHENTICATE PLAIN")
        _, tagged = conn.imap_tagged("b")
        assert tagged.startswith("b NO"), tagged
        # Commands of later states are refused, the session lives on.
        conn.cmd("c SELECT INBOX")
        _, tagged = conn.imap_tagged("c")
        assert tagged.startswith("c BAD"), tagged
        conn.cmd("d NOOP")
        assert conn.imap_tagged("d")[1] == "d OK NOOP completed"


def test_starttls_login(srv):
    m = imap_starttls(srv, user=None)
    try:
        assert "AUTH=PLAIN" in m.capabilities
        assert "AUTH=SCRAM-SHA-256" in m.capabilities
        assert "LOGINDISABLED" not in m.capabilities
        typ, data = m.login(ALICE, PASSWORD)
        assert typ == "OK" and b"[CAPABILITY" in data[0], data
        # Every extension the server implements is announced after login.
        caps = data[0].decode().split("]")[0].split()[1:]
        for ext in ("UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "ESEARCH",
                    "SEARCHRES", "BINARY", "COMPRESS=DEFLATE", "SPECIAL-USE", "IDLE"):
            assert ext in caps, caps
        assert not any(c.startswith("AUTH=") for c in caps), caps
        assert m.noop()[0] == "OK"
    finally:
        m.logout()


def test_imaps_login_wrong_password(srv):
    m = imaps(srv, user=None)
    try:
        with pytest.raises(imaplib.IMAP4.error) as e:
            m.login(BOB, "wrong password")
        assert "AUTHENTICATIONFAILED" in str(e.value)
        # The session survives the failure and a right password works.
        m.login(BOB, PASSWORD)
        assert m.state == "AUTH"
    finally:
        m.logout()


def test_authenticate_plain(srv):
    ir = base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()
    with raw_tls(srv) as conn:
        # SASL-IR (RFC 4959)
        conn.cmd(f"a AUTHENTICATE PLAIN {ir}")
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a OK [CAPABILITY "), tagged
        conn.cmd("b LOGOUT")
        untagged, tagged = conn.imap_tagged("b")
        assert untagged == ["* BYE Logging out"] and tagged.startswith("b OK")
    with raw_tls(srv) as conn:
        # Without an initial response: an empty challenge first.
        conn.cmd("a AUTHENTICATE PLAIN")
        assert conn.readline() == "+ "
        conn.cmd(ir)
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
    with raw_tls(srv) as conn:
        conn.cmd("a AUTHENTICATE PLAIN")
        assert conn.readline() == "+ "
        conn.cmd("*")
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a BAD"), tagged
        conn.cmd("b AUTHENTICATE DIGEST-MD5")
        assert conn.imap_tagged("b")[1].startswith("b NO")


def test_literal_plus_and_sync_literal_login(srv):
    user = ALICE.encode()
    with raw_tls(srv) as conn:
        # RFC 7888 non-synchronizing literals: no "+" is waited for.
        conn.send(b"a LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n"
                  % (len(user), user, len(PASSWORD), PASSWORD.encode()))
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
    with raw_tls(srv) as conn:
        conn.send(b"a LOGIN {%d}\r\n" % len(user))
        assert conn.readline().startswith("+ ")
        conn.send(user + b" {%d}\r\n" % len(PASSWORD))
        assert conn.readline().startswith("+ ")
        conn.send(PASSWORD.encode() + b"\r\n")
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a OK"), tagged


# --------------------------------------------------------------------------
# Syntax errors never drop the connection


def test_malformed_commands_get_bad(srv):
    with raw_tls(srv, ALICE) as conn:
        for i, line in enumerate([
                b"x1 FROBNICATE", b"x2", b"x3 SELECT", b"x4 LIST \"\"",
                b"x5 STATUS INBOX (BOGUS)", b"x6 CREATE \"unterminated",
                b"x7 NOOP extra", b"x8 SELECT INBOX (", b"x9 UID",
                b"x10 APPEND INBOX (\\Recent) {3+}\r\nabc",
                b"x11 LIST (RECURSIVEMATCH) \"\" *",
                b"x12 STATUS INBOX (MESSAGES"]):
            tag = line.split(b" ")[0].decode()
            conn.send(line + b"\r\n")
            _, tagged = conn.imap_tagged(tag)
            assert tagged.startswith(tag + " BAD"), (line, tagged)
        for line in (b")", b"* NOOP", b"+ x", b"\x01\x02 NOOP"):
            conn.send(line + b"\r\n")
            got = conn.readline()
            assert got.startswith("* BAD"), (line, got)
        # A NUL in a line, and a line over the limit.
        conn.send(b"n1 NOOP\0\r\n")
        assert "BAD" in conn.readline()
        conn.send(b"l1 NOOP " + b"x" * 40000 + b"\r\n")
        assert "BAD" in conn.readline()
        conn.cmd("z NOOP")
        _, tagged = conn.imap_tagged("z")
        assert tagged == "z OK NOOP completed"


def test_over_cap_literal_refused_before_reading(srv):
    with raw_tls(srv, ALICE) as conn:
        # Synchronizing: refused at once, no "+", nothing to send.
        conn.cmd("a APPEND INBOX {999999999999}")
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a "), tagged
        conn.cmd("b APPEND INBOX {2000000000}")
        _, tagged = conn.imap_tagged("b")
        assert tagged.startswith("b NO [TOOBIG]"), tagged
        conn.cmd("c CREATE {100000}")
        _, tagged = conn.imap_tagged("c")
        assert tagged.startswith("c BAD"), tagged
        # LITERAL+ over the cap of a non-APPEND command: read and dropped.
        conn.send(b"d CREATE {70000+}\r\n" + b"y" * 70000 + b"\r\n")
        _, tagged = conn.imap_tagged("d")
        assert tagged.startswith("d BAD"), tagged
        conn.cmd("e NOOP")
        assert conn.imap_tagged("e")[1] == "e OK NOOP completed"


# --------------------------------------------------------------------------
# Folders


def test_default_folders_and_special_use(srv):
    m = imaps(srv, user=f"carol@{DOMAIN}")
    try:
        names = list_names(m, '""', "*")
        assert "INBOX" in names
        for name, attr in (("Drafts", "\\Drafts"), ("Sent", "\\Sent"),
                           ("Trash", "\\Trash"), ("Junk", "\\Junk"),
                           ("Archive", "\\Archive")):
            assert attr in names[name], names
            assert "\\HasNoChildren" in names[name]
        # LIST "" "" gives the hierarchy separator.
        typ, data = m.list('""', '""')
        assert data == [b'(\\Noselect) "/" ""'], data
        # The defaults are subscribed.
        typ, data = m.lsub('""', "*")
        subs = b" ".join(data)
        assert b'"Sent"' in subs and b'"Trash"' in subs, data
        # LIST-EXTENDED: only special-use mailboxes.
        typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
        typ, data = m._untagged_response(typ, data, "LIST")
        got = b" ".join(d for d in data if d)
        assert b'"Sent"' in got and b'"INBOX"' not in got, data
    finally:
        m.logout()


def test_create_rename_delete_subscribe(srv):
    m = imaps(srv, user=f"dave@{DOMAIN}")
    try:
        assert m.create("Work/Reports")[0] == "OK"
        names = list_names(m, '""', "*")
        assert "Work/Reports" in names and "Work" in names, names
        assert "\\HasChildren" in names["Work"]
        # "%" does not cross the separator.
        names = list_names(m, '""', "%")
        assert "Work" in names and "Work/Reports" not in names
        names = list_names(m, "Work/", "%")
        assert set(names) == {"Work/Reports"}, names
        typ, data = m.create("Work")
        assert typ == "NO" and b"[ALREADYEXISTS]" in data[0], data
        typ, data = m.create("INBOX")
        assert typ == "NO", data
        for bad in ('"Bad*Name"', '"100%"', b'"caf\xc3\xa9"'):
            typ, data = m.create(bad)
            assert typ == "NO" and b"[CANNOT]" in data[0], (bad, data)

        assert m.rename("Work", "Projects")[0] == "OK"
        names = list_names(m, '""', "*")
        assert "Projects/Reports" in names and "Work" not in names, names
        typ, data = m.rename("Nope", "Other")
        assert typ == "NO" and b"[NONEXISTENT]" in data[0], data

        assert m.subscribe("Projects/Reports")[0] == "OK"
        typ, data = m.lsub('""', "Projects/*")
        assert data == [b'() "/" "Projects/Reports"'], data
        typ, data = m._simple_command("LIST", "(SUBSCRIBED)", '""',
                                      "Projects/*")
        typ, data = m._untagged_response(typ, data, "LIST")
        assert any(b"\\Subscribed" in d for d in data if d), data
        assert m.unsubscribe("Projects/Reports")[0] == "OK"
        typ, data = m.lsub('""', "Projects/*")
        assert data == [None], data

        assert m.delete("Projects/Reports")[0] == "OK"
        names = list_names(m, '""', "*")
        assert "Projects/Reports" not in names
        assert "\\HasNoChildren" in names["Projects"]
        typ, data = m.delete("INBOX")
        assert typ == "NO", data
        typ, data = m.delete("Gone")
        assert typ == "NO" and b"[NONEXISTENT]" in data[0], data
    finally:
        m.logout()


def test_status_and_append(srv):
    m = imaps(srv, user=BOB)
    try:
        typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
        assert typ == "OK", data
        before = int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
        uidnext = int(re.search(rb"UIDNEXT (\d+)", data[0]).group(1))
        uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))

        typ, data = m.append("INBOX", "(\\Seen $Label1)",
                             '"17-Jul-1996 02:44:25 -0700"', MSG.encode())
        assert typ == "OK", data
        mm = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
        assert mm, data
        assert int(mm.group(1)) == uidvalidity
        assert int(mm.group(2)) == uidnext

        typ, data = m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)")
        assert re.search(rb"MESSAGES %d" % (before + 1), data[0]), data
        assert re.search(rb"UIDNEXT %d" % (uidnext + 1), data[0]), data

        typ, data = m.append("Nonexistent", None, None, MSG.encode())
        assert typ == "NO" and b"[TRYCREATE]" in data[0], data
        typ, data = m.status("Nonexistent", "(MESSAGES)")
        assert typ == "NO" and b"[NONEXISTENT]" in data[0], data
    finally:
        m.logout()


def test_select_responses(srv):
    m = imaps(srv, user=BOB)
    try:
        m.append("Archive", "(\\Flagged)", None, MSG.encode())
        typ, data = m.select("Archive")
        assert typ == "OK"
        count = int(data[0])
        assert count >= 1
        assert m.untagged_responses["FLAGS"][0].startswith(b"(\\Answered")
        assert any(b"PERMANENTFLAGS" in r
                   for r in m.untagged_responses.get("OK", [])), \
            m.untagged_responses
        assert "UIDVALIDITY" in m.untagged_responses
        assert "UIDNEXT" in m.untagged_responses
        assert "HIGHESTMODSEQ" in m.untagged_responses
        assert b"READ-WRITE" in m.untagged_responses["READ-WRITE"][0] or \
            "READ-WRITE" in m.untagged_responses
        m.close()
        typ, data = m.select("Archive", readonly=True)
        assert typ == "OK" and "READ-ONLY" in m.untagged_responses
        assert m._simple_command("UNSELECT")[0] == "OK"
        assert m.state == "SELECTED"  # imaplib does not know UNSELECT
        typ, data = m.select("NoSuchBox")
        assert typ == "NO" and b"[NONEXISTENT]" in data[0], data
    finally:
        m.logout()


def test_raw_select_exact(srv):
    with raw_tls(srv, f"carol@{DOMAIN}") as conn:
        conn.cmd("a SELECT Drafts")
        untagged, tagged = conn.imap_tagged("a")
        assert tagged == "a OK [READ-WRITE] SELECT completed", tagged
        assert "* 0 EXISTS" in untagged and "* 0 RECENT" in untagged
        assert any(re.fullmatch(r"\* OK \[UIDVALIDITY \d+\] .*", l)
                   for l in untagged), untagged
        assert any(l.startswith("* OK [UIDNEXT 1]") for l in untagged)
        conn.cmd("b NAMESPACE")
        untagged, tagged = conn.imap_tagged("b")
        assert untagged == ['* NAMESPACE (("" "/")) NIL NIL'], untagged
        conn.cmd('c ID ("name" "pytest")')
        untagged, tagged = conn.imap_tagged("c")
        assert untagged[0].startswith('* ID ("name" "postern"'), untagged
        conn.cmd("d ENABLE FOO")
        untagged, tagged = conn.imap_tagged("d")
        assert untagged == ["* ENABLED"] and tagged.startswith("d OK")
        conn.cmd("e CLOSE")
        assert conn.imap_tagged("e")[1].startswith("e OK")
        conn.cmd("f CLOSE")
        assert conn.imap_tagged("f")[1].startswith("f BAD")


# --------------------------------------------------------------------------
# IDLE


def deliver(srv, to, subject):
    msg = (f"From: <bob@{DOMAIN}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
           "\r\nbody\r\n")
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=15) as s:
        s.ehlo("client.test")
        s.sendmail(BOB, [to], msg.encode())


def test_idle_woken_by_smtp_delivery(srv):
    with raw_tls(srv, ALICE) as conn:
        conn.cmd("a SELECT INBOX")
        untagged, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
        exists = [int(l.split()[1]) for l in untagged
                  if l.endswith(" EXISTS")][0]
        conn.cmd("b IDLE")
        assert conn.readline().startswith("+ ")
        deliver(srv, ALICE, "wake up")
        start = time.monotonic()  # the 250 came: the file is in new/
        conn.sock.settimeout(5)
        line = conn.readline()
        assert line == f"* {exists + 1} EXISTS", line
        # The bound; inotify makes it milliseconds.
        assert time.monotonic() - start < 1
        conn.cmd("DONE")
        untagged, tagged = conn.imap_tagged("b")
        assert tagged == "b OK IDLE terminated", (untagged, tagged)
        conn.cmd("c NOOP")
        assert conn.imap_tagged("c")[1] == "c OK NOOP completed"


def test_idle_without_inotify_polls(tmp_path, monkeypatch):
    """inotify used up: the worker says so, and IDLE polls often enough
    that a delivery still shows within the issue's second."""
    os.chmod(tmp_path, 0o755)
    with without_inotify(tmp_path, monkeypatch):
        s = imap_server(tmp_path, ("alice",))
    try:
        assert "no inotify: IMAP IDLE polls" in s.log.read_text()
        with raw_tls(s, ALICE) as conn:
            conn.cmd("a SELECT INBOX")
            assert conn.imap_tagged("a")[1].startswith("a OK")
            conn.cmd("b IDLE")
            assert conn.readline().startswith("+ ")
            deliver(s, ALICE, "wake up")
            start = time.monotonic()
            conn.sock.settimeout(5)
            assert conn.readline() == "* 1 EXISTS"
            assert time.monotonic() - start < 1
            conn.cmd("DONE")
            assert conn.imap_tagged("b")[1] == "b OK IDLE terminated"
    finally:
        finish_server(s)


def test_two_sessions_see_append(srv):
    """An APPEND in one session (maybe another worker) shows in the other
    at its next command."""
    with raw_tls(srv, BOB) as one, raw_tls(srv, BOB) as two:
        one.cmd("a SELECT INBOX")
        untagged, _ = one.imap_tagged("a")
        n = [int(l.split()[1]) for l in untagged if l.endswith(" EXISTS")][0]
        msg = MSG.encode()
        two.send(b"b APPEND INBOX {%d+}\r\n%s\r\n" % (len(msg), msg))
        _, tagged = two.imap_tagged("b")
        assert "APPENDUID" in tagged, tagged
        one.cmd("c NOOP")
        untagged, tagged = one.imap_tagged("c")
        assert f"* {n + 1} EXISTS" in untagged, untagged


# --------------------------------------------------------------------------
# More login paths


def imap_scram(conn, tag, user, password):
    """RFC 5802 SCRAM-SHA-256 over IMAP AUTHENTICATE (with SASL-IR);
    returns the tagged line."""
    cnonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={cnonce}"
    conn.cmd(f"{tag} AUTHENTICATE SCRAM-SHA-256 " +
             base64.b64encode(("n,," + first_bare).encode()).decode())
    line = conn.readline()
    assert line.startswith("+ "), line
    server_first = base64.b64decode(line[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                 base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = f"c=biws,r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{final_bare}".encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    conn.cmd(base64.b64encode((final_bare + ",p=" +
                               base64.b64encode(proof).decode())
                              .encode()).decode())
    line = conn.readline()
    if not line.startswith("+ "):
        return line
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expect = base64.b64encode(hmac.new(server_key, auth_msg,
                                       hashlib.sha256).digest()).decode()
    assert base64.b64decode(line[2:]).decode() == "v=" + expect
    conn.cmd("")
    return conn.imap_tagged(tag)[1]


def test_authenticate_scram_sha_256(srv):
    with raw_tls(srv) as conn:
        tagged = imap_scram(conn, "a", ALICE, PASSWORD)
        assert tagged.startswith("a OK"), tagged
        conn.cmd("b SELECT INBOX")
        assert conn.imap_tagged("b")[1].startswith("b OK")
    with raw_tls(srv) as conn:
        tagged = imap_scram(conn, "a", f"carol@{DOMAIN}", "wrong")
        assert tagged.startswith("a NO [AUTHENTICATIONFAILED]"), tagged
        conn.cmd("b NOOP")
        assert conn.imap_tagged("b")[1].startswith("b OK")


def test_starttls_discards_pipelined_plaintext(srv):
    conn, _ = open_session(srv, "imap")
    with conn:
        # A command injected after STARTTLS in the same packet must not
        # run once TLS is up (CVE-2011-0411 class).
        conn.send(b"a STARTTLS\r\nb CAPABILITY\r\n")
        assert conn.readline() == "a OK Begin TLS negotiation now"
        conn.starttls(ctx_for(srv))
        conn.cmd("c NOOP")
        untagged, tagged = conn.imap_tagged("c")
        assert tagged == "c OK NOOP completed"
        assert untagged == [], untagged


def test_list_status(srv):
    m = imaps(srv, user=f"carol@{DOMAIN}")
    try:
        typ, data = m._simple_command("LIST", '""', "%", "RETURN",
                                      "(STATUS (MESSAGES UIDNEXT))")
        assert typ == "OK", data
        status = m.untagged_responses.get("STATUS", [])
        assert b"Sent (MESSAGES 0 UIDNEXT 1)" in status, status
        assert len(status) == len(list_names(m, '""', "%")), status
    finally:
        m.logout()


def test_append_20mb(srv):
    body = (b"x" * 998 + b"\r\n") * (20 * 1024 * 1024 // 1000)
    msg = (f"From: <{BOB}>\r\nTo: <{ALICE}>\r\nSubject: big\r\n\r\n"
           .encode() + body)
    m = imaps(srv, user=f"carol@{DOMAIN}")
    try:
        start = time.monotonic()
        typ, data = m.append("Archive", None, None, msg)
        assert typ == "OK" and b"APPENDUID" in data[0], data
        assert time.monotonic() - start < 30
        typ, data = m.status("Archive", "(MESSAGES SIZE)")
        assert re.search(rb"SIZE (\d+)", data[0]), data
        assert int(re.search(rb"SIZE (\d+)", data[0]).group(1)) >= len(msg)
    finally:
        m.logout()


def test_autologout_before_login(tmp_path):
    s = Server(tmp_path / "t", workers=1,
               limits={"shutdown_timeout": 3, "idle_timeout": 10})
    s.init(find_port_base())
    start_or_kill(s)
    try:
        conn, _ = open_session(s, "imap")
        with conn:
            conn.sock.settimeout(20)
            start = time.monotonic()
            line = conn.readline()
            assert line.startswith("* BYE Autologout"), line
            assert 9 <= time.monotonic() - start < 20
    finally:
        finish_server(s)


def test_file_removed_by_hand_is_expunged(srv):
    """A message file deleted behind the server's back is reported as
    EXPUNGE at the next command (RFC 3501 7.4.1), and new ones as EXISTS."""
    user = f"carol@{DOMAIN}"
    with raw_tls(srv, user) as conn:
        conn.cmd("a CREATE Scratch")
        assert conn.imap_tagged("a")[1].startswith("a OK")
        msg = MSG.encode()
        for tag in ("b1", "b2", "b3"):
            conn.send(b"%s APPEND Scratch {%d+}\r\n%s\r\n"
                      % (tag.encode(), len(msg), msg))
            assert conn.imap_tagged(tag)[1].startswith(tag + " OK")
        conn.cmd("c SELECT Scratch")
        untagged, tagged = conn.imap_tagged("c")
        assert "* 3 EXISTS" in untagged, untagged
        cur = srv.root / "data" / "mail" / DOMAIN / "carol" / ".Scratch" / "cur"
        files = list(cur.iterdir())
        assert len(files) == 3, files
        files[0].unlink()
        conn.cmd("d NOOP")
        untagged, tagged = conn.imap_tagged("d")
        assert len([l for l in untagged if l.endswith(" EXPUNGE")]) == 1
        assert re.fullmatch(r"\* [123] EXPUNGE", untagged[0]), untagged
        assert tagged == "d OK NOOP completed"
        # A file dropped into new/ by another tool gets the next UID.
        new = cur.parent / "new"
        (new / "1700000000.handmade.host").write_bytes(msg)
        conn.cmd("e NOOP")
        untagged, tagged = conn.imap_tagged("e")
        assert "* 3 EXISTS" in untagged, untagged
        conn.cmd("f STATUS Scratch (MESSAGES UIDNEXT)")
        untagged, _ = conn.imap_tagged("f")
        assert untagged == ["* STATUS Scratch (MESSAGES 3 UIDNEXT 5)"], \
            untagged
        # RFC 9051 6.3.11: DELETED counts the messages flagged \Deleted
        conn.cmd("g STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        assert conn.imap_tagged("g")[1].startswith("g OK")
        conn.cmd("h STATUS Scratch (DELETED MESSAGES)")
        untagged, _ = conn.imap_tagged("h")
        assert untagged == ["* STATUS Scratch (MESSAGES 3 DELETED 2)"], \
            untagged


# --------------------------------------------------------------------------
# Real clients


def curl(srv, url, *extra, user=f"dave@{DOMAIN}"):
    return subprocess.run(
        ["curl", "-sS", "--max-time", "20", "--cacert", str(srv.cert),
         "--resolve", f"mail.test:{srv.port('imap')}:{HOST}",
         "--resolve", f"mail.test:{srv.port('imaps')}:{HOST}",
         "-u", f"{user}:{PASSWORD}", *extra, url],
        capture_output=True, text=True, timeout=30)


def test_curl_list_and_append(srv, tmp_path):
    # STARTTLS on 143 (curl --ssl-reqd), LIST is curl's default request.
    r = curl(srv, f"imap://mail.test:{srv.port('imap')}/", "--ssl-reqd")
    assert r.returncode == 0, r.stderr
    assert '"INBOX"' in r.stdout and '"Sent"' in r.stdout, r.stdout
    # Upload is APPEND, over implicit TLS.
    eml = tmp_path / "m.eml"
    eml.write_bytes(MSG.encode())
    r = curl(srv, f"imaps://mail.test:{srv.port('imaps')}/Drafts",
             "-T", str(eml))
    assert r.returncode == 0, r.stderr
    r = curl(srv, f"imaps://mail.test:{srv.port('imaps')}/",
             "-X", "STATUS Drafts (MESSAGES)")
    assert r.returncode == 0, r.stderr
    assert "MESSAGES 1" in r.stdout, r.stdout
    # Plaintext without TLS: curl cannot log in (LOGINDISABLED).
    r = curl(srv, f"imap://mail.test:{srv.port('imap')}/")
    assert r.returncode != 0


def test_preauth_literals_stay_small(srv):
    conn, _ = open_session(srv, "imap")
    with conn:
        # No message-sized literal before login, even for APPEND.
        conn.cmd("a APPEND INBOX {100000}")
        _, tagged = conn.imap_tagged("a")
        assert tagged.startswith("a BAD"), tagged
        conn.send(b"b APPEND INBOX {100000+}\r\n" + b"z" * 100000 + b"\r\n")
        _, tagged = conn.imap_tagged("b")
        assert tagged.startswith("b BAD"), tagged
        conn.cmd("c LOGIN {5000}")
        _, tagged = conn.imap_tagged("c")
        assert tagged.startswith("c BAD"), tagged
        conn.cmd("d NOOP")
        assert conn.imap_tagged("d")[1] == "d OK NOOP completed"


class Deflated:
    """RFC 4978 on top of a LineConn's TLS socket: raw DEFLATE both ways."""

    def __init__(self, conn):
        self.sock = conn.sock
        self.z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.z_in = zlib.decompressobj(-15)
        self.buf = self.z_in.decompress(conn.buf)
        conn.buf = b""

    def send(self, data):
        self.sock.sendall(self.z_out.compress(data) +
                          self.z_out.flush(zlib.Z_SYNC_FLUSH))

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += self.z_in.decompress(chunk)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def tagged(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)


def test_compress_deflate(srv):
    with raw_tls(srv) as conn:
        conn.cmd("a COMPRESS DEFLATE")
        assert conn.imap_tagged("a")[1].startswith("a BAD")  # before login
        conn.cmd(f'l LOGIN {ALICE} "{PASSWORD}"')
        _, tagged = conn.imap_tagged("l")
        assert "COMPRESS=DEFLATE" in tagged, tagged
        conn.cmd("b COMPRESS DEFLATE")
        assert conn.readline() == "b OK DEFLATE active"
        z = Deflated(conn)
        z.send(b"c NOOP\r\n")
        assert z.tagged("c") == ([], "c OK NOOP completed")
        # A large, very compressible APPEND: inflating it fills the input
        # buffer many times over.
        msg = (f"From: <{BOB}>\r\nSubject: zzz\r\n\r\n".encode() +
               b"a" * 3_000_000 + b"\r\n")
        z.send(b"d APPEND Archive {%d+}\r\n" % len(msg) + msg + b"\r\n")
        untagged, tagged = z.tagged("d")
        assert tagged.startswith("d OK [APPENDUID "), tagged
        z.send(b'e LIST "" "*"\r\nf STATUS Archive (SIZE)\r\n')
        untagged, tagged = z.tagged("e")
        assert tagged == "e OK LIST completed"
        assert any('"Archive"' in l for l in untagged), untagged
        untagged, tagged = z.tagged("f")
        size = int(re.search(r"SIZE (\d+)", untagged[0]).group(1))
        assert size >= len(msg), untagged
        z.send(b"g COMPRESS DEFLATE\r\n")
        assert z.tagged("g")[1].startswith("g BAD")
        z.send(b"h LOGOUT\r\n")
        untagged, tagged = z.tagged("h")
        assert untagged == ["* BYE Logging out"] and tagged.startswith("h OK")


def test_mbsync_both_ways(srv, tmp_path):
    """isync's mbsync pulls a mailbox tree, then pushes a new local message
    and a flag change back; a second run has nothing left to do."""
    user = f"erin@{DOMAIN}"
    r = cli(srv, "user", "add", user, "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.returncode == 0, r
    m = imaps(srv, user=user)
    try:
        m.create("Lists/Dev")
        for i, box in enumerate(("INBOX", "INBOX", "Lists/Dev")):
            msg = MSG.replace("hello", f"hello {i}").encode()
            assert m.append(box, "(\\Seen)" if i == 0 else None, None,
                            msg)[0] == "OK"
    finally:
        m.logout()
    local = tmp_path / "mail"
    local.mkdir()
    conf = tmp_path / "mbsyncrc"
    conf.write_text(f"""
IMAPAccount t
Host {HOST}
Port {srv.port('imaps')}
User {user}
Pass "{PASSWORD}"
SSLType IMAPS
CertificateFile {srv.cert}

IMAPStore remote
Account t

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")

    def run():
        r = subprocess.run(["mbsync", "-c", str(conf), "-a"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (r.stdout, r.stderr, srv.log_tail(40))
        return r

    run()
    inbox = sorted((local / "INBOX" / "cur").iterdir()) + \
        sorted((local / "INBOX" / "new").iterdir())
    assert len(inbox) == 2, inbox
    assert any(p.name.endswith(",S") for p in inbox), inbox
    dev = list((local / "Lists" / "Dev" / "cur").iterdir()) + \
        list((local / "Lists" / "Dev" / "new").iterdir())
    assert len(dev) == 1
    assert b"hello 2" in dev[0].read_bytes()
    assert (local / "Sent").is_dir() and (local / "Trash").is_dir()

    # Push: a new local message and \Flagged on a pulled one.
    newmsg = MSG.replace("hello", "from mbsync").encode()
    (local / "INBOX" / "cur" / "1700000000.local.host:2,").write_bytes(newmsg)
    first = inbox[0]
    first.rename(first.with_name(first.name.split(":2,")[0] + ":2,F" +
                                 first.name.split(":2,")[1]))
    run()
    m = imaps(srv, user=user)
    try:
        typ, data = m.select("INBOX")
        assert int(data[0]) == 3, data
        typ, data = m.search(None, "FLAGGED")
        assert len(data[0].split()) == 1, data
        typ, data = m.search(None, 'SUBJECT "from mbsync"')
        assert len(data[0].split()) == 1, data
    finally:
        m.logout()
    # A third run changes nothing on either side.
    run()
    files = list((local / "INBOX" / "cur").iterdir()) + \
        list((local / "INBOX" / "new").iterdir())
    assert len(files) == 3, files
    st = imaps(srv, user=user)
    try:
        typ, data = st.status("INBOX", "(MESSAGES)")
        assert b"MESSAGES 3" in data[0], data
    finally:
        st.logout()


def test_offlineimap_both_ways(srv, tmp_path):
    user = f"frank@{DOMAIN}"
    r = cli(srv, "user", "add", user, "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.returncode == 0, r
    m = imaps(srv, user=user)
    try:
        m.create("Lists/Dev")
        for i, box in enumerate(("INBOX", "INBOX", "Lists/Dev")):
            msg = MSG.replace("hello", f"hello {i}").encode()
            assert m.append(box, "(\\Flagged)" if i == 1 else None, None,
                            msg)[0] == "OK"
    finally:
        m.logout()
    local = tmp_path / "oi"
    conf = tmp_path / "offlineimaprc"
    conf.write_text(f"""[general]
accounts = t
metadata = {tmp_path}/meta

[Account t]
localrepository = L
remoterepository = R

[Repository L]
type = Maildir
localfolders = {local}

[Repository R]
type = IMAP
remotehost = {HOST}
remoteport = {srv.port('imaps')}
ssl = yes
cert_fingerprint = {file_fingerprint(srv.cert)}
remoteuser = {user}
remotepass = {PASSWORD}
""")

    def run():
        r = subprocess.run(["offlineimap", "-c", str(conf), "-o", "-u",
                            "basic"], capture_output=True, text=True,
                           timeout=90)
        assert r.returncode == 0 and "ERROR" not in r.stdout + r.stderr, \
            (r.stdout[-3000:], r.stderr[-3000:], srv.log_tail(40))

    run()

    def files(box):
        d = local / box
        return sorted(list((d / "cur").iterdir()) + list((d / "new").iterdir()))

    assert len(files("INBOX")) == 2
    assert sum(p.name.endswith("F") for p in files("INBOX")) == 1
    dev = files("Lists.Dev")
    assert len(dev) == 1 and b"hello 2" in dev[0].read_bytes()
    # Push a new local message back.
    newmsg = MSG.replace("hello", "from offlineimap").encode()
    (local / "INBOX" / "new" / "1700000001.oi.host").write_bytes(newmsg)
    run()
    m = imaps(srv, user=user)
    try:
        typ, data = m.status("INBOX", "(MESSAGES)")
        assert b"MESSAGES 3" in data[0], data
    finally:
        m.logout()
    assert len(files("INBOX")) == 3


def test_idle_sees_other_session_changes(srv):
    """IDLE learns of a flag change and an expunge made by another
    session (perhaps in the other worker) within a second."""
    user = f"carol@{DOMAIN}"
    with raw_tls(srv, user) as idler, raw_tls(srv, user) as other:
        idler.cmd("a CREATE IdleBox")
        idler.imap_tagged("a")
        msg = MSG.encode()
        for tag in ("b1", "b2"):
            idler.send(b"%s APPEND IdleBox {%d+}\r\n%s\r\n"
                       % (tag.encode(), len(msg), msg))
            assert idler.imap_tagged(tag)[1].startswith(tag + " OK")
        idler.cmd("c SELECT IdleBox")
        assert idler.imap_tagged("c")[1].startswith("c OK")
        idler.cmd("d IDLE")
        assert idler.readline().startswith("+ ")
        idler.sock.settimeout(5)

        other.cmd("e SELECT IdleBox")
        assert other.imap_tagged("e")[1].startswith("e OK")
        start = time.monotonic()
        other.cmd("f STORE 2 +FLAGS (\\Flagged)")
        assert other.imap_tagged("f")[1].startswith("f OK")
        line = idler.readline()
        # The idler selected first: it holds \Recent for both messages.
        assert line == "* 2 FETCH (FLAGS (\\Flagged \\Recent))", line
        assert time.monotonic() - start < 1

        start = time.monotonic()
        other.cmd("g STORE 1 +FLAGS.SILENT (\\Deleted)")
        other.imap_tagged("g")
        other.cmd("h EXPUNGE")
        assert other.imap_tagged("h")[1].startswith("h OK")
        line = idler.readline()
        assert line == "* 1 EXPUNGE", line
        assert time.monotonic() - start < 1
        idler.cmd("DONE")
        untagged, tagged = idler.imap_tagged("d")
        assert tagged == "d OK IDLE terminated", (untagged, tagged)


def test_selected_mailbox_deleted_elsewhere(srv):
    user = f"carol@{DOMAIN}"
    with raw_tls(srv, user) as one, raw_tls(srv, user) as two:
        one.cmd("a CREATE Doomed")
        assert one.imap_tagged("a")[1].startswith("a OK")
        one.cmd("b SELECT Doomed")
        assert one.imap_tagged("b")[1].startswith("b OK")
        two.cmd("c DELETE Doomed")
        assert two.imap_tagged("c")[1].startswith("c OK")
        one.cmd("d NOOP")
        untagged, tagged = one.imap_tagged("d")
        assert untagged == ["* BYE [UNAVAILABLE] Selected mailbox was "
                            "deleted"], untagged
        data, eof = one.drain()
        assert eof, data
