# Shared by the bench/*_run.sh scripts (sourced; POSIX sh).

# bench_postern_init DIR BASE MAXCONN: a postern for bench.test in DIR on
# port base BASE, with the connection limits raised to MAXCONN (every
# benchmark connection comes from 127.0.0.1; the defaults are 1000 and
# 20 per address) and, with POSTERN_WORKERS=N (an experiment only; the
# default 0 is one worker per CPU), N workers. Nothing else of the
# generated configuration changes. Needs $POSTERN.
bench_postern_init() {
	"$POSTERN" init "$1" --port-base "$2" --hostname bench.test \
		--domain bench.test >/dev/null
	sed -i -e "s/^\( *max_connections = \)[0-9]*;/\1$3;/" \
		-e "s/^\( *max_connections_per_ip = \)[0-9]*;/\1$3;/" \
		"$1/postern.conf"
	grep -q "max_connections_per_ip = $3;" "$1/postern.conf"
	if [ -n "${POSTERN_WORKERS:-}" ]; then
		sed -i "s/^workers = [0-9]*;/workers = $POSTERN_WORKERS;/" \
			"$1/postern.conf"
		grep -q "^workers = $POSTERN_WORKERS;" "$1/postern.conf"
	fi
}
