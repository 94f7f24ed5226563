#!/bin/sh
# Install every Debian package postern needs to build, run and test.
# Idempotent: does nothing when all are present, and runs `apt-get update`
# only when something is missing. Every package the project uses is listed
# here and nowhere else; nothing is installed by hand only.
set -eu

# Build: compiler, meson/ninja, and the libraries of DESIGN.md section 4.
BUILD="build-essential meson ninja-build pkg-config
	libevent-dev libssl-dev libunbound-dev libsqlite3-dev libcrypt-dev
	libconfig-dev zlib1g-dev libldap-dev libargon2-dev"
# Run: `postern init` needs nothing beyond the libraries above; openssl(1)
# is used by the tests and operators to inspect certificates.
RUN="openssl ca-certificates"
# Test: cmocka unit tests, pytest integration tests with real clients,
# clang for the libFuzzer targets and the sanitizer build, unbound as the
# local DNS server the tests start (tests/dns/), Net::SSLeay for swaks --tls
# (a Recommends, so --no-install-recommends skips it), and the IMAP/POP3 clients
# the store is tested with (mbsync, offlineimap, fetchmail, getmail, mpop).
TEST="libcmocka-dev python3 python3-pytest clang libclang-rt-14-dev
	swaks libnet-ssleay-perl procps curl msmtp unbound
	isync offlineimap3 fetchmail getmail6 mpop"
# Peers: Postfix and Dovecot, run by the tests (and bench/) as private
# instances on loopback ports. Installed with "No configuration" and with
# daemon starts refused, so no system MTA or IMAP server ever runs.
PEERS="postfix dovecot-imapd"

missing=""
for p in $BUILD $RUN $TEST $PEERS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
printf '%s\n' \
	'postfix postfix/main_mailer_type select No configuration' \
	'postfix postfix/mailname string postern.test' |
	$SUDO debconf-set-selections
# Debian's policy-rc.d: exit 101 = no package may start its daemon.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
