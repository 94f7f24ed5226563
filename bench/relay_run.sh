#!/bin/sh
# Relay throughput: postern vs Postfix, same machine, same run (see the
# "Relay" section of bench/README.md). Messages are submitted on a
# submission port (STARTTLS, then AUTH PLAIN) and relayed through a smart
# host, Postfix's smtp-sink on 127.0.0.2; the time runs until the sink has
# them all.
#
#   sh bench/relay_run.sh            build, set up, measure, tear down
#
# Environment: POSTERN=path (skip `make build`), CONCS="1 10 50",
# COUNT=N (messages per run), PER_SESSION=20, SIZE=2048, REPEAT=3 (best
# of N), KEEP=1 (keep the work directory), POSTERN_WORKERS=N (experiment;
# default one per CPU). Needs root (Postfix, Dovecot).
# Everything listens on 127.0.0.1 and 127.0.0.2 private ports only.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
PY=/usr/bin/python3
RB="$PY $ROOT/bench/relay_bench.py"
BENCH="$PY $ROOT/bench/bench.py"

sh bench/deps.sh
if [ -z "${POSTERN:-}" ]; then
	POSTERN=$ROOT/build/postern
	if ! make build >"${TMPDIR:-/tmp}/postern-relay-build.log" 2>&1; then
		[ -x "$POSTERN" ] || {
			cat "${TMPDIR:-/tmp}/postern-relay-build.log" >&2
			rm -f "${TMPDIR:-/tmp}/postern-relay-build.log"
			exit 1
		}
		echo "relay: WARNING: make build failed; using the existing" \
			"$POSTERN of $(date -r "$POSTERN" '+%F %T')" >&2
	fi
	rm -f "${TMPDIR:-/tmp}/postern-relay-build.log"
fi
[ "$(id -u)" -eq 0 ] || {
	echo "relay: run as root (Postfix, Dovecot)" >&2
	exit 1
}

W=$(mktemp -d /tmp/postern-relay.XXXXXX)
chmod 755 "$W"
PT_PID="" DV_PID=""
PF="$W/postfix"
DV="$W/dv"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	set +e
	[ -n "$PT_PID" ] && kill "$PT_PID" 2>/dev/null && wait "$PT_PID" 2>/dev/null
	[ -f "$PF/etc/main.cf" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
	[ -n "$DV_PID" ] && kill "$DV_PID" 2>/dev/null && wait "$DV_PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "relay: kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BUILT=$(date -r "$POSTERN" '+%F %T')
cp "$POSTERN" "$W/postern-bin"
POSTERN=$W/postern-bin

BASE=$($RB portbase)
PT_PORT=$((BASE + 587))
PF_PORT=$((BASE + 26))
SINK_PORT=$((BASE + 27))

# --- postern -------------------------------------------------------------
bench_postern_init "$W/postern" "$BASE" 5000
printf 'x\n' | "$POSTERN" user add u@bench.test --password-stdin \
	-c "$W/postern/postern.conf" >/dev/null
# The smart host: the sink, STARTTLS when offered (it is not), like
# Postfix's smtp_tls_security_level = may. Queue limits: the defaults
# (20 per destination, as Postfix's default_destination_concurrency_limit).
cat >>"$W/postern/postern.conf" <<EOF

relay = { host = "127.0.0.2"; port = "auto"; auto_ports = ["$SINK_PORT/may"]; };
EOF
"$POSTERN" config check -c "$W/postern/postern.conf" >/dev/null
"$POSTERN" serve -c "$W/postern/postern.conf" 2>"$W/postern.log" &
PT_PID=$!
# The same password hash (yescrypt, from `postern user add`) for Dovecot.
HASH=$($PY -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT password_hash FROM users").fetchone()[0])' \
	"$W/postern/data/postern.db")

# --- Dovecot: the auth service only, for Postfix's SASL --------------------
mkdir -p "$DV/run" "$DV/state"
chmod 755 "$DV"
printf 'u@bench.test:{CRYPT}%s\n' "$HASH" >"$DV/passwd"
chmod 644 "$DV/passwd"
cat >"$DV/dovecot.conf" <<EOF
base_dir = $DV/run
state_dir = $DV/state
log_path = $DV/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=CRYPT $DV/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DV/home/%u
}
default_internal_user = dovecot
default_login_user = dovenull
service auth {
  unix_listener $DV/auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
dovecot -F -c "$DV/dovecot.conf" >/dev/null 2>&1 &
DV_PID=$!

# --- Postfix: a private instance, submission on 127.0.0.1:PF_PORT ----------
mkdir -p "$PF/etc" "$PF/spool" "$PF/data"
chown postfix "$PF/data"
cp "$W/postern/tls/cert.pem" "$W/postern/tls/key.pem" "$PF/etc/"
chmod 600 "$PF/etc/key.pem"
cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
# Submission as postern does it: TLS required, AUTH only over TLS, the
# envelope sender must be the login, relaying only after AUTH.
smtpd_tls_cert_file = $PF/etc/cert.pem
smtpd_tls_key_file = $PF/etc/key.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DV/auth-postfix
smtpd_sender_login_maps = texthash:$PF/etc/senders
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_relay_restrictions = permit_sasl_authenticated, reject
# One client address: lift the per-client limit (default 50) as for postern.
smtpd_client_connection_count_limit = 5000
# The smart host: the sink; STARTTLS when offered.
relayhost = [127.0.0.2]:$SINK_PORT
smtp_tls_security_level = may
EOF
echo "u@bench.test u@bench.test" >"$PF/etc/senders"
cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
cleanup   unix  n - n -   0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -   - trivial-rewrite
bounce    unix  - - n -   0 bounce
defer     unix  - - n -   0 bounce
trace     unix  - - n -   0 bounce
verify    unix  - - n -   1 verify
proxymap  unix  - - n -   - proxymap
smtp      unix  - - n -   - smtp
relay     unix  - - n -   - smtp
showq     unix  n - n -   - showq
error     unix  - - n -   - error
retry     unix  - - n -   - error
discard   unix  - - n -   - discard
anvil     unix  - - n -   1 anvil
scache    unix  - - n -   1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
postfix -c "$PF/etc" check
postfix -c "$PF/etc" start >/dev/null 2>&1 || {
	cat "$PF/maillog" >&2
	exit 1
}

$BENCH wait "$PT_PORT"
$BENCH wait "$PF_PORT"
for _ in $(seq 50); do [ -S "$DV/auth-postfix" ] && break; sleep 0.1; done
[ -S "$DV/auth-postfix" ] || {
	echo "relay: Dovecot's auth socket did not appear" >&2
	cat "$DV/dovecot.log" >&2
	exit 1
}
PF_MASTER=$(tr -d ' ' <"$PF/spool/pid/master.pid")

echo "== machine"
echo "nproc: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "postern $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')," \
	"binary of $BUILT (workers = ${POSTERN_WORKERS:-0}, 0 = one per CPU);" \
	"Postfix $(postconf -c "$PF/etc" -h mail_version)," \
	"Dovecot $(dovecot --version | cut -d' ' -f1) (auth only)"
$BENCH fsyncprobe "$W/probe"
rm -rf "$W/probe"
echo "load average before (other work on this machine): $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
echo "== relay: submitted on 587-style ports, delivered to smtp-sink"
$RB throughput "$SINK_PORT" "postern=$PT_PORT:$PT_PID" \
	"postfix=$PF_PORT:$PF_MASTER,$DV_PID" || status=1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if ! kill -0 "$PT_PID" 2>/dev/null; then
	echo "PROBLEM: postern exited during the benchmark"
	status=1
fi
if grep -E 'level=(error|crit|fatal)|crash|signal|result=deferred' \
	"$W/postern.log" | head -5 | grep .; then
	echo "PROBLEM: postern logged the lines above ($W/postern.log)"
	status=1
fi
if grep -E 'warning|fatal|panic|status=deferred' "$PF/maillog" | head -5 |
	grep .; then
	echo "note: Postfix logged the lines above"
fi
[ $status -eq 0 ] || KEEP=1
exit $status
