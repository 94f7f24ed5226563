"""
The submission service (587/465/2525 + base): SASL AUTH only over TLS,
sender rules, Message-ID/Date, local delivery and the outbound spool,
driven by smtplib, swaks, curl, msmtp and a hand-made SCRAM client.
"""

import base64
import concurrent.futures
import hashlib
import hmac
import os
import shutil
import smtplib
import socket
import struct
import subprocess
import time

import pytest

from conftest import (start_or_kill, HOST, HOSTNAME, LineConn, Server, client_context,
                      find_port_base, finish_server, postern_bin,
                      set_in_group)

DOMAIN = "example.test"
PASSWORD = "correct horse"


def cli(srv, *args, stdin=""):
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(srv.conf)], input=stdin, capture_output=True,
                          text=True, timeout=20)


def make_server(root, smtp=None, dns="127.0.0.1@9"):
    srv = Server(root, workers=1, limits={"shutdown_timeout": 3})
    srv.init(find_port_base())
    text = srv.conf.read_text()
    for key, value in (smtp or {}).items():
        text = set_in_group(text, "smtp", key, value)
    # No DNS answers here: remote recipients stay queued (deferred).
    text += f'\ndns = {{ forward = "{dns}"; }};\n'
    srv.conf.write_text(text)
    assert cli(srv, "domain", "add", DOMAIN).returncode == 0
    for user in ("alice", "bob"):
        r = cli(srv, "user", "add", f"{user}@{DOMAIN}", "--password-stdin",
                stdin=PASSWORD + "\n")
        assert r.returncode == 0, r
    r = cli(srv, "alias", "add", f"sales@{DOMAIN}", f"alice@{DOMAIN}")
    assert r.returncode == 0, r
    return start_or_kill(srv)


@pytest.fixture(scope="module")
def sub(tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("sub"))
    yield srv
    finish_server(srv)


def ctx_for(srv):
    ctx = client_context(srv)
    ctx.check_hostname = False  # we connect by address; the cert is mail.test
    return ctx


def inbox(srv, user):
    d = srv.root / "data" / "mail" / DOMAIN / user / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def clear(srv):
    d = srv.root / "data" / "mail" / DOMAIN
    if d.exists():
        shutil.rmtree(d)


def spool_envelopes(srv):
    d = srv.root / "data" / "queue" / "env"
    return sorted(d.iterdir()) if d.is_dir() else []


def login(srv, port_name="submission", user=f"alice@{DOMAIN}"):
    if port_name == "submissions":
        s = smtplib.SMTP_SSL(HOST, srv.port(port_name), timeout=15,
                             context=ctx_for(srv))
    else:
        s = smtplib.SMTP(HOST, srv.port(port_name), timeout=15)
        s.ehlo("client.test")
        s.starttls(context=ctx_for(srv))
    s.ehlo("client.test")
    s.login(user, PASSWORD)
    return s


MSG = (f"From: Alice <alice@{DOMAIN}>\r\nTo: bob@{DOMAIN}\r\n"
       "Subject: hi\r\n\r\nhello\r\n")


@pytest.mark.parametrize("port_name", ["submission", "submission_alt",
                                       "submissions"])
def test_login_and_send_local(sub, port_name):
    clear(sub)
    with login(sub, port_name) as s:
        assert "auth" in s.esmtp_features
        assert s.sendmail(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"],
                          MSG.encode()) == {}
    raw = inbox(sub, "bob")[0].read_bytes()
    assert b"with ESMTPSA id" in raw
    # RFC 6409 8: the MSA adds what is missing
    assert b"\r\nMessage-ID: <" in raw or raw.startswith(b"Message-ID")
    assert b"\r\nDate: " in raw


def test_existing_message_id_and_date_kept(sub):
    clear(sub)
    msg = ("Message-ID: <keep.me@client.test>\r\n"
           "Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n" + MSG)
    with login(sub) as s:
        s.sendmail(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], msg.encode())
    raw = inbox(sub, "bob")[0].read_bytes()
    assert raw.count(b"Message-ID:") == 1
    assert b"<keep.me@client.test>" in raw
    assert raw.count(b"\r\nDate: ") == 1


def test_auth_not_before_tls(sub):
    with LineConn.connect(sub.port("submission")) as c:
        assert c.smtp_reply()[0] == 220
        c.cmd("EHLO client.test")
        code, lines = c.smtp_reply()
        assert code == 250
        assert not any(l.upper().startswith("AUTH") for l in lines), lines
        c.cmd("AUTH PLAIN " + base64.b64encode(
            f"\0alice@{DOMAIN}\0{PASSWORD}".encode()).decode())
        code, lines = c.smtp_reply()
        assert code == 538 and lines[0].startswith("5.7.11"), lines
        c.cmd(f"MAIL FROM:<alice@{DOMAIN}>")
        code, lines = c.smtp_reply()
        assert code == 530 and lines[0].startswith("5.7.0"), lines


def test_mx_port_has_no_auth(sub):
    with smtplib.SMTP(HOST, sub.port("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=ctx_for(sub))
        s.ehlo("client.test")
        assert "auth" not in s.esmtp_features
        # and no relaying without it
        s.mail("x@remote.test")
        assert s.rcpt("someone@elsewhere.test")[0] == 554


def test_relay_needs_auth_on_submission(sub):
    with smtplib.SMTP(HOST, sub.port("submission"), timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=ctx_for(sub))
        s.ehlo("client.test")
        code, msg = s.mail(f"alice@{DOMAIN}")
        assert code == 530


def test_wrong_password_is_delayed(sub):
    with smtplib.SMTP(HOST, sub.port("submission"), timeout=15) as s:
        s.ehlo("client.test")
        s.starttls(context=ctx_for(sub))
        s.ehlo("client.test")
        t0 = time.monotonic()
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            s.login(f"alice@{DOMAIN}", "wrong")
        assert exc.value.smtp_code == 535
        assert exc.value.smtp_error.startswith(b"5.7.8")
        assert time.monotonic() - t0 >= 0.9


def test_brute_force_throttled(tmp_path):
    """Failures from one address are answered late and then refused; the
    delays run in parallel here so the test stays short."""
    srv = make_server(tmp_path / "bf")

    def attempt(i):
        with LineConn.connect(srv.port("submissions"), ctx_for(srv)) as c:
            c.sock.settimeout(30)
            assert c.smtp_reply()[0] == 220
            c.cmd("EHLO client.test")
            c.smtp_reply()
            bad = base64.b64encode(
                f"\0alice@{DOMAIN}\0bad{i}".encode()).decode()
            t0 = time.monotonic()
            c.cmd("AUTH PLAIN " + bad)
            code, lines = c.smtp_reply()
            return code, time.monotonic() - t0

    try:
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            first = list(pool.map(attempt, range(10)))
        assert all(code == 535 for code, _ in first), first
        assert max(t for _, t in first) >= 3.5  # the delay grows
        code, took = attempt(10)
        assert code == 454 and took < 1.0, (code, took)
        # the right password does not help from this address either
        with LineConn.connect(srv.port("submissions"), ctx_for(srv)) as c:
            c.smtp_reply()
            c.cmd("EHLO client.test")
            c.smtp_reply()
            c.cmd("AUTH PLAIN " + base64.b64encode(
                f"\0alice@{DOMAIN}\0{PASSWORD}".encode()).decode())
            assert c.smtp_reply()[0] == 454
    finally:
        finish_server(srv)


def test_spoofed_envelope_sender(sub):
    with login(sub) as s:
        code, msg = s.mail(f"bob@{DOMAIN}")
        assert code == 553 and msg.startswith(b"5.7.1"), msg
        code, msg = s.mail("")
        assert code == 553
        # an alias of the user is fine, and a +tag
        assert s.mail(f"sales@{DOMAIN}")[0] == 250
        s.rset()
        assert s.mail(f"alice+list@{DOMAIN}")[0] == 250


def test_spoofed_from_header(sub):
    clear(sub)
    with login(sub) as s:
        s.mail(f"alice@{DOMAIN}")
        s.rcpt(f"bob@{DOMAIN}")
        code, msg = s.data(f"From: Boss <ceo@{DOMAIN}>\r\nSubject: x\r\n"
                           "\r\npay now\r\n".encode())
        assert code == 553 and msg.startswith(b"5.7.1"), msg
    assert inbox(sub, "bob") == []


def test_remote_recipient_is_spooled_and_survives_restart(tmp_path):
    srv = make_server(tmp_path / "sp")
    try:
        with login(srv) as s:
            assert s.sendmail(f"alice@{DOMAIN}",
                              ["friend@elsewhere.example.net", f"bob@{DOMAIN}"],
                              MSG.encode()) == {}
        envs = spool_envelopes(srv)
        assert len(envs) == 1
        env = envs[0].read_bytes()
        assert b"friend@elsewhere.example.net" in env
        assert b"bob@" not in env  # local recipients are delivered now
        assert len(inbox(srv, "bob")) == 1
        msg = srv.root / "data" / "queue" / "msg" / envs[0].name
        assert msg.read_bytes().endswith(b"\r\nhello\r\n")
        # a restart keeps it
        rc, _ = srv.stop()
        assert rc == 0
        srv.close()
        srv.start()
        assert [e.name for e in spool_envelopes(srv)] == [envs[0].name]
    finally:
        finish_server(srv)


def test_swaks_plain_login(sub):
    clear(sub)
    for mech, tls in (("PLAIN", "--tls"), ("LOGIN", "--tls")):
        r = subprocess.run(
            ["swaks", "--server", HOST, "--port", str(sub.port("submission")),
             tls, "--auth", mech, "--auth-user", f"alice@{DOMAIN}",
             "--auth-password", PASSWORD, "--from", f"alice@{DOMAIN}",
             "--to", f"bob@{DOMAIN}", "--helo", "client.test",
             "--header", f"From: alice@{DOMAIN}", "--timeout", "15"],
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    r = subprocess.run(
        ["swaks", "--server", HOST, "--port", str(sub.port("submissions")),
         "--tlsc", "--auth", "PLAIN", "--auth-user", f"alice@{DOMAIN}",
         "--auth-password", PASSWORD, "--from", f"alice@{DOMAIN}",
         "--to", f"bob@{DOMAIN}", "--header", f"From: alice@{DOMAIN}",
         "--timeout", "15"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert len(inbox(sub, "bob")) == 3


def test_curl_ssl_reqd(sub, tmp_path):
    clear(sub)
    msg = tmp_path / "m.eml"
    msg.write_bytes(MSG.encode())
    r = subprocess.run(
        ["curl", "-sS", "--ssl-reqd", "--cacert", str(sub.cert),
         "--resolve", f"{HOSTNAME}:{sub.port('submission')}:{HOST}",
         f"smtp://{HOSTNAME}:{sub.port('submission')}",
         "-u", f"alice@{DOMAIN}:{PASSWORD}", "--mail-from",
         f"alice@{DOMAIN}", "--mail-rcpt", f"bob@{DOMAIN}",
         "--upload-file", str(msg)],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(inbox(sub, "bob")) == 1


def test_msmtp(sub, tmp_path):
    clear(sub)
    conf = tmp_path / "msmtprc"
    conf.write_text(
        f"account default\nhost {HOST}\nport {sub.port('submission')}\n"
        f"tls on\ntls_starttls on\ntls_trust_file {sub.cert}\n"
        f"tls_host_override {HOSTNAME}\n"
        f"auth on\nuser alice@{DOMAIN}\npassword {PASSWORD}\n"
        f"from alice@{DOMAIN}\n")
    conf.chmod(0o600)
    r = subprocess.run(["msmtp", "-C", str(conf), f"bob@{DOMAIN}"],
                       input=MSG, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(inbox(sub, "bob")) == 1


def scram_client(c, user, password):
    """RFC 5802 client for SCRAM-SHA-256 over a LineConn; returns the
    final reply (code, lines)."""
    cnonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={cnonce}"
    c.cmd("AUTH SCRAM-SHA-256 " +
          base64.b64encode(("n,," + first_bare).encode()).decode())
    code, lines = c.smtp_reply()
    assert code == 334, (code, lines)
    server_first = base64.b64decode(lines[0]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salt = base64.b64decode(attrs["s"])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt,
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = f"c=biws,r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{final_bare}".encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    c.cmd(base64.b64encode((final_bare + ",p=" +
                            base64.b64encode(proof).decode())
                           .encode()).decode())
    code, lines = c.smtp_reply()
    if code != 334:
        return code, lines
    server_final = base64.b64decode(lines[0]).decode()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expect = base64.b64encode(hmac.new(server_key, auth_msg,
                                       hashlib.sha256).digest()).decode()
    assert server_final == "v=" + expect
    c.cmd("")
    return c.smtp_reply()


def test_scram_sha_256(sub):
    with LineConn.connect(sub.port("submissions"), ctx_for(sub)) as c:
        assert c.smtp_reply()[0] == 220
        c.cmd("EHLO client.test")
        code, lines = c.smtp_reply()
        auth = [l for l in lines if l.upper().startswith("AUTH ")]
        assert auth and "SCRAM-SHA-256" in auth[0].upper().split()
        code, lines = scram_client(c, f"alice@{DOMAIN}", PASSWORD)
        assert code == 235, (code, lines)
    with LineConn.connect(sub.port("submissions"), ctx_for(sub)) as c:
        c.smtp_reply()
        c.cmd("EHLO client.test")
        c.smtp_reply()
        c.sock.settimeout(20)
        code, lines = scram_client(c, f"alice@{DOMAIN}", "wrong password")
        assert code == 535, (code, lines)


def test_auth_cancel_and_bad_base64(sub):
    with LineConn.connect(sub.port("submissions"), ctx_for(sub)) as c:
        assert c.smtp_reply()[0] == 220
        c.cmd("EHLO client.test")
        c.smtp_reply()
        c.cmd("AUTH LOGIN")
        assert c.smtp_reply() == (334, ["VXNlcm5hbWU6"])
        c.cmd("*")
        code, lines = c.smtp_reply()
        assert code == 501 and lines[0].startswith("5.0.0"), lines
        c.cmd("AUTH PLAIN !!!notbase64")
        code, lines = c.smtp_reply()
        assert code == 501, (code, lines)
        c.cmd("AUTH FOO")
        assert c.smtp_reply()[0] == 504
        # RFC 4954 4: PLAIN without an initial response gets "334 "
        c.cmd("AUTH PLAIN")
        assert c.smtp_reply() == (334, [""])
        c.cmd(base64.b64encode(
            f"\0alice@{DOMAIN}\0{PASSWORD}".encode()).decode())
        code, lines = c.smtp_reply()
        assert code == 235 and lines[0].startswith("2.7.0"), lines
        c.cmd("AUTH PLAIN =")
        assert c.smtp_reply()[0] == 503  # already authenticated
    with LineConn.connect(sub.port("submissions"), ctx_for(sub)) as c:
        c.smtp_reply()
        c.cmd("EHLO client.test")
        c.smtp_reply()
        # authorization identity different from the authentication one
        c.cmd("AUTH PLAIN " + base64.b64encode(
            f"bob@{DOMAIN}\0alice@{DOMAIN}\0{PASSWORD}".encode()).decode())
        c.sock.settimeout(20)
        assert c.smtp_reply()[0] == 535


def test_mx_auth_relay_networks_hide_ip(tmp_path):
    srv = make_server(tmp_path / "opts", smtp={
        "mx_auth": "true", "hide_client_ip": "true",
        "relay_networks": '["127.0.0.0/8"]'})
    try:
        # port 25 offers AUTH once TLS is up, when enabled
        with smtplib.SMTP(HOST, srv.port("smtp"), timeout=15) as s:
            s.ehlo("client.test")
            assert "auth" not in s.esmtp_features
            s.starttls(context=ctx_for(srv))
            s.ehlo("client.test")
            assert "auth" in s.esmtp_features
            s.login(f"alice@{DOMAIN}", PASSWORD)
        # a listed network relays without AUTH
        with smtplib.SMTP(HOST, srv.port("smtp"), timeout=15) as s:
            assert s.sendmail("app@client.test", ["someone@elsewhere.example.net"],
                              b"Subject: relay\r\n\r\nx\r\n") == {}
        assert len(spool_envelopes(srv)) == 1
        # submitted mail does not show the client's address
        with login(srv) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], MSG.encode())
        raw = inbox(srv, "bob")[0].read_bytes()
        received = raw.split(b"\r\nReceived: ", 1)[1].split(b";", 1)[0]
        assert b"127.0.0.1" not in received, received
        assert b"with ESMTPSA" in received
    finally:
        finish_server(srv)


def _auth_line(password=PASSWORD):
    return "AUTH PLAIN " + base64.b64encode(
        f"\0alice@{DOMAIN}\0{password}".encode()).decode()


def _greeted(srv):
    """A session on the implicit-TLS port, greeted, ready for AUTH."""
    c = LineConn.connect(srv.port("submissions"), ctx_for(srv))
    c.sock.settimeout(30)
    assert c.smtp_reply()[0] == 220
    c.cmd("EHLO client.test")
    assert c.smtp_reply()[0] == 250
    return c


def test_password_checks_do_not_block_the_loop(tmp_path):
    """With one worker, ten logins at once hash on the offload threads:
    meanwhile the loop still answers another session's NOOP at once,
    where a check inside the loop would make it wait for several hash
    times. Sessions closed while their check runs leave the worker up."""
    srv = make_server(tmp_path / "offload")
    try:
        workers = srv.children()
        idle = _greeted(srv)
        idle.cmd(_auth_line())
        assert idle.smtp_reply()[0] == 235
        # one hash time, alone: the fastest of three logins
        hash_time = 1e9
        for _ in range(3):
            with _greeted(srv) as c:
                t0 = time.monotonic()
                c.cmd(_auth_line())
                assert c.smtp_reply()[0] == 235
                hash_time = min(hash_time, time.monotonic() - t0)

        conns = [_greeted(srv) for _ in range(10)]
        for c in conns:  # all ten lines in flight before the NOOP
            c.cmd(_auth_line())
        time.sleep(0.01)
        t0 = time.monotonic()
        idle.cmd("NOOP")
        assert idle.smtp_reply()[0] == 250
        noop = time.monotonic() - t0
        codes = [c.smtp_reply()[0] for c in conns]
        all_done = time.monotonic() - t0
        for c in conns:
            c.close()
        print(f"hash {hash_time * 1000:.1f} ms, NOOP {noop * 1000:.1f} ms, "
              f"ten logins {all_done * 1000:.1f} ms")
        assert codes == [235] * 10
        # in the loop: NOOP behind ~9 hashes; off it: a few ms. Half of
        # ten hash times leaves room for a loaded machine.
        assert noop < 5 * hash_time, (noop, hash_time)

        # close sessions mid-check, some with a reset (SO_LINGER 0)
        for i in range(10):
            c = _greeted(srv)
            # two failures: under the throttle's address limit
            c.cmd(_auth_line("wrong") if i in (0, 5) else _auth_line())
            if i % 3 == 0:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
            c.close()
        time.sleep(0.5)  # let the checks finish and land on the loop
        idle.cmd("NOOP")
        assert idle.smtp_reply()[0] == 250  # same worker, same session
        with _greeted(srv) as c:
            c.cmd(_auth_line())
            assert c.smtp_reply()[0] == 235
        idle.cmd("QUIT")
        assert idle.smtp_reply()[0] == 221
        idle.close()
        assert srv.children() == workers
        assert "worker exited" not in srv.log_text()
        assert "worker killed" not in srv.log_text()
    finally:
        finish_server(srv)
