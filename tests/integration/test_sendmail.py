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

from conftest import finish_server, postern_bin, wait_for
from test_submission import DOMAIN, inbox, make_server

EX_USAGE, EX_DATAERR, EX_CONFIG = 64, 65, 78


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("sendmail"))
    yield s
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


def delivered(srv, user, marker):
    """The one message of user's Maildir holding marker (bytes)."""
    files = wait_for(lambda: [f for f in inbox(srv, user)
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
