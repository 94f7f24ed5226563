"""
Identities from the command line: postern domain / user / alias against a
fresh `postern init` folder, and init --domain. Passwords are only ever
read from stdin or a terminal, never from argv.
"""

import os
import pathlib
import pty
import pwd
import re
import select
import sqlite3
import subprocess
import termios
import time

import pytest

from conftest import HOSTNAME, Server, find_port_base, postern_bin, run_postern

DOMAIN = HOSTNAME.split(".", 1)[1]  # what init derives from --hostname


@pytest.fixture
def inst(tmp_path):
    """An initialised folder (not serving)."""
    srv = Server(tmp_path / "postern")
    srv.init(find_port_base())
    return srv


def db_path(inst):
    return inst.root / "data" / "postern.db"


def cli(inst, *args, stdin=None):
    """postern ARGS -c CONF; stdin text when given, else /dev/null."""
    if stdin is None:
        return run_postern(*args, "-c", inst.conf)
    env = dict(os.environ)
    env.pop("POSTERN_CONFIG", None)
    return subprocess.run([postern_bin(), *map(str, args), "-c",
                           str(inst.conf)],
                          input=stdin, capture_output=True, text=True,
                          timeout=30, env=env)


def ok(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def refused(r, message):
    """Exit 1 and a one-line reason naming the problem."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, (message, r.stderr)
    return r.stderr


def lines(r):
    return ok(r).splitlines()


def users(inst):
    return dict(l.split("\t") for l in lines(cli(inst, "user", "list")))


def aliases(inst):
    return sorted(tuple(l.split("\t"))
                  for l in lines(cli(inst, "alias", "list")))


def add_user(inst, address, password="s3cret", *extra):
    return cli(inst, "user", "add", address, "--password-stdin", *extra,
               stdin=password + "\n")


def stored_hash(inst, address):
    con = sqlite3.connect(db_path(inst))
    try:
        row = con.execute("SELECT password_hash FROM users "
                          "WHERE address = ?", (address,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def crypt_matches(password, hashed):
    """libcrypt's verdict through Python's crypt module, when it has one."""
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
    except ImportError:
        pytest.skip("python has no crypt module")
    return crypt.crypt(password, hashed) == hashed


# --------------------------------------------------------------------------
# init


def test_init_adds_the_domain(inst):
    assert lines(cli(inst, "domain", "list")) == [DOMAIN]
    st = os.stat(db_path(inst))
    assert st.st_mode & 0o777 == 0o640 & ~current_umask()
    conf_user = re.search(r'(?m)^user = "([^"]+)";', inst.conf.read_text())
    if os.geteuid() == 0 and conf_user:
        # workers open the database after dropping root
        assert st.st_uid == pwd.getpwnam(conf_user.group(1)).pw_uid


def current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_init_explicit_domain(tmp_path):
    root = tmp_path / "p"
    r = run_postern("init", root, "--hostname", HOSTNAME, "--domain",
                    "Example.ORG", "--port-base", find_port_base())
    ok(r)
    r = run_postern("domain", "list", "-c", root / "postern.conf")
    assert lines(r) == ["example.org"]


def test_init_refuses_a_bad_domain(tmp_path):
    root = tmp_path / "p"
    r = run_postern("init", root, "--hostname", HOSTNAME, "--domain",
                    "bad..domain", "--port-base", find_port_base())
    refused(r, "bad..domain")
    assert not (root / "postern.conf").exists()


# --------------------------------------------------------------------------
# domains


def test_domain_round_trip(inst):
    assert "added domain" in ok(cli(inst, "domain", "add", "Example.ORG"))
    ok(cli(inst, "domain", "add", "b\u00fccher.example"))
    assert lines(cli(inst, "domain", "list")) == sorted(
        [DOMAIN, "example.org", "b\u00fccher.example"])
    refused(cli(inst, "domain", "add", "example.org"), "already exists")
    ok(cli(inst, "domain", "del", "EXAMPLE.org"))
    assert "example.org" not in lines(cli(inst, "domain", "list"))
    refused(cli(inst, "domain", "del", "example.org"), "no such domain")


@pytest.mark.parametrize("bad", ["bad..domain", "x-.example", "a_b.example",
                                 "x.example.", "sp ace.example"])
def test_domain_add_refuses_bad_names(inst, bad):
    refused(cli(inst, "domain", "add", bad), bad)
    assert lines(cli(inst, "domain", "list")) == [DOMAIN]


def test_domain_del_refused_while_in_use(inst):
    ok(add_user(inst, f"alice@{DOMAIN}"))
    refused(cli(inst, "domain", "del", DOMAIN), "still has users")
    ok(cli(inst, "user", "del", f"alice@{DOMAIN}"))
    ok(add_user(inst, f"bob@{DOMAIN}"))
    ok(cli(inst, "alias", "add", f"@{DOMAIN}", f"bob@{DOMAIN}"))
    ok(cli(inst, "user", "del", f"bob@{DOMAIN}"))
    refused(cli(inst, "domain", "del", DOMAIN), "still has aliases")
    ok(add_user(inst, f"carol@{DOMAIN}"))
    ok(cli(inst, "domain", "del", DOMAIN, "--force"))
    assert lines(cli(inst, "domain", "list")) == []
    assert users(inst) == {}
    assert aliases(inst) == []


def test_domain_usage_errors(inst):
    for args in (["domain"], ["domain", "add"], ["domain", "list", "x"],
                 ["domain", "add", "a.example", "b.example"],
                 ["domain", "frob", "a.example"],
                 ["domain", "add", "a.example", "--force"]):
        r = cli(inst, *args)
        assert r.returncode == 1, (args, r)
        assert "usage:" in r.stderr


# --------------------------------------------------------------------------
# users


def test_user_round_trip(inst):
    out = ok(add_user(inst, f"Alice@{DOMAIN.upper()}", "s3cret", "--quota",
                      "2M"))
    assert "added user" in out
    ok(add_user(inst, f"bob@{DOMAIN}"))
    assert users(inst) == {f"alice@{DOMAIN}": "2M",
                           f"bob@{DOMAIN}": "unlimited"}
    refused(add_user(inst, f"alice@{DOMAIN}"), "already exists")
    ok(cli(inst, "user", "del", f"ALICE@{DOMAIN}"))
    assert users(inst) == {f"bob@{DOMAIN}": "unlimited"}
    refused(cli(inst, "user", "del", f"alice@{DOMAIN}"), "no such user")


def test_user_list_by_domain(inst):
    ok(cli(inst, "domain", "add", "example.org"))
    ok(add_user(inst, f"a@{DOMAIN}"))
    ok(add_user(inst, "b@example.org"))
    assert lines(cli(inst, "user", "list", "example.org")) == [
        "b@example.org\tunlimited"]


def test_user_add_needs_the_domain(inst):
    refused(add_user(inst, "x@example.com"), "no such domain")
    assert users(inst) == {}


@pytest.mark.parametrize("bad", [".x", "x.", "a..b", "sl/ash", "sp ace",
                                 "\u00fcser", "a" * 65])
def test_user_add_refuses_bad_local_parts(inst, bad):
    refused(add_user(inst, f"{bad}@{DOMAIN}"), "local part")
    assert users(inst) == {}


def test_user_add_refuses_an_alias_address(inst):
    ok(add_user(inst, f"a@{DOMAIN}"))
    ok(cli(inst, "alias", "add", f"team@{DOMAIN}", f"a@{DOMAIN}"))
    refused(add_user(inst, f"team@{DOMAIN}"), "is an alias")


@pytest.mark.parametrize("size,shown", [("0", "unlimited"), ("1024", "1K"),
                                        ("1536", "1536"), ("5M", "5M"),
                                        ("1g", "1G"), ("3072k", "3M")])
def test_user_quota_sizes(inst, size, shown):
    ok(add_user(inst, f"q@{DOMAIN}", "pw", "--quota", size))
    assert users(inst) == {f"q@{DOMAIN}": shown}


@pytest.mark.parametrize("size", ["-1", "1T", "abc", "1.5G", "", "1KB",
                                  "99999999999G"])
def test_user_quota_refused(inst, size):
    refused(add_user(inst, f"q@{DOMAIN}", "pw", "--quota", size), "--quota")
    assert users(inst) == {}


# --------------------------------------------------------------------------
# passwords


def test_password_stdin_is_hashed(inst):
    ok(add_user(inst, f"alice@{DOMAIN}", "correct horse\r"))
    hashed = stored_hash(inst, f"alice@{DOMAIN}")
    assert hashed.startswith("$y$"), hashed
    assert "correct horse" not in hashed
    assert crypt_matches("correct horse", hashed)
    assert not crypt_matches("correct horse\r", hashed)


def test_passwd_changes_the_hash(inst):
    ok(add_user(inst, f"alice@{DOMAIN}", "old"))
    before = stored_hash(inst, f"alice@{DOMAIN}")
    r = cli(inst, "user", "passwd", f"alice@{DOMAIN}", "--password-stdin",
            stdin="new\n")
    ok(r)
    after = stored_hash(inst, f"alice@{DOMAIN}")
    assert after != before and crypt_matches("new", after)
    refused(cli(inst, "user", "passwd", f"nobody@{DOMAIN}",
                "--password-stdin", stdin="x\n"), "no such user")


def test_password_never_from_argv(inst):
    addr = f"alice@{DOMAIN}"
    for args in (["--password", "s3cret"], ["--password=s3cret"],
                 ["-p", "s3cret"], ["s3cret"],
                 ["--password-stdin=s3cret"]):
        r = cli(inst, "user", "add", addr, *args, stdin="")
        assert r.returncode == 1, (args, r)
        assert "s3cret" not in r.stdout
    assert users(inst) == {}
    help_text = ok(cli(inst, "user", "--help"))
    assert "--password-stdin" in help_text
    assert not re.search(r"--password[ =]", help_text)


def test_password_needs_stdin_or_a_tty(inst):
    # stdin is /dev/null: not a terminal, and no --password-stdin
    refused(cli(inst, "user", "add", f"alice@{DOMAIN}"),
            "use --password-stdin")
    ok(add_user(inst, f"bob@{DOMAIN}"))
    refused(cli(inst, "user", "passwd", f"bob@{DOMAIN}"),
            "use --password-stdin")
    assert users(inst) == {f"bob@{DOMAIN}": "unlimited"}


@pytest.mark.parametrize("stdin,message", [("\n", "empty password"),
                                           ("", "no password"),
                                           ("x" * 600 + "\n", "too long")])
def test_password_stdin_refused(inst, stdin, message):
    r = cli(inst, "user", "add", f"alice@{DOMAIN}", "--password-stdin",
            stdin=stdin)
    refused(r, message)
    assert users(inst) == {}


def read_until(fd, needle, timeout=10.0):
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"no {needle!r} in {data!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise EOFError(f"no {needle!r} in {data!r}")
        data += chunk
    return data


def prompt_add(inst, first, second):
    """user add at a terminal: type first, then second; returns (rc,
    stderr, what the terminal echoed, ECHO flag after exit)."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("POSTERN_CONFIG", None)
    proc = subprocess.Popen(
        [postern_bin(), "user", "add", f"tty@{DOMAIN}", "-c",
         str(inst.conf)], stdin=slave, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env)
    try:
        err = read_until(proc.stderr.fileno(), b"New password: ")
        os.write(master, first.encode() + b"\n")
        err += read_until(proc.stderr.fileno(), b"Retype password: ")
        os.write(master, second.encode() + b"\n")
        proc.wait(20)
        err += proc.stderr.read()
        echoed = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                echoed += os.read(master, 4096)
            except OSError:
                break
        echo_on = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        os.close(master)
        os.close(slave)
    return proc.returncode, err.decode(), echoed, echo_on


def test_password_prompt_on_a_terminal(inst):
    rc, err, echoed, echo_on = prompt_add(inst, "typed pw", "typed pw")
    assert rc == 0, err
    assert b"typed pw" not in echoed, echoed
    assert echo_on, "the terminal was left without echo"
    assert crypt_matches("typed pw", stored_hash(inst, f"tty@{DOMAIN}"))


def test_password_prompt_mismatch(inst):
    rc, err, _, echo_on = prompt_add(inst, "one", "two")
    assert rc == 1 and "do not match" in err, err
    assert echo_on
    assert users(inst) == {}


# --------------------------------------------------------------------------
# aliases


def test_alias_round_trip(inst):
    a, b = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
    ok(add_user(inst, a))
    ok(add_user(inst, b))
    ok(cli(inst, "alias", "add", f"Team@{DOMAIN}", b, a))
    ok(cli(inst, "alias", "add", f"all@{DOMAIN}", f"team@{DOMAIN}"))
    ok(cli(inst, "alias", "add", f"@{DOMAIN}", a))
    assert aliases(inst) == sorted([
        (f"@{DOMAIN}", a), (f"all@{DOMAIN}", f"team@{DOMAIN}"),
        (f"team@{DOMAIN}", a), (f"team@{DOMAIN}", b)])
    # remove one target, then a whole alias
    ok(cli(inst, "alias", "del", f"team@{DOMAIN}", b))
    refused(cli(inst, "alias", "del", f"team@{DOMAIN}", b),
            "is not a target")
    ok(cli(inst, "alias", "del", f"@{DOMAIN}"))
    assert aliases(inst) == sorted([(f"all@{DOMAIN}", f"team@{DOMAIN}"),
                                    (f"team@{DOMAIN}", a)])
    refused(cli(inst, "alias", "del", f"nope@{DOMAIN}"), "no such alias")


def test_alias_refusals(inst):
    ok(add_user(inst, f"alice@{DOMAIN}"))
    refused(cli(inst, "alias", "add", f"x@{DOMAIN}", f"ghost@{DOMAIN}"),
            "no such user or alias")
    refused(cli(inst, "alias", "add", f"alice@{DOMAIN}", f"alice@{DOMAIN}"),
            "is a user")
    refused(cli(inst, "alias", "add", "x@example.com", f"alice@{DOMAIN}"),
            "no such domain")
    refused(cli(inst, "alias", "add", f"x@{DOMAIN}", "@" + DOMAIN),
            "local part")
    r = cli(inst, "alias", "add", f"x@{DOMAIN}")
    assert r.returncode == 1 and "usage:" in r.stderr
    assert aliases(inst) == []


# --------------------------------------------------------------------------
# the commands as a whole


@pytest.mark.parametrize("cmd", ["domain", "user", "alias"])
def test_help(inst, cmd):
    r = run_postern(cmd, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: postern " + cmd)
    assert cmd in ok(run_postern("--help"))


@pytest.mark.parametrize("cmd", ["domain", "user", "alias"])
def test_bad_config_is_an_error(tmp_path, cmd):
    missing = tmp_path / "none.conf"
    r = run_postern(cmd, "list", "-c", missing)
    assert r.returncode == 1, r
    assert str(missing) in r.stderr


def test_config_from_environment(inst):
    r = run_postern("domain", "list", env={"POSTERN_CONFIG": str(inst.conf)})
    assert lines(r) == [DOMAIN]
