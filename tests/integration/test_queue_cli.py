"""
`postern queue` and `postern mailq` on a spool filled by real submissions.
"""

import json
import os
import subprocess
import time

import pytest

from conftest import finish_server, postern_bin, wait_for
from test_submission import DOMAIN, MSG, login, make_server, spool_envelopes


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
