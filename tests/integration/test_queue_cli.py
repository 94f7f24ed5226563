"""
`postern queue` and `postern mailq` on a spool filled by real submissions.
"""

import json
import subprocess

import pytest

from conftest import finish_server, postern_bin
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
