#!/bin/sh
# postern vs Postfix on loopback, same machine, same run (see bench/README.md).
#
#   sh bench/run.sh                  build, set both up, measure, tear down
#
# Environment: POSTERN=path (skip `make build`), SIZES="2048 102400",
# CONCS="1 10 50", COUNT=N (messages per run), REPEAT=N (best of N,
# default 3), IDLE=2000 (idle connections for the memory figure), KEEP=1
# (keep the work directory), POSTERN_WORKERS=N (experiment; default one
# per CPU). Everything listens on 127.0.0.1 private ports only; needs root.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
PY=/usr/bin/python3
BENCH="$PY $ROOT/bench/bench.py"
IDLE=${IDLE:-2000}

sh bench/deps.sh
if [ -z "${POSTERN:-}" ]; then
	POSTERN=$ROOT/build/postern
	# src/ may be mid-edit: fall back to the last good binary, say so.
	if ! make build >"${TMPDIR:-/tmp}/postern-bench-build.log" 2>&1; then
		[ -x "$POSTERN" ] || {
			cat "${TMPDIR:-/tmp}/postern-bench-build.log" >&2
			rm -f "${TMPDIR:-/tmp}/postern-bench-build.log"
			exit 1
		}
		echo "bench: WARNING: make build failed; using the existing" \
			"$POSTERN of $(date -r "$POSTERN" '+%F %T')" >&2
	fi
	rm -f "${TMPDIR:-/tmp}/postern-bench-build.log"
fi

[ "$(id -u)" -eq 0 ] || {
	echo "bench: run as root (Postfix's master and the workers' drop to" \
		"nobody need it)" >&2
	exit 1
}

# Work directory: postern's workers run as nobody and must reach data/.
W=$(mktemp -d /tmp/postern-bench.XXXXXX)
chmod 755 "$W"
PT_PID=""
PF="$W/postfix"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	set +e
	[ -n "$PT_PID" ] && kill "$PT_PID" 2>/dev/null && wait "$PT_PID" 2>/dev/null
	[ -f "$PF/etc/main.cf" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench: kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Our own copy: a rebuild of build/ during the run cannot change it.
BUILT=$(date -r "$POSTERN" '+%F %T')
cp "$POSTERN" "$W/postern-bin"
POSTERN=$W/postern-bin

BASE=$($BENCH portbase)
PT_PORT=$((BASE + 25))
PF_PORT=$((BASE + 26))

# --- postern ------------------------------------------------------------
# One client address opens up to 2,000 connections.
bench_postern_init "$W/postern" "$BASE" 5000
printf 'x\n' | "$POSTERN" user add u@bench.test --password-stdin \
	-c "$W/postern/postern.conf" >/dev/null
"$POSTERN" config check -c "$W/postern/postern.conf" >/dev/null
"$POSTERN" serve -c "$W/postern/postern.conf" 2>"$W/postern.log" &
PT_PID=$!
PT_MAILDIR="$W/postern/data/mail/bench.test/u"

# --- Postfix: a private instance, nothing shared with a system one --------
mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/mail"
chown postfix "$PF/data"
chown nobody:nogroup "$PF/mail"
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
relay_domains =
smtpd_relay_restrictions = reject_unauth_destination
alias_maps =
alias_database =
# No network here: no DNS for client names or outbound mail.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = texthash:$PF/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
EOF
echo "u@bench.test bench.test/u/" >"$PF/etc/vmailbox"
# master.cf: smtpd on the private port only; no chroot (nothing to copy in).
# Process limits, fsync of queue and Maildir files: Postfix defaults.
cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
cleanup   unix  n - n -   0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -   - trivial-rewrite
bounce    unix  - - n -   0 bounce
defer     unix  - - n -   0 bounce
trace     unix  - - n -   0 bounce
verify    unix  - - n -   1 verify
proxymap  unix  - - n -   - proxymap
smtp      unix  - - n -   - smtp
showq     unix  n - n -   - showq
error     unix  - - n -   - error
retry     unix  - - n -   - error
discard   unix  - - n -   - discard
virtual   unix  - n n -   - virtual
anvil     unix  - - n -   1 anvil
scache    unix  - - n -   1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
postfix -c "$PF/etc" check
postfix -c "$PF/etc" start >/dev/null 2>&1 || {
	cat "$PF/maillog" >&2
	exit 1
}
PF_MAILDIR="$PF/mail/bench.test/u"

$BENCH wait "$PT_PORT"
$BENCH wait "$PF_PORT"
PF_MASTER=$(tr -d ' ' <"$PF/spool/pid/master.pid")

echo "== machine"
echo "nproc: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);" \
	"RAM: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
DEV=$(df --output=source /tmp | tail -1)
echo "disk: $DEV, $(df --output=fstype /tmp | tail -1)," \
	"$(findmnt -n -o OPTIONS --target /tmp)"
echo "postern $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')," \
	"binary of $BUILT (workers = ${POSTERN_WORKERS:-0}, 0 = one per CPU); Postfix $(postconf -c "$PF/etc" -h mail_version)"
$BENCH fsyncprobe "$W/probe"
rm -rf "$W/probe"
echo "load average before (other work on this machine): $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
# Idle memory first, on fresh processes (no Postfix smtpd left over from
# the throughput runs). Postfix needs one smtpd process per connection, so
# it gets 50 (its default limits allow 100 processes, 50 per client).
echo "== idle SMTP connections: memory (Pss of the server's processes)"
IDLE_LABEL=postern IDLE_CHECK_MAILDIR=$PT_MAILDIR \
	$BENCH idle "$PT_PORT" "$IDLE" "$PT_PID" || status=1
IDLE_LABEL=postfix $BENCH idle "$PF_PORT" 50 "$PF_MASTER" || status=1

echo "== throughput: smtp-source, messages in the Maildir per second"
$BENCH throughput "postern=$PT_PORT:$PT_PID:$PT_MAILDIR" \
	"postfix=$PF_PORT:$PF_MASTER:$PF_MAILDIR" || status=1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if ! kill -0 "$PT_PID" 2>/dev/null; then
	echo "PROBLEM: postern exited during the benchmark"
	status=1
fi
if grep -E 'level=(error|crit|fatal)|crash|signal' "$W/postern.log" | head -5 |
	grep .; then
	echo "PROBLEM: postern logged the errors above ($W/postern.log)"
	status=1
fi
if grep -E 'warning|fatal|panic' "$PF/maillog" | head -5 | grep .; then
	echo "note: Postfix logged the warnings above"
fi
# On failure keep the logs for a look.
[ $status -eq 0 ] || KEEP=1
exit $status
