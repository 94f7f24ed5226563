"""
The MX service (port 25 + base): receiving mail for local domains and
delivering it durably to Maildir, driven by real clients (smtplib, swaks,
curl) and by raw sockets where exact bytes matter.
"""

import pathlib
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import (start_or_kill, wait_for, HOST, LineConn, Server, client_context, find_port_base,
                      finish_server, postern_bin, set_in_group)

DOMAIN = "example.test"
USERS = ["alice", "bob", "carol", "dave"]


def postern_input(srv, *args, stdin=""):
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(srv.conf)], input=stdin, capture_output=True,
                          text=True, timeout=20)


def make_mx(root, smtp=None, quota=None):
    srv = Server(root, workers=1, limits={"shutdown_timeout": 3})
    srv.init(find_port_base())
    text = srv.conf.read_text()
    for key, value in (smtp or {}).items():
        text = set_in_group(text, "smtp", key, value)
    srv.conf.write_text(text)
    r = postern_input(srv, "domain", "add", DOMAIN)
    assert r.returncode == 0, r
    for user in USERS:
        args = ["user", "add", f"{user}@{DOMAIN}", "--password-stdin"]
        if quota and user in quota:
            args += ["--quota", quota[user]]
        r = postern_input(srv, *args, stdin="secret\n")
        assert r.returncode == 0, r
    r = postern_input(srv, "alias", "add", f"team@{DOMAIN}",
                      f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}")
    assert r.returncode == 0, r
    return start_or_kill(srv)


@pytest.fixture(scope="module")
def mx(tmp_path_factory):
    srv = make_mx(tmp_path_factory.mktemp("mx"),
                  smtp={"max_message_size": 100000, "max_recipients": 5,
                        "max_errors": 50},
                  quota={"dave": "2K"})
    yield srv
    finish_server(srv)


def maildir(srv, user):
    return srv.root / "data" / "mail" / DOMAIN / user


def new_files(srv, user):
    d = maildir(srv, user) / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def clear(srv):
    for user in USERS:
        d = maildir(srv, user)
        if d.exists():
            shutil.rmtree(d)


def smtp_conn(srv):
    conn = LineConn.connect(srv.port("smtp"))
    code, _ = conn.smtp_reply()
    assert code == 220
    return conn


def ehlo(conn):
    conn.cmd("EHLO client.test")
    code, lines = conn.smtp_reply()
    assert code == 250
    return lines


def split_message(raw):
    """(trace headers, rest): Return-Path and Received come first."""
    assert raw.startswith(b"Return-Path: <"), raw[:80]
    first, rest = raw.split(b"\r\n", 1)
    assert rest.startswith(b"Received: from "), rest[:80]
    # the Received header is folded; it ends at the first unfolded line
    lines = rest.split(b"\r\n")
    i = 1
    while lines[i].startswith(b"\t"):
        i += 1
    return first, b"\r\n".join(lines[:i]), b"\r\n".join(lines[i:])


# --------------------------------------------------------------------------
# Delivery


def test_smtplib_delivers_byte_identical(mx):
    clear(mx)
    body = (b"From: Sender <sender@remote.test>\r\nTo: alice@example.test\r\n"
            b"Subject: hello\r\n\r\nline one\r\n.starts with a dot\r\n"
            b"\r\nlast line\r\n")
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        refused = s.sendmail("sender@remote.test", [f"alice@{DOMAIN}"], body)
    assert refused == {}
    files = new_files(mx, "alice")
    assert len(files) == 1
    ret, received, rest = split_message(files[0].read_bytes())
    assert ret == b"Return-Path: <sender@remote.test>"
    assert b"by mail.test (postern) with ESMTP id " in received
    assert b"for <alice@example.test>;" in received
    assert rest == body


def test_reply_250_names_the_queue_id(mx):
    clear(mx)
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        s.mail("a@remote.test")
        s.rcpt(f"bob@{DOMAIN}")
        code, msg = s.data(b"Subject: id\r\n\r\nx\r\n")
    assert code == 250
    assert msg.startswith(b"2.0.0 OK: queued as ")
    qid = msg.split()[-1]
    raw = new_files(mx, "bob")[0].read_bytes()
    assert b" id " + qid in raw


def test_three_local_users_three_copies(mx):
    clear(mx)
    rcpts = [f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}"]
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        assert s.sendmail("x@remote.test", rcpts, b"Subject: 3\r\n\r\nx\r\n") \
            == {}
    copies = [new_files(mx, u) for u in ("alice", "bob", "carol")]
    assert all(len(c) == 1 for c in copies)
    data = {c[0].read_bytes() for c in copies}
    assert len(data) == 1
    # several recipients: the Received header names none of them
    assert b"for <" not in data.pop()


def test_alias_fans_out_and_tag_and_case(mx):
    clear(mx)
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        assert s.sendmail("x@remote.test", [f"TEAM@{DOMAIN.upper()}"],
                          b"Subject: team\r\n\r\nx\r\n") == {}
        assert s.sendmail("x@remote.test", [f"Dave+news@{DOMAIN}"],
                          b"Subject: tag\r\n\r\nx\r\n") == {}
    for u in ("alice", "bob", "carol", "dave"):
        assert len(new_files(mx, u)) == 1, u


def test_unknown_user_and_relay(mx):
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        s.mail("x@remote.test")
        assert s.rcpt(f"nobody@{DOMAIN}") == (550, b"5.1.1 User unknown")
        assert s.rcpt("someone@elsewhere.test") == \
            (554, b"5.7.1 Relay access denied")
        assert s.rcpt("someone@[127.0.0.1]")[0] == 554
        assert s.docmd("DATA") == (554, b"5.5.1 No valid recipients")


def test_recipient_limit(mx):
    with smtp_conn(mx) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<x@remote.test>")
        assert c.smtp_reply()[0] == 250
        codes = []
        for i in range(7):
            c.cmd(f"RCPT TO:<alice+{i}@{DOMAIN}>")
            codes.append(c.smtp_reply())
        assert [x[0] for x in codes] == [250] * 5 + [452, 452]
        assert codes[5][1] == ["4.5.3 Too many recipients"]


def test_size_limit_at_mail_and_in_data(mx):
    with smtp_conn(mx) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<x@remote.test> SIZE=200000")
        assert c.smtp_reply() == (552, ["5.3.4 Message size exceeds fixed "
                                        "limit of 100000 octets"])
        c.cmd("MAIL FROM:<x@remote.test>")
        assert c.smtp_reply()[0] == 250
        c.cmd(f"RCPT TO:<alice@{DOMAIN}>")
        assert c.smtp_reply()[0] == 250
        c.cmd("DATA")
        assert c.smtp_reply()[0] == 354
        c.send((b"x" * 998 + b"\r\n") * 120 + b".\r\n")
        code, lines = c.smtp_reply()
        assert code == 552 and lines[0].startswith("5.3.4"), lines
        c.cmd("NOOP")
        assert c.smtp_reply()[0] == 250


def test_quota(mx):
    clear(mx)
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        s.mail("x@remote.test", ["SIZE=5000"])
        assert s.rcpt(f"dave@{DOMAIN}") == \
            (552, b"5.2.2 Message exceeds the mailbox's quota")
        s.rset()
        s.mail("x@remote.test")
        assert s.rcpt(f"dave@{DOMAIN}")[0] == 250
        code, msg = s.data(b"Subject: big\r\n\r\n" + b"y" * 900 +
                           b"\r\n" + b"y" * 900 + b"\r\n" + b"y" * 900 +
                           b"\r\n")
        assert code == 552 and msg.startswith(b"5.2.2"), msg
        # fill the mailbox, then it is full (temporary)
        assert s.sendmail("x@remote.test", [f"dave@{DOMAIN}"],
                          b"Subject: a\r\n\r\n" + (b"z" * 600 + b"\r\n") * 2) == {}
        s.mail("x@remote.test")
        s.rcpt(f"dave@{DOMAIN}")
        code, msg = s.data(b"Subject: b\r\n\r\n" + (b"z" * 600 + b"\r\n") * 2)
        assert code == 452 and msg.startswith(b"4.2.2"), msg
    assert len(new_files(mx, "dave")) == 1


def test_starttls_delivery_records_tls(mx):
    clear(mx)
    ctx = client_context(mx)
    ctx.check_hostname = False  # the certificate is for mail.test
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=ctx)
        s.ehlo("client.test")
        assert "starttls" not in s.esmtp_features
        assert s.sendmail("x@remote.test", [f"alice@{DOMAIN}"],
                          b"Subject: tls\r\n\r\nx\r\n") == {}
    raw = new_files(mx, "alice")[0].read_bytes()
    assert b"with ESMTPS id" in raw
    assert b"(using TLSv1.3 with cipher " in raw


def test_smtputf8_sender(mx):
    clear(mx)
    sender = "j\u00f6rg@b\u00fccher.test"
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        assert s.has_extn("smtputf8")
        assert s.sendmail(sender, [f"alice@{DOMAIN}"],
                          "Subject: utf8\r\n\r\nx\r\n".encode(),
                          mail_options=["SMTPUTF8"]) == {}
    raw = new_files(mx, "alice")[0].read_bytes()
    assert raw.startswith(f"Return-Path: <{sender}>".encode())
    assert b"with UTF8SMTP id" in raw


def test_utf8_address_needs_smtputf8(mx):
    with smtp_conn(mx) as c:
        ehlo(c)
        # RFC 6531 3.6: 550 at MAIL, 553 at RCPT, both X.6.7
        c.cmd("MAIL FROM:<j\u00f6rg@remote.test>")
        code, lines = c.smtp_reply()
        assert code == 550 and lines[0].startswith("5.6.7"), lines
        c.cmd("MAIL FROM:<x@remote.test>")
        assert c.smtp_reply()[0] == 250
        c.cmd(f"RCPT TO:<\u00e4nne@{DOMAIN}>")
        code, lines = c.smtp_reply()
        assert code == 553 and lines[0].startswith("5.6.7"), lines
        c.cmd("RSET")
        assert c.smtp_reply()[0] == 250
        c.cmd("MAIL FROM:<j\u00f6rg@remote.test> SMTPUTF8")
        assert c.smtp_reply()[0] == 250
        c.cmd(f"RCPT TO:<\u00e4nne@{DOMAIN}>")
        assert c.smtp_reply() == (550, ["5.1.1 User unknown"])


# --------------------------------------------------------------------------
# Protocol details on raw sockets


def test_pipelining_replies_in_order(mx):
    clear(mx)
    with smtp_conn(mx) as c:
        ehlo(c)
        c.send(b"MAIL FROM:<p@remote.test>\r\n"
               b"RCPT TO:<alice@example.test>\r\n"
               b"RCPT TO:<nobody@example.test>\r\n"
               b"RCPT TO:<bob@example.test>\r\n"
               b"DATA\r\n")
        got = [c.smtp_reply()[0] for _ in range(5)]
        assert got == [250, 250, 550, 250, 354]
        c.send(b"Subject: p\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
        assert c.smtp_reply()[0] == 250
        assert c.smtp_reply()[0] == 250
        assert c.smtp_reply()[0] == 221
    assert len(new_files(mx, "alice")) == 1
    assert len(new_files(mx, "bob")) == 1


SMUGGLING = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r.\r",
    b"\r\n.\n",
    b"\n",
    b"\r",
    b"\r\n.\r",
]


@pytest.mark.parametrize("evil", SMUGGLING, ids=repr)
def test_smuggling_variants_refused(mx, evil):
    clear(mx)
    with smtp_conn(mx) as c:
        ehlo(c)
        c.send(b"MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
               b"DATA\r\n")
        assert [c.smtp_reply()[0] for _ in range(3)] == [250, 250, 354]
        # the would-be smuggled transaction after the fake terminator
        c.send(b"Subject: s\r\n\r\nhello" + evil +
               b"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<bob@example.test>"
               b"\r\nDATA\r\n\r\nsmuggled\r\n.\r\n")
        code, lines = c.smtp_reply()
        assert code == 550 and lines[0].startswith("5.6."), lines
        c.cmd("NOOP")
        assert c.smtp_reply()[0] == 250
    assert new_files(mx, "alice") == []
    assert new_files(mx, "bob") == []


def test_starttls_injection_discarded(mx):
    with smtp_conn(mx) as c:
        ehlo(c)
        c.send(b"STARTTLS\r\nRSET\r\n")
        code, _ = c.smtp_reply()
        assert code == 220
        c.starttls(client_context(mx))
        # state was reset: EHLO required again, and no RSET reply pending
        c.cmd("MAIL FROM:<x@remote.test>")
        assert c.smtp_reply()[0] == 503
        c.cmd("EHLO client.test")
        code, lines = c.smtp_reply()
        assert code == 250 and "STARTTLS" not in lines


def test_long_command_line(mx):
    with smtp_conn(mx) as c:
        ehlo(c)
        c.cmd("NOOP " + "a" * 600)
        assert c.smtp_reply() == (500, ["5.5.2 Line too long"])
        c.cmd("NOOP")
        assert c.smtp_reply()[0] == 250


def test_long_text_line_refused(mx):
    clear(mx)
    with smtp_conn(mx) as c:
        ehlo(c)
        c.send(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
               b"DATA\r\n")
        assert [c.smtp_reply()[0] for _ in range(3)] == [250, 250, 354]
        c.send(b"Subject: l\r\n\r\n" + b"q" * 1200 + b"\r\n.\r\n")
        code, lines = c.smtp_reply()
        assert code == 552 and lines[0].startswith("5.6.0"), lines
    assert new_files(mx, "alice") == []


def test_sequence_and_syntax_errors(mx):
    with smtp_conn(mx) as c:
        c.cmd("MAIL FROM:<x@remote.test>")
        assert c.smtp_reply() == (503, ["5.5.1 Bad sequence of commands"])
        ehlo(c)
        c.cmd("RCPT TO:<alice@example.test>")
        assert c.smtp_reply()[0] == 503
        c.cmd("DATA")
        assert c.smtp_reply()[0] == 503
        c.cmd("FOO")
        assert c.smtp_reply() == (500, ["5.5.2 Command not recognized"])
        c.cmd("MAIL FROM:x@remote.test")
        code, lines = c.smtp_reply()
        assert code == 501 and lines[0].startswith("5.5.4"), lines
        c.cmd("MAIL FROM:<x@remote.test> FOO=BAR")
        code, lines = c.smtp_reply()
        assert code == 555 and lines[0].startswith("5.5.4"), lines
        c.cmd("RSET now")
        assert c.smtp_reply()[0] == 501


def test_error_limit_closes(tmp_path):
    srv = make_mx(tmp_path / "e", smtp={"max_errors": 3})
    try:
        with smtp_conn(srv) as c:
            for _ in range(2):
                c.cmd("BOGUS")
                assert c.smtp_reply()[0] == 500
            c.cmd("BOGUS")
            assert c.smtp_reply()[0] == 500
            assert c.smtp_reply()[0] == 421
            data, eof = c.drain()
            assert eof
    finally:
        finish_server(srv)


def test_bdat(mx):
    clear(mx)
    body1 = b"Subject: chunked\r\n\r\nfirst part\r\n"
    body2 = b"second part\r\n"
    with smtp_conn(mx) as c:
        lines = ehlo(c)
        assert "CHUNKING" in lines
        c.send(b"MAIL FROM:<c@remote.test>\r\nRCPT TO:<alice@example.test>\r\n")
        assert [c.smtp_reply()[0] for _ in range(2)] == [250, 250]
        c.send(b"BDAT %d\r\n" % len(body1) + body1 +
               b"BDAT %d LAST\r\n" % len(body2) + body2)
        code, lines = c.smtp_reply()
        assert code == 250 and lines[0] == f"2.0.0 {len(body1)} octets " \
            "received"
        code, lines = c.smtp_reply()
        assert code == 250 and "queued as" in lines[0]
    rest = split_message(new_files(mx, "alice")[0].read_bytes())[2]
    assert rest == body1 + body2


def test_vrfy_expn_help_etrn(mx):
    with smtp_conn(mx) as c:
        ehlo(c)
        c.cmd(f"VRFY alice@{DOMAIN}")
        assert c.smtp_reply()[0] == 252
        c.cmd(f"EXPN team@{DOMAIN}")
        assert c.smtp_reply() == (502, ["5.5.1 EXPN not available"])
        c.cmd("HELP")
        assert c.smtp_reply()[0] == 214
        c.cmd("ETRN remote.test")
        assert c.smtp_reply()[0] == 459


def test_mail_loop_refused(mx):
    """RFC 5321 6.3: 100 Received: fields mean a loop; 99 do not."""
    clear(mx)
    def message(hops):
        trace = "".join(f"Received: from h{i}.test by h{i + 1}.test; "
                        f"Sun, 6 Dec 2026 10:00:00 +0000\r\n"
                        for i in range(hops))
        return f"{trace}From: <loop@remote.test>\r\nSubject: l\r\n\r\nx\r\n"
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=15) as s:
        s.ehlo("client.test")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("loop@remote.test", [f"alice@{DOMAIN}"],
                       message(100))
        assert e.value.smtp_code == 554
        assert e.value.smtp_error.startswith(b"5.4.6 Too many hops")
        assert s.sendmail("loop@remote.test", [f"alice@{DOMAIN}"],
                          message(99)) == {}
    files = new_files(mx, "alice")
    assert len(files) == 1
    assert files[0].read_bytes().count(b"\r\nReceived: ") == 100


def test_etrn_permissions(tmp_path):
    """RFC 1985: ETRN only from the configured clients, only for the
    configured nodes; "@d" in the list covers d and its subdomains."""
    srv = make_mx(tmp_path, smtp={
        "etrn_domains": '["@far.test", "exact.test"]',
        "etrn_networks": '["127.0.0.2/32"]'})
    try:
        with smtp_conn(srv) as c:  # from 127.0.0.1: not in the list
            ehlo(c)
            c.cmd("ETRN exact.test")
            assert c.smtp_reply() == (459, [
                "4.7.1 ETRN not allowed from 127.0.0.1"])
        sock = socket.create_connection((HOST, srv.port("smtp")), 10,
                                        source_address=("127.0.0.2", 0))
        with LineConn(sock) as c:
            assert c.smtp_reply()[0] == 220
            ehlo(c)
            for node, code in (("exact.test", 251), ("EXACT.TEST", 251),
                               ("sub.exact.test", 459),
                               ("@exact.test", 459), ("far.test", 251),
                               ("a.b.far.test", 251), ("@far.test", 251),
                               ("@sub.far.test", 251), ("@test", 459),
                               ("notfar.test", 459), ("#queue", 458),
                               ("@", 501)):
                c.cmd(f"ETRN {node}")
                got = c.smtp_reply()
                assert got[0] == code, (node, got)
            c.cmd("QUIT")
            assert c.smtp_reply()[0] == 221
    finally:
        finish_server(srv)


def test_swaks_pipelining_and_tls(mx):
    clear(mx)
    base = ["swaks", "--server", HOST, "--port", str(mx.port("smtp")),
            "--from", "swaks@remote.test", "--to", f"bob@{DOMAIN}",
            "--helo", "client.test", "--timeout", "10"]
    r = subprocess.run(base + ["--pipeline"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(base + ["--tls"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    files = new_files(mx, "bob")
    assert len(files) == 2
    assert sum(b"with ESMTPS id" in f.read_bytes() for f in files) == 1


def test_curl_smtp(mx, tmp_path):
    clear(mx)
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"Subject: curl\r\n\r\nvia curl\r\n")
    r = subprocess.run(["curl", "-sS", f"smtp://{HOST}:{mx.port('smtp')}",
                        "--mail-from", "curl@remote.test", "--mail-rcpt",
                        f"carol@{DOMAIN}", "--upload-file", str(msg)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    rest = split_message(new_files(mx, "carol")[0].read_bytes())[2]
    assert rest == msg.read_bytes()


def test_transaction_log_line(mx):
    with smtplib.SMTP(HOST, mx.port("smtp"), timeout=10) as s:
        s.sendmail("logme@remote.test", [f"alice@{DOMAIN}"], b"x\r\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [l for l in mx.log_text().splitlines()
                 if "msg=message" in l and "from=logme@remote.test" in l]
        if lines:
            break
        time.sleep(0.05)
    assert lines, mx.log_tail()
    line = lines[-1]
    for key in ("result=accepted", "peer=127.0.0.1", "to=alice@example.test",
                "rcpts=1", "tls=no", "sid=", "size="):
        assert key in line, line


def test_smtputf8_utf8_recipient(tmp_path):
    srv = make_mx(tmp_path / "u8")
    try:
        dom = "b\u00fccher.test"
        assert postern_input(srv, "domain", "add", dom).returncode == 0
        r = postern_input(srv, "user", "add", f"leser@{dom}",
                          "--password-stdin", stdin="pw\n")
        assert r.returncode == 0, r
        with smtp_conn(srv) as c:
            ehlo(c)
            # without SMTPUTF8 the UTF-8 address is refused (RFC 6531)
            c.cmd("MAIL FROM:<x@remote.test>")
            assert c.smtp_reply()[0] == 250
            c.cmd(f"RCPT TO:<leser@{dom}>")
            code, lines = c.smtp_reply()
            assert code == 553 and lines[0].startswith("5.6.7"), lines
        try:
            with smtplib.SMTP(HOST, srv.port("smtp"), timeout=10) as s:
                assert s.sendmail("j\u00f6rg@remote.test", [f"leser@{dom}"],
                                  "Subject: \u00fc\r\n\r\ngr\u00fc\u00dfe"
                                  "\r\n".encode(),
                                  mail_options=["SMTPUTF8"]) == {}
        except smtplib.SMTPException as exc:
            pytest.fail(f"{exc!r}\n--- log ---\n{srv.log_tail(30)}")
        box = srv.root / "data" / "mail" / dom / "leser" / "new"
        files = sorted(box.iterdir())
        assert len(files) == 1
        raw = files[0].read_bytes()
        assert f"for <leser@{dom}>".encode() in raw
        assert raw.endswith("gr\u00fc\u00dfe\r\n".encode())
    finally:
        finish_server(srv)


def test_notify_success_gets_a_delivered_notice(mx):
    clear(mx)
    with smtp_conn(mx) as c:
        ehlo(c)
        c.send(b"MAIL FROM:<alice@example.test> ENVID=env+2B1\r\n"
               b"RCPT TO:<bob@example.test> NOTIFY=SUCCESS "
               b"ORCPT=rfc822;bob@example.test\r\n"
               b"RCPT TO:<carol@example.test>\r\nDATA\r\n")
        assert [c.smtp_reply()[0] for _ in range(4)] == [250, 250, 250, 354]
        c.send(b"Subject: ack\r\n\r\nx\r\n.\r\n")
        assert c.smtp_reply()[0] == 250

    def notice():
        for f in new_files(mx, "alice"):
            data = f.read_bytes()
            if b"multipart/report" in data:
                return data
        return None

    dsn = wait_for(notice, 15, what="a success notice for alice")
    assert b"Action: delivered" in dsn
    assert b"Final-Recipient: rfc822; bob@example.test" in dsn
    assert b"carol@example.test" not in dsn  # she did not ask
    # RFC 3461 6.3 a: the xtext of ENVID= is decoded in the report
    assert b"Original-Envelope-Id: env+1\r\n" in dsn
    assert len(new_files(mx, "bob")) == 1
