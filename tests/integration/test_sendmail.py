"""
The sendmail(8) injector, run as cron, PHP mail(), git send-email and
mutt run /usr/sbin/sendmail: through a symlink named `sendmail`, with
their options, and the message must reach the local recipient's Maildir
through the running server's queue worker exactly as it was given (lines
of any length, LF turned into CRLF). Exit codes follow sysexits.h.
"""

import os
import subprocess

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
    ["-bs"], ["-bd"], ["-q1h"], ["-N", "never,success"], ["-N", "sometimes"],
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
