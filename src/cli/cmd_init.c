/*
 * postern init DIR: a working configuration in one step: DIR/postern.conf,
 * the data folder and a self-signed certificate, listeners on the standard
 * ports of DESIGN.md section 1 shifted by --port-base.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/userdb.h"
#include "cli/cli.h"
#include "lib/limits.h"
#include "lib/mem.h"
#include "net/tls.h"

/* Days the generated certificate is valid. */
#define INIT_CERT_DAYS 825

static const struct init_listener {
	const char *service;
	int port;
	const char *tls;
} init_listeners[] = {
	{"smtp", 25, "starttls"},	 {"submission", 587, "starttls"},
	{"submission", 465, "implicit"}, {"submission", 2525, "starttls"},
	{"imap", 143, "starttls"},	 {"imap", 993, "implicit"},
	{"pop3", 110, "starttls"},	 {"pop3", 995, "implicit"},
};

#define INIT_NLISTENERS (sizeof(init_listeners) / sizeof(init_listeners[0]))

struct init_opts {
	const char *dir;
	const char *hostname;
	const char *domain;
	const char *listen;
	long port_base;
	const char *user; /* account for the workers when run as root */
};

static void init_usage(FILE *fp)
{
	fprintf(fp, "usage: postern init DIR [--hostname H] [--domain D] "
		    "[--listen ADDR] [--port-base N]\n\n"
		    "Write DIR/postern.conf, create DIR/data and a self-signed "
		    "certificate for H\nin DIR/tls. Listeners are the standard "
		    "ports plus N (default 0); --listen\ndefaults to 127.0.0.1 "
		    "when N > 0, else 0.0.0.0.\n");
}

static int init_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "postern init: cannot create %s: %s\n", path,
		strerror(errno));
	return -1;
}

static void init_write_listeners(FILE *fp, const struct init_opts *o)
{
	fprintf(fp, "listeners = (\n");
	for (size_t i = 0; i < INIT_NLISTENERS; i++) {
		const struct init_listener *l = &init_listeners[i];

		fprintf(fp,
			"  { service = \"%s\"; address = \"%s\"; port = %ld; "
			"tls = \"%s\"; }%s\n",
			l->service, o->listen, l->port + o->port_base, l->tls,
			i + 1 < INIT_NLISTENERS ? "," : "");
	}
	fprintf(fp, ");\n");
}

static void init_write_config(FILE *fp, const struct init_opts *o)
{
	fprintf(fp,
		"# postern configuration, written by `postern init`.\n"
		"# Reference: docs/configuration.md in the source tree.\n"
		"# Check after editing: postern config check -c THIS_FILE\n"
		"# Relative paths are relative to this file's folder.\n\n"
		"hostname = \"%s\";\n"
		"data_dir = \"data\";\n",
		o->hostname);
	if (o->user != NULL)
		fprintf(fp,
			"# Workers drop root and run as this account.\n"
			"user = \"%s\";\n",
			o->user);
	fprintf(fp,
		"workers = 0; # 0: one per CPU\n\n"
		"log = { level = \"info\"; file = \"\"; }; # \"\": stderr\n\n"
		"tls = {\n"
		"  cert = \"tls/cert.pem\";\n"
		"  key = \"tls/key.pem\";\n"
		"  min_version = \"TLSv1.2\";\n"
		"};\n\n"
		"limits = {\n"
		"  max_connections = %d;\n"
		"  max_connections_per_ip = %d;\n"
		"  idle_timeout = %d;\n"
		"  shutdown_timeout = %d;\n"
		"};\n\n",
		LIMIT_MAX_CONNECTIONS, LIMIT_MAX_CONNECTIONS_PER_IP,
		LIMIT_IDLE_TIMEOUT, LIMIT_SHUTDOWN_TIMEOUT);
	fprintf(fp,
		"smtp = {\n"
		"  max_message_size = %d;\n"
		"  max_recipients = %d;\n"
		"  max_errors = %d;\n"
		"  data_timeout = %d;\n"
		"  vrfy = false;\n"
		"  expn = false;\n"
		"  etrn_domains = [];\n"
		"  mx_auth = false;\n"
		"  hide_client_ip = false;\n"
		"  relay_networks = []; # no relaying without AUTH\n"
		"};\n\n",
		LIMIT_SMTP_MESSAGE_SIZE, LIMIT_SMTP_RECIPIENTS,
		LIMIT_SMTP_ERRORS, LIMIT_SMTP_DATA_TIMEOUT);
	init_write_listeners(fp, o);
}

/* Write path durably and only if it does not exist yet. */
static int init_config_file(const char *path, const struct init_opts *o)
{
	FILE *fp = fopen(path, "wx");
	int ok;

	if (fp == NULL) {
		fprintf(stderr, "postern init: cannot create %s: %s\n", path,
			errno == EEXIST ? "it already exists"
					: strerror(errno));
		return -1;
	}
	init_write_config(fp, o);
	ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0;
	if (fclose(fp) != 0 || !ok) {
		fprintf(stderr, "postern init: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

/* As root, workers need an account; prefer a dedicated one. */
static const char *init_pick_user(void)
{
	if (geteuid() != 0)
		return NULL;
	return getpwnam("postern") != NULL ? "postern" : "nobody";
}

static int init_data_dir(const char *dir, const char *user)
{
	char *data = xasprintf("%s/data", dir);
	struct passwd *pw = user ? getpwnam(user) : NULL;
	int ret = init_mkdir(data, 0750);

	if (ret == 0 && pw != NULL &&
	    chown(data, pw->pw_uid, pw->pw_gid) != 0) {
		fprintf(stderr, "postern init: cannot chown %s: %s\n", data,
			strerror(errno));
		ret = -1;
	}
	free(data);
	return ret;
}

/* The user database with the first local domain in it. */
static int init_userdb(const struct init_opts *o)
{
	char *path = xasprintf("%s/data/%s", o->dir, USERDB_FILE);
	const char *error;
	struct userdb *db = userdb_open(path, true, &error);
	int rc = -1;

	if (db != NULL) {
		rc = userdb_domain_is_local(db, o->domain);
		if (rc < 0)
			error = "cannot read the user database";
		else if (rc == 0)
			rc = userdb_domain_add(db, o->domain, &error);
		userdb_free(&db);
	}
	if (rc >= 0)
		rc = userdb_chown(path, o->user, &error);
	if (rc < 0)
		fprintf(stderr, "postern init: %s\n", error);
	free(path);
	return rc < 0 ? -1 : 0;
}

static void init_report(const char *conf, const struct init_opts *o)
{
	printf("postern: initialised %s\n"
	       "  config    %s\n"
	       "  data      %s/data\n"
	       "  cert      %s/tls/cert.pem (self-signed for %s)\n"
	       "  domain    %s (in %s/data/%s)\n"
	       "listeners:\n",
	       o->dir, conf, o->dir, o->dir, o->hostname, o->domain, o->dir,
	       USERDB_FILE);
	for (size_t i = 0; i < INIT_NLISTENERS; i++) {
		const struct init_listener *l = &init_listeners[i];

		printf("  %-11s %s:%ld %s\n", l->service, o->listen,
		       l->port + o->port_base, l->tls);
	}
	printf("start with: postern serve -c %s\n", conf);
}

static int init_run(struct init_opts *o)
{
	char *conf = xasprintf("%s/postern.conf", o->dir);
	char *tlsdir = xasprintf("%s/tls", o->dir);
	char *cert = xasprintf("%s/cert.pem", tlsdir);
	char *key = xasprintf("%s/key.pem", tlsdir);
	const char *error;
	int ret = CLI_EXIT_USER;

	if (access(conf, F_OK) == 0) {
		fprintf(stderr, "postern init: %s already exists\n", conf);
		goto out;
	}
	o->user = init_pick_user();
	if (init_mkdir(o->dir, 0755) < 0 || init_mkdir(tlsdir, 0700) < 0 ||
	    init_data_dir(o->dir, o->user) < 0)
		goto out;
	if (tls_selfsigned_write(cert, key, o->hostname, INIT_CERT_DAYS,
				 &error) < 0) {
		fprintf(stderr, "postern init: %s\n", error);
		ret = CLI_EXIT_INTERNAL;
		goto out;
	}
	if (init_config_file(conf, o) < 0)
		goto out;
	if (init_userdb(o) < 0) {
		ret = CLI_EXIT_INTERNAL;
		goto out;
	}
	init_report(conf, o);
	ret = CLI_EXIT_OK;
out:
	free(conf);
	free(tlsdir);
	free(cert);
	free(key);
	return ret;
}

static int init_parse_port_base(const char *arg, long *base_r)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || n < 0 ||
	    n + 2525 > 65535) {
		fprintf(stderr, "postern init: --port-base must be 0..%d\n",
			65535 - 2525);
		return -1;
	}
	*base_r = n;
	return 0;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"hostname", required_argument, NULL, 'H'},
		{"domain", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"port-base", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct init_opts o = {0};
	char host[256] = "localhost";
	const char *dot, *error;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			o.hostname = optarg;
			break;
		case 'd':
			o.domain = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 'p':
			if (init_parse_port_base(optarg, &o.port_base) < 0)
				return CLI_EXIT_USER;
			break;
		case 'h':
			init_usage(stdout);
			return CLI_EXIT_OK;
		default:
			init_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind + 1 != argc) {
		init_usage(stderr);
		return CLI_EXIT_USER;
	}
	o.dir = argv[optind];
	if (o.hostname == NULL) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			strlcpy_p(host, "localhost", sizeof(host));
		o.hostname = host;
	}
	dot = strchr(o.hostname, '.');
	if (o.domain == NULL)
		o.domain = dot != NULL && dot[1] != '\0' ? dot + 1 : o.hostname;
	if (o.listen == NULL)
		o.listen = o.port_base > 0 ? "127.0.0.1" : "0.0.0.0";
	if (userdb_domain_check(o.domain, &error) < 0) {
		fprintf(stderr, "postern init: domain %s: %s\n", o.domain,
			error);
		return CLI_EXIT_USER;
	}
	return init_run(&o);
}
