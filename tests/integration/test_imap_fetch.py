"""
IMAP FETCH and UID FETCH (RFC 3501 6.4.5 / 7.4.2, RFC 9051 BINARY, RFC 7162
MODSEQ / CHANGEDSINCE / VANISHED) against the real server over TLS, with
Python's imaplib and a raw line client where exact bytes matter: every
data item, sections and partials, \\Seen rules, changes seen across
sessions, and a 20 MB message fetched whole.
"""

import imaplib
import re
import time

import pytest

from conftest import HOST, client_context, finish_server, open_session
from test_imap import DOMAIN, PASSWORD, imap_server
ALICE = f"alice@{DOMAIN}"
BOB = f"bob@{DOMAIN}"

# A message with every kind of section: nested multipart, a quoted-
# printable HTML part, a base64 binary part and an attached message.
MIME_MSG = (
    "From: Bob <bob@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Subject: fetch test\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
    "Message-ID: <f1@example.test>\r\n"
    "X-Folded: one\r\n"
    " two\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="outer"\r\n'
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    'Content-Type: multipart/alternative; boundary="inner"\r\n'
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Plain body.\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>Html=20body</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    'Content-Type: application/octet-stream; name="a.bin"\r\n'
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQ=\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: Carol <carol@example.test>\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "Inner text.\r\n"
    "--outer\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n"
    "\r\n"
    "odd\r\n"
    "--outer--\r\n").encode()

PLAIN_MSG = (f"From: Bob <{BOB}>\r\nTo: {ALICE}\r\nSubject: plain\r\n"
             "\r\nJust text.\r\n").encode()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = imap_server(tmp_path_factory.mktemp("imapfetch"), ("alice", "bob", "carol", "dave", "erin", "frank"))
    yield s
    finish_server(s)


def ctx_for(srv):
    ctx = client_context(srv)
    ctx.check_hostname = False
    return ctx


def imaps(srv, user=ALICE, timeout=15):
    m = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=ctx_for(srv),
                          timeout=timeout)
    m.login(user, PASSWORD)
    return m


def raw(srv, user):
    conn, _ = open_session(srv, "imaps", ctx_for(srv))
    conn.cmd(f'l1 LOGIN {user} "{PASSWORD}"')
    _, tagged = conn.imap_tagged("l1")
    assert tagged.startswith("l1 OK"), tagged
    return conn


def append(m, mailbox, msg, flags=None, date=None):
    typ, data = m.append(mailbox, flags, date, msg)
    assert typ == "OK", data
    mm = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0])
    assert mm, data
    return int(mm.group(1))


def fetch1(m, uid, items):
    """UID FETCH one message; the list of (item-bytes, value) pairs as
    imaplib returns them flattened, plus the closing text."""
    typ, data = m.uid("FETCH", str(uid), items)
    assert typ == "OK", data
    return data


def section(data, name):
    """The literal that follows the response item called name."""
    for part in data:
        if isinstance(part, tuple) and part[0].rstrip().endswith(
                name.encode()):
            return part[1]
        if isinstance(part, tuple) and re.search(
                re.escape(name.encode()) + rb" ~?\{\d+\}$", part[0]):
            return part[1]
    raise AssertionError(f"{name} not in {data!r}")


def flat(data):
    out = b""
    for part in data:
        if isinstance(part, tuple):
            out += part[0] + b"<lit>"
        elif part is not None:
            out += part
    return out


@pytest.fixture(scope="module")
def mime_uid(srv):
    m = imaps(srv, ALICE)
    try:
        uid = append(m, "INBOX", MIME_MSG,
                     date='"17-Jul-1996 02:44:25 -0700"')
        append(m, "INBOX", PLAIN_MSG)
    finally:
        m.logout()
    return uid


# --------------------------------------------------------------------------
# Simple items and macros


def test_simple_items(srv, mime_uid):
    m = imaps(srv)
    try:
        m.select("INBOX")
        typ, data = m.fetch("1", "(UID FLAGS INTERNALDATE RFC822.SIZE)")
        assert typ == "OK", data
        line = data[0]
        assert re.match(rb"1 \(UID %d FLAGS \(\\Recent\) INTERNALDATE "
                        rb'"17-Jul-1996 09:44:25 \+0000" RFC822.SIZE %d\)$'
                        % (mime_uid, len(MIME_MSG)), line), line
        # imaplib's own parser agrees on the date.
        t = imaplib.Internaldate2tuple(line)
        assert time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(
            time.mktime(t) - time.timezone)) == "1996-07-17 09:44:25"
    finally:
        m.logout()


def test_envelope_body_bodystructure(srv, mime_uid):
    m = imaps(srv)
    try:
        m.select("INBOX")
        data = flat(fetch1(m, mime_uid, "(ENVELOPE BODY BODYSTRUCTURE)"))
        assert b'ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "fetch test" ' \
            b'(("Bob" NIL "bob" "example.test"))' in data, data
        assert b'"<f1@example.test>")' in data, data
        body = re.search(rb"BODY (\(.*?) BODYSTRUCTURE", data).group(1)
        bs = data[data.index(b"BODYSTRUCTURE ") + 14:]
        assert b'"alternative"' in body and b'"alternative"' in bs
        # BODY has no extension data; BODYSTRUCTURE does (boundary).
        assert b'"boundary"' not in body and b'"boundary" "outer"' in bs
    finally:
        m.logout()


def test_macros(srv, mime_uid):
    m = imaps(srv)
    try:
        m.select("INBOX")
        for macro, want, unwanted in (
                ("FAST", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"],
                 [b"ENVELOPE", b"BODY"]),
                ("ALL", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE",
                         b"ENVELOPE"], [b"BODY"]),
                ("FULL", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE",
                          b"ENVELOPE", b"BODY ("], [b"BODYSTRUCTURE"])):
            typ, data = m.uid("FETCH", str(mime_uid), macro)
            assert typ == "OK", data
            text = flat(data)
            assert text.startswith(b"1 (UID %d " % mime_uid), text
            for w in want:
                assert w in text, (macro, text)
            for u in unwanted:
                assert u not in text, (macro, text)
        # A macro is not allowed inside a list, nor unknown items.
        for bad in ("(ALL)", "(FLAGS FAST)", "NOSUCH", "()", "BODY[",
                    "BODY[1.]", "BODY[MIME]", "BODY.PEEK", "BODY[]<1>",
                    "BINARY[1.MIME]", "(FLAGS) (NOSUCH 1)"):
            with pytest.raises(imaplib.IMAP4.error):
                m.fetch("1", bad)
        # RFC 3501 9: a sequence number above the count is an error.
        with pytest.raises(imaplib.IMAP4.error):
            m.fetch("99", "FLAGS")
    finally:
        m.logout()


# --------------------------------------------------------------------------
# Sections and partials


def test_sections(srv, mime_uid):
    m = imaps(srv)
    try:
        m.select("INBOX")
        hdr_end = MIME_MSG.index(b"\r\n\r\n") + 4
        cases = {
            "BODY[]": MIME_MSG,
            "BODY[HEADER]": MIME_MSG[:hdr_end],
            "BODY[TEXT]": MIME_MSG[hdr_end:],
            "BODY[1.1]": b"Plain body.",
            "BODY[1.2]": b"<p>Html=20body</p>",
            "BODY[1.2.MIME]": b"Content-Type: text/html; charset=us-ascii"
                              b"\r\nContent-Transfer-Encoding: "
                              b"quoted-printable\r\n\r\n",
            "BODY[2]": b"AAECAwQ=",
            "BODY[3.HEADER]": b"From: Carol <carol@example.test>\r\n"
                              b"Subject: inner\r\n\r\n",
            "BODY[3.TEXT]": b"Inner text.",
            "BODY[3.1]": b"Inner text.",
        }
        for name, want in cases.items():
            data = fetch1(m, mime_uid, name.replace("BODY", "BODY.PEEK"))
            assert section(data, name) == want, (name, data)
        # HEADER.FIELDS: in header order, with continuation lines,
        # names matched without regard to case; the blank line stays.
        data = fetch1(m, mime_uid,
                      "BODY.PEEK[HEADER.FIELDS (subject X-FOLDED From)]")
        assert section(data, "BODY[HEADER.FIELDS (subject X-FOLDED From)]"
                       ) == (b"From: Bob <bob@example.test>\r\n"
                             b"Subject: fetch test\r\n"
                             b"X-Folded: one\r\n two\r\n\r\n"), data
        data = fetch1(m, mime_uid, "BODY.PEEK[HEADER.FIELDS.NOT (From To "
                      "Subject Date Message-ID X-Folded MIME-Version)]")
        got = section(data, "BODY[HEADER.FIELDS.NOT (From To Subject Date "
                      "Message-ID X-Folded MIME-Version)]")
        assert got == (b'Content-Type: multipart/mixed; boundary="outer"'
                       b"\r\n\r\n"), data
        data = fetch1(m, mime_uid, "BODY.PEEK[3.HEADER.FIELDS (SUBJECT)]")
        assert section(data, "BODY[3.HEADER.FIELDS (SUBJECT)]") == \
            b"Subject: inner\r\n\r\n", data
        # A part that does not exist is an empty string (as in Dovecot).
        for name in ("BODY[9]", "BODY[1.1.1]", "BODY[2.TEXT]"):
            data = fetch1(m, mime_uid, name.replace("BODY", "BODY.PEEK"))
            assert section(data, name) == b"", data
        # RFC822.HEADER and RFC822.SIZE
        data = fetch1(m, mime_uid, "(RFC822.HEADER RFC822.SIZE)")
        assert section(data, "RFC822.HEADER") == MIME_MSG[:hdr_end]
        # RFC822 and RFC822.TEXT (read-only here, so \Seen stays off).
        m.select("INBOX", readonly=True)
        data = fetch1(m, mime_uid, "(RFC822 RFC822.TEXT)")
        assert section(data, "RFC822") == MIME_MSG, data
        assert section(data, "RFC822.TEXT") == MIME_MSG[hdr_end:], data
    finally:
        m.logout()


def test_header_without_body(srv):
    """A message that is only a header, with no blank line: header fetches
    give it as it is (RFC 3501 6.4.5), TEXT is empty."""
    msg = b"Subject: only a header\r\nFrom: <bob@example.test>\r\n"
    m = imaps(srv)
    try:
        uid = append(m, "Archive", msg)
        m.select("Archive")
        data = fetch1(m, uid, "(BODY.PEEK[HEADER] RFC822.HEADER "
                      "BODY.PEEK[HEADER.FIELDS (From)])")
        assert section(data, "BODY[HEADER]") == msg, data
        assert section(data, "RFC822.HEADER") == msg, data
        assert section(data, "BODY[HEADER.FIELDS (From)]") == \
            b"From: <bob@example.test>\r\n", data
        data = fetch1(m, uid, "(BODY.PEEK[TEXT] RFC822.SIZE)")
        assert section(data, "BODY[TEXT]") == b"", data
        assert b"RFC822.SIZE %d" % len(msg) in flat(data), data
    finally:
        m.logout()


def test_partials(srv, mime_uid):
    m = imaps(srv)
    try:
        m.select("INBOX")
        data = fetch1(m, mime_uid, "BODY.PEEK[]<0.10>")
        assert section(data, "BODY[]<0>") == MIME_MSG[:10], data
        data = fetch1(m, mime_uid, "BODY.PEEK[TEXT]<5.7>")
        hdr_end = MIME_MSG.index(b"\r\n\r\n") + 4
        assert section(data, "BODY[TEXT]<5>") == \
            MIME_MSG[hdr_end + 5:hdr_end + 12], data
        # RFC 3501 6.4.5: a window past the end is cut, or empty.
        data = fetch1(m, mime_uid, "BODY.PEEK[1.1]<6.1000>")
        assert section(data, "BODY[1.1]<6>") == b"body.", data
        data = fetch1(m, mime_uid, "BODY.PEEK[1.1]<100000.5>")
        assert section(data, "BODY[1.1]<100000>") == b"", data
        # After subsetting the header.
        data = fetch1(m, mime_uid, "BODY.PEEK[HEADER.FIELDS (Subject)]<9.4>")
        assert section(data, "BODY[HEADER.FIELDS (Subject)]<9>") == \
            b"fetc", data
    finally:
        m.logout()


def test_binary(srv, mime_uid):
    m = imaps(srv)
    try:
        m.select("INBOX")
        conn = None
        data = fetch1(m, mime_uid, "(BINARY.PEEK[2] BINARY.SIZE[2])")
        assert section(data, "BINARY[2]") == b"\x00\x01\x02\x03\x04", data
        assert b"BINARY.SIZE[2] 5" in flat(data), data
        data = fetch1(m, mime_uid, "BINARY.PEEK[1.2]")
        assert section(data, "BINARY[1.2]") == b"<p>Html body</p>", data
        data = fetch1(m, mime_uid, "BINARY.PEEK[2]<1.2>")
        assert section(data, "BINARY[2]<1>") == b"\x01\x02", data
        # The NUL octets go as literal8 (RFC 9051 7.5.2).
        conn = raw(srv, ALICE)
        conn.cmd("s SELECT INBOX")
        conn.imap_tagged("s")
        conn.cmd(f"f UID FETCH {mime_uid} BINARY.PEEK[2]")
        line = conn.readline()
        assert line.endswith("BINARY[2] ~{5}"), line
        # RFC 9051 6.4.5: an encoding we cannot undo fails the command.
        for item in ("BINARY.PEEK[4]", "BINARY.SIZE[4]"):
            typ, data = m.uid("FETCH", str(mime_uid), item)
            assert typ == "NO" and b"[UNKNOWN-CTE]" in data[0], data
        # A part that is no leaf is given as it is.
        data = fetch1(m, mime_uid, "BINARY.PEEK[3]")
        assert section(data, "BINARY[3]") == (
            b"From: Carol <carol@example.test>\r\nSubject: inner\r\n\r\n"
            b"Inner text."), data
    finally:
        if conn is not None:
            conn.close()
        m.logout()


# --------------------------------------------------------------------------
# \Seen


def flags_of(m, uid):
    typ, data = m.uid("FETCH", str(uid), "FLAGS")
    assert typ == "OK", data
    return re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).split()


def test_seen_rules(srv):
    m = imaps(srv, f"bob@{DOMAIN}")
    try:
        uids = [append(m, "INBOX", PLAIN_MSG) for _ in range(4)]
        # EXAMINE: nothing is set.
        m.select("INBOX", readonly=True)
        data = fetch1(m, uids[0], "BODY[]")
        assert section(data, "BODY[]") == PLAIN_MSG
        assert b"\\Seen" not in flat(data), data
        m.select("INBOX")
        assert b"\\Seen" not in flags_of(m, uids[0])
        # PEEK never sets it.
        for item in ("BODY.PEEK[]", "BODY.PEEK[TEXT]", "RFC822.HEADER",
                     "BINARY.PEEK[1]"):
            fetch1(m, uids[0], item)
        assert b"\\Seen" not in flags_of(m, uids[0])
        # BODY[...], RFC822, RFC822.TEXT set it, and FLAGS comes along.
        for uid, item in zip(uids[1:], ("BODY[1]", "RFC822", "RFC822.TEXT")):
            data = flat(fetch1(m, uid, item))
            assert re.search(rb"FLAGS \([^)]*\\Seen", data), (item, data)
            assert b"\\Seen" in flags_of(m, uid)
        # Asking for FLAGS too gives it once.
        uid = append(m, "INBOX", PLAIN_MSG)
        m.noop()
        data = flat(fetch1(m, uid, "(FLAGS BODY[TEXT])"))
        assert data.count(b"FLAGS") == 1 and b"\\Seen" in data, data
        # Over several messages, FLAGS comes only with those it changed:
        # uids[0] is still unread, uids[1] was read above.
        typ, data = m.uid("FETCH", f"{uids[0]},{uids[1]}", "BODY[TEXT]")
        assert typ == "OK", data
        heads = [x[0] for x in data if isinstance(x, tuple)]
        tails = [x for x in data if isinstance(x, bytes)]
        assert len(heads) == 2 and len(tails) == 2, data
        assert b"UID %d " % uids[0] in heads[0], data
        assert b"FLAGS (\\Seen" in tails[0] + heads[0], data
        assert b"FLAGS" not in tails[1] + heads[1], data
    finally:
        m.logout()


def test_change_by_other_session(srv):
    """Another session's STORE (and its implicit \\Seen) shows in FETCH
    FLAGS in this one, and is not echoed again by the next NOOP."""
    user = f"carol@{DOMAIN}"
    one = imaps(srv, user)
    two = imaps(srv, user)
    try:
        uid = append(one, "INBOX", PLAIN_MSG)
        one.select("INBOX")
        two.select("INBOX")
        assert b"\\Seen" not in flags_of(one, uid)
        # Session two sets \Seen by reading it.
        fetch1(two, uid, "BODY[]")
        assert b"\\Seen" in flags_of(one, uid)
        one.noop()
        assert not one.untagged_responses.get("FETCH"), \
            one.untagged_responses
        typ, data = two.uid("STORE", str(uid), "+FLAGS", "(\\Flagged $Work)")
        assert typ == "OK", data
        assert set(flags_of(one, uid)) >= {b"\\Seen", b"\\Flagged",
                                           b"$Work"}
        typ, data = two.uid("STORE", str(uid), "-FLAGS", "(\\Seen)")
        assert typ == "OK", data
        typ, data = one.fetch("1:*", "(UID FLAGS)")
        mine = [d for d in data if b"UID %d " % uid in d]
        assert mine and b"\\Seen" not in mine[-1], data
    finally:
        one.logout()
        two.logout()


def test_expunged_meanwhile(srv):
    """A message expunged by someone else stays in our numbering until we
    may hear of it: FETCH skips it and says EXPUNGEISSUED (RFC 9051 7.1);
    the EXPUNGE comes at the next NOOP."""
    user = f"frank@{DOMAIN}"
    m = imaps(srv, user)
    other = imaps(srv, user)
    try:
        m.create("Gone")
        uids = [append(m, "Gone", PLAIN_MSG) for _ in range(3)]
        m.select("Gone")
        other.select("Gone")
        typ, data = other.uid("STORE", str(uids[1]), "+FLAGS.SILENT",
                              "(\\Deleted)")
        assert typ == "OK", data
        typ, data = other.expunge()
        assert typ == "OK", data
        typ, data = m.fetch("1:3", "(UID RFC822.SIZE)")
        assert typ == "OK", data
        text = b" ".join(d for d in data if isinstance(d, bytes))
        assert b"UID %d " % uids[0] in text and \
            b"UID %d " % uids[2] in text, data
        assert b"UID %d " % uids[1] not in text, data
        assert "EXPUNGE" not in m.untagged_responses, m.untagged_responses
        m.noop()
        assert m.untagged_responses.get("EXPUNGE") == [b"2"], \
            m.untagged_responses
    finally:
        m.logout()
        other.logout()


def test_expungeissued_tagged(srv):
    """The exact tagged reply, read with a raw client."""
    user = f"frank@{DOMAIN}"
    m = imaps(srv, user)
    conn = raw(srv, user)
    try:
        m.create("Gone2")
        uids = [append(m, "Gone2", PLAIN_MSG) for _ in range(2)]
        conn.cmd("s SELECT Gone2")
        conn.imap_tagged("s")
        m.select("Gone2")
        m.uid("STORE", str(uids[0]), "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()
        conn.cmd("f FETCH 1:2 FLAGS")
        untagged, tagged = conn.imap_tagged("f")
        assert tagged.startswith("f OK [EXPUNGEISSUED]"), (untagged, tagged)
        fetches = [u for u in untagged if "FETCH" in u]
        assert fetches in (["* 2 FETCH (FLAGS (\\Recent))"],
                           ["* 2 FETCH (FLAGS ())"]), untagged
        assert not any("EXPUNGE" in u for u in untagged), untagged
        conn.cmd("n NOOP")
        untagged, tagged = conn.imap_tagged("n")
        assert "* 1 EXPUNGE" in untagged, untagged
    finally:
        conn.close()
        m.logout()


# --------------------------------------------------------------------------
# CONDSTORE / QRESYNC


def test_modseq_and_changedsince(srv):
    m = imaps(srv, f"dave@{DOMAIN}")
    try:
        uids = [append(m, "INBOX", PLAIN_MSG) for _ in range(3)]
        m.select("INBOX")
        typ, data = m.uid("FETCH", "1:*", "(MODSEQ)")
        assert typ == "OK", data
        # The first MODSEQ enables CONDSTORE: HIGHESTMODSEQ is sent.
        assert m.untagged_responses.get("HIGHESTMODSEQ") or \
            any(b"HIGHESTMODSEQ" in (x or b"")
                for x in m.untagged_responses.get("OK", [])), \
            m.untagged_responses
        modseqs = {}
        for line in data:
            mm = re.search(rb"UID (\d+) MODSEQ \((\d+)\)", line)
            assert mm, line
            modseqs[int(mm.group(1))] = int(mm.group(2))
        assert set(modseqs) == set(uids)
        top = max(modseqs.values())
        # Nothing changed since the top: no FETCH responses.
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)",
                          f"(CHANGEDSINCE {top})")
        assert typ == "OK" and data == [None], data
        # Reading one sets \Seen, which moves its modseq; with CONDSTORE
        # on, the FETCH that set it reports MODSEQ and UID too (RFC 7162
        # 3.2.4), even a FETCH by sequence number that asked for neither.
        typ, data = m.fetch("2", "BODY[]")
        assert typ == "OK", data
        data = flat(data)
        mm = re.search(rb"MODSEQ \((\d+)\)", data)
        assert mm and int(mm.group(1)) > top, data
        assert b"UID %d" % uids[1] in data and b"\\Seen" in data, data
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)",
                          f"(CHANGEDSINCE {top})")
        assert typ == "OK" and len(data) == 1, data
        assert re.search(rb"UID %d .*MODSEQ \(\d+\)" % uids[1], data[0]) \
            or re.search(rb"MODSEQ \(\d+\).*UID %d" % uids[1], data[0]), data
        # VANISHED needs UID FETCH, QRESYNC enabled and CHANGEDSINCE.
        with pytest.raises(imaplib.IMAP4.error):
            m.fetch("1:*", "(FLAGS) (CHANGEDSINCE 1 VANISHED)")
        with pytest.raises(imaplib.IMAP4.error):
            m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE 1 VANISHED)")
    finally:
        m.logout()


def test_vanished(srv):
    """UID FETCH (CHANGEDSINCE n VANISHED) reports UIDs expunged since n
    (RFC 7162 3.2.6). The file is removed from the Maildir by hand, which
    the store treats as an expunge."""
    user = f"erin@{DOMAIN}"
    m = imaps(srv, user)
    try:
        typ, data = m._simple_command("ENABLE", "QRESYNC")
        enabled = m.untagged_responses.pop("ENABLED", [b""])
        assert b"QRESYNC" in enabled[0].upper()
        uids = [append(m, "INBOX", PLAIN_MSG) for _ in range(4)]
        m.select("INBOX")
        typ, data = m.uid("FETCH", "1:*", "(MODSEQ)")
        top = max(int(x) for x in re.findall(rb"MODSEQ \((\d+)\)",
                                             b" ".join(data)))
        maildir = srv.root / "data" / "mail" / DOMAIN / "erin" / "cur"
        files = sorted(maildir.iterdir(), key=lambda p: p.stat().st_mtime)
        assert len(files) == 4, files
        files[1].unlink()
        m.noop()  # the session learns of it (VANISHED, not EXPUNGE)
        van = m.untagged_responses.pop("VANISHED", [])
        assert len(van) == 1 and int(van[0]) in uids, van
        gone = int(van[0])
        typ, data = m.uid("FETCH", f"1:{uids[-1]}", "(FLAGS)",
                          f"(CHANGEDSINCE {top} VANISHED)")
        assert typ == "OK" and data == [None], data
        van = m.untagged_responses.pop("VANISHED", [])
        assert van == [b"(EARLIER) %d" % gone], van
        # Outside the UID set, or older than the modseq: not reported.
        others = ",".join(str(u) for u in uids if u != gone)
        typ, data = m.uid("FETCH", others, "(FLAGS)",
                          f"(CHANGEDSINCE {top} VANISHED)")
        assert typ == "OK" and "VANISHED" not in m.untagged_responses
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)",
                          "(CHANGEDSINCE 999999999 VANISHED)")
        assert typ == "OK" and "VANISHED" not in m.untagged_responses
    finally:
        m.logout()


# --------------------------------------------------------------------------
# A large message and a large mailbox


def test_fetch_20mb(srv):
    body = (b"y" * 998 + b"\r\n") * (20 * 1024 * 1024 // 1000)
    msg = (f"From: <{BOB}>\r\nTo: <{ALICE}>\r\nSubject: big\r\n\r\n"
           .encode() + body)
    m = imaps(srv, f"frank@{DOMAIN}", timeout=120)
    try:
        uid = append(m, "Archive", msg)
        m.select("Archive")
        start = time.monotonic()
        data = fetch1(m, uid, "(RFC822.SIZE BODY.PEEK[])")
        got = section(data, "BODY[]")
        assert len(got) == len(msg) and got == msg
        assert b"RFC822.SIZE %d" % len(msg) in flat(data), flat(data)[:200]
        assert time.monotonic() - start < 60
        # Header items read only the header block.
        data = fetch1(m, uid, "(BODY.PEEK[HEADER.FIELDS (Subject)] "
                      "RFC822.HEADER BODY.PEEK[HEADER]<5.9>)")
        assert section(data, "BODY[HEADER.FIELDS (Subject)]") == \
            b"Subject: big\r\n\r\n", data
        hdr = msg[:msg.index(b"\r\n\r\n") + 4]
        assert section(data, "RFC822.HEADER") == hdr, data
        assert section(data, "BODY[HEADER]<5>") == hdr[5:14], data
        # A window deep inside it.
        data = fetch1(m, uid, "BODY.PEEK[TEXT]<10000000.16>")
        assert section(data, "BODY[TEXT]<10000000>") == \
            body[10000000:10000016]
    finally:
        m.logout()


def test_many_messages_stream(srv):
    """FETCH 1:* BODY[] over many messages written while the client reads
    slowly: every response arrives whole and in order. 6 MB in all is more
    than a connection may queue (LIMIT_CONN_OUTPUT_MAX, 4 MB): a FETCH
    that queued everything at once would be cut off."""
    user = f"dave@{DOMAIN}"
    m = imaps(srv, user, timeout=60)
    try:
        m.create("Many")
        big = PLAIN_MSG + b"z" * 300000 + b"\r\n"
        for _ in range(20):
            append(m, "Many", big)
        conn = raw(srv, user)
        try:
            conn.cmd("s SELECT Many")
            conn.imap_tagged("s")
            conn.cmd("f FETCH 1:* BODY.PEEK[]")
            time.sleep(1.0)  # let the server hit its output high mark
            seen = 0
            while True:
                line = conn.readline()
                if line.startswith("f "):
                    assert line.startswith("f OK"), line
                    break
                mm = re.match(r"\* (\d+) FETCH \(BODY\[\] \{(\d+)\}$", line)
                assert mm, line
                seen += 1
                assert int(mm.group(1)) == seen
                n = int(mm.group(2))
                assert n == len(big)
                data = read_exact(conn, n)
                assert data == big
                assert conn.readline() == ")"
            assert seen == 20
            assert "output limit exceeded" not in srv.log_text()
        finally:
            conn.close()
    finally:
        m.logout()


def read_exact(conn, n):
    while len(conn.buf) < n:
        conn._fill()
    data, conn.buf = conn.buf[:n], conn.buf[n:]
    return bytes(data)
