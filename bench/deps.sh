#!/bin/sh
# Install the Debian packages the benchmarks need, on top of scripts/deps.sh.
# Bench-only, so `make test` never installs a second MTA. Idempotent: does
# nothing when all are present, and runs `apt-get update` only when
# something is missing.
set -eu

# Peer and load generator: Postfix (also provides smtp-source), run as a
# private instance on loopback by bench/run.sh. (OpenSMTPD is left out: its
# Debian package conflicts with postfix, both being mail-transport-agent.)
# python3 drives the idle-connection memory test. Dovecot is the IMAP peer
# of bench/imap_run.sh (private instance; the policy below keeps the
# package from starting a system one).
BENCH="postfix python3 procps dovecot-imapd"

missing=""
for p in $BENCH; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "bench deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Preseed so the install asks nothing and configures no system MTA (no
# main.cf: nothing starts on port 25).
printf '%s\n' \
	'postfix postfix/main_mailer_type select No configuration' \
	'postfix postfix/mailname string bench.test' |
	$SUDO debconf-set-selections
# No daemon starts from a package install (Debian's policy-rc.d: 101 = no).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
