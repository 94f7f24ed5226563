"""
IMAP paths the other IMAP test files leave out: CHECK (RFC 3501 6.4.1),
RENAME of INBOX and of a folder with children (6.3.5), the LIST-EXTENDED
return options (RFC 5258, RFC 6154) and LSUB after (UN)SUBSCRIBE, NO
[OVERQUOTA] for APPEND and COPY (RFC 9208 / RFC 5530), a reconnecting
QRESYNC client (RFC 7162 3.2.5), the login throttle shared by IMAP and
submission (auth/throttle.h), the commands after STARTTLS on port 143,
and IDLE seeing a change made in another worker process.

The helpers come from test_imap.py and test_imap_msg.py; this module has
its own server (two workers) so it can be run alone.
"""

import base64
import concurrent.futures
import re
import smtplib
import socket
import time

import pytest

from conftest import (HOST, HOSTNAME, IO_TIMEOUT, LineConn, finish_server,
                      starttls_session, wait_for)
from test_imap import DOMAIN, PASSWORD, cli, ctx_for, imap_server
from test_imap_msg import Raw, addr

QUOTA_USER = "quota"
USERS = ("check", "ren", "lst", "qr", "tls", "idle")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = imap_server(tmp_path_factory.mktemp("imapmore"),
                    USERS + (QUOTA_USER,), quotas={QUOTA_USER: "2K"})
    yield s
    finish_server(s)


def message(n, size=0):
    """A small message numbered n, padded to about size octets."""
    head = (f"From: <bob@{DOMAIN}>\r\nTo: <{addr('x')}>\r\n"
            f"Subject: message {n}\r\nMessage-ID: <more{n}@{DOMAIN}>\r\n\r\n")
    body = f"Body of message {n}.\r\n"
    pad = max(0, size - len(head) - len(body))
    lines = []
    while pad > 0:
        chunk = min(pad, 76)
        lines.append("x" * max(chunk - 2, 0) + "\r\n")
        pad -= chunk
    return (head + body + "".join(lines)).encode()


def append(c, mailbox, n, size=0, flags=""):
    """APPEND message n through Raw client c; returns (untagged, tagged)."""
    flags = f" ({flags})" if flags else ""
    return c.run(f"APPEND {mailbox}{flags}", message(n, size))


def append_ok(c, mailbox, n, size=0, flags=""):
    untagged, tagged = append(c, mailbox, n, size, flags)
    assert tagged.startswith("OK [APPENDUID "), (untagged, tagged)
    return int(tagged.split("]")[0].split()[-1])


def status(c, mailbox, items="MESSAGES UIDNEXT UIDVALIDITY"):
    untagged, _ = c.ok(f"STATUS {mailbox} ({items})")
    found = [l for l in untagged if l.startswith("* STATUS ")]
    assert len(found) == 1, untagged
    inner = found[0][found[0].rindex("(") + 1:found[0].rindex(")")].split()
    return {k: int(v) for k, v in zip(inner[::2], inner[1::2])}


# --------------------------------------------------------------------------
# CHECK (RFC 3501 6.4.1)


def test_check(srv):
    with Raw(srv, "check") as c, Raw(srv, "check") as other:
        # Not in the authenticated state: CHECK needs a selected mailbox.
        untagged, tagged = c.run("CHECK")
        assert tagged.startswith("BAD") or tagged.startswith("NO"), tagged
        assert untagged == [], untagged
        c.ok("SELECT INBOX")
        untagged, tagged = c.run("CHECK")
        assert tagged.startswith("OK"), tagged
        assert untagged == [], untagged
        untagged, tagged = c.run("CHECK extra")
        assert tagged.startswith("BAD"), tagged
        # Completing CHECK is a point where updates may be sent (RFC 3501
        # 7): another session's APPEND shows.
        append_ok(other, "INBOX", 1)
        untagged, tagged = c.run("CHECK")
        assert tagged.startswith("OK"), tagged
        assert "* 1 EXISTS" in untagged, untagged
        # EXAMINE (read-only) allows CHECK as well; UNSELECT leaves the
        # selected state and CHECK is refused again.
        c.ok("EXAMINE INBOX")
        assert c.run("CHECK")[1].startswith("OK")
        c.ok("UNSELECT")
        untagged, tagged = c.run("CHECK")
        assert tagged.startswith("BAD") or tagged.startswith("NO"), tagged


# --------------------------------------------------------------------------
# RENAME (RFC 3501 6.3.5)


def test_rename_inbox(srv):
    with Raw(srv, "ren") as c:
        uids = [append_ok(c, "INBOX", i) for i in range(3)]
        before = status(c, "INBOX")
        assert before["MESSAGES"] == 3, before
        _, tagged = c.run("RENAME INBOX Old-Inbox")
        assert tagged.startswith("OK"), tagged
        # "all messages in INBOX are moved to a new mailbox with the given
        # name, leaving INBOX empty"
        after = status(c, "INBOX")
        assert after["MESSAGES"] == 0, after
        old = status(c, "Old-Inbox")
        assert old["MESSAGES"] == 3, old
        c.ok("SELECT Old-Inbox")
        assert len(c.search("ALL", uid=True)) == len(uids)
        untagged, _ = c.ok("FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = [l for l in untagged if l.startswith("Subject:")]
        assert subjects == [f"Subject: message {i}" for i in range(3)], \
            untagged
        c.ok("UNSELECT")
        # INBOX still exists and works; its UIDs never go back within one
        # UIDVALIDITY.
        names = {l.split(" ")[-1].strip('"') for l in
                 c.ok('LIST "" "*"')[0]}
        assert "INBOX" in names and "Old-Inbox" in names, names
        uid = append_ok(c, "INBOX", 9)
        if status(c, "INBOX")["UIDVALIDITY"] == before["UIDVALIDITY"]:
            assert uid >= before["UIDNEXT"], (uid, before)
        assert status(c, "INBOX")["MESSAGES"] == 1


def test_rename_errors(srv):
    with Raw(srv, "ren") as c:
        c.ok("CREATE Ren-A")
        c.ok("CREATE Ren-B")
        _, tagged = c.run("RENAME Ren-A Ren-B")
        assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
        _, tagged = c.run("RENAME Ren-A Sent")
        assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
        _, tagged = c.run("RENAME Ren-A INBOX")
        assert tagged.startswith("NO"), tagged
        _, tagged = c.run("RENAME No-Such-Box Ren-C")
        assert tagged.startswith("NO [NONEXISTENT]"), tagged
        _, tagged = c.run("RENAME Ren-A")
        assert tagged.startswith("BAD"), tagged
        # Nothing moved on the failures.
        assert status(c, "Ren-A")["MESSAGES"] == 0
        _, tagged = c.run("STATUS Ren-C (MESSAGES)")
        assert tagged.startswith("NO [NONEXISTENT]"), tagged


def test_rename_with_children(srv):
    with Raw(srv, "ren") as c:
        c.ok("CREATE Work/2026")
        uid = append_ok(c, "Work/2026", 1)
        append_ok(c, "Work", 2)
        uv = status(c, "Work/2026")["UIDVALIDITY"]
        work_uv = status(c, "Work")["UIDVALIDITY"]
        c.ok("SUBSCRIBE Work/2026")
        _, tagged = c.run("RENAME Work Job")
        assert tagged.startswith("OK"), tagged
        untagged, _ = c.ok('LIST "" "*"')
        names = {l.split(' "/" ')[1].strip('"') for l in untagged}
        assert {"Job", "Job/2026"} <= names, names
        assert not any(n.startswith("Work") for n in names), names
        # The child keeps its messages, UIDVALIDITY and UIDs.
        st = status(c, "Job/2026")
        assert st["MESSAGES"] == 1 and st["UIDVALIDITY"] == uv, st
        assert status(c, "Job")["MESSAGES"] == 1
        c.ok("SELECT Job/2026")
        assert c.search("ALL", uid=True) == [uid]
        c.ok("UNSELECT")
        _, tagged = c.run("STATUS Work/2026 (MESSAGES)")
        assert tagged.startswith("NO [NONEXISTENT]"), tagged
        # A new "Work" is empty, with another UIDVALIDITY (RFC 3501
        # 2.3.1.1: its old UIDs belong to Job now).
        c.ok("CREATE Work")
        st = status(c, "Work")
        assert st["MESSAGES"] == 0 and st["UIDVALIDITY"] != work_uv, st
        # Renaming into a new hierarchy creates the missing parents
        # (RFC 3501 6.3.5: "the server MUST create any superior names").
        c.ok("RENAME Job/2026 Archive2/Years/2026")
        untagged, _ = c.ok('LIST "" "Archive2*"')
        names = {l.split(' "/" ')[1].strip('"') for l in untagged}
        assert names == {"Archive2", "Archive2/Years",
                         "Archive2/Years/2026"}, untagged
        assert status(c, "Archive2/Years/2026")["MESSAGES"] == 1


# --------------------------------------------------------------------------
# LIST-EXTENDED (RFC 5258, RFC 6154) and LSUB


def list_lines(c, command):
    """{name: set(attributes)} of a LIST/LSUB, plus the raw lines."""
    untagged, _ = c.ok(command)
    out = {}
    for line in untagged:
        m = re.match(r'\* (?:LIST|LSUB) \((.*?)\) "/" ("(?:[^"\\]|\\.)*"|\S+)'
                     r'(.*)$', line)
        assert m, line
        name = m.group(2)
        if name.startswith('"'):
            name = name[1:-1]
        out[name] = set(m.group(1).split())
    return out, untagged


@pytest.fixture(scope="module")
def lst(srv):
    with Raw(srv, "lst") as c:
        for name in ("Fruit/Apple", "Veg", "Ghost"):
            c.ok(f"CREATE {name}")
        c.ok("SUBSCRIBE Fruit/Apple")
        c.ok("SUBSCRIBE Veg")
    return srv


def test_list_return_subscribed(lst):
    with Raw(lst, "lst") as c:
        names, _ = list_lines(c, 'LIST "" "*" RETURN (SUBSCRIBED)')
        assert set(names) == {"INBOX", "Drafts", "Sent", "Trash", "Junk",
                              "Archive", "Fruit", "Fruit/Apple", "Veg",
                              "Ghost"}, names
        for name in ("Fruit/Apple", "Veg", "Sent", "Trash"):
            assert "\\Subscribed" in names[name], names
        assert "\\Subscribed" not in names["Fruit"], names
        assert "\\Subscribed" not in names["Ghost"], names
        # Without the return option no \Subscribed attribute (RFC 5258 3.4
        # defines it for the SUBSCRIBED options only).
        names, _ = list_lines(c, 'LIST "" "*"')
        assert not any("\\Subscribed" in a for a in names.values()), names


def test_list_return_special_use(lst):
    with Raw(lst, "lst") as c:
        names, _ = list_lines(c, 'LIST "" "*" RETURN (SPECIAL-USE)')
        for name, attr in (("Drafts", "\\Drafts"), ("Sent", "\\Sent"),
                           ("Trash", "\\Trash"), ("Junk", "\\Junk"),
                           ("Archive", "\\Archive")):
            assert attr in names[name], names
        special = {"\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive",
                   "\\All", "\\Flagged"}
        for name in ("INBOX", "Fruit", "Veg"):
            assert not names[name] & special, names
        # Selection SPECIAL-USE with return SUBSCRIBED: only the special
        # folders, each with its subscription state.
        names, _ = list_lines(
            c, 'LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED)')
        assert set(names) == {"Drafts", "Sent", "Trash", "Junk",
                              "Archive"}, names
        assert all("\\Subscribed" in a for a in names.values()), names


def test_list_return_children(lst):
    with Raw(lst, "lst") as c:
        names, _ = list_lines(c, 'LIST "" "%" RETURN (CHILDREN)')
        assert "Fruit/Apple" not in names
        assert "\\HasChildren" in names["Fruit"], names
        assert "\\HasNoChildren" in names["Veg"], names
        assert "\\HasNoChildren" in names["INBOX"], names
        # RFC 5258 3: return options combine with selection options.
        names, lines = list_lines(
            c, 'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)')
        assert "Fruit/Apple" in names and "Veg" in names, lines
        assert "Fruit" not in names, lines
        assert {"\\Subscribed", "\\HasNoChildren"} <= names["Fruit/Apple"]
        names, lines = list_lines(
            c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" '
            'RETURN (CHILDREN SPECIAL-USE)')
        # Fruit is not subscribed but has a subscribed child (5258 3.5).
        fruit = [l for l in lines if ' "/" "Fruit" ' in l]
        assert len(fruit) == 1, lines
        assert fruit[0].endswith(' ("CHILDINFO" ("SUBSCRIBED"))'), fruit
        assert "\\Subscribed" not in names["Fruit"], names
        assert "\\Sent" in names["Sent"], names
        # An unknown return option is a syntax error.
        _, tagged = c.run('LIST "" "*" RETURN (BOGUS)')
        assert tagged.startswith("BAD"), tagged


def test_lsub_and_deleted_subscribed(lst):
    with Raw(lst, "lst") as c:
        c.ok("SUBSCRIBE Ghost")
        names, _ = list_lines(c, 'LSUB "" "*"')
        assert {"Ghost", "Veg", "Fruit/Apple", "Sent"} <= set(names), names
        assert "Fruit" not in names, names
        # LSUB % shows the unsubscribed parent of a subscribed child as
        # \Noselect (RFC 3501 6.3.9).
        names, lines = list_lines(c, 'LSUB "" "Fruit%"')
        assert names == {"Fruit": {"\\Noselect"}}, lines

        c.ok("DELETE Ghost")
        # RFC 3501 6.3.9: a server MUST NOT unilaterally remove a name
        # from the subscriptions because the mailbox is gone.
        names, _ = list_lines(c, 'LSUB "" "*"')
        assert "Ghost" in names, names
        # RFC 5258 3.1/5: LIST (SUBSCRIBED) shows it as \NonExistent.
        names, lines = list_lines(c, 'LIST (SUBSCRIBED) "" "*"')
        assert names["Ghost"] == {"\\NonExistent", "\\Subscribed"}, lines
        # Plain LIST, and RETURN (SUBSCRIBED) alone, do not show it.
        names, _ = list_lines(c, 'LIST "" "*"')
        assert "Ghost" not in names, names
        names, _ = list_lines(c, 'LIST "" "*" RETURN (SUBSCRIBED)')
        assert "Ghost" not in names, names

        c.ok("UNSUBSCRIBE Veg")
        c.ok("UNSUBSCRIBE Ghost")
        names, _ = list_lines(c, 'LSUB "" "*"')
        assert "Veg" not in names and "Ghost" not in names, names
        names, _ = list_lines(c, 'LIST (SUBSCRIBED) "" "*"')
        assert "Veg" not in names and "Ghost" not in names, names
        names, _ = list_lines(c, 'LIST "" "*" RETURN (SUBSCRIBED)')
        assert "Veg" in names and "\\Subscribed" not in names["Veg"]
        c.ok("SUBSCRIBE Veg")
        names, _ = list_lines(c, 'LSUB "" "Veg"')
        assert names == {"Veg": set()}, names


# --------------------------------------------------------------------------
# Quota (RFC 5530 3: OVERQUOTA)


def test_append_over_quota(srv):
    with Raw(srv, QUOTA_USER) as c:
        # 2 KiB quota: two 800-octet messages fit, a third does not.
        append_ok(c, "INBOX", 1, 800)
        append_ok(c, "INBOX", 2, 800)
        untagged, tagged = append(c, "INBOX", 3, 800)
        assert tagged.startswith("NO [OVERQUOTA]"), tagged
        assert status(c, "INBOX")["MESSAGES"] == 2
        # A message larger than the whole quota, into another folder.
        _, tagged = append(c, "Archive", 4, 3000)
        assert tagged.startswith("NO [OVERQUOTA]"), tagged
        assert status(c, "Archive")["MESSAGES"] == 0
        # The session goes on; a small message still fits.
        append_ok(c, "Drafts", 5, 100)


def test_copy_over_quota(srv):
    with Raw(srv, QUOTA_USER) as c:
        c.ok("SELECT INBOX")
        _, tagged = c.run("COPY 1 Trash")
        assert tagged.startswith("NO [OVERQUOTA]"), tagged
        _, tagged = c.run("UID COPY 1:* Archive")
        assert tagged.startswith("NO [OVERQUOTA]"), tagged
        assert status(c, "Trash")["MESSAGES"] == 0
        assert status(c, "Archive")["MESSAGES"] == 0
        # MOVE does not grow the mailbox: it is allowed.
        untagged, tagged = c.run("MOVE 1 Trash")
        assert tagged.startswith("OK"), (untagged, tagged)
        assert status(c, "Trash")["MESSAGES"] == 1
        # Expunging frees the room again.
        c.ok("SELECT Trash")
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.ok("EXPUNGE")
        c.ok("SELECT INBOX")
        untagged, tagged = c.run("COPY 1 Archive")
        assert tagged.startswith("OK [COPYUID "), (untagged, tagged)
        _, tagged = c.run("COPY 1 Archive")
        assert tagged.startswith("NO [OVERQUOTA]"), tagged


# --------------------------------------------------------------------------
# QRESYNC: a client reconnects (RFC 7162 3.2.5)


def select_info(untagged):
    info = {}
    for line in untagged:
        m = re.match(r"\* OK \[(UIDVALIDITY|HIGHESTMODSEQ|UIDNEXT) (\d+)\]",
                     line)
        if m:
            info[m.group(1)] = int(m.group(2))
    return info


def uid_set(text):
    out = set()
    for part in text.split(","):
        a, _, b = part.partition(":")
        lo, hi = sorted((int(a), int(b or a)))
        out.update(range(lo, hi + 1))
    return out


def fetch_items(line):
    """UID, flags and modseq of one untagged FETCH line."""
    uid = re.search(r"\bUID (\d+)", line)
    flags = re.search(r"\bFLAGS \(([^)]*)\)", line)
    modseq = re.search(r"\bMODSEQ \((\d+)\)", line)
    assert uid and flags and modseq, line
    return (int(uid.group(1)), set(flags.group(1).split()) - {"\\Recent"},
            int(modseq.group(1)))


def test_qresync_reconnect(srv):
    with Raw(srv, "qr") as c:
        uids = [append_ok(c, "INBOX", i) for i in range(6)]
        c.ok("ENABLE QRESYNC")
        untagged, _ = c.ok("SELECT INBOX")
        info = select_info(untagged)
        uv, modseq = info["UIDVALIDITY"], info["HIGHESTMODSEQ"]
    known = f"{uids[0]}:{uids[-1]}"

    # Meanwhile another client flags two messages and expunges two.
    with Raw(srv, "qr") as other:
        other.ok("SELECT INBOX")
        other.ok(f"UID STORE {uids[1]},{uids[3]} +FLAGS.SILENT (\\Flagged)")
        other.ok(f"UID STORE {uids[0]},{uids[4]} +FLAGS.SILENT (\\Deleted)")
        other.ok(f"UID EXPUNGE {uids[0]},{uids[4]}")

    with Raw(srv, "qr") as c:
        c.ok("ENABLE QRESYNC")
        untagged, tagged = c.ok(f"SELECT INBOX (QRESYNC ({uv} {modseq} "
                                f"{known}))")
        assert tagged.startswith("OK [READ-WRITE]"), tagged
        info = select_info(untagged)
        assert info["UIDVALIDITY"] == uv
        assert info["HIGHESTMODSEQ"] > modseq, info
        assert "* 4 EXISTS" in untagged, untagged
        vanished = [l for l in untagged if l.startswith("* VANISHED")]
        assert len(vanished) == 1, untagged
        assert vanished[0].startswith("* VANISHED (EARLIER) "), vanished
        assert uid_set(vanished[0].split()[-1]) == {uids[0], uids[4]}
        fetches = [l for l in untagged if " FETCH (" in l]
        got = {}
        for line in fetches:
            uid, flags, ms = fetch_items(line)
            got[uid] = flags
            assert modseq < ms <= info["HIGHESTMODSEQ"], (line, info)
        assert got == {uids[1]: {"\\Flagged"}, uids[3]: {"\\Flagged"}}, \
            fetches
        # VANISHED (EARLIER) comes before the FETCH responses (3.2.6), and
        # both after the HIGHESTMODSEQ of the SELECT answer.
        assert untagged.index(vanished[0]) < untagged.index(fetches[0])
        hms = [i for i, l in enumerate(untagged) if "[HIGHESTMODSEQ" in l]
        assert hms and hms[0] < untagged.index(vanished[0]), untagged
        # Sequence numbers of the FETCH lines are those after the expunge.
        seqs = sorted(int(l.split()[1]) for l in fetches)
        assert seqs == [1, 3], fetches
        newest = info["HIGHESTMODSEQ"]

        # Only the known UIDs are reported (3.2.5.1).
        untagged, _ = c.ok(f"SELECT INBOX (QRESYNC ({uv} {modseq} "
                           f"{uids[0]}:{uids[2]}))")
        vanished = [l for l in untagged if l.startswith("* VANISHED")]
        assert [uid_set(v.split()[-1]) for v in vanished] == [{uids[0]}], \
            untagged
        fetches = [l for l in untagged if " FETCH (" in l]
        assert [fetch_items(l)[0] for l in fetches] == [uids[1]], untagged
        assert untagged[0].startswith("* OK [CLOSED]"), untagged

        # Up to date: nothing to report.
        untagged, _ = c.ok(f"SELECT INBOX (QRESYNC ({uv} {newest} {known}))")
        assert not [l for l in untagged
                    if l.startswith("* VANISHED") or " FETCH (" in l], untagged

        # A wrong UIDVALIDITY: the plain SELECT answer, no resync.
        untagged, tagged = c.ok(f"SELECT INBOX (QRESYNC ({uv + 1} {modseq} "
                                f"{known}))")
        assert tagged.startswith("OK [READ-WRITE]"), tagged
        assert not [l for l in untagged
                    if l.startswith("* VANISHED") or " FETCH (" in l], untagged
        assert "* 4 EXISTS" in untagged, untagged
        assert select_info(untagged)["UIDVALIDITY"] == uv

    # Without ENABLE QRESYNC the parameter is refused (3.2.5).
    with Raw(srv, "qr") as c:
        _, tagged = c.run(f"SELECT INBOX (QRESYNC ({uv} {modseq}))")
        assert tagged.startswith("BAD"), tagged


# --------------------------------------------------------------------------
# STARTTLS on port 143, then real work


def test_starttls_then_mailbox_commands(srv):
    conn = starttls_session(srv, "imap", ctx_for(srv))
    with conn, Raw(srv, "tls") as other:
        conn.cmd("a CAPABILITY")
        untagged, tagged = conn.imap_tagged("a")
        assert tagged == "a OK CAPABILITY completed", tagged
        caps = untagged[0].split()
        assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
        conn.cmd(f'b LOGIN {addr("tls")} "{PASSWORD}"')
        _, tagged = conn.imap_tagged("b")
        assert tagged.startswith("b OK"), tagged
        conn.cmd("c STARTTLS")  # not in the authenticated state
        assert conn.imap_tagged("c")[1].startswith("c BAD")
        msg = message(1)
        conn.send(b"d APPEND INBOX (\\Seen) {%d+}\r\n%s\r\n" % (len(msg), msg))
        _, tagged = conn.imap_tagged("d")
        assert tagged.startswith("d OK [APPENDUID "), tagged

        conn.cmd("e SELECT INBOX")
        untagged, tagged = conn.imap_tagged("e")
        assert tagged == "e OK [READ-WRITE] SELECT completed", tagged
        assert "* 1 EXISTS" in untagged, untagged
        conn.cmd("f FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        untagged, tagged = conn.imap_tagged("f")
        assert tagged.startswith("f OK"), tagged
        assert "Subject: message 1" in untagged, untagged
        conn.cmd("g STORE 1 +FLAGS (\\Flagged)")
        untagged, tagged = conn.imap_tagged("g")
        assert untagged == ["* 1 FETCH (FLAGS (\\Seen \\Flagged \\Recent))"], \
            untagged
        assert tagged.startswith("g OK"), tagged

        conn.cmd("h IDLE")
        assert conn.readline().startswith("+ ")
        start = time.monotonic()
        append_ok(other, "INBOX", 2)
        conn.sock.settimeout(3)
        assert conn.readline() == "* 2 EXISTS"
        assert time.monotonic() - start < 2
        conn.cmd("DONE")
        untagged, tagged = conn.imap_tagged("h")
        assert tagged == "h OK IDLE terminated", (untagged, tagged)
        conn.cmd("i LOGOUT")
        untagged, tagged = conn.imap_tagged("i")
        assert untagged == ["* BYE Logging out"] and tagged.startswith("i OK")


# --------------------------------------------------------------------------
# IDLE across worker processes


def connect_from(srv, source, timeout=IO_TIMEOUT):
    """An implicit-TLS IMAP connection from the loopback address source."""
    sock = socket.create_connection((HOST, srv.port("imaps")),
                                    timeout=timeout,
                                    source_address=(source, 0))
    sock = ctx_for(srv).wrap_socket(sock, server_hostname=HOSTNAME)
    conn = LineConn(sock)
    assert conn.readline().startswith("* OK")
    return conn


class RawFrom(Raw):
    """Raw, but connected from a chosen loopback address."""

    def __init__(self, srv, user, source):
        self.conn = connect_from(srv, source)
        self.n = 0
        _, tagged = self.run(f'LOGIN {addr(user)} "{PASSWORD}"')
        assert tagged.startswith("OK"), tagged


def worker_of(srv, source):
    """pid of the worker that logged the IMAP session from source."""
    pat = re.compile(r'msg="?imap connect"? peer=' + re.escape(source) +
                     r" .*proc=worker pid=(\d+)")

    def find():
        m = pat.search(srv.log_text())
        return m and int(m.group(1))

    return wait_for(find, 5, what=f"log line of {source}")


def test_idle_across_workers(srv):
    sessions = {}
    try:
        for i in range(16):
            source = f"127.0.0.{40 + i}"
            sessions[source] = RawFrom(srv, "idle", source)
            pids = {worker_of(srv, s): s for s in sessions}
            if len(pids) >= 2:
                break
        assert len(pids) >= 2, \
            f"16 sessions all landed on one worker: {pids}"
        idler, other = (sessions[s] for s in list(pids.values())[:2])
        append_ok(other, "INBOX", 1)
        idler.ok("SELECT INBOX")
        other.ok("SELECT INBOX")
        idler.conn.cmd("w1 IDLE")
        assert idler.conn.readline().startswith("+ ")
        idler.conn.sock.settimeout(3)

        start = time.monotonic()
        append_ok(other, "INBOX", 2)
        assert idler.conn.readline() == "* 2 EXISTS"
        assert time.monotonic() - start < 2

        start = time.monotonic()
        other.ok("STORE 1 +FLAGS.SILENT (\\Answered)")
        line = idler.conn.readline()
        if line.endswith(" RECENT"):  # the count may follow EXISTS
            line = idler.conn.readline()
        assert re.fullmatch(r"\* 1 FETCH \(FLAGS \(\\Answered( \\Recent)?\)"
                            r"\)", line), line
        assert time.monotonic() - start < 2
        idler.conn.cmd("DONE")
        untagged, tagged = idler.conn.imap_tagged("w1")
        assert tagged == "w1 OK IDLE terminated", (untagged, tagged)
    finally:
        for s in sessions.values():
            s.close()


# --------------------------------------------------------------------------
# The login throttle is shared by IMAP and submission


def imap_fail_login(srv, source, user="nobody@" + DOMAIN):
    """One failed IMAPS LOGIN from source; returns (tagged, seconds)."""
    with RawLogin(srv, source) as c:
        start = time.monotonic()
        _, tagged = c.run(f'LOGIN {user} "wrong password"')
        return tagged, time.monotonic() - start


class RawLogin(Raw):
    """Raw connected from source, not logged in."""

    def __init__(self, srv, source):
        # A failure is answered after up to 8 s (THROTTLE_MAX_DELAY_MS).
        self.conn = connect_from(srv, source, timeout=15)
        self.n = 0


def submission_auth(srv, source, password="wrong password",
                    user="nobody@" + DOMAIN):
    """AUTH PLAIN on 587 after STARTTLS from source; returns ((code,
    text), seconds)."""
    with smtplib.SMTP(HOST, srv.port("submission"), timeout=20,
                      source_address=(source, 0)) as s:
        s.ehlo("client.test")
        s.starttls(context=ctx_for(srv))
        s.ehlo("client.test")
        start = time.monotonic()
        # One AUTH command: smtplib's login() would try a second mechanism.
        ir = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        code, text = s.docmd("AUTH", "PLAIN " + ir)
        return (code, text.decode(errors="replace")), \
            time.monotonic() - start


def parallel(n, fn, *args):
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return [f.result() for f in
                [ex.submit(fn, *args) for _ in range(n)]]


THROTTLE_IP_REFUSE = 10  # auth/throttle.h


def test_login_throttle_shared(make_server):
    srv = make_server(limits={"shutdown_timeout": 3})
    assert cli(srv, "domain", "add", DOMAIN).returncode == 0
    r = cli(srv, "user", "add", addr("thr"), "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.returncode == 0, r

    # A first failure is answered after about 1 s; the second from the
    # same address after about 2 s, whichever service it used.
    (code, _), fresh = submission_auth(srv, "127.0.0.60")
    assert code == 535 and 0.8 < fresh < 1.8, (code, fresh)
    tagged, secs = imap_fail_login(srv, "127.0.0.61")
    assert tagged.startswith("NO [AUTHENTICATIONFAILED]"), tagged
    (code, _), second = submission_auth(srv, "127.0.0.61")
    assert code == 535 and second > 1.8, (code, second)

    # IMAP failures, then submission from that address is refused, even
    # with the right password.
    results = parallel(THROTTLE_IP_REFUSE, imap_fail_login, srv, "127.0.0.62")
    assert all(t.startswith("NO [AUTHENTICATIONFAILED]") for t, _ in
               results), results
    (code, text), secs = submission_auth(srv, "127.0.0.62", PASSWORD,
                                         addr("thr"))
    assert code == 454 and "4.7.0" in text, (code, text)
    assert secs < 1, secs  # refused at once, not delayed
    # Another address is not affected.
    (code, _), _ = submission_auth(srv, "127.0.0.63", PASSWORD, addr("thr"))
    assert code == 235, code

    # And the other way round: submission failures close IMAP.
    results = parallel(THROTTLE_IP_REFUSE, submission_auth, srv,
                       "127.0.0.64")
    assert all(code == 535 for (code, _), _ in results), results
    with RawLogin(srv, "127.0.0.64") as c:
        _, tagged = c.run(f'LOGIN {addr("thr")} "{PASSWORD}"')
        assert tagged.startswith("NO [UNAVAILABLE]"), tagged
        _, tagged = c.run("CAPABILITY")
        assert tagged.startswith("OK")
    with RawLogin(srv, "127.0.0.65") as c:
        _, tagged = c.run(f'LOGIN {addr("thr")} "{PASSWORD}"')
        assert tagged.startswith("OK"), tagged
