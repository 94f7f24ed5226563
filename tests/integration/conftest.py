"""
Integration test helpers: run the real `postern` binary on loopback.

Run with Debian's pytest:  /usr/bin/python3 -m pytest tests/integration
The binary is $POSTERN_BIN, else <repo>/build/postern.

Only the standard library and pytest are used, and only 127.0.0.0/8 is
ever contacted.
"""

import hashlib
import os
import pathlib
import random
import re
import signal
import socket
import contextlib
import shutil
import ssl
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
HOSTNAME = "mail.test"
IO_TIMEOUT = 5.0        # every socket operation
READY_TIMEOUT = 10.0    # server start
STOP_TIMEOUT = 15.0     # SIGTERM -> exit when no client is connected

# name -> (standard port, service, tls mode, protocol spoken)
LISTENERS = {
    "smtp": (25, "smtp", "starttls", "smtp"),
    "submission": (587, "submission", "starttls", "smtp"),
    "submissions": (465, "submission", "implicit", "smtp"),
    "submission_alt": (2525, "submission", "starttls", "smtp"),
    "imap": (143, "imap", "starttls", "imap"),
    "imaps": (993, "imap", "implicit", "imap"),
    "pop3": (110, "pop3", "starttls", "pop3"),
    "pop3s": (995, "pop3", "implicit", "pop3"),
}
STARTTLS_LISTENERS = [n for n, v in LISTENERS.items() if v[2] == "starttls"]
IMPLICIT_LISTENERS = [n for n, v in LISTENERS.items() if v[2] == "implicit"]


# --------------------------------------------------------------------------
# The binary


def postern_bin():
    path = os.environ.get("POSTERN_BIN") or str(REPO / "build" / "postern")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"postern binary not found at {path} "
                    "(build it, or set POSTERN_BIN)", pytrace=False)
    return path


def run_postern(*args, env=None, timeout=20, cwd=None):
    """Run `postern ARGS`, return CompletedProcess (text, both streams)."""
    full_env = dict(os.environ)
    full_env.pop("POSTERN_CONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run([postern_bin(), *map(str, args)],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=cwd)


# --------------------------------------------------------------------------
# Ports


def port_is_free(port, host=HOST):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))  # no SO_REUSEADDR: stricter than the server
        return True
    except OSError:
        return False
    finally:
        s.close()


def port_is_listening(port, host=HOST):
    """Some socket listens on host:port. A bind with SO_REUSEADDR, as the
    server makes, fails on Linux only then: TIME_WAIT and closing
    connections of a killed server do not count."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def find_port_base(host=HOST, tries=500):
    """N such that N + every standard port is free on host."""
    for _ in range(tries):
        base = random.randint(20000, 40000)
        if all(port_is_free(base + std, host)
               for std, _, _, _ in LISTENERS.values()):
            return base
    raise RuntimeError("no free port base found")


def wait_port(port, host=HOST, timeout=READY_TIMEOUT, proc=None):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"postern exited ({proc.returncode}) "
                                   f"before port {port} accepted")
            if time.monotonic() > deadline:
                raise TimeoutError(f"port {port} never accepted")
            time.sleep(0.05)


def free_udp_tcp_port(host=HOST):
    """A port free for both UDP and TCP on host (a DNS server needs both)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind((host, 0))
            port = u.getsockname()[1]
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


@contextlib.contextmanager
def unbound_server(directory, records):
    """A real DNS server for the test zones: unbound on 127.0.0.1 serving
    records, a list of (zone, [resource records]) pairs; every other
    name of a zone is NXDOMAIN. Yields "127.0.0.1@PORT" for dns.forward."""
    exe = shutil.which("unbound") or "/usr/sbin/unbound"
    assert os.access(exe, os.X_OK), "unbound missing (scripts/deps.sh)"
    d = pathlib.Path(directory)
    port = free_udp_tcp_port()
    zones = "".join(f'  local-zone: "{zone}." static\n' +
                    "".join(f'  local-data: "{rr}"\n' for rr in rrs)
                    for zone, rrs in records)
    (d / "unbound.conf").write_text(f"""server:
  interface: 127.0.0.1@{port}
  port: {port}
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "{d}"
  pidfile: ""
  use-syslog: no
  logfile: "{d}/unbound.log"
  access-control: 127.0.0.0/8 allow
  do-ip6: no
  module-config: "iterator"
{zones}""")
    proc = subprocess.Popen([exe, "-d", "-c", str(d / "unbound.conf")],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_port(port, timeout=10, proc=proc)
        yield f"127.0.0.1@{port}"
    finally:
        proc.terminate()
        proc.wait(5)


# --------------------------------------------------------------------------
# Processes


def proc_stat(pid):
    """(state, ppid) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def children_of(pid):
    """Live (non-zombie) child pids of pid."""
    kids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = proc_stat(int(entry))
        if st and st[1] == pid and st[0] != "Z":
            kids.add(int(entry))
    return kids


def wait_for(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


NO_INOTIFY_C = r"""
#include <errno.h>
int inotify_init(void) { errno = EMFILE; return -1; }
int inotify_init1(int flags) { (void)flags; errno = EMFILE; return -1; }
"""


@contextlib.contextmanager
def without_inotify(directory, monkeypatch):
    """Servers started inside find inotify used up (EMFILE, as when
    fs.inotify.max_user_instances is reached), through an LD_PRELOAD
    shim built here."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler for the LD_PRELOAD shim")
    src = pathlib.Path(directory) / "no_inotify.c"
    src.write_text(NO_INOTIFY_C)
    shim = src.with_suffix(".so")
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(shim), str(src)],
                   check=True, timeout=60)
    monkeypatch.setenv("LD_PRELOAD", str(shim))
    # An ASan build insists on being first in the library list.
    monkeypatch.setenv("ASAN_OPTIONS", "verify_asan_link_order=0:" +
                       os.environ.get("ASAN_OPTIONS", ""))
    try:
        yield
    finally:
        monkeypatch.delenv("LD_PRELOAD")


# --------------------------------------------------------------------------
# Configuration text edits


def set_top_level(text, key, value):
    new, n = re.subn(rf"(?m)^(\s*{key}\s*[=:]\s*)[^;\n]*;", rf"\g<1>{value};",
                     text, count=1)
    if n != 1:
        raise AssertionError(f"generated postern.conf has no `{key} = ...;` "
                             f"line:\n{text}")
    return new


def set_in_group(text, group, key, value):
    """Set key inside `group = { ... }`, adding it when absent."""
    m = re.search(rf"(?m)^\s*{group}\s*[=:]\s*\{{", text)
    if not m:
        raise AssertionError(f"generated postern.conf has no `{group}` "
                             f"group:\n{text}")
    end = text.index("}", m.end())
    body = text[m.end():end]
    body2, n = re.subn(rf"(\b{key}\s*[=:]\s*)[^;\n]*;", rf"\g<1>{value};",
                       body, count=1)
    if n == 0:
        body2 = f"\n  {key} = {value};" + body
    return text[:m.end()] + body2 + text[end:]


# --------------------------------------------------------------------------
# TLS


def client_context(server, **kw):
    """A context that trusts (only) the server's generated certificate."""
    ctx = ssl.create_default_context(cafile=str(server.cert))
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def insecure_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def legacy_context(version):
    """Client that speaks only `version` (TLSv1 / TLSv1_1), SECLEVEL 0."""
    ctx = insecure_context()
    ver = getattr(ssl.TLSVersion, version)
    ctx.minimum_version = ver
    ctx.maximum_version = ver
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    return ctx


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def file_fingerprint(pem_path):
    pem = pathlib.Path(pem_path).read_text()
    return fingerprint(ssl.PEM_cert_to_DER_cert(pem))


# --------------------------------------------------------------------------
# Line-oriented client for raw protocol work


class LineConn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def connect(cls, port, tls_ctx=None, host=HOST, timeout=IO_TIMEOUT):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls_ctx is not None:
            try:
                sock = tls_ctx.wrap_socket(sock, server_hostname=HOSTNAME)
            except BaseException:
                sock.close()
                raise
        return cls(sock)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n" if isinstance(line, str)
                  else line + b"\r\n")

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError(f"connection closed; buffered: {self.buf!r}")
        self.buf += data

    def readline(self):
        """One line, CRLF (or LF) stripped, as str."""
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def smtp_reply(self):
        """(code, [text lines]) of one (possibly multiline) SMTP reply."""
        lines = []
        while True:
            line = self.readline()
            assert re.match(r"^\d{3}[ -]", line) or re.match(r"^\d{3}$", line), \
                f"malformed SMTP reply line {line!r}"
            lines.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return int(line[:3]), lines

    def imap_tagged(self, tag):
        """([untagged lines], tagged line) up to tag's completion."""
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def pop3_multiline(self):
        """Lines of a POP3 multiline body (after the +OK line), dot-ended."""
        lines = []
        while True:
            line = self.readline()
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)

    def starttls(self, ctx, server_hostname=HOSTNAME):
        assert self.buf == b"", \
            f"server sent bytes before the TLS handshake: {self.buf!r}"
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)

    def drain(self, quiet=0.7):
        """Everything that arrives until `quiet` seconds pass without data
        (or EOF); returns (bytes, eof)."""
        data, self.buf = self.buf, b""
        old = self.sock.gettimeout()
        self.sock.settimeout(quiet)
        try:
            while True:
                try:
                    chunk = self.sock.recv(65536)
                except (socket.timeout, TimeoutError):
                    return data, False
                except (ConnectionResetError, ssl.SSLError):
                    return data, True
                if not chunk:
                    return data, True
                data += chunk
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass


def protocol_of(name):
    return LISTENERS[name][3]


def open_session(server, name, ctx=None):
    """Connect to listener `name` (TLS first when implicit), read and check
    the greeting; returns (LineConn, greeting line)."""
    implicit = LISTENERS[name][2] == "implicit"
    if implicit and ctx is None:
        ctx = client_context(server)
    conn = LineConn.connect(server.port(name), ctx if implicit else None,
                            host=getattr(server, "host", HOST))
    try:
        proto = protocol_of(name)
        if proto == "smtp":
            code, lines = conn.smtp_reply()
            assert code == 220, (code, lines)
            greeting = lines[0]
        else:
            greeting = conn.readline()
            prefix = "* OK" if proto == "imap" else "+OK"
            assert greeting.startswith(prefix), greeting
    except BaseException:
        conn.close()
        raise
    return conn, greeting


def starttls_session(server, name, ctx=None):
    """Plain connect to a STARTTLS listener, upgrade; returns LineConn."""
    ctx = ctx or client_context(server)
    conn, _ = open_session(server, name)
    try:
        proto = protocol_of(name)
        if proto == "smtp":
            conn.cmd("EHLO client.test")
            conn.smtp_reply()
            conn.cmd("STARTTLS")
            code, lines = conn.smtp_reply()
            assert code == 220, (code, lines)
        elif proto == "imap":
            conn.cmd("s1 STARTTLS")
            _, tagged = conn.imap_tagged("s1")
            assert tagged.startswith("s1 OK"), tagged
        else:
            conn.cmd("STLS")
            line = conn.readline()
            assert line.startswith("+OK"), line
        conn.starttls(ctx)
    except BaseException:
        conn.close()
        raise
    return conn


def tls_session(server, name, ctx=None):
    """A TLS session on any listener (implicit or STARTTLS)."""
    if LISTENERS[name][2] == "implicit":
        conn, _ = open_session(server, name, ctx)
        return conn
    return starttls_session(server, name, ctx)


def peer_fingerprint(server, name):
    with tls_session(server, name, insecure_context()) as conn:
        return fingerprint(conn.sock.getpeercert(binary_form=True))


def probe_all(server):
    """Every listener greets; implicit ones after a verified handshake."""
    for name in LISTENERS:
        conn, _ = open_session(server, name)
        conn.close()


# --------------------------------------------------------------------------
# The server


class Server:
    """host: the loopback address every listener binds (127.0.0.2, ...
    make several hosts on one machine); hostname: its name in greetings
    and in the certificate."""

    def __init__(self, root, workers=None, limits=None, host=HOST,
                 hostname=HOSTNAME):
        self.root = pathlib.Path(root)
        self.host = host
        self.hostname = hostname
        self.root.mkdir(parents=True, exist_ok=True)
        self.conf = self.root / "postern.conf"
        self.cert = self.root / "tls" / "cert.pem"
        self.key = self.root / "tls" / "key.pem"
        self.log = self.root / "postern.log"
        self.workers = workers
        self.limits = limits or {}
        self.base = None
        self.proc = None
        self.init_result = None
        self.returncode = None

    # -- setup

    def make_traversable(self):
        """As root, workers drop to an unprivileged user that must reach
        the data folder: let it traverse pytest's 0700 temp folders."""
        if os.geteuid() != 0:
            return
        d = self.root
        while str(d) not in ("/", "/tmp"):
            os.chmod(d, os.stat(d).st_mode | 0o111)
            d = d.parent

    def init(self, base):
        self.base = base
        self.make_traversable()
        self.init_result = run_postern("init", self.root, "--hostname",
                                       self.hostname, "--port-base", base,
                                       "--listen", self.host)
        assert self.init_result.returncode == 0, self.init_result
        text = self.conf.read_text()
        if self.workers is not None:
            text = set_top_level(text, "workers", self.workers)
        for key, value in self.limits.items():
            text = set_in_group(text, "limits", key, value)
        self.conf.write_text(text)

    def start(self):
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [postern_bin(), "serve", "-c", str(self.conf)],
            stdin=subprocess.DEVNULL, stdout=self._logf, stderr=self._logf,
            cwd=self.root, start_new_session=True)
        for name in LISTENERS:
            wait_port(self.port(name), self.host, proc=self.proc)
        # ports accept as soon as the master binds; wait for a worker
        conn, _ = open_session(self, "smtp")
        conn.close()

    def address_in_use(self):
        return "in use" in self.log_text().lower()

    # -- accessors

    @property
    def pid(self):
        return self.proc.pid

    def port(self, name):
        return self.base + LISTENERS[name][0]

    def children(self):
        return children_of(self.pid)

    def listeners_closed(self):
        return not any(port_is_listening(self.port(name), self.host)
                       for name in LISTENERS)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=150):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:])

    # -- control

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns (returncode, seconds). Kills on timeout
        (and then returns returncode None)."""
        if self.proc is None:
            return None, 0.0
        if self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            return self.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.returncode = None
        return self.returncode, time.monotonic() - t0

    def kill(self):
        if self.proc is None:
            return
        for kid in self.children():
            try:
                os.kill(kid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def close(self):
        if getattr(self, "_logf", None):
            self._logf.close()
            self._logf = None


def start_or_kill(srv):
    """srv.start(), but never leave a half-started server behind."""
    try:
        srv.start()
    except BaseException:
        srv.kill()
        srv.close()
        raise
    return srv


def start_server(root, workers=None, limits=None, attempts=3):
    """init + serve in root/<n>; retries on another port base when a port
    was taken between the check and the bind."""
    root = pathlib.Path(root)
    for attempt in range(attempts):
        srv = Server(root / f"postern{attempt}", workers=workers,
                     limits=limits)
        srv.init(find_port_base())
        try:
            srv.start()
            return srv
        except (OSError, EOFError, AssertionError, RuntimeError) as exc:
            retry = srv.address_in_use() and attempt + 1 < attempts
            log = srv.log_tail()
            srv.kill()
            srv.close()
            if not retry:
                pytest.fail(f"postern serve did not come up: {exc!r}\n"
                            f"--- log ---\n{log}", pytrace=False)
    raise AssertionError("unreachable")


def finish_server(srv):
    """Teardown: SIGTERM must make serve exit 0; on failure show the log."""
    try:
        if srv.proc is None:
            return
        if srv.running():
            rc, secs = srv.stop()
            if rc != 0:
                pytest.fail(f"postern serve: SIGTERM gave exit {rc} after "
                            f"{secs:.1f}s (expected 0)\n--- log ---\n"
                            f"{srv.log_tail()}", pytrace=False)
    finally:
        srv.kill()
        srv.close()


class ServerFactory:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.servers = []

    def __call__(self, workers=None, limits=None):
        srv = start_server(self.tmp_path / f"s{len(self.servers)}",
                           workers=workers, limits=limits)
        self.servers.append(srv)
        return srv


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(workers=2, limits={"shutdown_timeout": 3})."""
    factory = ServerFactory(tmp_path)
    yield factory
    errors = []
    for srv in factory.servers:
        try:
            finish_server(srv)
        except BaseException as exc:  # keep tearing down the others
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def server(make_server):
    """A fresh server (default workers) for tests that change its state."""
    return make_server()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server per module for read-only tests."""
    srv = start_server(tmp_path_factory.mktemp("shared"))
    yield srv
    finish_server(srv)


# --------------------------------------------------------------------------
# Show the server log of a failed test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed or rep.when == "teardown":
        return
    servers = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Server):
            servers.append(value)
        elif isinstance(value, ServerFactory):
            servers.extend(value.servers)
    for srv in dict.fromkeys(servers):
        rep.sections.append((f"postern log ({srv.log})", srv.log_tail()))
