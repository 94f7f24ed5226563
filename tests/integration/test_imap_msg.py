"""
The IMAP message commands other than FETCH: SEARCH (every RFC 3501 key,
encoded-word headers and encoded bodies, CHARSET, ESEARCH, MODSEQ),
STORE (+/-FLAGS, .SILENT, UNCHANGEDSINCE), COPY/MOVE with COPYUID and
TRYCREATE, EXPUNGE / UID EXPUNGE (and VANISHED under QRESYNC), and two
sessions seeing each other's STORE and EXPUNGE. Messages arrive by
APPEND (imaplib) and by SMTP to the MX port; exact response lines are
checked with a raw client over implicit TLS where the RFCs fix them.
"""

import base64
import imaplib
import re
import smtplib

import pytest

from conftest import HOST, client_context, finish_server, open_session
from test_imap import DOMAIN, PASSWORD, cli, imap_server
USERS = ("search", "store", "cond", "copy", "move", "expunge", "uidexp",
         "two", "qresync", "ro", "smtp", "many")


def addr(user):
    return f"{user}@{DOMAIN}"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = imap_server(tmp_path_factory.mktemp("imapmsg"), USERS)
    yield s
    finish_server(s)


def ctx_for(srv):
    ctx = client_context(srv)
    ctx.check_hostname = False
    return ctx


def imaps(srv, user):
    m = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=ctx_for(srv),
                          timeout=15)
    m.login(addr(user), PASSWORD)
    return m


class Raw:
    """A raw IMAP client over implicit TLS with automatic tags."""

    def __init__(self, srv, user):
        self.conn, _ = open_session(srv, "imaps", ctx_for(srv))
        self.n = 0
        untagged, tagged = self.run(f'LOGIN {addr(user)} "{PASSWORD}"')
        assert tagged.startswith("OK"), tagged

    def run(self, line, literal=None):
        """Send a command (with one synchronizing literal appended when
        given); returns ([untagged lines], tagged line without the tag)."""
        self.n += 1
        tag = f"t{self.n}"
        if literal is None:
            self.conn.cmd(f"{tag} {line}")
        else:
            self.conn.cmd(f"{tag} {line} {{{len(literal)}}}".encode())
            cont = self.conn.readline()
            assert cont.startswith("+"), cont
            self.conn.cmd(literal)
        untagged, tagged = self.conn.imap_tagged(tag)
        return untagged, tagged[len(tag) + 1:]

    def ok(self, line, literal=None):
        """Like run, the command must succeed; "* n RECENT" updates (the
        count falls when recent messages go) are left out."""
        untagged, tagged = self.run(line, literal)
        assert tagged.startswith("OK"), (line, untagged, tagged)
        return [l for l in untagged if not l.endswith(" RECENT")], tagged

    def search(self, criteria, literal=None, uid=False):
        untagged, _ = self.ok(("UID SEARCH " if uid else "SEARCH ") +
                              criteria, literal)
        found = [l for l in untagged if l.startswith("* SEARCH")]
        assert len(found) == 1, untagged
        return [int(x) for x in found[0].split()[2:]]

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def enc_words(text):
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


M1 = ("From: Bob Example <bob@example.test>\r\n"
      "To: Alice <alice@example.test>\r\n"
      "Cc: carol@example.test\r\n"
      "Subject: Quarterly report\r\n"
      "Date: Mon, 6 Jan 2020 10:00:00 +0000\r\n"
      "Message-ID: <m1@example.test>\r\n"
      "\r\n"
      "The numbers are in.\r\n")

M2 = (f"From: {enc_words('Jürgen Groß')} <j@example.test>\r\n"
      "To: alice@example.test\r\n"
      "Bcc: dave@example.test\r\n"
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\r\n"
      "Date: Mon, 15 Mar 2021 23:30:00 -0800\r\n"
      "X-Custom: hello-world\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "K=C3=A4se und Brot, bitte.\r\n")

ATTACH = base64.b64encode(b"zebra stripes in a binary file").decode()
TEXT3 = base64.b64encode(b"secret banana recipe\r\n").decode()
M3 = ("From: chef@example.test\r\n"
      "To: alice@example.test\r\n"
      "Subject: lunch\r\n"
      "Date: 1 Jan 22 08:00 +0100\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=XX\r\n"
      "\r\n"
      "--XX\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      f"{TEXT3}\r\n"
      "--XX\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      f"{ATTACH}\r\n"
      "--XX--\r\n" + ("padding line\r\n" * 200))


def append(m, mailbox, flags, date, msg):
    typ, data = m.append(mailbox, flags, date, msg.encode())
    assert typ == "OK", data
    return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))


@pytest.fixture(scope="module")
def searchbox(srv):
    """Three messages in search's INBOX; returns their UIDs."""
    m = imaps(srv, "search")
    try:
        uids = [
            append(m, "INBOX", r"(\Seen \Answered)",
                   '"06-Jan-2020 10:00:00 +0000"', M1),
            append(m, "INBOX", r"(\Flagged $Important)",
                   '"15-Mar-2021 12:00:00 +0000"', M2),
            append(m, "INBOX", r"(\Draft \Deleted)",
                   '"01-Jan-2022 12:00:00 +0000"', M3),
        ]
    finally:
        m.logout()
    return uids


SEARCHES = [
    ("ALL", [1, 2, 3]),
    ("SEEN", [1]), ("UNSEEN", [2, 3]),
    ("ANSWERED", [1]), ("UNANSWERED", [2, 3]),
    ("FLAGGED", [2]), ("UNFLAGGED", [1, 3]),
    ("DELETED", [3]), ("UNDELETED", [1, 2]),
    ("DRAFT", [3]), ("UNDRAFT", [1, 2]),
    ("KEYWORD $Important", [2]), ("UNKEYWORD $important", [1, 3]),
    ("KEYWORD $Other", []),
    ("LARGER 2000", [3]), ("SMALLER 2000", [1, 2]),
    ("BEFORE 1-Jan-2021", [1]), ("ON 15-Mar-2021", [2]),
    ("SINCE 15-Mar-2021", [2, 3]), ('SINCE "16-Mar-2021"', [3]),
    ("SENTBEFORE 15-Mar-2021", [1]), ("SENTON 15-Mar-2021", [2]),
    ("SENTSINCE 1-Jan-2022", [3]), ("SENTON 16-Mar-2021", []),
    ("FROM bob", [1]), ("FROM BOB@EXAMPLE.TEST", [1]),
    ("TO alice", [1, 2, 3]), ("CC carol", [1]), ("BCC dave", [2]),
    ("CC dave", []),
    ('SUBJECT "quarterly REPORT"', [1]), ("SUBJECT lunch", [3]),
    ("HEADER X-Custom hello", [2]), ('HEADER x-custom ""', [2]),
    ('HEADER Message-ID ""', [1]), ("HEADER X-Custom nothing", []),
    ("BODY numbers", [1]), ('BODY "banana recipe"', [3]),
    ("BODY quarterly", []), ("BODY zebra", []),
    ("TEXT quarterly", [1]), ("TEXT numbers", [1]), ("TEXT chef", [3]),
    ("NOT SEEN", [2, 3]), ("OR SEEN FLAGGED", [1, 2]),
    ("(SEEN ANSWERED)", [1]), ("NOT (OR SEEN FLAGGED)", [3]),
    ("OR (FROM bob NOT SEEN) DRAFT", [3]),
    ("2:*", [2, 3]), ("1,3", [1, 3]), ("*", [3]), ("3:1 UNSEEN", [2, 3]),
    ("NOT NOT NOT ALL", []),
    ('UNSEEN NOT DRAFT BODY "käse"', [2]),
]


@pytest.mark.parametrize("criteria,expected", SEARCHES)
def test_search_key(srv, searchbox, criteria, expected):
    with Raw(srv, "search") as c:
        c.ok("EXAMINE INBOX")
        if all(ord(ch) < 128 for ch in criteria):
            assert c.search(criteria) == expected
        else:
            assert c.search("CHARSET UTF-8 " + criteria) == expected


@pytest.mark.parametrize("key,text,expected", [
    ("SUBJECT", "grüße", [2]),      # RFC 2047 Q encoding
    ("SUBJECT", "MÜNCHEN", [2]),    # case folding beyond ASCII
    ("FROM", "jürgen groß", [2]),   # B encoding in a display name
    ("BODY", "KÄSE UND BROT", [2]),  # quoted-printable body, UTF-8
    ("TEXT", "grüße", [2]),
    ("BODY", "grüße", []),
])
def test_search_utf8_literal(srv, searchbox, key, text, expected):
    with Raw(srv, "search") as c:
        c.ok("EXAMINE INBOX")
        got = c.search(f"CHARSET UTF-8 {key}", literal=text.encode())
        assert got == expected


def test_search_imaplib_and_uid(srv, searchbox):
    m = imaps(srv, "search")
    try:
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "FLAGGED")
        assert typ == "OK" and data == [b"2"], data
        typ, data = m.uid("SEARCH", "ALL")
        assert [int(x) for x in data[0].split()] == searchbox
        typ, data = m.uid("SEARCH", "UID", f"{searchbox[1]}:*", "UNDRAFT")
        assert [int(x) for x in data[0].split()] == [searchbox[1]]
        # UIDs that do not exist are skipped; "n:*" names the last one.
        typ, data = m.uid("SEARCH", "UID", "4000000000:*")
        assert [int(x) for x in data[0].split()] == [searchbox[2]]
        m.literal = "grüße".encode()
        typ, data = m.search("UTF-8", "SUBJECT")
        assert typ == "OK" and data == [b"2"], data
    finally:
        m.logout()


def test_search_errors(srv, searchbox):
    with Raw(srv, "search") as c:
        c.ok("EXAMINE INBOX")
        _, tagged = c.run("SEARCH CHARSET KOI8-R SUBJECT x")
        assert tagged.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged
        for bad in ("SEARCH", "SEARCH FOO", "SEARCH (SEEN", "SEARCH SEEN)",
                    "SEARCH ()", "SEARCH OR SEEN", "SEARCH LARGER x",
                    "SEARCH BEFORE 32-Jan-2020", "SEARCH UID x",
                    "SEARCH " + "NOT " * 100 + "ALL",
                    "SEARCH " + "(" * 40 + "ALL" + ")" * 40,
                    "SEARCH RETURN (SAVE) $x", "SEARCH 1,$",
                    "SEARCH CHARSET UTF-8"):
            _, tagged = c.run(bad)
            assert tagged.startswith("BAD"), (bad, tagged)
        # The session survives all of that.
        assert c.search("SEEN") == [1]


def test_esearch_and_modseq(srv, searchbox):
    with Raw(srv, "search") as c:
        c.ok("EXAMINE INBOX")
        untagged, _ = c.ok("SEARCH RETURN (MIN MAX COUNT) UNSEEN")
        tag = f"t{c.n}"
        assert f'* ESEARCH (TAG "{tag}") MIN 2 MAX 3 COUNT 2' in untagged
        untagged, _ = c.ok("UID SEARCH RETURN () ALL")
        tag = f"t{c.n}"
        first, last = searchbox[0], searchbox[2]
        want = f"{first}:{last}" if last - first == 2 else \
            ",".join(map(str, searchbox))
        assert f'* ESEARCH (TAG "{tag}") UID ALL {want}' in untagged
        untagged, _ = c.ok("SEARCH RETURN (COUNT) KEYWORD nothing")
        assert f'* ESEARCH (TAG "t{c.n}") COUNT 0' in untagged
        # RFC 7162 3.1.5: MODSEQ key, highest MODSEQ in the answer.
        untagged, _ = c.ok("SEARCH MODSEQ 1")
        line = [l for l in untagged if l.startswith("* SEARCH")][0]
        mm = re.fullmatch(r"\* SEARCH 1 2 3 \(MODSEQ (\d+)\)", line)
        assert mm, line
        assert int(mm.group(1)) > 0
        untagged, _ = c.ok(f"SEARCH MODSEQ {int(mm.group(1)) + 1}")
        assert "* SEARCH" in untagged


def fetch_lines(untagged):
    return [l for l in untagged if " FETCH " in l]


def test_searchres_saved_result(srv, searchbox):
    """RFC 9051 6.4.4.1: RETURN (SAVE) sets "$" (SAVE alone answers no
    ESEARCH); "$" is the same messages to FETCH, UID FETCH, SEARCH, COPY,
    STORE and UID EXPUNGE; with MIN only the first is saved; an expunged
    message drops out; SELECT empties it."""
    u1, u2, u3 = searchbox
    with Raw(srv, "search") as c:
        c.ok("EXAMINE INBOX")
        untagged, _ = c.ok("SEARCH RETURN (SAVE) UNSEEN")
        assert untagged == [], untagged
        untagged, _ = c.ok("FETCH $ (UID)")
        assert fetch_lines(untagged) == [f"* 2 FETCH (UID {u2})",
                                         f"* 3 FETCH (UID {u3})"], untagged
        untagged, _ = c.ok("UID FETCH $ (UID)")
        assert fetch_lines(untagged) == [f"* 2 FETCH (UID {u2})",
                                         f"* 3 FETCH (UID {u3})"], untagged
        assert c.search("$") == [2, 3]
        assert c.search("$ FLAGGED") == [2]
        assert c.search("NOT $") == [1]
        assert c.search("UID $", uid=True) == [u2, u3]
        # Table 4: MIN without ALL or COUNT saves the minimum only
        untagged, _ = c.ok("UID SEARCH RETURN (SAVE MIN) UNSEEN")
        assert untagged == [f'* ESEARCH (TAG "t{c.n}") UID MIN {u2}'], \
            untagged
        assert c.search("$") == [2]
        untagged, _ = c.ok("SEARCH RETURN (SAVE COUNT MAX) ALL")
        assert untagged == [f'* ESEARCH (TAG "t{c.n}") MAX 3 COUNT 3']
        assert c.search("$") == [1, 2, 3]
        c.ok("CREATE SaveRes")
        _, tagged = c.ok("COPY $ SaveRes")
        assert "[COPYUID " in tagged, tagged
        try:
            c.ok("SELECT SaveRes")
            untagged, _ = c.ok("FETCH $ (UID)")
            assert fetch_lines(untagged) == [], untagged
            c.ok("SEARCH RETURN (SAVE) DELETED")
            untagged, _ = c.ok("EXPUNGE")
            assert "* 3 EXPUNGE" in untagged, untagged
            untagged, _ = c.ok("FETCH $ (UID)")
            assert fetch_lines(untagged) == [], untagged
            c.ok("SEARCH RETURN (SAVE) ALL")
            c.ok("STORE $ +FLAGS.SILENT (\\Deleted)")
            untagged, _ = c.ok("UID EXPUNGE $")
            assert untagged == ["* 1 EXPUNGE", "* 1 EXPUNGE"], untagged
        finally:
            c.run("UNSELECT")
            c.ok("DELETE SaveRes")


def test_search_smtp_delivered(srv):
    body = "Line one\r\nThe magic word is xylophone.\r\n"
    msg = (f"From: <bob@{DOMAIN}>\r\nTo: <{addr('smtp')}>\r\n"
           f"Subject: {enc_words('Ünïcode über alles')}\r\n\r\n{body}")
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=15) as s:
        s.ehlo("client.test")
        s.sendmail(f"bob@{DOMAIN}", [addr("smtp")], msg.encode())
    with Raw(srv, "smtp") as c:
        c.ok("SELECT INBOX")
        assert c.search("BODY XYLOPHONE") == [1]
        assert c.search("CHARSET UTF-8 SUBJECT", literal="ÜBER".encode()) \
            == [1]
        assert c.search("TEXT received") == [1]  # our Received: header


# --------------------------------------------------------------------------
# STORE


def plain(n):
    return (f"From: a@example.test\r\nSubject: m{n}\r\n\r\nbody {n}\r\n")


def fill(srv, user, n, mailbox="INBOX"):
    m = imaps(srv, user)
    try:
        return [append(m, mailbox, None, None, plain(i))
                for i in range(1, n + 1)]
    finally:
        m.logout()


def test_store_variants(srv):
    uids = fill(srv, "store", 3)
    with Raw(srv, "store") as c:
        c.ok("SELECT INBOX")
        untagged, tagged = c.ok(r"STORE 1 FLAGS (\Seen $Label1)")
        assert untagged == [r"* 1 FETCH (FLAGS (\Seen \Recent $Label1))"], \
            untagged
        untagged, _ = c.ok(r"STORE 1:2 +FLAGS (\Flagged)")
        assert untagged == [
            r"* 1 FETCH (FLAGS (\Seen \Flagged \Recent $Label1))",
            r"* 2 FETCH (FLAGS (\Flagged \Recent))"], untagged
        untagged, _ = c.ok(r"STORE 1 -FLAGS ($Label1 \Seen)")
        assert untagged == [r"* 1 FETCH (FLAGS (\Flagged \Recent))"]
        # Bare flags without parentheses (RFC 3501 store-att-flags).
        untagged, _ = c.ok(r"STORE 3 +FLAGS \Answered")
        assert untagged == [r"* 3 FETCH (FLAGS (\Answered \Recent))"]
        untagged, _ = c.ok(r"STORE 1:3 +FLAGS.SILENT (\Deleted)")
        assert untagged == [], untagged
        untagged, _ = c.ok(f"UID STORE {uids[1]} -FLAGS (\\Deleted)")
        assert untagged == [
            f"* 2 FETCH (UID {uids[1]} FLAGS (\\Flagged \\Recent))"]
        # A no-op store still reports the flags (RFC 3501 6.4.6).
        untagged, _ = c.ok(f"UID STORE {uids[1]} +FLAGS (\\Flagged)")
        assert untagged == [
            f"* 2 FETCH (UID {uids[1]} FLAGS (\\Flagged \\Recent))"]
        # Absent UIDs are ignored (6.4.8); sequence numbers must exist.
        untagged, _ = c.ok("UID STORE 4000000000 +FLAGS (\\Seen)")
        assert untagged == []
        _, tagged = c.run(r"STORE 4 +FLAGS (\Seen)")
        assert tagged.startswith("BAD"), tagged
        for bad in (r"STORE 1 FLAGS (\Recent)", r"STORE 1 BOGUS (\Seen)",
                    r"STORE 1 +FLAGS (\Bogus)", "STORE 1 +FLAGS",
                    r"STORE x +FLAGS (\Seen)",
                    r"STORE 1 (FOO 1) +FLAGS (\Seen)"):
            _, tagged = c.run(bad)
            assert tagged.startswith("BAD"), (bad, tagged)
        assert c.search("DELETED") == [1, 3]
        assert c.search(r"KEYWORD $Label1") == []
    m = imaps(srv, "store")
    try:
        m.select("INBOX")
        typ, data = m.store("2", "+FLAGS", r"(\Answered)")
        assert typ == "OK" and b"\\Answered" in data[0], data
    finally:
        m.logout()


def test_store_readonly(srv):
    fill(srv, "ro", 1)
    with Raw(srv, "ro") as c:
        c.ok("EXAMINE INBOX")
        _, tagged = c.run(r"STORE 1 +FLAGS (\Seen)")
        assert tagged.startswith("NO"), tagged
        _, tagged = c.run("EXPUNGE")
        assert tagged.startswith("NO"), tagged
        _, tagged = c.run("MOVE 1 Trash")
        assert tagged.startswith("NO"), tagged
        # COPY from a read-only mailbox is fine.
        _, tagged = c.ok("COPY 1 Trash")
        assert "[COPYUID " in tagged


def test_store_unchangedsince(srv):
    uids = fill(srv, "cond", 3)
    with Raw(srv, "cond") as a, Raw(srv, "cond") as b:
        untagged, _ = a.ok("SELECT INBOX (CONDSTORE)")
        hms = [l for l in untagged if "HIGHESTMODSEQ" in l][0]
        modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", hms).group(1))
        b.ok("SELECT INBOX")
        # Another session changes message 2 after "modseq".
        b.ok(r"STORE 2 +FLAGS.SILENT (\Answered)")
        untagged, tagged = a.ok(
            f"STORE 1:3 (UNCHANGEDSINCE {modseq}) +FLAGS.SILENT (\\Seen)")
        assert tagged.startswith("OK [MODIFIED 2]"), tagged
        # Passed ones: FETCH with MODSEQ even with .SILENT (RFC 7162
        # 3.1.3); the failed one with its flags as they are.
        fetch = {int(l.split()[1]): l for l in untagged if " FETCH " in l}
        assert set(fetch) == {1, 2, 3}, untagged
        assert re.fullmatch(r"\* 1 FETCH \(MODSEQ \(\d+\)\)", fetch[1])
        assert "\\Answered" in fetch[2] and "\\Seen" not in fetch[2]
        assert a.search("SEEN") == [1, 3]
        # UID STORE lists UIDs; 0 always fails.
        _, tagged = a.ok(
            f"UID STORE {uids[0]} (UNCHANGEDSINCE 0) +FLAGS (\\Draft)")
        assert tagged.startswith(f"OK [MODIFIED {uids[0]}]"), tagged
        # A current modseq passes.
        untagged, _ = a.ok("SEARCH MODSEQ 1")
        top = int(re.search(r"MODSEQ (\d+)", untagged[-1]).group(1))
        untagged, tagged = a.ok(
            f"UID STORE {uids[1]} (UNCHANGEDSINCE {top}) FLAGS (\\Draft)")
        assert not tagged.startswith("OK [MODIFIED"), tagged
        assert re.fullmatch(
            rf"\* 2 FETCH \(UID {uids[1]} FLAGS \(\\Draft( \\Recent)?\) "
            r"MODSEQ \(\d+\)\)", untagged[-1]), untagged


# --------------------------------------------------------------------------
# COPY, MOVE


def test_copy(srv):
    uids = fill(srv, "copy", 4)
    with Raw(srv, "copy") as c:
        c.ok("SELECT INBOX")
        c.ok(r"STORE 2 +FLAGS.SILENT (\Flagged $Kw)")
        _, tagged = c.ok("COPY 2:4 Archive")
        mm = re.match(r"OK \[COPYUID (\d+) (\S+) (\S+)\] ", tagged)
        assert mm, tagged
        assert mm.group(2) == f"{uids[1]}:{uids[3]}"
        dst = mm.group(3)
        _, tagged = c.ok(f"UID COPY {uids[0]},{uids[2]} Archive")
        mm2 = re.match(r"OK \[COPYUID \d+ (\S+) (\S+)\] ", tagged)
        assert mm2.group(1) == f"{uids[0]},{uids[2]}", tagged
        _, tagged = c.ok("UID COPY 4000000000 Archive")
        assert "COPYUID" not in tagged
        _, tagged = c.run("COPY 1 NoSuchBox")
        assert tagged.startswith("NO [TRYCREATE]"), tagged
        _, tagged = c.run("COPY 9 Archive")
        assert tagged.startswith("BAD"), tagged
        # The source is untouched.
        assert c.search("ALL") == [1, 2, 3, 4]
        c.ok("SELECT Archive")
        assert c.search("ALL") == [1, 2, 3, 4, 5]
        # Flags and keywords came along.
        lo = int(dst.split(":")[0])
        assert c.search(f"UID {lo} FLAGGED KEYWORD $Kw") == [1]


def test_move(srv):
    uids = fill(srv, "move", 5)
    with Raw(srv, "move") as c:
        c.ok("SELECT INBOX")
        untagged, tagged = c.ok("MOVE 2:3 Trash")
        assert tagged == "OK MOVE completed", tagged
        mm = re.fullmatch(r"\* OK \[COPYUID \d+ (\S+) (\S+)\] .*",
                          untagged[0])
        assert mm, untagged
        assert mm.group(1) == f"{uids[1]}:{uids[2]}"
        # RFC 6851 3.3: untagged OK first, then the EXPUNGEs.
        assert untagged[1:] == ["* 2 EXPUNGE", "* 2 EXPUNGE"], untagged
        untagged, _ = c.ok(f"UID MOVE {uids[4]} Trash")
        assert untagged[1:] == ["* 3 EXPUNGE"], untagged
        assert c.search("ALL", uid=True) == [uids[0], uids[3]]
        _, tagged = c.run("MOVE 1 Nowhere")
        assert tagged.startswith("NO [TRYCREATE]"), tagged
        assert c.search("ALL") == [1, 2]
        c.ok("SELECT Trash")
        assert c.search("ALL") == [1, 2, 3]
        assert c.search("DELETED") == []  # MOVE sets no \Deleted
    m = imaps(srv, "move")
    try:
        m.select("INBOX")
        typ, data = m._simple_command("MOVE", "1", "Archive")
        assert typ == "OK", data
        assert m.untagged_responses.get("EXPUNGE") == [b"1"], \
            m.untagged_responses
    finally:
        m.logout()


# --------------------------------------------------------------------------
# EXPUNGE


def test_expunge(srv):
    fill(srv, "expunge", 11)
    with Raw(srv, "expunge") as c:
        c.ok("SELECT INBOX")
        c.ok(r"STORE 3,4,7,11 +FLAGS.SILENT (\Deleted)")
        # RFC 3501 6.4.3's own example.
        untagged, tagged = c.ok("EXPUNGE")
        assert untagged == ["* 3 EXPUNGE", "* 3 EXPUNGE", "* 5 EXPUNGE",
                            "* 8 EXPUNGE"], untagged
        assert tagged == "OK EXPUNGE completed"
        untagged, _ = c.ok("EXPUNGE")
        assert untagged == []
        assert c.search("ALL") == list(range(1, 8))
        assert c.search("SUBJECT m5") == [3]
    m = imaps(srv, "expunge")
    try:
        m.select("INBOX")
        m.store("1", "+FLAGS", r"(\Deleted)")
        typ, data = m.expunge()
        assert typ == "OK" and data == [b"1"], data
    finally:
        m.logout()


def test_uid_expunge(srv):
    uids = fill(srv, "uidexp", 5)
    with Raw(srv, "uidexp") as c:
        c.ok("SELECT INBOX")
        c.ok(r"STORE 1:5 +FLAGS.SILENT (\Deleted)")
        # Only \Deleted messages inside the set go (RFC 4315 2.1).
        untagged, _ = c.ok(f"UID EXPUNGE {uids[1]}:{uids[2]}")
        assert untagged == ["* 2 EXPUNGE", "* 2 EXPUNGE"], untagged
        c.ok(r"STORE 1 -FLAGS.SILENT (\Deleted)")
        untagged, _ = c.ok(f"UID EXPUNGE {uids[0]},{uids[4]}")
        assert untagged == ["* 3 EXPUNGE"], untagged
        untagged, _ = c.ok("UID EXPUNGE 4000000000")
        assert untagged == []
        _, tagged = c.run("UID EXPUNGE")
        assert tagged.startswith("BAD"), tagged
        assert c.search("ALL", uid=True) == [uids[0], uids[3]]


def test_qresync_vanished(srv):
    uids = fill(srv, "qresync", 6)
    with Raw(srv, "qresync") as c, Raw(srv, "qresync") as other:
        untagged, _ = c.ok("ENABLE QRESYNC")
        assert any("QRESYNC" in l for l in untagged), untagged
        c.ok("SELECT INBOX")
        c.ok(r"STORE 2:3 +FLAGS.SILENT (\Deleted)")
        untagged, tagged = c.ok("EXPUNGE")
        assert untagged == [f"* VANISHED {uids[1]}:{uids[2]}"], untagged
        assert re.match(r"OK \[HIGHESTMODSEQ \d+\] ", tagged), tagged
        untagged, _ = c.ok(f"UID MOVE {uids[3]} Trash")
        assert untagged[0].startswith("* OK [COPYUID ")
        assert untagged[1:] == [f"* VANISHED {uids[3]}"], untagged
        # Another session's expunge reaches us as VANISHED too.
        other.ok("SELECT INBOX")
        other.ok(f"UID STORE {uids[5]} +FLAGS.SILENT (\\Deleted)")
        other.ok("EXPUNGE")
        untagged, _ = c.ok("NOOP")
        assert f"* VANISHED {uids[5]}" in untagged, untagged


# --------------------------------------------------------------------------
# Two sessions


def test_two_sessions_see_store_and_expunge(srv):
    uids = fill(srv, "two", 4)
    with Raw(srv, "two") as a, Raw(srv, "two") as b:
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        a.ok(r"STORE 2 +FLAGS.SILENT (\Seen $Done)")
        untagged, _ = b.ok("NOOP")
        assert any(re.fullmatch(r"\* 2 FETCH \(FLAGS \(\\Seen( \\Recent)? "
                                r"\$Done\)\)", l) for l in untagged), untagged
        # An EXPUNGE response never comes during SEARCH or STORE (RFC
        # 3501 7.4.1), but at the next NOOP.
        a.ok(r"STORE 1,3 +FLAGS.SILENT (\Deleted)")
        a.ok("EXPUNGE")
        untagged, _ = b.ok("SEARCH ALL")
        assert not any("EXPUNGE" in l for l in untagged), untagged
        untagged, _ = b.ok(r"STORE 4 +FLAGS (\Flagged)")
        assert not any("EXPUNGE" in l for l in untagged), untagged
        assert any(l.startswith("* 4 FETCH (FLAGS (\\Flagged")
                   for l in untagged), untagged
        # Nor during a UID SEARCH whose criteria hold message numbers
        # (RFC 7162 3.2.10.2): numbers are as the client knows them.
        untagged, _ = b.ok("UID SEARCH 2,4")
        assert untagged == [f"* SEARCH {uids[1]} {uids[3]}"], untagged
        untagged, _ = b.ok("NOOP")
        assert [l for l in untagged if "EXPUNGE" in l] == \
            ["* 1 EXPUNGE", "* 2 EXPUNGE"], untagged
        assert b.search("ALL", uid=True) == [uids[1], uids[3]]
        # And back: b's flag change reaches a.
        untagged, _ = a.ok("NOOP")
        assert any("FETCH (FLAGS (\\Flagged" in l for l in untagged), \
            untagged


# --------------------------------------------------------------------------
# Long answers


def test_store_and_search_many(srv):
    """A STORE answer larger than the output high mark is written in parts
    (the handler resumes as the queue drains) and stays complete and in
    order; SEARCH lists every match."""
    import os
    n = 7000
    with Raw(srv, "many") as c:
        c.ok("SELECT INBOX")  # the Maildir exists from here on
    maildir = srv.root / "data" / "mail" / DOMAIN / "many"
    st = os.stat(maildir / "cur")
    for i in range(n):
        path = maildir / "new" / f"1700000000.M{i}P1.test"
        path.write_bytes(f"Subject: bulk {i}\r\n\r\nbody {i}\r\n".encode())
        os.chown(path, st.st_uid, st.st_gid)
    with Raw(srv, "many") as c:
        untagged, _ = c.ok("SELECT INBOX")
        assert f"* {n} EXISTS" in untagged, untagged[:5]
        untagged, tagged = c.ok(r"STORE 1:* +FLAGS (\Flagged $Bulk)")
        assert tagged == "OK STORE completed", tagged
        seqs = [int(l.split()[1]) for l in untagged]
        assert seqs == list(range(1, n + 1)), (len(seqs), untagged[:3])
        assert all("\\Flagged" in l and "$Bulk" in l for l in untagged)
        assert c.search("FLAGGED KEYWORD $Bulk") == list(range(1, n + 1))
        assert c.search("SUBJECT \"bulk 6999\"") == [n]
