#!/usr/bin/python3
"""Relay throughput helpers for bench/relay_run.sh (standard library only).

  relay_bench.py portbase        print N with every port relay_run.sh uses
                                 free: postern's N+{25,587,...}, Postfix's
                                 submission N+26, the sink 127.0.0.2:N+27
  relay_bench.py throughput SINKPORT NAME=PORT:ROOTPID[,ROOTPID] ...
                                 start smtp-sink on 127.0.0.2:SINKPORT, then
                                 for each concurrency submit messages to
                                 every server (STARTTLS + AUTH PLAIN on
                                 127.0.0.1:PORT) and time them until the
                                 sink has received them all; print the table

Environment: CONCS="1 10 50" (sessions at once), COUNT=N (messages per
run), PER_SESSION=20 (messages per SMTP session), SIZE=2048 (body octets),
REPEAT=3 (best of N), USER/PASSWORD (the login), PROCS (driver processes,
default nproc). Waiting (port), CPU time and the fsync probe come from
bench.py. Everything talks to 127.0.0.0/8 only.
"""

import multiprocessing
import os
import re
import resource
import smtplib
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (port_is_free, wait_220, cpu_seconds)

HOST = "127.0.0.1"
SINK_HOST = "127.0.0.2"
SMTP_SINK = os.environ.get("SMTP_SINK", "/usr/sbin/smtp-sink")
SENDER = os.environ.get("USER_ADDR", "u@bench.test")
PASSWORD = os.environ.get("PASSWORD", "x")
RCPT = "r@remote.test"


def cmd_portbase(_args):
    import random
    for _ in range(1000):
        base = random.randint(20000, 30000)
        if (all(bench.port_is_free(base + o) for o in
                bench.POSTERN_OFFSETS + (26,))
                and bench.port_is_free(base + 27, SINK_HOST)):
            print(base)
            return 0
    print("relay_bench: no free port base", file=sys.stderr)
    return 1


# ---------------------------------------------------------------- the sink

class Sink:
    """smtp-sink -c on 127.0.0.2:port; counts messages it accepted.

    smtp-sink -c writes "sess=N quit=N mesg=N\\r" after every event; a
    reader thread keeps the last mesg= value.
    """

    def __init__(self, port):
        self.count = 0
        self.cv = threading.Condition()
        # -u nobody: it drops root after binding. Backlog 1024, up to
        # 1024 sessions at once (both far above what the servers open).
        self.p = subprocess.Popen(
            [SMTP_SINK, "-c", "-u", "nobody", "-m", "1024",
             f"{SINK_HOST}:{port}", "1024"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        if not bench.wait_220(port, 10, SINK_HOST):
            raise RuntimeError("smtp-sink did not start: " +
                               self.p.stderr.read(500).decode())
        # wait_220's own session is not a message; mesg= stays 0.

    def _read(self):
        pat = re.compile(rb"mesg=(\d+)")
        buf = b""
        while True:
            chunk = self.p.stdout.read1(4096)
            if not chunk:
                return
            buf += chunk
            parts = buf.split(b"\r")
            buf = parts.pop()
            for part in reversed(parts):
                m = pat.search(part)
                if m:
                    with self.cv:
                        self.count = int(m.group(1))
                        self.cv.notify_all()
                    break

    def wait_for(self, n, deadline):
        """Block until count >= n or the deadline; return (count, time of
        the last change seen)."""
        with self.cv:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(min(left, 0.5))
            return self.count, time.monotonic()

    def stop(self):
        self.p.terminate()
        self.p.wait(5)


# ---------------------------------------------------------------- the driver

def message(size, i):
    body_line = b"x" * 76 + b"\r\n"
    body = body_line * (size // len(body_line) + 1)
    return (f"From: {SENDER}\r\nTo: {RCPT}\r\nSubject: relay bench {i}\r\n"
            f"Message-ID: <{i}.{os.getpid()}@bench.test>\r\n\r\n").encode() \
        + body[:size]


def session(port, ctx, n, msg):
    """One SMTP session: STARTTLS, AUTH PLAIN, n messages, QUIT.
    Returns the number of messages accepted (250)."""
    s = smtplib.SMTP(HOST, port, timeout=120)
    try:
        s.ehlo("client.bench.test")
        s.starttls(context=ctx)
        s.ehlo("client.bench.test")
        s.login(SENDER, PASSWORD)
        ok = 0
        for _ in range(n):
            s.sendmail(SENDER, [RCPT], msg)  # raises unless 250
            ok += 1
        s.quit()
        return ok
    finally:
        s.close()


def driver_proc(port, jobs, msg, ready, go, out):
    """One process: a thread per entry of jobs (a list of per-session
    message counts, run one after the other by that thread)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the servers' self-signed bench.test
    errors, sent = [], [0]
    lock = threading.Lock()

    def run(sessions):
        for n in sessions:
            try:
                k = session(port, ctx, n, msg)
            except (OSError, smtplib.SMTPException) as e:
                with lock:
                    errors.append(repr(e)[:200])
                continue
            with lock:
                sent[0] += k

    go_local = threading.Event()
    threads = [threading.Thread(target=lambda s=s: (go_local.wait(), run(s)))
               for s in jobs]
    for t in threads:
        t.start()
    ready.release()
    go.wait()
    go_local.set()
    for t in threads:
        t.join()
    out.put((sent[0], errors))


def one_run(port, sink, conc, count, per_session, size, procs):
    """Submit count messages over conc concurrent sessions; wait until the
    sink has them. Returns (delivered, accepted, seconds, errors)."""
    nsess = max(1, (count + per_session - 1) // per_session)
    sizes = [per_session] * (nsess - 1) + [count - per_session * (nsess - 1)]
    slots = [[] for _ in range(min(conc, nsess))]
    for i, n in enumerate(sizes):
        slots[i % len(slots)].append(n)
    nprocs = min(procs, len(slots))
    per_proc = [slots[i::nprocs] for i in range(nprocs)]
    mpc = multiprocessing.get_context("fork")
    ready, go, out = mpc.Semaphore(0), mpc.Event(), mpc.Queue()
    msg = message(size, count)
    ps = [mpc.Process(target=driver_proc,
                      args=(port, jobs, msg, ready, go, out))
          for jobs in per_proc]
    for p in ps:
        p.start()
    for _ in ps:
        ready.acquire()
    base = sink.count
    t0 = time.monotonic()
    go.set()
    accepted, errors = 0, []
    for _ in ps:
        a, e = out.get()
        accepted += a
        errors += e
    for p in ps:
        p.join()
    # Wait for every accepted message at the sink (queues deliver later).
    got, t1 = sink.wait_for(base + accepted,
                            time.monotonic() + max(30.0, count / 20.0))
    # A few more milliseconds: a second copy of a message would show here.
    time.sleep(0.2)
    delivered = sink.count - base
    return delivered, accepted, t1 - t0, errors


def machine_busy():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v[:8]) - idle, sum(v[:8])


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def parse_servers(args):
    out = []
    for a in args:
        name, rest = a.split("=", 1)
        port, roots = rest.split(":", 1)
        out.append((name, int(port), [int(r) for r in roots.split(",")]))
    return out


def cmd_throughput(args):
    sink_port, servers = int(args[0]), parse_servers(args[1:])
    concs = [int(c) for c in os.environ.get("CONCS", "1 10 50").split()]
    per_session = int(os.environ.get("PER_SESSION", "20"))
    size = int(os.environ.get("SIZE", "2048"))
    repeat = int(os.environ.get("REPEAT", "3"))
    procs = int(os.environ.get("PROCS", "0")) or os.cpu_count() or 2
    counts = {1: 400, 10: 1500, 50: 2000}
    sink = Sink(sink_port)
    names = [s[0] for s in servers]
    problems, rows = [], []
    try:
        # Warm-up, not measured: Postfix's daemons, the auth processes,
        # the page cache, the servers' connections to the sink.
        for name, port, _root in servers:
            d, a, _s, e = one_run(port, sink, 5, 100, 10, size, procs)
            if e or d != 100:
                problems.append(f"{name} warm-up: {d}/100 delivered, "
                                f"{a} accepted, errors {e[:2]}")
        hdr = f"{'conc':>4} {'msgs':>5}"
        for name in names:
            hdr += f" {name + ' msg/s':>15}"
        if len(servers) > 1:
            hdr += f" {'ratio':>6}  target"
        print(f"size {size} octets, {per_session} messages per session "
              f"(STARTTLS, AUTH PLAIN, then MAIL/RCPT/DATA each), "
              f"best of {repeat}")
        print(hdr, flush=True)
        for conc in concs:
            count = int(os.environ.get("COUNT", "0")) or counts.get(conc,
                                                                   1500)
            rates, cpu = {}, {}
            for r in range(repeat):
                order = servers if r % 2 == 0 else servers[::-1]
                for name, port, root in order:
                    c0 = sum(bench.cpu_seconds(pid) for pid in root)
                    k0, m0 = children_cpu(), machine_busy()
                    d, a, secs, errs = one_run(port, sink, conc, count,
                                               per_session, size, procs)
                    c1 = sum(bench.cpu_seconds(pid) for pid in root)
                    k1, m1 = children_cpu(), machine_busy()
                    ncpu = os.cpu_count() or 1
                    # The driver processes are reaped children: their CPU.
                    drv = (k1 - k0) * 1000 / max(d, 1)
                    busy = (m1[0] - m0[0]) / max(m1[1] - m0[1], 1) * ncpu
                    if d != count or a != count or errs:
                        problems.append(
                            f"{name} conc={conc}: {a}/{count} accepted, "
                            f"{d} at the sink"
                            + (f", errors: {errs[:3]}" if errs else ""))
                    rate = min(d, count) / secs if secs > 0 else 0.0
                    if rate >= rates.get(name, 0.0):
                        rates[name] = rate
                        cpu[name] = ((c1 - c0) * 1000 / max(d, 1),
                                     (c1 - c0) / secs if secs > 0 else 0,
                                     drv, busy)
            line = f"{conc:>4} {count:>5}"
            for name in names:
                line += f" {rates[name]:>15.0f}"
            if len(servers) > 1:
                a, b = rates[names[0]], rates[names[1]]
                ratio = a / b if b > 0 else float("inf")
                line += f" {ratio:>6.2f}  {'ok' if ratio >= 1 else 'MISS'}" \
                        " (>= 1x)"
            print(line, flush=True)
            rows.append((conc, cpu))
    finally:
        sink.stop()
    print()
    print("CPU in the best run of each cell: the server's ms per message "
          "(for Postfix, Dovecot's auth\nincluded) and CPUs it kept busy; "
          "the load generator's ms per message; CPUs busy on\nthe whole "
          f"machine (of {os.cpu_count()}, other sessions' work included)")
    print(f"{'conc':>4}" + "".join(
        f" {n[:8] + ' ms/msg':>15} {'CPUs':>5} {'driver':>6} {'all':>5}"
        for n in names))
    for conc, cpu in rows:
        print(f"{conc:>4}" + "".join(
            f" {cpu[n][0]:>15.2f} {cpu[n][1]:>5.2f} {cpu[n][2]:>6.2f}"
            f" {cpu[n][3]:>5.2f}" for n in names))
    for p in problems:
        print("PROBLEM: " + p)
    return 0 if not problems else 3


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    cmd, args = sys.argv[1], sys.argv[2:]
    return {"portbase": cmd_portbase, "throughput": cmd_throughput}[cmd](args)


if __name__ == "__main__":
    sys.exit(main())
