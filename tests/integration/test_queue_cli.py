"""
`postern queue` and `postern mailq` on a spool filled by real submissions,
and the verbs given while the queue worker has the message in flight.
"""

import json
import os
import subprocess
import threading
import time

import pytest

from conftest import finish_server, postern_bin, wait_for
from test_outbound import (REMOTE, SmtpPeer, dns, make_sender,  # noqa: F401
                           start_sink, stop_sink)
from test_submission import (DOMAIN, MSG, inbox, login, make_server,
                             spool_envelopes)


def queue(srv, *args):
    return subprocess.run([postern_bin(), *args, "-c", str(srv.conf)],
                          capture_output=True, text=True, timeout=20)


@pytest.fixture
def spooled(tmp_path):
    srv = make_server(tmp_path / "q", smtp={})
    # no MX can be found for these: they stay queued
    with login(srv) as s:
        s.sendmail(f"alice@{DOMAIN}", ["one@far.example.net", "two@far.example.net"],
                   MSG.encode())
    yield srv
    finish_server(srv)


def test_list_text_json_and_mailq(spooled):
    envs = spool_envelopes(spooled)
    assert len(envs) == 1
    qid = envs[0].name
    r = queue(spooled, "queue", "list")
    assert r.returncode == 0, r.stderr
    assert qid in r.stdout and "one@far.example.net" in r.stdout
    assert "in 1 Request." in r.stdout
    assert queue(spooled, "mailq").stdout == r.stdout
    r = queue(spooled, "queue", "list", "--json")
    data = json.loads(r.stdout)
    assert [m["id"] for m in data] == [qid]
    assert data[0]["sender"] == f"alice@{DOMAIN}"
    assert {x["address"] for x in data[0]["recipients"]} == \
        {"one@far.example.net", "two@far.example.net"}


def test_show_flush_bounce_delete(spooled):
    qid = spool_envelopes(spooled)[0].name
    r = queue(spooled, "queue", "show", qid)
    assert r.returncode == 0 and "Subject: hi" in r.stdout, r
    r = queue(spooled, "queue", "flush", "far.example.net")
    assert r.returncode == 0 and r.stdout.startswith("1 message"), r
    r = queue(spooled, "queue", "bounce", qid)
    assert r.returncode == 0, r.stderr
    env = (spooled.root / "data" / "queue" / "env" / qid).read_bytes()
    assert b"state failed" in env and b"administrator" in env
    assert queue(spooled, "queue", "show", "NOTANID").returncode == 1
    assert queue(spooled, "queue", "delete", "0" * 16).returncode == 1
    r = queue(spooled, "queue", "delete", qid)
    assert r.returncode == 0, r.stderr
    assert spool_envelopes(spooled) == []
    assert "Mail queue is empty" in queue(spooled, "queue", "list").stdout


def test_hold_shows_and_release_retries(spooled):
    qid = spool_envelopes(spooled)[0].name
    env_path = spooled.root / "data" / "queue" / "env" / qid
    wait_for(lambda: b"attempts 1\n" in env_path.read_bytes(), 30,
             what="the first attempt")
    r = queue(spooled, "queue", "hold", qid)
    assert r.returncode == 0 and "on hold" in r.stdout, r
    assert b"held 1\n" in env_path.read_bytes()
    assert queue(spooled, "queue", "hold", qid).stdout.strip() == \
        f"{qid} is already on hold"
    r = queue(spooled, "queue", "list")
    assert f"{qid}! " in r.stdout, r.stdout
    assert queue(spooled, "mailq").stdout == r.stdout
    data = json.loads(queue(spooled, "queue", "list", "--json").stdout)
    assert data[0]["held"] is True
    assert "on hold" in queue(spooled, "queue", "show", qid).stdout
    wait_for(lambda: f"msg=held" in spooled.log_text() and qid in
             spooled.log_text(), 10, what="the worker to see the hold")
    # flush leaves held mail alone, and the worker does not try it
    r = queue(spooled, "queue", "flush")
    assert r.stdout.startswith("0 messages"), r
    time.sleep(1.5)
    assert b"attempts 1\n" in env_path.read_bytes()
    r = queue(spooled, "queue", "release", qid)
    assert r.returncode == 0 and "released" in r.stdout, r
    # released: tried at once (no DNS here, so deferred again)
    wait_for(lambda: b"attempts 2\n" in env_path.read_bytes(), 30,
             what="an attempt after release")
    assert b"held 0\n" in env_path.read_bytes()
    r = queue(spooled, "queue", "list")
    assert f"{qid}  " in r.stdout and f"{qid}!" not in r.stdout
    assert json.loads(queue(spooled, "queue", "list", "--json")
                      .stdout)[0]["held"] is False
    assert queue(spooled, "queue", "hold", "0" * 16).returncode == 1
    assert queue(spooled, "queue", "release", "bad").returncode == 1


def test_version1_envelope_still_read(spooled):
    """A spool written before hold existed (envelope version 1) is listed,
    and a hold rewrites it as version 2."""
    qid = spool_envelopes(spooled)[0].name
    env_path = spooled.root / "data" / "queue" / "env" / qid
    wait_for(lambda: b"attempts 1\n" in env_path.read_bytes(), 30,
             what="the first attempt")
    r = queue(spooled, "queue", "hold", qid)
    assert r.returncode == 0, r
    old = env_path.read_bytes().replace(b"postern-envelope 2\n",
                                        b"postern-envelope 1\n")
    old = old.replace(b"held 1\n", b"")
    st = env_path.stat()
    tmp = env_path.with_name("v1")
    tmp.write_bytes(old)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.rename(tmp, env_path)
    data = json.loads(queue(spooled, "queue", "list", "--json").stdout)
    assert [m["id"] for m in data] == [qid] and data[0]["held"] is False
    r = queue(spooled, "queue", "hold", qid)
    assert r.returncode == 0, r
    new = env_path.read_bytes()
    assert new.startswith(b"postern-envelope 2\n") and b"held 1\n" in new


# --------------------------------------------------------------------------
# A verb given while the queue worker has the message in flight is honoured
# when the attempt ends, not overwritten by it (spool_envelope_merge).


class HeldAtDot(SmtpPeer):
    """A peer that takes the message, then holds back its answer to the
    final dot until the test sets server.go, so the attempt is in flight
    while a CLI verb runs. Each DATA gets the next of server.replies."""

    NAME = b"slow.test"
    EXT = [b"8BITMIME"]

    def dot(self):
        srv = self.server
        srv.dots += 1
        srv.at_dot.set()
        srv.go.wait(30)
        return srv.replies.pop(0)


@pytest.fixture
def in_flight(tmp_path, dns):
    """(A, its peer, the id): a message to bob@remote.test whose attempt
    waits at the peer for the final reply."""
    sink = start_sink(HeldAtDot)
    sink.dots, sink.at_dot, sink.go = 0, threading.Event(), threading.Event()
    sink.replies = [b"451 4.7.1 try later\r\n", b"250 2.0.0 ok\r\n"]
    a = None
    try:
        # retry = [3600]: a second attempt soon is the flush's doing.
        a = make_sender(tmp_path, dns, f"mx_port = {sink.server_address[1]}; "
                        "retry = [3600];")
        with login(a) as s:
            s.sendmail(f"alice@{DOMAIN}", [f"bob@{REMOTE}"], MSG.encode())
        assert sink.at_dot.wait(15), "no attempt reached the peer"
        [env] = spool_envelopes(a)
        yield a, sink, env.name
    finally:
        sink.go.set()
        if a:
            finish_server(a)
        stop_sink(sink)


def no_errors(srv, qid):
    bad = [ln for ln in srv.log_text().splitlines()
           if qid in ln and "level=error" in ln]
    assert bad == [], bad


def test_bounce_during_attempt_is_honoured(in_flight):
    a, sink, qid = in_flight
    r = queue(a, "queue", "bounce", qid)
    assert r.returncode == 0, r.stderr
    sink.go.set()  # the peer answers 451: the attempt would defer it
    dsn = wait_for(lambda: next((f.read_bytes() for f in inbox(a, "alice")
                                 if b"multipart/report" in f.read_bytes()),
                                None), 15, what="the bounce")
    assert b"Action: failed" in dsn and b"administrator" in dsn, dsn
    wait_for(lambda: all(e.name != qid for e in spool_envelopes(a)), 10,
             what="the message out of the spool")
    assert sink.dots == 1
    no_errors(a, qid)


def test_flush_during_attempt_retries_at_once(in_flight):
    a, sink, qid = in_flight
    r = queue(a, "queue", "flush")
    assert r.returncode == 0 and r.stdout.startswith("1 message"), r
    sink.go.set()  # 451 now; without the flush the next try is in an hour
    wait_for(lambda: sink.dots == 2, 15, what="a second attempt")
    # ... which the peer took (250): the message is gone.
    wait_for(lambda: spool_envelopes(a) == [], 10, what="an empty spool")
    no_errors(a, qid)


def test_delete_during_attempt_stays_deleted(in_flight):
    a, sink, qid = in_flight
    r = queue(a, "queue", "delete", qid)
    assert r.returncode == 0, r.stderr
    assert spool_envelopes(a) == []
    sink.go.set()
    wait_for(lambda: "deleted during the attempt" in a.log_text(), 15,
             what="the end of the attempt")
    assert spool_envelopes(a) == []
    assert not (a.root / "data" / "queue" / "msg" / qid).exists()
    assert inbox(a, "alice") == []  # no DSN for a deleted message
    no_errors(a, qid)
