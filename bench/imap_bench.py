#!/usr/bin/python3
"""IMAP load generator for bench/imap_run.sh (python3 standard library only).

  imap_bench.py fill MAILDIR N        write N test messages into MAILDIR/cur
  imap_bench.py ops NAME=PORT ...     per command, C sessions for T seconds
                                      against each server; ops/s and ratios
  imap_bench.py idle PORT N ROOTPID   N logged-in sessions in IDLE; memory of
                                      ROOTPID and its descendants

Connections use implicit TLS (IMAPS). Users are u0..u{USERS-1}@bench.test
with password "x". Sessions of one run are spread over the users.
Environment: CONC (sessions, default 20), SECONDS (per command, default 5),
USERS (default 4).
idle: IDLE_USERS sessions are spread over i0..i{IDLE_USERS-1}@bench.test
instead (when set); IDLE_TLS=starttls connects in clear text to PORT and
sends STARTTLS first (default: implicit TLS); IDLE_SOURCES=K spreads the
clients over the source addresses 127.0.0.2..127.0.0.{K+1}; IDLE_LIMIT_MIB
prints PASS or FAIL for the total Pss; IDLE_LABEL names the server.
Everything talks to 127.0.0.0/8 only.
"""

import asyncio
import os
import random
import resource
import ssl
import sys
import time

HOST = "127.0.0.1"
CONC = int(os.environ.get("CONC", "20"))
SECONDS = float(os.environ.get("SECONDS", "5"))
USERS = int(os.environ.get("USERS", "4"))
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango").split()


def message(i, size=4096):
    rnd = random.Random(i)
    subj = " ".join(rnd.choice(WORDS) for _ in range(4))
    hdr = (f"From: Sender {i} <s{i}@example.test>\r\n"
           f"To: u@bench.test\r\n"
           f"Subject: {subj} {i}\r\n"
           f"Date: Mon, 02 Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
           f"Message-ID: <{i}.bench@example.test>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    body = []
    n = len(hdr)
    while n < size:
        line = " ".join(rnd.choice(WORDS) for _ in range(10)) + "\r\n"
        body.append(line)
        n += len(line)
    return (hdr + "".join(body)).encode()


def cmd_fill(args):
    md, n = args[0], int(args[1])
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    for i in range(n):
        name = f"{1700000000 + i}.M{i}P1.bench:2,"
        if i % 3 == 0:
            name += "S"
        with open(os.path.join(md, "cur", name), "wb") as f:
            f.write(message(i))
    return 0


_TLS_CTX = None


def tls_ctx():
    """One client context for every connection: a context per connection
    costs the client ~1 MiB and a CA store load each."""
    global _TLS_CTX
    if _TLS_CTX is None:
        _TLS_CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _TLS_CTX.check_hostname = False
        _TLS_CTX.verify_mode = ssl.CERT_NONE  # self-signed, loopback only
    return _TLS_CTX


class Imap:
    """A minimal IMAP client: one command at a time, literals skipped."""

    def __init__(self, reader, writer):
        self.r, self.w, self.n = reader, writer, 0

    @classmethod
    async def connect(cls, port, user, starttls=False, source=None):
        local = (source, 0) if source else None
        r, w = await asyncio.open_connection(
            HOST, port, limit=1 << 24, local_addr=local,
            ssl=None if starttls else tls_ctx())
        c = cls(r, w)
        await c.r.readline()
        if starttls:
            # RFC 3501 6.2.1; the server then drops anything buffered.
            await c.cmd("STARTTLS")
            await w.start_tls(tls_ctx())
        await c.cmd(f'LOGIN {user} x')
        return c

    async def read_response(self, tag):
        while True:
            line = await self.r.readline()
            if not line:
                raise ConnectionError("server closed the connection")
            while line.endswith(b"}\r\n"):
                size = int(line[line.rindex(b"{") + 1:-3])
                await self.r.readexactly(size)
                line = await self.r.readline()
            if line.startswith(tag):
                if not line[len(tag):].startswith(b" OK"):
                    raise RuntimeError(line.decode(errors="replace"))
                return

    async def cmd(self, text, literal=None):
        self.n += 1
        tag = f"a{self.n}".encode()
        if literal is None:
            self.w.write(tag + b" " + text.encode() + b"\r\n")
        else:
            # LITERAL+ is not assumed: wait for the continuation.
            self.w.write(tag + b" " + text.encode() +
                         f" {{{len(literal)}}}\r\n".encode())
            await self.w.drain()
            cont = await self.r.readline()
            if not cont.startswith(b"+"):
                raise RuntimeError(cont.decode(errors="replace"))
            self.w.write(literal + b"\r\n")
        await self.w.drain()
        await self.read_response(tag)

    async def close(self):
        try:
            await self.cmd("LOGOUT")
        except (ConnectionError, RuntimeError):
            pass
        self.w.close()


# Each operation runs in a session that has INBOX selected (N messages).
def op_select(c, i, n):
    return c.cmd("SELECT INBOX")


def op_fetch_headers(c, i, n):
    lo = random.randint(1, max(1, n - 50))
    return c.cmd(f"FETCH {lo}:{lo + 49} (UID FLAGS ENVELOPE RFC822.SIZE)")


def op_fetch_body(c, i, n):
    return c.cmd(f"FETCH {random.randint(1, n)} BODY.PEEK[]")


def op_search(c, i, n):
    return c.cmd(f"SEARCH SUBJECT {random.choice(WORDS)} UNSEEN")


def op_store(c, i, n):
    flag = random.choice(("+", "-"))
    return c.cmd(f"STORE {random.randint(1, n)} {flag}FLAGS.SILENT "
                 "(\\Flagged)")


def op_append(c, i, n):
    return c.cmd("APPEND INBOX (\\Seen)", message(random.randint(0, 10**6)))


async def op_expunge(c, i, n):
    # Append one, mark it deleted, expunge: the mailbox keeps its size.
    await c.cmd("APPEND INBOX (\\Deleted)", message(i))
    await c.cmd("EXPUNGE")


OPS = [("SELECT", op_select), ("FETCH headers", op_fetch_headers),
       ("FETCH body", op_fetch_body), ("SEARCH", op_search),
       ("STORE", op_store), ("APPEND", op_append),
       ("APPEND+EXPUNGE", op_expunge)]


async def run_op(port, op, n_msgs):
    sessions = []
    for k in range(CONC):
        c = await Imap.connect(port, f"u{k % USERS}@bench.test")
        await c.cmd("SELECT INBOX")
        sessions.append(c)
    done = 0
    errors = []
    deadline = time.monotonic() + SECONDS

    async def loop(c):
        nonlocal done
        i = 0
        while time.monotonic() < deadline:
            try:
                await op(c, i, n_msgs)
            except (RuntimeError, ConnectionError) as e:
                errors.append(str(e)[:100])
                return
            done += 1
            i += 1

    t0 = time.monotonic()
    await asyncio.gather(*(loop(c) for c in sessions))
    secs = time.monotonic() - t0
    for c in sessions:
        await c.close()
    return done / secs, errors


def cmd_ops(args):
    servers = [a.split("=", 1) for a in args[1:]]
    n_msgs = int(args[0])
    print(f"{CONC} sessions over {USERS} users, {SECONDS:g} s per command, "
          f"{n_msgs} messages of 4 KiB in each INBOX")
    names = [s[0] for s in servers]
    print(f"{'command':16}" + "".join(f"{n + ' ops/s':>16}" for n in names) +
          (f"{'ratio':>8}" if len(names) == 2 else ""))
    status = 0
    only = os.environ.get("COMMANDS", "")
    for label, op in OPS:
        if only and label not in only.split(","):
            continue
        rates = []
        for name, port in servers:
            rate, errors = asyncio.run(run_op(int(port), op, n_msgs))
            rates.append(rate)
            for e in errors[:2]:
                print(f"  {name} {label}: PROBLEM: {e}")
                status = 1
        line = f"{label:16}" + "".join(f"{r:16.0f}" for r in rates)
        if len(rates) == 2 and rates[1]:
            line += f"{rates[0] / rates[1]:8.2f}"
        print(line, flush=True)
    return status


def mem_kib(pids):
    """(Rss, Pss) in KiB summed over pids, from smaps_rollup."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return rss, pss


def cpu_ticks(pids):
    """User + system clock ticks used so far by pids."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def descendants(root):
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(
                        f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


def idle_user(k):
    users = int(os.environ.get("IDLE_USERS", "0"))
    if users > 0:
        return f"i{k % users}@bench.test"
    return f"u{k % USERS}@bench.test"


def idle_source(k):
    n = int(os.environ.get("IDLE_SOURCES", "0"))
    return f"127.0.0.{2 + k % n}" if n > 0 else None


async def start_idle(c):
    c.n += 1
    c.w.write(f"a{c.n} IDLE\r\n".encode())
    await c.w.drain()
    line = await asyncio.wait_for(c.r.readline(), 30)
    if not line.startswith(b"+"):
        raise RuntimeError(line.decode(errors="replace"))


async def open_idle(port, n, starttls):
    sem = asyncio.Semaphore(64)
    conns, bad = {}, []

    async def one(k):
        async with sem:
            try:
                c = await asyncio.wait_for(
                    Imap.connect(port, idle_user(k), starttls,
                                 idle_source(k)), 60)
                await c.cmd("SELECT INBOX")
                await start_idle(c)
                conns[k] = c
            except (OSError, RuntimeError, ConnectionError,
                    asyncio.TimeoutError) as e:
                bad.append(f"{type(e).__name__}: {str(e)[:100]}")

    await asyncio.gather(*(one(k) for k in range(n)))
    return conns, bad


async def idle_wake_check(port, conns, starttls):
    """APPEND to the first session's user: its IDLE sessions must say
    EXISTS (RFC 2177) within 5 s, so they are live, not just open."""
    user = idle_user(0)
    same = [c for k, c in conns.items() if idle_user(k) == user]
    a = await Imap.connect(port, user, starttls, idle_source(0))
    await a.cmd("APPEND INBOX", message(999999))
    t0 = time.monotonic()
    woken, latest = 0, 0.0

    async def wait_one(c):
        nonlocal woken, latest
        try:
            line = await asyncio.wait_for(c.r.readline(), 5)
        except asyncio.TimeoutError:
            return
        if b"EXISTS" in line:
            woken += 1
            latest = max(latest, time.monotonic() - t0)

    await asyncio.gather(*(wait_one(c) for c in same))
    await a.close()
    return woken, len(same), latest


def cmd_idle(args):
    port, n, root = int(args[0]), int(args[1]), int(args[2])
    label = os.environ.get("IDLE_LABEL", "server")
    starttls = os.environ.get("IDLE_TLS", "imaps") == "starttls"
    limit = float(os.environ.get("IDLE_LIMIT_MIB", "0"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(n + 256, hard), hard))
    users = int(os.environ.get("IDLE_USERS", "0")) or USERS

    async def run():
        rss0, pss0 = mem_kib(descendants(root))
        t0 = time.monotonic()
        conns, bad = await open_idle(port, n, starttls)
        t_open = time.monotonic() - t0
        # Past the store's 1 s idle release.
        await asyncio.sleep(float(os.environ.get("IDLE_SETTLE", "3")))
        pids = descendants(root)
        rss1, pss1 = mem_kib(pids)
        # What waiting costs: the servers' CPU while every session idles.
        t0 = cpu_ticks(pids)
        await asyncio.sleep(5)
        cpu = (cpu_ticks(pids) - t0) / os.sysconf("SC_CLK_TCK") / 5 * 100
        k = len(conns)
        print(f"{label}: {k}/{n} sessions in IDLE over "
              f"{min(users, n)} users, "
              f"{'STARTTLS' if starttls else 'IMAPS'} (opened in "
              f"{t_open:.1f} s); {len(pids)} processes")
        print(f"{label}: total Pss {pss1 / 1024:.1f} MiB (before: "
              f"{pss0 / 1024:.1f} MiB; {(pss1 - pss0) / max(k, 1):.1f} KiB "
              f"per session); total Rss {rss1 / 1024:.1f} MiB (before: "
              f"{rss0 / 1024:.1f} MiB)")
        print(f"{label}: CPU while the sessions idle: {cpu:.1f}% of one "
              f"core (over 5 s)")
        for b in bad[:3]:
            print(f"{label}: PROBLEM: {b}")
        status = 0 if k == n else 3
        if k:
            try:
                woken, same, latest = await idle_wake_check(port, conns,
                                                            starttls)
            except (OSError, RuntimeError, ConnectionError) as e:
                print(f"{label}: PROBLEM: wake check: {e}")
                woken, same, latest = 0, 1, 0.0
            print(f"{label}: a new message woke {woken}/{same} IDLE "
                  f"sessions of {idle_user(0)}, the last "
                  f"{latest * 1000:.0f} ms after the APPEND's OK")
            if woken != same:
                status = 3
        if limit:
            ok = k == n and pss1 / 1024 <= limit
            print(f"{label}: {'PASS' if ok else 'FAIL'}: {k} IDLE sessions "
                  f"in {pss1 / 1024:.1f} MiB, target {limit:g} MiB")
            if not ok:
                status = 4
        for c in conns.values():
            c.w.close()
        return status

    return asyncio.run(run())


def main():
    cmds = {"fill": cmd_fill, "ops": cmd_ops, "idle": cmd_idle}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
