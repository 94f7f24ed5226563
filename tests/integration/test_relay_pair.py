"""
Two postern hosts on one machine, as on the Internet: A is 127.0.0.2 and
the MX of a.test, B is 127.0.0.3 and the MX of b.test, both listening on
the same port numbers. Each one's users send to the other's over
submission; the queue worker finds the other by MX in a real DNS server
(unbound) and delivers over STARTTLS, from its own address
(queue.bind_address). Mail flows both ways, and a reply
to a DSN-free failure comes back as a bounce across the pair.
"""

import email
import email.policy
import smtplib
import socket
import subprocess

import pytest

from conftest import (LISTENERS, Server, client_context, finish_server,
                      port_is_free, postern_bin, start_or_kill,
                      unbound_server, wait_for)

PASSWORD = "pair secret"
HOSTS = {"a": ("127.0.0.2", "a.test"), "b": ("127.0.0.3", "b.test")}


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def common_port_base(tries=300):
    """N such that N + every standard port is free on both addresses."""
    for _ in range(tries):
        base = free_port("127.0.0.2") % 20000 + 20000
        if all(port_is_free(base + std, host)
               for std, _, _, _ in LISTENERS.values()
               for host, _ in HOSTS.values()):
            return base
    raise RuntimeError("no port base free on both hosts")


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    with unbound_server(tmp_path_factory.mktemp("dns"), [
            (dom, [f"{dom}. IN MX 10 mx.{dom}.", f"mx.{dom}. IN A {ip}"])
            for ip, dom in HOSTS.values()]) as addr:
        yield addr


def cli(srv, *args, stdin=""):
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(srv.conf)], input=stdin, capture_output=True,
                          text=True, timeout=20)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, dns):
    root = tmp_path_factory.mktemp("pair")
    base = common_port_base()
    servers = {}
    try:
        for name, (ip, dom) in HOSTS.items():
            srv = Server(root / name, workers=1, host=ip,
                         hostname=f"mx.{dom}",
                         limits={"shutdown_timeout": 3})
            srv.init(base)
            text = srv.conf.read_text()
            # Each host sends from its own address, as its MX names it.
            text += (f'\ndns = {{ forward = "{dns}"; }};\n'
                     f"queue = {{ mx_port = {srv.port('smtp')}; "
                     f'retry = [1]; bind_address = "{ip}"; }};\n')
            srv.conf.write_text(text)
            # init made the host name's parent domain a local one
            assert dom in cli(srv, "domain", "list").stdout.split()
            r = cli(srv, "user", "add", f"{name}user@{dom}",
                    "--password-stdin", stdin=PASSWORD + "\n")
            assert r.returncode == 0, r
            servers[name] = start_or_kill(srv)
        yield servers
    finally:
        for srv in servers.values():
            finish_server(srv)


def inbox(srv, name):
    dom = HOSTS[name][1]
    d = srv.root / "data" / "mail" / dom / f"{name}user" / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def submit(srv, name, to, subject):
    sender = f"{name}user@{HOSTS[name][1]}"
    msg = (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n"
           f"{subject} body\r\n")
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=15) as s:
        s.ehlo("client.test")
        s.starttls(context=client_context(srv, check_hostname=False))
        s.ehlo("client.test")
        s.login(sender, PASSWORD)
        assert s.sendmail(sender, [to], msg.encode()) == {}


def find(srv, name, subject):
    def look():
        for f in inbox(srv, name):
            m = email.message_from_bytes(f.read_bytes(),
                                         policy=email.policy.default)
            if subject in str(m["Subject"]):
                return m
        return None
    return wait_for(look, 20, what=f"{subject!r} at {name}")


def test_mail_flows_both_ways(hosts):
    a, b = hosts["a"], hosts["b"]
    submit(a, "a", "buser@b.test", "a to b")
    submit(b, "b", "auser@a.test", "b to a")
    at_b = find(b, "b", "a to b")
    at_a = find(a, "a", "b to a")
    # Each hop's Received: names the sending host, the address it sent
    # from (its queue.bind_address, not the kernel's 127.0.0.1) and TLS.
    recv_b = at_b.get_all("Received")
    assert recv_b[0].startswith("from mx.a.test ([127.0.0.2])"), recv_b
    assert "by mx.b.test" in recv_b[0] and "ESMTPS" in recv_b[0], recv_b
    recv_a = at_a.get_all("Received")
    assert recv_a[0].startswith("from mx.b.test ([127.0.0.3])"), recv_a
    assert "by mx.a.test" in recv_a[0] and "ESMTPS" in recv_a[0], recv_a


def test_unknown_user_bounces_across_the_pair(hosts):
    a, b = hosts["a"], hosts["b"]
    submit(a, "a", "nobody@b.test", "to nobody")
    dsn = find(a, "a", "Undelivered Mail Returned to Sender")
    assert dsn.get_content_type() == "multipart/report"
    report = [p for p in dsn.walk()
              if p.get_content_type() == "message/delivery-status"][0]
    text = report.as_string()
    assert "Final-Recipient: rfc822; nobody@b.test" in text
    assert "Action: failed" in text and "Status: 5.1.1" in text
    assert "Remote-MTA: dns; mx.b.test" in text
