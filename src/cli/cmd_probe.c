/*
 * postern probe HOST: check a mail host's ports, TLS and extensions from
 * here, and say which port a mail client should use (probe/probe.h).
 * Exit codes: 0 all good, 1 problems found, 2 could not probe (bad usage
 * included: the caller learns nothing about the host).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "probe/probe.h"
#include "server/config.h"

#define PROBE_EXIT_ERROR 2
/* Longest password read from stdin, newline included. */
#define PROBE_PASSWORD_MAX 1024
#define PROBE_TIMEOUT_MAX 600

static void probe_usage(FILE *fp)
{
	fprintf(fp,
		"usage: postern probe HOST [--ports LIST] [--port-base N] "
		"[--json]\n"
		"         [--timeout SECONDS] [--user U --password-stdin]\n"
		"         [--dns IP[@PORT]] [--ca-file FILE] [--no-legacy-tls] "
		"[-c FILE]\n\n"
		"Check which mail ports of HOST answer from this network, "
		"their TLS,\ncertificate and extensions, and say which port "
		"a mail client should use.\nHOST is a mail domain (its MX "
		"hosts and smtp./imap./pop./mail. names\nare probed) or a "
		"host name or address (every port on it).\n\n"
		"  --ports LIST       ports to probe, e.g. 587,465 (default "
		"25,465,587,2525,\n"
		"                     110,995,143,993); N=STD probes port N "
		"as the standard\n"
		"                     port STD (1587=587)\n"
		"  --port-base N      add N to every standard port (a test "
		"server)\n"
		"  --json             one JSON document instead of text\n"
		"  --timeout SECONDS  deadline of each step (default %d)\n"
		"  --user U --password-stdin\n"
		"                     also try to log in (only over TLS)\n"
		"  --dns IP[@PORT]    resolver to ask (default: dns.forward "
		"of the\n"
		"                     configuration, else /etc/resolv.conf)\n"
		"  --ca-file FILE     trust these certificates too\n"
		"  --no-legacy-tls    skip the TLS 1.0/1.1 check\n"
		"  --helo NAME        name to give in EHLO (default: this "
		"host's)\n"
		"  -v, --verbose      log every session step to stderr\n\n"
		"Exit: 0 all good, 1 problems found, 2 could not probe.\n",
		PROBE_DEFAULT_TIMEOUT);
}

static int probe_number(const char *s, long min, long max, long *v_r)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*v_r = v;
	return 0;
}

/* One --ports entry: "STD" or "PORT=STD". */
static int probe_port_entry(struct probe_opts *o, const char *e, long base)
{
	const char *eq = strchr(e, '=');
	char num[16];
	long port, std;

	if (o->nroles >= sizeof(o->roles) / sizeof(o->roles[0]))
		return -1;
	if (eq != NULL) {
		if ((size_t)(eq - e) >= sizeof(num))
			return -1;
		memcpy(num, e, (size_t)(eq - e));
		num[eq - e] = '\0';
		if (probe_number(num, 1, 65535, &port) < 0 ||
		    probe_number(eq + 1, 1, 65535, &std) < 0)
			return -1;
	} else {
		if (probe_number(e, 1, 65535, &std) < 0)
			return -1;
		port = std + base;
	}
	o->roles[o->nroles] = probe_role_find((int)std);
	if (o->roles[o->nroles] == NULL || port > 65535)
		return -1;
	o->ports[o->nroles++] = (int)port;
	return 0;
}

static int probe_ports(struct probe_opts *o, const char *list, long base)
{
	o->nroles = 0;
	if (list == NULL) {
		for (size_t i = 0; i < probe_nroles; i++) {
			o->roles[o->nroles] = &probe_roles[i];
			o->ports[o->nroles++] =
				(int)(probe_roles[i].port + base);
		}
		return 0;
	}
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char e[32];

		if (len == 0 || len >= sizeof(e)) {
			fprintf(stderr, "postern probe: bad port list '%s'\n",
				list);
			return -1;
		}
		memcpy(e, p, len);
		e[len] = '\0';
		if (probe_port_entry(o, e, base) < 0) {
			fprintf(stderr, "postern probe: bad port '%s'\n", e);
			return -1;
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static char *probe_read_password(void)
{
	static char pw[PROBE_PASSWORD_MAX];
	size_t len;

	if (fgets(pw, sizeof(pw), stdin) == NULL)
		return NULL;
	len = strlen(pw);
	if (len > 0 && pw[len - 1] == '\n')
		pw[--len] = '\0';
	if (len > 0 && pw[len - 1] == '\r')
		pw[--len] = '\0';
	return len > 0 ? pw : NULL;
}

/* dns.forward of the configuration: -c FILE, $POSTERN_CONFIG, or the
 * default file when it is there. Returns -1 when a named one is unusable */
static int probe_config_dns(const char *option, char **forward_r)
{
	const char *path = cli_config_path(option);
	bool named = option != NULL || getenv("POSTERN_CONFIG") != NULL;
	struct config *cfg;

	*forward_r = NULL;
	if (!named && access(path, R_OK) != 0)
		return 0;
	cfg = cli_config_load("probe", path);
	if (cfg == NULL)
		return named ? -1 : 0;
	if (cfg->dns.forward != NULL)
		*forward_r = xstrdup(cfg->dns.forward);
	config_free(&cfg);
	return 0;
}

struct probe_cli {
	struct probe_opts o;
	const char *ports;
	const char *config;
	long base;
	bool json;
	bool password_stdin;
	bool verbose;
};

static int probe_parse(struct probe_cli *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{"ports", required_argument, NULL, 'p'},
		{"port-base", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"password-stdin", no_argument, NULL, 'P'},
		{"dns", required_argument, NULL, 'd'},
		{"ca-file", required_argument, NULL, 'a'},
		{"no-legacy-tls", no_argument, NULL, 'L'},
		{"helo", required_argument, NULL, 'H'},
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			p->ports = optarg;
			break;
		case 'b':
			if (probe_number(optarg, 0, 65000, &p->base) < 0)
				return -1;
			break;
		case 'j':
			p->json = true;
			break;
		case 't':
			if (probe_number(optarg, 1, PROBE_TIMEOUT_MAX, &v) < 0)
				return -1;
			p->o.timeout_s = (int)v;
			break;
		case 'u':
			p->o.user = optarg;
			break;
		case 'P':
			p->password_stdin = true;
			break;
		case 'd':
			p->o.dns_forward = optarg;
			break;
		case 'a':
			p->o.ca_file = optarg;
			break;
		case 'L':
			p->o.no_legacy = true;
			break;
		case 'H':
			p->o.helo = optarg;
			break;
		case 'c':
			p->config = optarg;
			break;
		case 'v':
			p->verbose = true;
			break;
		case 'h':
			probe_usage(stdout);
			exit(CLI_EXIT_OK);
		default:
			return -1;
		}
	}
	if (optind + 1 != argc || (p->o.user != NULL) != p->password_stdin)
		return -1;
	p->o.host = argv[optind];
	return probe_ports(&p->o, p->ports, p->base);
}

int cmd_probe(int argc, char **argv)
{
	struct probe_cli p = {.o.timeout_s = PROBE_DEFAULT_TIMEOUT};
	struct probe_run *run;
	struct probe_advice advice;
	char *forward = NULL;
	const char *error;
	long long now;
	int code;

	if (probe_parse(&p, argc, argv) < 0) {
		probe_usage(stderr);
		return PROBE_EXIT_ERROR;
	}
	if (log_open(NULL, p.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR,
		     &error) < 0) {
		fprintf(stderr, "postern probe: %s\n", error);
		return PROBE_EXIT_ERROR;
	}
	log_set_process("probe");
	if (p.password_stdin) {
		p.o.password = probe_read_password();
		if (p.o.password == NULL) {
			fprintf(stderr,
				"postern probe: no password on stdin\n");
			return PROBE_EXIT_ERROR;
		}
	}
	if (p.o.dns_forward == NULL) {
		if (probe_config_dns(p.config, &forward) < 0)
			return PROBE_EXIT_ERROR;
		p.o.dns_forward = forward;
	}
	/* Some kilobytes per target: not on the stack. */
	run = xcalloc(1, sizeof(*run));
	/* A run that probed nothing still reports why (exit 2). */
	if (probe_run(run, &p.o) < 0 && p.verbose)
		fprintf(stderr, "postern probe: %s\n", run->error);
	now = (long long)time(NULL);
	probe_advise(run->t, run->n, &advice);
	probe_collect_warnings(run, &advice, now);
	if (p.json)
		probe_report_json(stdout, run, &advice, now);
	else
		probe_report_text(stdout, run, &advice, now);
	code = probe_exit_code(run);
	if (p.o.password != NULL)
		explicit_bzero((char *)p.o.password, strlen(p.o.password));
	probe_run_free(run);
	free(run);
	free(forward);
	return code;
}
