"""
The sendmail(8) injector, run as cron, PHP mail(), git send-email and
mutt run /usr/sbin/sendmail: through a symlink named `sendmail`, with
their options, and the message must reach the local recipient's Maildir
through the running server's queue worker exactly as it was given (lines
of any length, LF turned into CRLF). Exit codes follow sysexits.h.
"""

import os
import re
import smtplib
import subprocess
import threading

import pytest

from conftest import HOSTNAME, finish_server, postern_bin, wait_for
from test_submission import DOMAIN, PASSWORD, cli, inbox, make_server

EX_USAGE, EX_DATAERR, EX_CONFIG = 64, 65, 78


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("sendmail"))
    try:
        # carol for Bcc:; the host name's domain for bare names (cron)
        assert cli(s, "domain", "add", HOSTNAME).returncode == 0
        for user in (f"carol@{DOMAIN}", f"bob@{HOSTNAME}"):
            r = cli(s, "user", "add", user, "--password-stdin",
                    stdin=PASSWORD + "\n")
            assert r.returncode == 0, r
        yield s
    finally:
        finish_server(s)


@pytest.fixture(scope="module")
def link(tmp_path_factory):
    """A symlink named sendmail: the binary must act as sendmail(8)."""
    path = tmp_path_factory.mktemp("bin") / "sendmail"
    os.symlink(postern_bin(), path)
    return path


def sendmail(link, srv, *args, stdin, config=True):
    """Run the symlink; the configuration comes from $POSTERN_CONFIG, as
    a caller that knows nothing of postern would leave it."""
    env = dict(os.environ)
    env.pop("POSTERN_CONFIG", None)
    if config:
        env["POSTERN_CONFIG"] = str(srv.conf)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([str(link), *args], input=data,
                          capture_output=True, timeout=20, env=env)


def maildir(srv, user, domain):
    d = srv.root / "data" / "mail" / domain / user / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def delivered(srv, user, marker, domain=DOMAIN):
    """The one message of user's Maildir holding marker (bytes)."""
    files = wait_for(lambda: [f for f in maildir(srv, user, domain)
                              if marker in f.read_bytes()], 15,
                     what=f"delivery of {marker!r} to {user}")
    assert len(files) == 1, files
    return files[0].read_bytes()


def body_of(raw):
    return raw.split(b"\r\n\r\n", 1)[1]


def test_recipients_on_command_line(srv, link):
    r = sendmail(link, srv, "-i", f"bob@{DOMAIN}", f"alice@{DOMAIN}",
                 stdin="Subject: argv\n\nhello\n")
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob"):
        raw = delivered(srv, user, b"Subject: argv")
        assert body_of(raw) == b"hello\r\n"
        assert b"with local id" in raw and b"Message-ID: <" in raw


def test_bad_option_is_ex_usage(srv, link):
    r = sendmail(link, srv, "-Y", f"bob@{DOMAIN}", stdin="x\n")
    assert r.returncode == EX_USAGE, r
    assert b"-Y" in r.stderr


def test_no_recipients_is_ex_usage(srv, link):
    r = sendmail(link, srv, stdin="Subject: nobody\n\nx\n")
    assert r.returncode == EX_USAGE, r
    assert b"no recipients" in r.stderr
    r = sendmail(link, srv, "-t", stdin="Subject: nobody\n\nx\n")
    assert r.returncode == EX_USAGE, r


def test_bad_address_is_ex_dataerr(srv, link):
    r = sendmail(link, srv, "bob@@example.test", stdin="x\n")
    assert r.returncode == EX_DATAERR, r
    r = sendmail(link, srv, "-f", "a b@c", f"bob@{DOMAIN}", stdin="x\n")
    assert r.returncode == EX_DATAERR, r


def test_missing_config_is_ex_config(srv, link, tmp_path):
    r = sendmail(link, srv, "-c", str(tmp_path / "nothing.conf"),
                 f"bob@{DOMAIN}", stdin="x\n")
    assert r.returncode == EX_CONFIG, r
    r = subprocess.run([str(link), f"bob@{DOMAIN}"], input=b"x\n",
                       capture_output=True, timeout=20,
                       env={**os.environ,
                            "POSTERN_CONFIG": str(tmp_path / "no.conf")})
    assert r.returncode == EX_CONFIG, r


def test_help_lists_exit_codes(srv, link):
    r = sendmail(link, srv, "--help", stdin="")
    assert r.returncode == 0
    for code in (b"64", b"65", b"75", b"78"):
        assert code in r.stdout


def from_field(raw):
    """The message's From: fields, unfolded."""
    import email
    import email.policy
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return [str(v) for v in msg.get_all("From", [])]


@pytest.mark.parametrize("args, shown", [
    (["-FCronDaemon"], "CronDaemon <alice@example.test>"),
    (["-F", "John Q. Public"], '"John Q. Public" <alice@example.test>'),
    (["-F", 'say "hi" \\o/'], '"say \\"hi\\" \\\\o/" <alice@example.test>'),
    (["-F", "J\u00f6rg M\u00fcller"], None),
])
def test_full_name_makes_from(srv, link, args, shown):
    marker = f"Subject: F {args[-1]}".encode()
    r = sendmail(link, srv, "-i", "-f", f"alice@{DOMAIN}", *args,
                 f"bob@{DOMAIN}", stdin=marker.decode() + "\n\nx\n")
    assert r.returncode == 0, r.stderr
    raw = delivered(srv, "bob", marker)
    if shown is not None:
        assert f"\r\nFrom: {shown}\r\n".encode() in raw, raw
    else:  # RFC 2047 encoded, and the email package reads it back
        assert b"From: =?UTF-8?B?" in raw
        assert from_field(raw) == [f"{args[-1]} <alice@{DOMAIN}>"]


def test_full_name_leaves_existing_from(srv, link):
    r = sendmail(link, srv, "-i", "-F", "Not Used", f"bob@{DOMAIN}",
                 stdin="From: Keep <alice@example.test>\nSubject: keepF\n\n"
                       "x\n")
    assert r.returncode == 0, r.stderr
    raw = delivered(srv, "bob", b"Subject: keepF")
    assert from_field(raw) == ["Keep <alice@example.test>"]
    assert b"Not Used" not in raw


def test_full_name_cannot_add_a_field(srv, link):
    r = sendmail(link, srv, "-i", "-F", "x\r\nBcc: evil@example.test",
                 f"bob@{DOMAIN}", stdin="Subject: inject\n\nx\n")
    assert r.returncode == 0, r.stderr
    raw = delivered(srv, "bob", b"Subject: inject")
    assert b"\r\nBcc:" not in raw
    assert b'From: "x  Bcc: evil@example.test" <' in raw


def test_long_line_survives_intact(srv, link):
    line = ("0123456789" * 1000).encode()  # 10,000 octets, no break
    r = sendmail(link, srv, f"bob@{DOMAIN}",
                 stdin=b"Subject: long\n\n" + line + b"\nafter\n")
    assert r.returncode == 0, r.stderr
    raw = delivered(srv, "bob", b"Subject: long")
    assert body_of(raw) == line + b"\r\nafter\r\n"


def test_line_ends_become_crlf(srv, link):
    r = sendmail(link, srv, "-i", f"bob@{DOMAIN}",
                 stdin=b"Subject: lf\nX-Mixed: yes\r\n\na\nb\r\nc\rd\nlast")
    assert r.returncode == 0, r.stderr
    raw = delivered(srv, "bob", b"Subject: lf")
    assert b"\r\nSubject: lf\r\nX-Mixed: yes\r\n\r\n" in raw
    # bare LF and CRLF both end lines; a bare CR is text; the last line
    # without LF is kept and ended
    assert body_of(raw) == b"a\r\nb\r\nc\rd\r\nlast\r\n"
    assert b"\r\r\n" not in raw


@pytest.mark.parametrize("args, body", [
    ([], b"before\r\n..two\r\n.x\r\n"),
    (["-i"], b"before\r\n..two\r\n.x\r\n.\r\nafter\r\n"),
    (["-oi"], b"before\r\n..two\r\n.x\r\n.\r\nafter\r\n"),
])
def test_lone_dot(srv, link, args, body):
    marker = f"Subject: dot {args}".encode()
    r = sendmail(link, srv, *args, f"bob@{DOMAIN}",
                 stdin=marker + b"\n\nbefore\n..two\n.x\n.\nafter\n")
    assert r.returncode == 0, r.stderr
    # stored as given: no dot-stuffing in the Maildir
    assert body_of(delivered(srv, "bob", marker)) == body


def test_lone_dot_with_crlf_ends_input(srv, link):
    r = sendmail(link, srv, f"bob@{DOMAIN}",
                 stdin=b"Subject: dotcrlf\r\n\r\nin\r\n.\r\nout\r\n")
    assert r.returncode == 0, r.stderr
    assert body_of(delivered(srv, "bob", b"Subject: dotcrlf")) == b"in\r\n"


def test_text_without_header_gets_its_empty_line(srv, link):
    r = sendmail(link, srv, f"bob@{DOMAIN}", stdin="no header here\nmore\n")
    assert r.returncode == 0, r.stderr
    raw = delivered(srv, "bob", b"no header here")
    assert body_of(raw) == b"no header here\r\nmore\r\n"
    assert b"From: <" in raw.split(b"\r\n\r\n", 1)[0]


def test_message_over_size_limit_is_ex_dataerr(srv, link):
    from conftest import set_in_group
    conf = srv.conf.with_name("small.conf")  # paths are relative to it
    conf.write_text(set_in_group(srv.conf.read_text(), "smtp",
                                 "max_message_size", "2000"))
    before = len(inbox(srv, "bob"))
    for data in (b"Subject: big\n\n" + b"x" * 3000 + b"\n",  # one line
                 b"Subject: big\n\n" + b"y\n" * 1500):        # many
        r = sendmail(link, srv, "-C", str(conf), f"bob@{DOMAIN}",
                     stdin=data)
        assert r.returncode == EX_DATAERR, r
        assert b"max_message_size" in r.stderr
    r = sendmail(link, srv, "-C", str(conf), f"bob@{DOMAIN}",
                 stdin=b"Subject: small\n\n" + b"z" * 1000 + b"\n")
    assert r.returncode == 0, r.stderr
    delivered(srv, "bob", b"Subject: small")
    assert len(inbox(srv, "bob")) == before + 1


def test_t_takes_to_cc_bcc_and_removes_bcc(srv, link):
    r = sendmail(link, srv, "-t", "-i", "-f", f"alice@{DOMAIN}", stdin=(
        f"To: Alice <alice@{DOMAIN}>\nCc: bob@{DOMAIN}\n"
        f"Bcc: Hidden\n <carol@{DOMAIN}>\nSubject: three\n\nbody\n"))
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob", "carol"):
        raw = delivered(srv, user, b"Subject: three")
        assert b"Bcc:" not in raw and b"Hidden" not in raw
        assert b"\r\nTo: Alice <alice@example.test>\r\n" in raw
        assert body_of(raw) == b"body\r\n"


def test_bcc_removed_without_t(srv, link):
    r = sendmail(link, srv, "-i", f"bob@{DOMAIN}",
                 stdin=f"Bcc: carol@{DOMAIN}\nSubject: nobcc\n\nx\n")
    assert r.returncode == 0, r.stderr
    assert b"Bcc:" not in delivered(srv, "bob", b"Subject: nobcc")
    assert not [f for f in inbox(srv, "carol")
                if b"Subject: nobcc" in f.read_bytes()]


# What real callers run (their source: cron's do_command.c, cronie's
# do_command.c, PHP's mail.c sendmail_path default, git-send-email.perl,
# mutt's sendlib.c).
@pytest.mark.parametrize("caller, args, to", [
    ("debian-cron", ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "bob"],
     None),
    ("cronie", ["-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f",
                "root"], f"bob@{DOMAIN}"),
    ("php", ["-t", "-i"], f"bob@{DOMAIN}"),
    ("git", ["-i", f"-falice@{DOMAIN}", f"bob@{DOMAIN}"], None),
    ("mutt", ["-oem", "-oi", "-N", "success,delay", "-R", "hdrs", "-V",
              "env-1", "-B8BITMIME", "--", f"bob@{DOMAIN}"], None),
    ("grouped", ["-ti", "-v", "-odb", "-G", "-U", "-bm"], f"bob@{DOMAIN}"),
    ("-r", ["-oi", "-r", f"alice@{DOMAIN}", "-odq", f"bob@{DOMAIN}"], None),
])
def test_real_callers(srv, link, caller, args, to):
    marker = f"Subject: caller {caller}"
    head = f"To: {to}\n" if to else ""
    r = sendmail(link, srv, *args,
                 stdin=f"{head}{marker}\n\ncaf\u00e9\n.\n")
    assert r.returncode == 0, r.stderr
    domain = HOSTNAME if "bob" in args else DOMAIN
    raw = delivered(srv, "bob", marker.encode(), domain)
    assert body_of(raw) == "caf\u00e9\r\n.\r\n".encode()
    if caller.endswith("cron"):
        assert b"\r\nFrom: CronDaemon <" in raw
    if caller in ("git", "-r"):
        assert raw.startswith(b"Return-Path: <alice@example.test>\r\n")
    if caller == "grouped":
        assert b"queued as " in r.stderr


def spool_record(srv, queue_id):
    return (srv.root / "data" / "queue" / "env" / queue_id).read_text()


def test_dsn_options_reach_the_envelope(srv, link):
    """Mail for a remote domain stays queued here (no DNS): its record
    shows what -N, -R, -V and -B asked for."""
    r = sendmail(link, srv, "-v", "-i", "-N", "success,delay", "-R", "hdrs",
                 "-V", "id+1 x", "-B", "8BITMIME", "far@remote.example",
                 stdin="Subject: dsn\n\nx\n")
    assert r.returncode == 0, r.stderr
    qid = r.stderr.decode().split("queued as ")[1].split()[0]
    try:
        rec = spool_record(srv, qid)
        assert "\nret hdrs\n" in rec and "\nbody 8bitmime\n" in rec
        assert "\nenvid 10:id+2B1+20x\n" in rec
        assert "\nnotify success,delay\n" in rec
        # -bp is mailq: the message is listed
        r = sendmail(link, srv, "-bp", stdin="")
        assert r.returncode == 0 and qid.encode() in r.stdout, r
        # -q: try everything now
        r = sendmail(link, srv, "-q", stdin="")
        assert r.returncode == 0 and b"to try now" in r.stdout, r
    finally:
        cli(srv, "queue", "delete", qid)
    # no -B: 8-bit text is sent as 8BITMIME (RFC 6152)
    r = sendmail(link, srv, "-v", "-i", "far@remote.example",
                 stdin="Subject: 8\n\n\u00e9t\u00e9\n")
    qid = r.stderr.decode().split("queued as ")[1].split()[0]
    try:
        assert "\nbody 8bitmime\n" in spool_record(srv, qid)
    finally:
        cli(srv, "queue", "delete", qid)


@pytest.mark.parametrize("args", [
    ["-bd"], ["-q1h"], ["-N", "never,success"], ["-N", "sometimes"],
    ["-R", "body"], ["-B", "BINARYMIME"], ["-V", "x" * 101], ["-f"],
    ["-t", "-Z"], ["-tZ"],
])
def test_bad_options_are_ex_usage(srv, link, args):
    r = sendmail(link, srv, *args, f"bob@{DOMAIN}", stdin="x\n") \
        if args != ["-f"] else sendmail(link, srv, "-f", stdin="x\n")
    assert r.returncode == EX_USAGE, r
    assert r.stderr.startswith(b"postern sendmail: "), r.stderr


def test_newaliases_mode_does_nothing(srv, link):
    r = sendmail(link, srv, "-bi", stdin="")
    assert r.returncode == 0, r
    r = sendmail(link, srv, "-I", stdin="")
    assert r.returncode == 0, r


# --------------------------------------------------------------------------
# -bs: SMTP on stdin/stdout, as Symfony Mailer and Laravel run it
# ("/usr/sbin/sendmail -bs", "-bs -i"): a pipe each way, as proc_open
# makes them.

BS_GREETING = f"220 {HOSTNAME} ESMTP postern"
QUEUED = re.compile(r"250 2\.0\.0 Ok: queued as ([0-9A-F]{16})")


def bs_ehlo(size=52428800):
    return [f"250-{HOSTNAME}", "250-PIPELINING", f"250-SIZE {size}",
            "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250-SMTPUTF8",
            "250 DSN"]


class BS:
    """`sendmail -bs` on pipes; every reply line must end in CRLF."""

    def __init__(self, link, srv, *args, conf=None):
        env = dict(os.environ)
        env["POSTERN_CONFIG"] = str(conf or srv.conf)
        self.p = subprocess.Popen([str(link), "-bs", *args],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        # a reply that never comes fails the test instead of hanging it
        self.watchdog = threading.Timer(30, self.p.kill)
        self.watchdog.start()

    def send(self, data):
        self.p.stdin.write(data.encode() if isinstance(data, str) else data)
        self.p.stdin.flush()

    def reply(self):
        """The lines of one reply, without their CRLF."""
        lines = []
        while True:
            raw = self.p.stdout.readline()
            assert raw.endswith(b"\r\n"), (raw, lines, self.p.poll())
            lines.append(raw[:-2].decode())
            if len(lines[-1]) < 4 or lines[-1][3] != "-":
                return lines

    def cmd(self, line, eol="\r\n"):
        self.send(line + eol)
        return self.reply()

    def one(self, line, eol="\r\n"):
        r = self.cmd(line, eol)
        assert len(r) == 1, r
        return r[0]

    def message(self, mail_from, rcpts, text):
        """A whole transaction; returns the queue id."""
        assert self.one(f"MAIL FROM:<{mail_from}>") == "250 2.1.0 Ok"
        for rcpt in rcpts:
            assert self.one(f"RCPT TO:<{rcpt}>") == "250 2.1.5 Ok"
        assert self.one("DATA") == "354 End data with <CR><LF>.<CR><LF>"
        self.send(text)
        r = self.one(".")
        m = QUEUED.fullmatch(r)
        assert m, r
        return m.group(1)

    def finish(self):
        """Close stdin; returns (exit code, rest of stdout, stderr)."""
        if not self.p.stdin.closed:
            self.p.stdin.close()
        out = b"" if self.p.stdout.closed else self.p.stdout.read()
        err = self.p.stderr.read()
        rc = self.p.wait(timeout=20)
        self.watchdog.cancel()
        return rc, out, err


def queued_env(srv):
    d = srv.root / "data" / "queue" / "env"
    return set(p.name for p in d.iterdir()) if d.is_dir() else set()


def test_bs_session_with_two_messages(srv, link):
    s = BS(link, srv)
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO client.test") == bs_ehlo()
    id1 = s.message(f"alice@{DOMAIN}", [f"alice@{DOMAIN}", f"bob@{DOMAIN}"],
                    "Subject: bs one\r\nBcc: carol@example.test\r\n\r\n"
                    "..stuffed\r\n.x\r\nline\r\n")
    assert s.one("NOOP") == "250 2.0.0 Ok"
    id2 = s.message(f"bob@{DOMAIN}", [f"carol@{DOMAIN}"],
                    "Subject: bs two\r\n\r\nsecond\r\n")
    assert id1 != id2
    assert s.one("QUIT") == f"221 2.0.0 {HOSTNAME} Bye"
    rc, rest, err = s.finish()
    assert (rc, rest) == (0, b""), err
    for user in ("alice", "bob"):
        raw = delivered(srv, user, b"Subject: bs one")
        # dot-unstuffed; headers fixed as plain sendmail does; no Bcc:
        assert body_of(raw) == b".stuffed\r\nx\r\nline\r\n"
        assert f"with local id {id1}".encode() in raw
        assert f"Message-ID: <{id1}@{HOSTNAME}>".encode() in raw
        assert b"\r\nDate: " in raw and b"Bcc:" not in raw
        assert b"\r\nFrom: <alice@example.test>\r\n" in raw
    # Bcc: is removed, not a recipient: the envelope is RCPT TO's
    assert not [f for f in inbox(srv, "carol")
                if b"Subject: bs one" in f.read_bytes()]
    raw = delivered(srv, "carol", b"Subject: bs two")
    assert body_of(raw) == b"second\r\n"
    assert raw.startswith(b"Return-Path: <bob@example.test>\r\n")


def test_bs_errors_and_sequence(srv, link):
    s = BS(link, srv)
    assert s.reply() == [BS_GREETING]
    assert s.one("MAIL FROM:<alice@example.test>") == \
        "503 5.5.1 Bad sequence of commands"  # before HELO/EHLO
    assert s.one("HELO client.test") == f"250 {HOSTNAME}"
    assert s.one("FROB x") == "500 5.5.2 Command not recognized"
    assert s.one("") == "500 5.5.2 Command not recognized"
    assert s.one("RCPT TO:<bob@example.test>") == \
        "503 5.5.1 Bad sequence of commands"
    assert s.one("DATA") == "503 5.5.1 Bad sequence of commands"
    assert s.one("EXPN all") == "502 5.5.1 Command not implemented"
    assert s.one("STARTTLS") == "502 5.5.1 Command not implemented"
    assert s.one("X" * 600) == "500 5.5.2 Line too long"
    assert s.one("VRFY bob") == ("252 2.5.2 Cannot VRFY user, but will "
                                 "accept message and attempt delivery")
    assert s.one("VRFY").startswith("501 5.5.4 ")
    assert s.one("HELP").startswith("214 2.0.0 Commands: EHLO HELO MAIL ")
    assert s.one("RSET now") == "501 5.5.4 Syntax: RSET takes no argument"
    # after HELO, no extensions: their parameters are refused
    assert s.one("MAIL FROM:<alice@example.test> SIZE=10").startswith(
        "555 5.5.4 ")
    assert s.one("MAIL FROM:<a b@example.test>").startswith("501 5.1.7 ")
    assert s.one("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert s.one("MAIL FROM:<alice@example.test>") == \
        "503 5.5.1 Bad sequence of commands"
    assert s.one("RCPT TO:<>").startswith("501 ")
    assert s.one("DATA") == "503 5.5.1 Bad sequence of commands"
    assert s.one("RSET") == "250 2.0.0 Ok"
    assert s.one("RCPT TO:<bob@example.test>") == \
        "503 5.5.1 Bad sequence of commands"  # RSET ended the transaction
    assert s.one("QUIT") == f"221 2.0.0 {HOSTNAME} Bye"
    rc, rest, err = s.finish()
    assert (rc, rest) == (0, b""), err


def test_bs_message_over_size_limit(srv, link):
    from conftest import set_in_group
    conf = srv.conf.with_name("small-bs.conf")  # paths are relative to it
    conf.write_text(set_in_group(srv.conf.read_text(), "smtp",
                                 "max_message_size", "2000"))
    s = BS(link, srv, conf=conf)
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO client.test") == bs_ehlo(2000)
    # RFC 1870 6.2: refused at MAIL when SIZE= says so
    assert s.one("MAIL FROM:<alice@example.test> SIZE=2001") == \
        "552 5.3.4 Message size exceeds fixed limit of 2000 octets"
    assert s.one("MAIL FROM:<alice@example.test> SIZE=100") == \
        "250 2.1.0 Ok"
    assert s.one(f"RCPT TO:<bob@{DOMAIN}>") == "250 2.1.5 Ok"
    assert s.one("DATA").startswith("354 ")
    s.send("Subject: bs big\r\n\r\n" + "y" * 70 + "\r\n")
    s.send(("z" * 70 + "\r\n") * 40)  # 2,880 octets: over the limit
    assert s.one(".") == \
        "552 5.3.4 Message size exceeds fixed limit of 2000 octets"
    # a text line over 1,000 octets (RFC 5321 4.5.3.1.6)
    assert s.one("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert s.one(f"RCPT TO:<bob@{DOMAIN}>") == "250 2.1.5 Ok"
    assert s.one("DATA").startswith("354 ")
    s.send("Subject: bs long\r\n\r\n" + "w" * 1200 + "\r\n")
    assert s.one(".") == \
        "552 5.6.0 Message has a line longer than 1000 octets"
    # the session goes on: the next message is queued
    s.message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"],
              "Subject: bs small\r\n\r\n" + "v" * 900 + "\r\n")
    assert s.one("QUIT").startswith("221 ")
    rc, _, err = s.finish()
    assert rc == 0, err
    delivered(srv, "bob", b"Subject: bs small")
    for marker in (b"Subject: bs big", b"Subject: bs long"):
        assert not [f for f in inbox(srv, "bob") if marker in f.read_bytes()]


def test_bs_lf_only_input_pipelined(srv, link):
    """All at once, LF line ends, as a script piping to sendmail -bs."""
    script = ("EHLO client.test\nMAIL FROM:<alice@example.test>\n"
              f"RCPT TO:<bob@{DOMAIN}>\nDATA\n"
              "Subject: bs lf\n\n..dot\nmid\n.\nQUIT\n")
    r = sendmail(link, srv, "-bs", stdin=script)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in l for l in lines), r.stdout
    lines = [l.decode() for l in lines[:-1]]
    n = 1 + len(bs_ehlo())
    assert lines[:n] == [BS_GREETING, *bs_ehlo()]
    assert lines[n:n + 3] == ["250 2.1.0 Ok", "250 2.1.5 Ok",
                              "354 End data with <CR><LF>.<CR><LF>"]
    assert QUEUED.fullmatch(lines[n + 3]), lines
    assert lines[n + 4:] == [f"221 2.0.0 {HOSTNAME} Bye"]
    raw = delivered(srv, "bob", b"Subject: bs lf")
    assert b"\r\nSubject: bs lf\r\n\r\n" in raw
    assert body_of(raw) == b".dot\r\nmid\r\n"


def test_bs_input_one_byte_at_a_time(srv, link):
    """Lines cut anywhere by the pipe, an over-long one included."""
    script = ("EHLO client.test\r\n" + "N" * 600 + "\r\nNOOP\n"
              "MAIL FROM:<alice@example.test>\r\n"
              f"RCPT TO:<bob@{DOMAIN}>\r\nDATA\r\n"
              "Subject: bs bytes\r\n\r\n" + "b" * 1100 + "\r\n"
              ".\r\nRSET\r\nMAIL FROM:<alice@example.test>\r\n"
              f"RCPT TO:<bob@{DOMAIN}>\r\nDATA\r\n"
              "Subject: bs bytes ok\r\n\r\n..a\r\n.\r\nQUIT\r\n")
    s = BS(link, srv)
    for octet in script.encode():
        s.send(bytes([octet]))
    rc, out, err = s.finish()
    assert rc == 0, err
    lines = out.decode().split("\r\n")
    n = 1 + len(bs_ehlo())
    assert lines[:n] == [BS_GREETING, *bs_ehlo()]
    rest = lines[n:]
    assert rest[:7] == [
        "500 5.5.2 Line too long", "250 2.0.0 Ok", "250 2.1.0 Ok",
        "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
        "552 5.6.0 Message has a line longer than 1000 octets",
        "250 2.0.0 Ok"]
    assert rest[7:10] == ["250 2.1.0 Ok", "250 2.1.5 Ok",
                          "354 End data with <CR><LF>.<CR><LF>"]
    assert QUEUED.fullmatch(rest[10]), lines
    assert rest[11:] == [f"221 2.0.0 {HOSTNAME} Bye", ""]
    assert body_of(delivered(srv, "bob", b"Subject: bs bytes ok")) == \
        b".a\r\n"


class PipeSocket:
    """What smtplib needs of a socket, over the pipes of a process."""

    def __init__(self, proc):
        self.proc = proc

    def sendall(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def makefile(self, mode):
        return self.proc.stdout

    def close(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()


def test_bs_smtplib(srv, link):
    s = BS(link, srv)
    client = smtplib.SMTP(local_hostname="client.test")
    client.sock = PipeSocket(s.p)
    assert client.getreply() == (220, BS_GREETING[4:].encode())
    code, _ = client.ehlo()
    assert code == 250
    for ext in ("pipelining", "8bitmime", "enhancedstatuscodes", "dsn"):
        assert client.has_extn(ext), ext
    assert client.esmtp_features["size"] == "52428800"
    refused = client.sendmail(f"alice@{DOMAIN}",
                              [f"bob@{DOMAIN}", f"carol@{DOMAIN}"],
                              b"Subject: bs smtplib\r\n\r\n.lead\r\n"
                              b"caf\xc3\xa9\r\n",
                              mail_options=["BODY=8BITMIME"])
    assert refused == {}
    # a second message on the same session
    client.sendmail(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"],
                    b"Subject: bs smtplib 2\r\n\r\nagain\r\n")
    assert client.quit()[0] == 221
    rc, _, err = s.finish()
    assert rc == 0, err
    for user in ("bob", "carol"):
        raw = delivered(srv, user, b"Subject: bs smtplib\r\n")
        assert body_of(raw) == b".lead\r\ncaf\xc3\xa9\r\n"
    assert body_of(delivered(srv, "bob", b"Subject: bs smtplib 2")) == \
        b"again\r\n"


def test_bs_laravel_command_line(srv, link):
    """Laravel's config/mail.php default, '/usr/sbin/sendmail -bs -i',
    spoken to as Symfony Mailer's SmtpTransport does: EHLO with an
    address literal, one command at a time, QUIT at the end."""
    s = BS(link, srv, "-i")
    assert s.p.args[1:] == ["-bs", "-i"]
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO [127.0.0.1]") == bs_ehlo()
    s.message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"],
              "From: Laravel <alice@example.test>\r\nTo: bob@example.test"
              "\r\nSubject: bs laravel\r\nMIME-Version: 1.0\r\n\r\n"
              "Hi,\r\n..\r\n...\r\nbye\r\n")  # dot-stuffed
    assert s.one("QUIT") == f"221 2.0.0 {HOSTNAME} Bye"
    rc, _, err = s.finish()
    assert rc == 0, err
    raw = delivered(srv, "bob", b"Subject: bs laravel")
    # -i changes nothing: DATA still ends at the lone dot, unstuffed
    assert body_of(raw) == b"Hi,\r\n.\r\n..\r\nbye\r\n"
    assert from_field(raw) == ["Laravel <alice@example.test>"]


def test_bs_swaks_over_a_pipe(srv, link):
    import shutil
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed (scripts/deps.sh)")
    r = subprocess.run(["swaks", "--pipe", f"{link} -bs",
                        "--from", f"alice@{DOMAIN}", "--to", f"bob@{DOMAIN}",
                        "--header", "Subject: bs swaks", "--body", "via swaks"],
                       capture_output=True, timeout=30,
                       env={**os.environ, "POSTERN_CONFIG": str(srv.conf)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"<-  250 2.0.0 Ok: queued as " in r.stdout, r.stdout
    assert b"via swaks\r\n" in body_of(delivered(srv, "bob",
                                                 b"Subject: bs swaks"))


def test_bs_dsn_parameters_reach_the_envelope(srv, link):
    s = BS(link, srv)
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO client.test") == bs_ehlo()
    assert s.one("MAIL FROM:<alice@example.test> RET=HDRS ENVID=bs+2Bid "
                 "BODY=8BITMIME SIZE=50") == "250 2.1.0 Ok"
    assert s.one("RCPT TO:<far@remote.example> NOTIFY=SUCCESS,DELAY "
                 "ORCPT=rfc822;far@remote.example") == "250 2.1.5 Ok"
    assert s.one("RCPT TO:<Postmaster>") == "250 2.1.5 Ok"
    assert s.one("DATA").startswith("354 ")
    s.send("Subject: bs dsn\r\n\r\nx\r\n")
    qid = QUEUED.fullmatch(s.one(".")).group(1)
    assert s.one("QUIT").startswith("221 ")
    rc, _, err = s.finish()
    assert rc == 0, err
    try:
        rec = spool_record(srv, qid)
        assert "\nsender 18:alice@example.test\n" in rec
        assert "\nret hdrs\n" in rec and "\nbody 8bitmime\n" in rec
        assert "\nenvid 7:bs+2Bid\n" in rec
        assert ("\nrcpt 18:far@remote.example\n"
                "orcpt 25:rfc822;far@remote.example\n"
                "notify success,delay\n") in rec
        # <Postmaster> without a domain is ours (RFC 5321 4.1.1.3)
        assert f"\nrcpt 20:Postmaster@{HOSTNAME}\n" in rec
    finally:
        cli(srv, "queue", "delete", qid)


def test_bs_smtputf8(srv, link):
    """RFC 6531: UTF-8 addresses with the SMTPUTF8 parameter, which the
    envelope keeps so the relay asks its peer for SMTPUTF8 too; refused
    without it."""
    s = BS(link, srv)
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO client.test") == bs_ehlo()
    assert s.one("MAIL FROM:<j\u00fcrgen@example.test>") == \
        "550 5.6.7 Non-ASCII addresses not permitted for that sender"
    assert s.one("MAIL FROM:<j\u00fcrgen@example.test> SMTPUTF8") == \
        "250 2.1.0 Ok"
    assert s.one("RCPT TO:<\u00e5sa@b\u00fccher.example>") == "250 2.1.5 Ok"
    assert s.one("DATA").startswith("354 ")
    s.send("Subject: bs utf8\r\n\r\nx\r\n")
    qid = QUEUED.fullmatch(s.one(".")).group(1)
    # the next transaction starts without it
    assert s.one("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert s.one("RCPT TO:<\u00e5sa@example.test>") == \
        "553 5.6.7 Non-ASCII addresses not permitted for that recipient"
    assert s.one("QUIT").startswith("221 ")
    rc, _, err = s.finish()
    assert rc == 0, err
    try:
        rec = spool_record(srv, qid)
        assert "\nsmtputf8 1\n" in rec, rec
        assert "\nsender 20:j\u00fcrgen@example.test\n" in rec, rec
    finally:
        cli(srv, "queue", "delete", qid)


def test_bs_eof_in_data_discards_the_message(srv, link):
    before = queued_env(srv)
    s = BS(link, srv)
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO client.test") == bs_ehlo()
    assert s.one("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert s.one("RCPT TO:<far@remote.example>") == "250 2.1.5 Ok"
    assert s.one("DATA").startswith("354 ")
    s.send("Subject: bs cut\r\n\r\nnever ends\r\n")
    rc, rest, err = s.finish()
    assert (rc, rest) == (0, b""), err
    assert queued_env(srv) == before  # nothing was queued


def test_bs_queue_write_failure_is_tempfail(srv, link):
    """451 for the message, and the exit code says one was lost."""
    conf = srv.conf.with_name("broken-bs.conf")
    # data_dir is a regular file: the spool cannot be created under it
    conf.write_text(re.sub(r'(?m)^data_dir\s*=.*$',
                           'data_dir = "broken-bs.conf";',
                           srv.conf.read_text()))
    s = BS(link, srv, conf=conf)
    assert s.reply() == [BS_GREETING]
    assert s.cmd("EHLO client.test") == bs_ehlo()
    assert s.one("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert s.one(f"RCPT TO:<bob@{DOMAIN}>") == "250 2.1.5 Ok"
    assert s.one("DATA").startswith("354 ")
    s.send("Subject: bs fail\r\n\r\nx\r\n")
    assert s.one(".").startswith("451 4.3.0 ")
    assert s.one("QUIT").startswith("221 ")
    rc, _, err = s.finish()
    assert rc == 75, err  # EX_TEMPFAIL
    assert b"cannot queue" in err


def test_bs_takes_no_recipients_on_the_command_line(srv, link):
    r = sendmail(link, srv, "-bs", f"bob@{DOMAIN}", stdin="QUIT\r\n")
    assert r.returncode == EX_USAGE, r
    assert b"RCPT TO" in r.stderr and r.stdout == b""
