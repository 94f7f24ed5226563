"""
Outbound delivery end to end: a message submitted to postern A leaves
through A's queue worker, found by MX lookup in a real DNS server on
loopback (unbound serving the test zones), and arrives at postern B's MX
service. Failures come back to the sender as DSNs.
"""

import os
import re
import signal
import socketserver
import threading
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import (LineConn, finish_server, postern_bin, proc_stat,
                      set_in_group, start_or_kill, unbound_server, wait_for,
                      wait_port, without_inotify)
from test_submission import DOMAIN, MSG, PASSWORD, cli, inbox, login
from conftest import Server, find_port_base

REMOTE = "remote.test"


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    """unbound on 127.0.0.1 serving the test zones."""
    with unbound_server(tmp_path_factory.mktemp("dns"), [
            (REMOTE, [f"{REMOTE}. IN MX 10 mx.{REMOTE}.",
                      f"mx.{REMOTE}. IN A 127.0.0.1"]),
            ("nullmx.test", ["nullmx.test. IN MX 0 ."]),
            ("mail.test", ["mail.test. IN A 127.0.0.1"]),
            ("down.test", ["down.test. IN MX 10 mx.down.test.",
                           "mx.down.test. IN A 127.0.0.1"]),
            ("multi.test", ["multi.test. IN MX 10 mx1.multi.test.",
                            "multi.test. IN MX 20 mx2.multi.test.",
                            "mx1.multi.test. IN A 127.0.0.2",
                            "mx2.multi.test. IN A 127.0.0.3"])]) as addr:
        yield addr


def make_pair(root, dns):
    """B: the remote MX for remote.test. A: the sender, whose MX port for
    remote domains is B's."""
    b = Server(root / "b", workers=1, limits={"shutdown_timeout": 3})
    b.init(find_port_base())
    assert cli(b, "domain", "add", REMOTE).returncode == 0
    r = cli(b, "user", "add", f"bob@{REMOTE}", "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.returncode == 0, r
    start_or_kill(b)
    a = Server(root / "a", workers=1, limits={"shutdown_timeout": 3})
    a.init(find_port_base())
    text = a.conf.read_text()
    text = set_in_group(text, "smtp", "etrn_domains", f'["{REMOTE}"]')
    text += (f'\ndns = {{ forward = "{dns}"; }};\n'
             f"queue = {{ mx_port = {b.port('smtp')}; }};\n")
    a.conf.write_text(text)
    assert cli(a, "domain", "add", DOMAIN).returncode == 0
    r = cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.returncode == 0, r
    try:
        start_or_kill(a)
    except BaseException:
        finish_server(b)
        raise
    return a, b


@pytest.fixture
def pair(tmp_path, dns):
    a, b = make_pair(tmp_path, dns)
    yield a, b
    finish_server(a)
    finish_server(b)


def remote_inbox(b, user="bob"):
    d = b.root / "data" / "mail" / REMOTE / user / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def spool(srv):
    d = srv.root / "data" / "queue" / "env"
    return sorted(d.iterdir()) if d.is_dir() else []


def test_mx_delivery(pair):
    a, b = pair
    with login(a) as s:
        assert s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"],
                          MSG.encode()) == {}
    files = wait_for(lambda: remote_inbox(b), 15, what="delivery to B")
    raw = files[0].read_bytes()
    # A's submission trace and B's MX trace, then the message
    assert raw.count(b"Received: from ") == 2
    assert b"by mail.test (postern) with ESMTPSA" in raw
    assert raw.endswith(b"\r\nhello\r\n")
    wait_for(lambda: spool(a) == [], 10, what="spool emptied")


def dsn_in(a, user="alice"):
    def find():
        for f in inbox(a, user):
            data = f.read_bytes()
            if b"multipart/report" in data:
                return data
        return None
    return wait_for(find, 15, what="a DSN in the sender's inbox")


def test_unknown_remote_user_bounces(pair):
    a, b = pair
    with login(a) as s:
        s.sendmail(f"alice@{DOMAIN}", [f"nobody@{REMOTE}"], MSG.encode())
    dsn = dsn_in(a)
    assert b"Return-Path: <>" in dsn
    assert b"report-type=delivery-status" in dsn
    assert b"Final-Recipient: rfc822; nobody@remote.test" in dsn
    assert b"Status: 5.1.1" in dsn
    assert b"Action: failed" in dsn
    assert b"Remote-MTA: dns; mx.remote.test" in dsn  # RFC 3464 2.3.5
    wait_for(lambda: spool(a) == [], 10, what="spool emptied")


def test_null_mx_bounces_at_once(pair):
    a, b = pair
    with login(a) as s:
        s.sendmail(f"alice@{DOMAIN}", ["x@nullmx.test"], MSG.encode())
    dsn = dsn_in(a)
    assert b"Status: 5.1.10" in dsn


def test_mixed_outcome_bounces_only_the_failed(pair):
    a, b = pair
    # mx.down.test is B as well, which refuses to relay for down.test
    # (554 5.7.1): one recipient arrives, the other comes back in a DSN.
    with login(a) as s:
        s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}", "x@down.test"],
                   MSG.encode())
    wait_for(lambda: remote_inbox(b), 15, what="the good recipient")
    dsn = dsn_in(a)
    assert b"x@down.test" in dsn and b"bob@remote.test" not in \
        dsn.split(b"message/delivery-status")[1].split(b"--")[0]


def test_mx_down_deferred_then_etrn_delivers(pair):
    a, b = pair
    rc, _ = b.stop()
    assert rc == 0
    b.close()
    with login(a) as s:
        assert s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"],
                          MSG.encode()) == {}
    env = wait_for(lambda: [e for e in spool(a)
                            if b"state deferred" in e.read_bytes()],
                   15, what="a deferred recipient")
    assert b"cannot connect" in env[0].read_bytes()
    b.start()
    with LineConn.connect(a.port("smtp")) as c:
        assert c.smtp_reply()[0] == 220
        c.cmd("EHLO client.test")
        c.smtp_reply()
        c.cmd(f"ETRN {REMOTE}")
        assert c.smtp_reply() == (250, [f"2.0.0 OK, queuing for node "
                                        f"{REMOTE} started"])
        c.cmd("ETRN other.test")
        assert c.smtp_reply()[0] == 459
    wait_for(lambda: remote_inbox(b), 15, what="delivery after ETRN")
    wait_for(lambda: spool(a) == [], 10, what="spool emptied")


def test_delay_notice_once(tmp_path, dns):
    a, b = make_pair(tmp_path, dns)
    try:
        text = a.conf.read_text().replace("queue = {", "queue = { warn_after = 1;")
        a.conf.write_text(text)
        a.signal(signal.SIGHUP)
        rc, _ = b.stop()
        assert rc == 0
        b.close()
        time.sleep(0.5)
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: [e for e in spool(a)
                          if b"state deferred" in e.read_bytes()],
                 15, what="a deferred recipient")
        time.sleep(1.5)
        r = cli(a, "queue", "flush")
        assert r.returncode == 0, r
        dsn = dsn_in(a)
        assert b"Action: delayed" in dsn
        assert b"Will-Retry-Until:" in dsn
        assert b"Delayed Mail" in dsn
        # only once: a second flush adds no second notice
        cli(a, "queue", "flush")
        time.sleep(1.5)
        notices = [f for f in inbox(a, "alice")
                   if b"Action: delayed" in f.read_bytes()]
        assert len(notices) == 1
        assert len(spool(a)) == 1  # still queued
    finally:
        finish_server(a)
        finish_server(b)


class SmtpPeer(socketserver.StreamRequestHandler):
    """A scripted SMTP peer: the base of the test peers below. It takes
    anything, counts messages in server.messages, and leaves the replies
    that differ to its subclasses: NAME and EXT (the EHLO extensions),
    rcpt() for RCPT, dot() for the final dot. server.sessions gets the
    verbs of each connection, server.spans its start and QUIT times."""

    NAME = b"sink.test"
    EXT = [b"PIPELINING", b"8BITMIME"]

    def rcpt(self):
        return b"250 2.1.5 ok\r\n"

    def dot(self):
        self.server.messages += 1
        return b"250 2.0.0 ok\r\n"

    def handle(self):
        srv = self.server
        cmds = []
        getattr(srv, "sessions", []).append(cmds)
        span = [time.monotonic(), None]
        getattr(srv, "spans", []).append(span)
        self.wfile.write(b"220 " + self.NAME + b" ESMTP\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            cmds.append(verb.decode())
            if verb == b"EHLO":
                lines = [self.NAME] + self.EXT
                self.wfile.write(b"".join(
                    b"250" + (b" " if i == len(lines) - 1 else b"-") + l +
                    b"\r\n" for i, l in enumerate(lines)))
            elif verb == b"RCPT":
                self.wfile.write(self.rcpt())
            elif verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.wfile.write(self.dot())
            elif verb == b"QUIT":
                span[1] = time.monotonic()
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 2.0.0 ok\r\n")


class NoDsnSink(SmtpPeer):
    """A peer without DSN (and without PIPELINING) that takes anything."""

    EXT = [b"8BITMIME"]


def test_success_notice_when_next_hop_lacks_dsn(tmp_path, dns):
    sink = socketserver.ThreadingTCPServer(("127.0.0.1", 0), NoDsnSink)
    sink.messages = 0
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    a.init(find_port_base())
    a.conf.write_text(a.conf.read_text() +
                      f'\ndns = {{ forward = "{dns}"; }};\n'
                      f"queue = {{ mx_port = {sink.server_address[1]}; }};\n")
    assert cli(a, "domain", "add", DOMAIN).returncode == 0
    assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    a.start()
    try:
        with login(a) as s:
            s.mail(f"alice@{DOMAIN}")
            assert s.rcpt(f"bob@{REMOTE}", ["NOTIFY=SUCCESS"])[0] == 250
            assert s.data(MSG.encode())[0] == 250
        dsn = dsn_in(a)
        assert b"Action: relayed" in dsn
        assert sink.messages == 1
    finally:
        finish_server(a)
        sink.shutdown()


def sendmail(srv, *args, stdin):
    return subprocess.run([postern_bin(), "sendmail", "-c", str(srv.conf),
                           *args], input=stdin, capture_output=True,
                          text=True, timeout=20)


def test_sendmail_injector(pair, tmp_path):
    a, b = pair
    # recipients on the command line, LF line ends, dot-terminated
    r = sendmail(a, "-f", f"alice@{DOMAIN}", f"bob@{REMOTE}",
                 stdin="Subject: cron\n\nline\n.\nnot sent\n")
    assert r.returncode == 0, r.stderr
    raw = wait_for(lambda: remote_inbox(b), 15, what="delivery")[0] \
        .read_bytes()
    assert b"Subject: cron\r\n" in raw and raw.endswith(b"\r\nline\r\n")
    assert b"with local id" in raw and b"Message-ID: <" in raw
    # -t: To/Cc/Bcc give the recipients; Bcc is not shown to anyone
    r = sendmail(a, "-t", "-i", f"-falice@{DOMAIN}", stdin=(
        f"To: Alice <alice@{DOMAIN}>\nBcc: bob@{REMOTE}\n"
        "Subject: t\n\n.\nbody\n"))
    assert r.returncode == 0, r.stderr
    local = wait_for(lambda: [f for f in inbox(a, "alice")
                              if b"Subject: t" in f.read_bytes()], 15,
                     what="local copy")
    remote = wait_for(lambda: [f for f in remote_inbox(b)
                               if b"Subject: t" in f.read_bytes()], 15,
                      what="remote copy")
    for f in local + remote:
        data = f.read_bytes()
        assert b"Bcc:" not in data
        assert data.endswith(b"\r\n.\r\nbody\r\n")  # -i: the dot stays
    r = sendmail(a, stdin="Subject: nobody\n\n")
    assert r.returncode == 64 and "no recipients" in r.stderr


def test_kill9_under_load_loses_nothing(pair):
    """kill -9 of the whole server while 500 messages are being submitted
    and relayed; after a restart every message that got its 250 reaches
    the remote exactly once (a delivery cut between the remote's 250 and
    the envelope update may repeat: at most one per attempt in flight)."""
    a, b = pair
    acked = []
    killed = []
    sent = 0
    stop_at = 250  # kill after this many acknowledgements
    try:
        with login(a) as s:
            for i in range(500):
                msg = (f"From: alice@{DOMAIN}\r\nSubject: load {i}\r\n\r\n"
                       f"body {i}\r\n").encode()
                s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], msg)
                acked.append(i)
                sent += 1
                if sent == stop_at:
                    killed = [a.pid, *a.children()]
                    for pid in killed:
                        os.kill(pid, signal.SIGKILL)
                    break
    except (smtplib.SMTPException, OSError):
        pass
    a.proc.wait(10)
    a.close()
    # every old process gone, so no dying listener answers the restart;
    # a killed worker shows "Z" while its other threads still exit with
    # the listening sockets open, so wait for those too
    wait_for(lambda: all((proc_stat(p) or "Z")[0] == "Z" for p in killed),
             10, what="the killed processes to be gone")
    wait_for(a.listeners_closed, 10, what="the old listeners to close")
    a.start()
    retried = []
    with login(a) as s:
        for i in range(stop_at, 500):
            msg = (f"From: alice@{DOMAIN}\r\nSubject: load {i}\r\n\r\n"
                   f"body {i}\r\n").encode()
            try:
                s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], msg)
            except smtplib.SMTPResponseException as e:
                # A 4xx is a refusal a client retries, not a loss; say why
                # it came, retry once, and fail on anything else.
                assert 400 <= e.smtp_code < 500, (e, a.log_tail(40))
                retried.append((i, e.smtp_code, e.smtp_error))
                s.rset()
                s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], msg)
            acked.append(i)
    if retried:
        print(f"temporary refusals after the restart: {retried}")
        print("\n".join(ln for ln in a.log_text().splitlines()
                        if "level=error" in ln or "level=warn" in ln))
    assert len(retried) <= 2, retried

    def subjects():
        seen = {}
        for f in remote_inbox(b):
            data = f.read_bytes()
            key = data.split(b"Subject: load ", 1)[1].split(b"\r\n", 1)[0]
            seen[int(key)] = seen.get(int(key), 0) + 1
        return seen

    wait_for(lambda: set(acked) <= set(subjects()), 60,
             what="every acknowledged message at the remote")
    wait_for(lambda: spool(a) == [], 30, what="spool emptied")
    dup = sum(n - 1 for n in subjects().values())
    print(f"duplicates after kill -9: {dup}")
    assert dup <= 20, dup


class GreylistPeer(SmtpPeer):
    """Answers the first RCPT with 451 (greylisting), then accepts."""

    NAME = b"grey.test"
    EXT = []

    def rcpt(self):
        self.server.rcpts += 1
        return (b"451 4.7.1 greylisted, try again\r\n"
                if self.server.rcpts == 1 else b"250 2.1.5 ok\r\n")


def test_temporary_failure_is_retried(tmp_path, dns):
    peer = socketserver.ThreadingTCPServer(("127.0.0.1", 0), GreylistPeer)
    peer.rcpts = peer.messages = 0
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    a.init(find_port_base())
    a.conf.write_text(a.conf.read_text() +
                      f'\ndns = {{ forward = "{dns}"; }};\n'
                      f"queue = {{ mx_port = {peer.server_address[1]}; "
                      "retry = [1]; };\n")
    assert cli(a, "domain", "add", DOMAIN).returncode == 0
    assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    start_or_kill(a)
    try:
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: peer.messages == 1, 15, what="the retried delivery")
        assert peer.rcpts == 2
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        log = a.log_text()
        assert "result=deferred" in log and "greylisted" in log
        assert "result=sent" in log
    finally:
        finish_server(a)
        peer.shutdown()


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class CountingListener:
    """Accepts and closes at once, counting connections."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.count = 0
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            c.close()

    def close(self):
        self.sock.close()


def make_smarthost(root):
    """S: a postern that takes submissions for alice (AUTH) and holds
    bob@remote.test's mailbox."""
    s = Server(root / "s", workers=1, limits={"shutdown_timeout": 3})
    s.init(find_port_base())
    for dom in (DOMAIN, REMOTE):
        assert cli(s, "domain", "add", dom).returncode == 0
    for user in (f"alice@{DOMAIN}", f"bob@{REMOTE}"):
        r = cli(s, "user", "add", user, "--password-stdin",
                stdin=PASSWORD + "\n")
        assert r.returncode == 0, r
    return start_or_kill(s)


def test_smarthost_by_address_needs_no_dns(tmp_path):
    """relay.host may be an address: it is reached with no DNS server at
    all (dns.forward points at a closed port). Its certificate is still
    checked, as for every smart host: S's self-signed one is not trusted,
    so the message waits, with that reason."""
    s = make_smarthost(tmp_path)
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    try:
        a.init(find_port_base())
        a.conf.write_text(a.conf.read_text() + f"""
dns = {{ forward = "127.0.0.1@9"; }};
relay = {{ host = "127.0.0.1"; port = "auto";
  auto_ports = ["{s.port('smtp')}/may"]; }};
""")
        assert cli(a, "domain", "add", DOMAIN).returncode == 0
        assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0
        start_or_kill(a)
        with login(a) as c:
            assert c.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"],
                              MSG.encode()) == {}
        wait_for(lambda: b"state deferred" in envelope_text(a), 15,
                 what="the attempt at 127.0.0.1")
        assert b"certificate not trusted" in envelope_text(a)
        assert "cannot resolve" not in a.log_text()
        assert "peer=127.0.0.1 stage=TLS" in a.log_text()
        assert remote_inbox(s) == []
    finally:
        finish_server(a)
        finish_server(s)


def test_smarthost_auto_port_fallback(tmp_path, dns, monkeypatch):
    """relay.port = auto: the "587" candidate is closed, "465" is S's
    implicit TLS submission port. Delivered over 465 with AUTH, the log
    says 587 was blocked, and after a restart 465 is used straight away
    (remembered in data/queue/smarthost)."""
    s = make_smarthost(tmp_path)
    closed = free_tcp_port()
    p465 = s.port("submissions")
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    listener = None
    try:
        a.init(find_port_base())
        pw = a.root / "relay.pw"
        pw.write_text(PASSWORD + "\n")
        os.chmod(pw, 0o644)  # read by the unprivileged queue worker
        a.conf.write_text(a.conf.read_text() + f"""
dns = {{ forward = "{dns}"; }};
relay = {{ host = "mail.test"; port = "auto"; user = "alice@{DOMAIN}";
  password_file = "{pw}";
  auto_ports = ["{closed}/starttls", "{p465}/tls",
                "{s.port('submission_alt')}/starttls",
                "{s.port('smtp')}/may"]; }};
""")
        assert cli(a, "domain", "add", DOMAIN).returncode == 0
        assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0
        # the smart host's certificate is verified: the queue worker
        # (user nobody) trusts a readable copy of S's
        ca = a.root / "smarthost-ca.pem"
        ca.write_bytes(s.cert.read_bytes())
        os.chmod(ca, 0o644)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        start_or_kill(a)
        with login(a) as c:
            assert c.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"],
                              MSG.encode()) == {}
        raw = wait_for(lambda: remote_inbox(s), 15,
                       what="delivery through the smart host")[0].read_bytes()
        assert b"with ESMTPSA" in raw.split(b"\r\n\r\n")[0]
        line = f"msg=smarthost port={p465} blocked={closed}"
        assert line in a.log_text(), a.log_tail()
        state = a.root / "data" / "queue" / "smarthost"
        assert state.read_text() == f"mail.test {p465}\n"
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        # restart: the remembered port first, the closed one not touched
        rc, _ = a.stop()
        assert rc == 0
        a.close()
        listener = CountingListener(closed)
        a.start()
        with login(a) as c:
            c.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: len(remote_inbox(s)) == 2, 15,
                 what="the second delivery")
        assert listener.count == 0
        assert f"smarthost remembered\" port={p465}" in a.log_text() or \
            f"msg=\"smarthost remembered\" port={p465}" in a.log_text()
        assert a.log_text().count(line) == 1
        # a remembered port that fails: the list is tried again in order
        rc, _ = a.stop()
        assert rc == 0
        a.close()
        state.write_text(f"mail.test {closed}\n")
        a.start()
        with login(a) as c:
            c.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: len(remote_inbox(s)) == 3, 15,
                 what="the third delivery")
        assert listener.count == 1  # tried first, once
        assert a.log_text().count(line) == 2
        assert state.read_text() == f"mail.test {p465}\n"
    finally:
        if listener:
            listener.close()
        finish_server(a)
        finish_server(s)


class CountingSink(SmtpPeer):
    """A PIPELINING peer that takes anything and records, per connection,
    the commands it got."""


def test_connection_reuse_and_limits(tmp_path, dns):
    """Ten messages to one domain, flushed together, go over a few
    sessions with RSET between messages, never more sessions than
    queue.max_per_destination."""
    port = free_tcp_port()
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    a.init(find_port_base())
    a.conf.write_text(a.conf.read_text() +
                      f'\ndns = {{ forward = "{dns}"; }};\n'
                      f"queue = {{ mx_port = {port}; "
                      "max_per_destination = 2; };\n")
    assert cli(a, "domain", "add", DOMAIN).returncode == 0
    assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    start_or_kill(a)
    sink = None
    try:
        # nothing listens yet: all ten wait in the queue
        with login(a) as s:
            for i in range(10):
                s.sendmail(f"alice@{DOMAIN}", [f"bob{i}@{REMOTE}"],
                           (f"From: alice@{DOMAIN}\r\nSubject: m{i}\r\n\r\n"
                            "body\r\n").encode())
        wait_for(lambda: len([e for e in spool(a)
                              if b"state deferred" in e.read_bytes()]) == 10,
                 20, what="ten deferred messages")
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        sink = socketserver.ThreadingTCPServer(("127.0.0.1", port),
                                               CountingSink)
        sink.sessions, sink.spans, sink.messages = [], [], 0
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        assert cli(a, "queue", "flush").stdout.startswith("10 messages")
        wait_for(lambda: sink.messages == 10, 20, what="ten deliveries")
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        sessions = [c for c in sink.sessions if "MAIL" in c]
        print("sessions:", sessions)
        assert 1 <= len(sessions) <= 2, sessions
        assert sum(c.count("MAIL") for c in sessions) == 10
        for cmds in sessions:
            # RSET checks a reused session before each further message
            assert cmds.count("RSET") == cmds.count("MAIL") - 1, cmds
        # the idle sessions are closed after a few seconds
        wait_for(lambda: all(c[-1] == "QUIT" for c in sink.sessions), 15,
                 what="idle sessions closed with QUIT")
    finally:
        finish_server(a)
        if sink:
            sink.shutdown()
            sink.server_close()


class HangUpOnRset(CountingSink):
    """Drops a session, without a reply, when RSET comes to reuse it."""

    def handle(self):
        self.rfile = RsetTrap(self.rfile, self.server)
        try:
            super().handle()
        except ConnectionAbortedError:
            pass


class RsetTrap:
    def __init__(self, f, server):
        self.f = f
        self.server = server

    def readline(self):
        line = self.f.readline()
        if line[:4].upper() == b"RSET":
            self.server.hangups += 1
            raise ConnectionAbortedError
        return line


def test_dead_cached_session_is_replaced(tmp_path, dns):
    """A cached session that turns out dead when reused (the peer hangs up
    at the RSET) costs the message nothing: it goes over a new one."""
    port = free_tcp_port()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    sink = socketserver.ThreadingTCPServer(("127.0.0.1", port), HangUpOnRset)
    sink.sessions, sink.spans, sink.messages, sink.hangups = [], [], 0, 0
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    try:
        a.init(find_port_base())
        a.conf.write_text(a.conf.read_text() +
                          f'\ndns = {{ forward = "{dns}"; }};\n'
                          f"queue = {{ mx_port = {port}; }};\n")
        assert cli(a, "domain", "add", DOMAIN).returncode == 0
        assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0
        start_or_kill(a)
        with login(a) as s:
            for i in range(2):
                s.sendmail(f"alice@{DOMAIN}", [f"bob{i}@{REMOTE}"],
                           (f"From: alice@{DOMAIN}\r\nSubject: m{i}\r\n"
                            "\r\nbody\r\n").encode())
                wait_for(lambda: sink.messages == i + 1, 15,
                         what=f"delivery {i + 1}")
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        print("sessions:", sink.sessions)
        assert len(sink.sessions) == 2
        assert sink.hangups == 1  # the first was reused, found dead
        assert "result=deferred" not in a.log_text()
    finally:
        finish_server(a)
        sink.shutdown()
        sink.server_close()


def test_total_connection_limit(tmp_path, dns):
    """queue.max_connections = 1: messages to two domains (remote.test by
    MX, mail.test by its address) are delivered one session at a time,
    the idle session to one giving way to the other."""
    port = free_tcp_port()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    sink = socketserver.ThreadingTCPServer(("127.0.0.1", port), CountingSink)
    sink.sessions, sink.spans, sink.messages = [], [], 0
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    try:
        a.init(find_port_base())
        a.conf.write_text(a.conf.read_text() +
                          f'\ndns = {{ forward = "{dns}"; }};\n'
                          f"queue = {{ mx_port = {port}; "
                          "max_connections = 1; };\n")
        assert cli(a, "domain", "add", DOMAIN).returncode == 0
        assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0
        start_or_kill(a)
        with login(a) as s:
            for i in range(6):
                dom = REMOTE if i % 2 == 0 else "mail.test"
                s.sendmail(f"alice@{DOMAIN}", [f"bob{i}@{dom}"],
                           (f"From: alice@{DOMAIN}\r\nSubject: m{i}\r\n"
                            "\r\nbody\r\n").encode())
        wait_for(lambda: sink.messages == 6, 30, what="six deliveries")
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        wait_for(lambda: all(e is not None for _, e in sink.spans), 15,
                 what="every session ended with QUIT")
        spans = sorted(sink.spans)
        print("spans:", spans)
        for (s0, e0), (s1, _) in zip(spans, spans[1:]):
            assert s1 >= e0, spans  # never two sessions at once
    finally:
        finish_server(a)
        sink.shutdown()
        sink.server_close()


# --------------------------------------------------------------------------
# Postfix as a real peer: a private instance (main.cf, master.cf, queue,
# data and log under the test's folder, `postfix -c DIR`), listening on
# 127.0.0.1 at a free port. /etc/postfix and port 25 are never touched.

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
PF_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class PostfixPeer:
    """Takes remote.test (bob only) into Maildirs under root/vmail, and
    relays everything else to [127.0.0.1]:relay_port."""

    def __init__(self, root, relay_port, cert, key):
        self.root = root
        self.conf = root / "conf"
        self.port = free_tcp_port()
        self.log = root / "maillog"
        for d in ("conf", "spool", "data", "vmail"):
            (root / d).mkdir(parents=True)
        shutil.chown(root / "data", "postfix")
        shutil.chown(root / "vmail", "nobody", "nogroup")
        shutil.copy(cert, self.conf / "cert.pem")
        shutil.copy(key, self.conf / "key.pem")
        os.chmod(self.conf / "key.pem", 0o600)
        (self.conf / "vmailbox").write_text(
            f"bob@{REMOTE} {REMOTE}/bob/\n")
        (self.conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = pf.test
mydomain = pf.test
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{relay_port}
virtual_mailbox_domains = {REMOTE}
virtual_mailbox_base = {root}/vmail
virtual_mailbox_maps = texthash:{self.conf}/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
alias_maps =
alias_database =
maillog_file_prefixes = {root}
maillog_file = {self.log}
smtputf8_enable = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = {self.conf}/cert.pem
smtpd_tls_key_file = {self.conf}/key.pem
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtpd_tls_loglevel = 1
""")
        (self.conf / "master.cf").write_text(
            PF_MASTER_CF.format(port=self.port))

    def postfix(self, verb):
        # postfix(1) reports to a terminal or syslog only: script(1) gives
        # it one, so a failure shows in the test output.
        return subprocess.run(["script", "-qec",
                               f"{POSTFIX} -c {self.conf} {verb}",
                               "/dev/null"], capture_output=True, text=True,
                              timeout=60)

    def start(self):
        r = self.postfix("start")
        assert r.returncode == 0, (r.stdout, self.log_text())
        wait_port(self.port)

    def master_pid(self):
        try:
            return int((self.root / "spool" / "pid" / "master.pid")
                       .read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        pid = self.master_pid()
        self.postfix("stop")
        if pid is not None:
            try:
                wait_for(lambda: proc_stat(pid) is None, 15,
                         what="postfix master to exit")
            except TimeoutError:
                self.postfix("abort")

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def maildir(self, user="bob"):
        d = self.root / "vmail" / REMOTE / user / "new"
        return sorted(d.iterdir()) if d.is_dir() else []


@pytest.fixture
def postfix_pair(tmp_path, dns):
    """postern A (example.test) whose MX for remote.test is Postfix P;
    P relays everything else back to A's MX port."""
    if not os.access(POSTFIX, os.X_OK) or shutil.which("script") is None:
        pytest.skip("postfix (Debian package) or script(1) missing")
    a = Server(tmp_path / "a", workers=1, limits={"shutdown_timeout": 3})
    a.init(find_port_base())
    pf = PostfixPeer(tmp_path / "pf", a.port("smtp"), a.cert, a.key)
    a.make_traversable()  # the Postfix daemons reach tmp_path too
    a.conf.write_text(a.conf.read_text() +
                      f'\ndns = {{ forward = "{dns}"; }};\n'
                      f"queue = {{ mx_port = {pf.port}; }};\n")
    assert cli(a, "domain", "add", DOMAIN).returncode == 0
    assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    pf.start()
    try:
        start_or_kill(a)
    except BaseException:
        pf.stop()
        raise
    yield a, pf
    try:
        finish_server(a)
    finally:
        pf.stop()


def test_postfix_peer_both_ways(postfix_pair):
    a, pf = postfix_pair
    # postern -> Postfix, by MX, with STARTTLS
    with login(a) as s:
        assert s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"],
                          MSG.encode()) == {}
    got = wait_for(pf.maildir, 20, what="delivery at Postfix")
    raw = got[0].read_bytes()
    assert raw.replace(b"\r\n", b"\n").endswith(b"\nhello\n")
    assert "TLS connection established from localhost" in pf.log_text()
    wait_for(lambda: spool(a) == [], 10, what="A's spool emptied")
    # Postfix refuses an unknown user at RCPT: the sender gets a DSN
    with login(a) as s:
        s.sendmail(f"alice@{DOMAIN}", [f"nobody@{REMOTE}"], MSG.encode())
    dsn = dsn_in(a)
    assert b"Final-Recipient: rfc822; nobody@remote.test" in dsn
    assert b"Status: 5.1.1" in dsn
    assert b"Remote-MTA: dns; mx.remote.test" in dsn
    # Postfix -> postern: Postfix relays to A's MX service, with STARTTLS
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=15) as s:
        s.sendmail(f"bob@{REMOTE}", [f"alice@{DOMAIN}"],
                   (f"From: bob@{REMOTE}\r\nTo: alice@{DOMAIN}\r\n"
                    "Subject: from postfix\r\n\r\nvia postfix\r\n").encode())

    def from_postfix():
        return [f for f in inbox(a, "alice")
                if b"Subject: from postfix" in f.read_bytes()]
    raw = wait_for(from_postfix, 20, what="delivery from Postfix")[0] \
        .read_bytes()
    assert raw.endswith(b"\r\nvia postfix\r\n")
    assert b"from pf.test" in raw and b"ESMTPS" in raw
    assert "status=sent" in pf.log_text()


# --------------------------------------------------------------------------
# Helpers for the tests below: a sender A whose queue group is `queue`.


def make_sender(root, dns, queue):
    a = Server(root / "a", workers=1, limits={"shutdown_timeout": 3})
    a.init(find_port_base())
    a.conf.write_text(a.conf.read_text() +
                      f'\ndns = {{ forward = "{dns}"; }};\n'
                      f"queue = {{ {queue} }};\n")
    assert cli(a, "domain", "add", DOMAIN).returncode == 0
    assert cli(a, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    return start_or_kill(a)


def start_sink(handler, host="127.0.0.1", port=0):
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    sink = socketserver.ThreadingTCPServer((host, port), handler)
    sink.sessions, sink.spans, sink.messages = [], [], 0
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    return sink


def stop_sink(sink):
    sink.shutdown()
    sink.server_close()


def envelope_text(srv):
    return b"".join(e.read_bytes() for e in spool(srv))


def test_tls_policy_encrypt_defers_without_starttls(tmp_path, dns):
    """queue.tls_policy: remote.test must get TLS. Its MX (a peer that
    offers no STARTTLS) gets no MAIL: the message is deferred and says
    why; mail.test, with the default "may", goes in plaintext to the same
    peer."""
    sink = start_sink(CountingSink)
    a = None
    try:
        a = make_sender(tmp_path, dns,
                        f"mx_port = {sink.server_address[1]}; "
                        "retry = [3600];\n"
                        f'tls_policy = ( {{ domain = "{REMOTE.upper()}"; '
                        'tls = "encrypt"; } );')
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: b"state deferred" in envelope_text(a), 15,
                 what="a deferred recipient")
        text = envelope_text(a)
        assert b"TLS is required" in text and b"STARTTLS" in text, text
        assert sink.messages == 0
        assert sink.sessions and all("MAIL" not in c for c in sink.sessions)
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", ["carol@mail.test"], MSG.encode())
        wait_for(lambda: sink.messages == 1, 15, what="the plaintext one")
        assert len(spool(a)) == 1  # remote.test still waits
    finally:
        if a:
            finish_server(a)
        stop_sink(sink)


class AlwaysLater(SmtpPeer):
    """Answers every RCPT with 451: a destination that never takes it."""

    NAME = b"later.test"
    EXT = [b"8BITMIME"]

    def rcpt(self):
        self.server.rcpts += 1
        return b"451 4.7.1 still greylisted\r\n"


def delivery_status(raw):
    """The parsed DSN: (report, per-message fields, per-recipient list)."""
    import email
    import email.policy
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = [p for p in msg.walk()
             if p.get_content_type() == "message/delivery-status"]
    assert len(parts) == 1, [p.get_content_type() for p in msg.walk()]
    groups = parts[0].get_payload()
    return msg, groups[0], groups[1:]


def test_lifetime_expiry_bounces_with_the_last_reply(tmp_path, dns):
    """A destination that always answers 451 and a 3 s lifetime: the
    sender gets a DSN that says the delivery failed, with the server's
    last reply (not a made-up "expired") as its cause."""
    sink = start_sink(AlwaysLater)
    sink.rcpts = 0
    a = None
    try:
        a = make_sender(tmp_path, dns,
                        f"mx_port = {sink.server_address[1]}; "
                        'lifetime = "3s"; retry = [1];')
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        raw = dsn_in(a)
        msg, per_msg, rcpts = delivery_status(raw)
        assert f"alice@{DOMAIN}" in msg["To"]
        assert per_msg["Reporting-MTA"] == "dns; mail.test"
        assert len(rcpts) == 1
        r = rcpts[0]
        assert r["Final-Recipient"] == f"rfc822; bob@{REMOTE}"
        assert r["Action"] == "failed"
        assert r["Status"] == "4.7.1"  # the last reply's, RFC 3463
        assert " ".join(r["Diagnostic-Code"].split()) == \
            "smtp; 451 4.7.1 still greylisted"
        assert r["Remote-MTA"] == f"dns; mx.{REMOTE}"
        assert sink.rcpts >= 2  # retried before it expired
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        assert "result=expired" in a.log_text()
    finally:
        if a:
            finish_server(a)
        stop_sink(sink)


class SevenBitSink(SmtpPeer):
    """A peer that offers no extension at all (no 8BITMIME)."""

    NAME = b"seven.test"
    EXT = []


def test_8bit_to_a_server_without_8bitmime_bounces(tmp_path, dns):
    """RFC 6152: an 8-bit message is not sent as is to a server without
    8BITMIME; the sender gets a 5.6.3 DSN whose Diagnostic-Code is the
    relay's own verdict (no made-up reply code). A 7-bit one goes."""
    sink = start_sink(SevenBitSink)
    a = None
    try:
        a = make_sender(tmp_path, dns, f"mx_port = {sink.server_address[1]};")
        body8 = (f"From: alice@{DOMAIN}\r\nTo: bob@{REMOTE}\r\n"
                 "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n"
                 "d\u00e9j\u00e0 vu\r\n").encode()
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], body8,
                       mail_options=["BODY=8BITMIME"])
        _, _, rcpts = delivery_status(dsn_in(a))
        r = rcpts[0]
        assert r["Action"] == "failed"
        assert r["Status"] == "5.6.3"
        assert " ".join(r["Diagnostic-Code"].split()) == (
            "X-Postern; 5.6.3 the message has 8-bit data and the server "
            "does not offer 8BITMIME")
        assert sink.messages == 0
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: sink.messages == 1, 15, what="the 7-bit message")
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
        assert "reply=\"0 " not in a.log_text()
    finally:
        if a:
            finish_server(a)
        stop_sink(sink)


MULTI = "multi.test"  # MX 10 mx1 (127.0.0.2), MX 20 mx2 (127.0.0.3)


def free_port_on(*hosts):
    """A TCP port free on every one of hosts."""
    for _ in range(50):
        port = free_tcp_port()
        try:
            for h in hosts:
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    t.bind((h, port))
                finally:
                    t.close()
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def test_preferred_mx_down_goes_to_the_next(tmp_path, dns):
    """RFC 5321 5.1: the preferred MX refuses connections; the message
    goes to the second one in the same, first, attempt."""
    port = free_port_on("127.0.0.2", "127.0.0.3")
    sink = start_sink(CountingSink, "127.0.0.3", port)
    a = None
    try:
        a = make_sender(tmp_path, dns, f"mx_port = {port}; retry = [3600];")
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{MULTI}"], MSG.encode())
        wait_for(lambda: sink.messages == 1, 15, what="delivery to mx2")
        # The log line comes after the spool file goes: wait for it.
        log = wait_for(lambda: "msg=removed" in a.log_text() and
                       a.log_text(), 10, what="the removal logged")
        assert "result=deferred" not in log
        assert "result=sent" in log
        assert re.findall(r"msg=removed attempts=(\d+)", log) == ["1"], log
    finally:
        if a:
            finish_server(a)
        stop_sink(sink)


def test_all_mx_down_deferred_then_delivered_on_retry(tmp_path, dns):
    """Both MX hosts down: deferred after trying each. Then the second one
    comes back, and the scheduled retry (queue.retry, no ETRN, no flush)
    delivers."""
    port = free_port_on("127.0.0.2", "127.0.0.3")
    sink = None
    a = None
    try:
        a = make_sender(tmp_path, dns, f"mx_port = {port}; retry = [2];")
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{MULTI}"], MSG.encode())
        wait_for(lambda: b"state deferred" in envelope_text(a), 15,
                 what="a deferred recipient")
        text = envelope_text(a)
        # the last host tried was the second one; no made-up reply code
        assert b"4.4.1 cannot connect to mx2.multi.test" in text, text
        assert b"451 4.4.1" not in text
        log = a.log_text()
        assert "result=deferred" in log
        sink = start_sink(CountingSink, "127.0.0.3", port)
        wait_for(lambda: sink.messages == 1, 20, what="the retried delivery")
        log = wait_for(lambda: "msg=removed" in a.log_text() and
                       a.log_text(), 10, what="the removal logged")
        assert "result=sent" in log and "ETRN" not in log
        attempts = re.findall(r"msg=removed attempts=(\d+)", log)
        assert len(attempts) == 1 and int(attempts[0]) >= 2, log
    finally:
        if a:
            finish_server(a)
        if sink:
            stop_sink(sink)


def test_without_inotify_the_spool_is_polled(tmp_path, dns, monkeypatch):
    """fs.inotify.max_user_instances used up (EMFILE, as on a busy
    machine): the queue worker looks at the spool every second instead of
    waiting for its minutely rescan, so new mail still leaves at once."""
    os.chmod(tmp_path, 0o755)  # the queue worker runs unprivileged
    sink = start_sink(CountingSink)
    a = None
    try:
        with without_inotify(tmp_path, monkeypatch):
            a = make_sender(tmp_path, dns,
                            f"mx_port = {sink.server_address[1]};")
        wait_for(lambda: "looking at the spool every second instead" in
                 a.log_text(), 10, what="the queue worker without inotify")
        assert "cannot watch the spool" in a.log_text()
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: sink.messages == 1, 10, what="the delivery")
        wait_for(lambda: spool(a) == [], 10, what="spool emptied")
    finally:
        if a:
            finish_server(a)
        stop_sink(sink)


def test_bind_address_not_ours_defers(tmp_path, dns):
    """queue.bind_address that this host does not have (TEST-NET-1, RFC
    5737): no connection leaves, and the recipient is deferred with the
    bind's error rather than sent from another address."""
    sink = start_sink(CountingSink)
    a = None
    try:
        a = make_sender(tmp_path, dns, f"mx_port = {sink.server_address[1]}; "
                        'retry = [3600]; bind_address = "192.0.2.1";')
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        wait_for(lambda: b"state deferred" in envelope_text(a), 15,
                 what="a deferred recipient")
        text = envelope_text(a)
        assert (b"4.4.1 cannot connect to mx.remote.test port "
                b"%d: Cannot assign requested address"
                % sink.server_address[1]) in text, text
        assert sink.sessions == []
        assert "bind_address=192.0.2.1 bind_address6=any" in a.log_text()
    finally:
        if a:
            finish_server(a)
        stop_sink(sink)
