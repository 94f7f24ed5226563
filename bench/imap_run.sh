#!/bin/sh
# postern vs Dovecot over IMAP on loopback, same machine, same run, same
# Maildir data (see bench/README.md, "IMAP").
#
#   sh bench/imap_run.sh          build, set both up, measure, tear down
#
# Environment: POSTERN=path (skip `make build`), MSGS (messages per INBOX,
# default 1000), CONC (sessions, default 20), SECONDS (per command, 5),
# USERS (4), IDLE (postern IDLE sessions, default 10000), IDLE_DOVECOT
# (Dovecot IDLE sessions, default 500: one process each), IDLE_USERS
# (users i0.. the IDLE sessions are spread over, default 1000), IDLE_MSGS
# (messages in each of their INBOXes, default 200, hard links of one
# seed), IDLE_TLS (imaps or starttls, default starttls), IDLE_SOURCES
# (client source addresses 127.0.0.2.., default 49), IDLE_LIMIT_MIB (300),
# PHASES ("idle ops", run in that order), COMMANDS (some of the ops
# phase's, comma-separated: "SEARCH,FETCH headers"), IDLE_SETTLE (seconds
# between the last IDLE and the memory reading, 3), KEEP=1.
# The operations are measured over implicit TLS (postern refuses LOGIN in
# clear text, as it should). Needs root.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
PY=/usr/bin/python3
IB="$PY $ROOT/bench/imap_bench.py"
MSGS=${MSGS:-1000}
USERS=${USERS:-4}
export USERS
IDLE=${IDLE:-10000}
IDLE_DOVECOT=${IDLE_DOVECOT:-500}
IDLE_USERS=${IDLE_USERS:-1000}
IDLE_MSGS=${IDLE_MSGS:-200}
IDLE_TLS=${IDLE_TLS:-starttls}
IDLE_SOURCES=${IDLE_SOURCES:-49}
IDLE_LIMIT_MIB=${IDLE_LIMIT_MIB:-300}
PHASES=${PHASES:-idle ops}
export IDLE_USERS IDLE_TLS IDLE_SOURCES
# Both servers and the client hold one descriptor per IDLE session (the
# hard limit is what it is: raising it needs CAP_SYS_RESOURCE).
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((IDLE + 500)) ] || {
	echo "bench: open files limit $(ulimit -n) too low for IDLE=$IDLE" >&2
	exit 1
}

sh bench/deps.sh
if [ -z "${POSTERN:-}" ]; then
	POSTERN=$ROOT/build/postern
	make build >/dev/null
fi
[ "$(id -u)" -eq 0 ] || {
	echo "bench: run as root (both servers drop to nobody)" >&2
	exit 1
}

W=$(mktemp -d /tmp/postern-imapbench.XXXXXX)
chmod 755 "$W"
PT_PID=""
DC="$W/dovecot"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	set +e
	[ -n "$PT_PID" ] && kill "$PT_PID" 2>/dev/null && wait "$PT_PID" 2>/dev/null
	[ -f "$DC/run/master.pid" ] && kill "$(cat "$DC/run/master.pid")" 2>/dev/null
	sleep 1
	if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$POSTERN" "$W/postern-bin"
POSTERN=$W/postern-bin

BASE=$($PY bench/bench.py portbase)
PT_PORT=$((BASE + 993))
DC_PORT=$((BASE + 994))
PT_PORT143=$((BASE + 143))
DC_PORT143=$((BASE + 144))
if [ "$IDLE_TLS" = starttls ]; then
	PT_IDLE_PORT=$PT_PORT143 DC_IDLE_PORT=$DC_PORT143
else
	PT_IDLE_PORT=$PT_PORT DC_IDLE_PORT=$DC_PORT
fi

# The same messages for both: one filled Maildir, copied per user.
$IB fill "$W/seed" "$MSGS"
# The IDLE users' INBOXes: hard links of one smaller seed (no disk cost).
$IB fill "$W/seed-idle" "$IDLE_MSGS"
# The password hash of "x" for the IDLE users: SHA-512-crypt at its
# default 5000 rounds (postern's default yescrypt would make 10,000 logins
# a CPU benchmark of its own; the memory held is the same).
IDLE_HASH=$(openssl passwd -6 -salt benchidle x)

# --- postern ------------------------------------------------------------
bench_postern_init "$W/postern" "$BASE" 20000
CONF=$W/postern/postern.conf
u=0
while [ $u -lt "$USERS" ]; do
	printf 'x\n' | "$POSTERN" user add "u$u@bench.test" --password-stdin \
		-c "$CONF" >/dev/null
	mkdir -p "$W/postern/data/mail/bench.test"
	cp -r "$W/seed" "$W/postern/data/mail/bench.test/u$u"
	u=$((u + 1))
done
u=0
while [ $u -lt "$IDLE_USERS" ]; do
	"$POSTERN" user add "i$u@bench.test" --hash "$IDLE_HASH" \
		-c "$CONF" >/dev/null
	cp -al "$W/seed-idle" "$W/postern/data/mail/bench.test/i$u"
	u=$((u + 1))
done
chown -R nobody:nogroup "$W/postern/data/mail"
"$POSTERN" serve -c "$CONF" 2>"$W/postern.log" &
PT_PID=$!

# --- Dovecot: a private instance, nothing shared with a system one -------
mkdir -p "$DC/run" "$DC/state" "$DC/mail/bench.test"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench.test \
	-keyout "$DC/key.pem" -out "$DC/cert.pem" 2>/dev/null
: >"$DC/passwd"
u=0
while [ $u -lt "$USERS" ]; do
	echo "u$u@bench.test:{PLAIN}x" >>"$DC/passwd"
	cp -r "$W/seed" "$DC/mail/bench.test/u$u"
	u=$((u + 1))
done
u=0
while [ $u -lt "$IDLE_USERS" ]; do
	echo "i$u@bench.test:{SHA512-CRYPT}$IDLE_HASH" >>"$DC/passwd"
	cp -al "$W/seed-idle" "$DC/mail/bench.test/i$u"
	u=$((u + 1))
done
chown -R nobody:nogroup "$DC/mail"
cat >"$DC/dovecot.conf" <<EOF
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = required
ssl_cert = <$DC/cert.pem
ssl_key = <$DC/key.pem
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DC/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DC/mail/%d/%n
}
mail_location = maildir:~
# postern fsyncs every saved message and its directory.
mail_fsync = always
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_PORT143
  }
  inet_listener imaps {
    port = $DC_PORT
  }
  # High-performance mode: with the default service_count = 1 every TLS
  # session keeps its own imap-login process (it proxies the TLS), so
  # process_limit would cap the sessions at 100.
  service_count = 0
  process_min_avail = 2
  process_limit = 100
  client_limit = 1000
}
service imap {
  process_limit = 20000
}
# Every benchmark session comes from 127.0.0.x; postern has no such limit
# per user.
mail_max_userip_connections = 20000
default_process_limit = 20000
default_client_limit = 20000
EOF
dovecot -c "$DC/dovecot.conf"

$PY - "$PT_PORT" "$DC_PORT" "$PT_PORT143" "$DC_PORT143" <<'EOF'
import socket, sys, time
for port in map(int, sys.argv[1:]):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"bench: nothing listens on {port}")
EOF

echo "== machine"
echo "nproc: $(nproc); RAM: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "postern $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?');" \
	"Dovecot $(dovecot --version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
# In the order given; the default measures IDLE first, on fresh processes
# (after the operations the workers keep the heap those grew).
for phase in $PHASES; do
	case $phase in
	ops)
		echo "== IMAP operations per second (IMAPS, same data)"
		$IB ops "$MSGS" "postern=$PT_PORT" "dovecot=$DC_PORT" ||
			status=1
		;;
	idle)
		echo "== sessions in IDLE: total memory of the server's processes"
		IDLE_LABEL=postern IDLE_LIMIT_MIB=$IDLE_LIMIT_MIB \
			$IB idle "$PT_IDLE_PORT" "$IDLE" "$PT_PID" || status=1
		IDLE_LABEL=dovecot $IB idle "$DC_IDLE_PORT" "$IDLE_DOVECOT" \
			"$(cat "$DC/run/master.pid")" || status=1
		;;
	*)
		echo "bench: unknown phase $phase" >&2
		status=1
		;;
	esac
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if grep -E 'level=(error|crit|fatal)|crash|signal' "$W/postern.log" |
	head -5 | grep .; then
	echo "PROBLEM: postern logged the errors above"
	status=1
fi
[ $status -eq 0 ] || KEEP=1
exit $status
