/*
 * Configuration loader: libconfig text in, one validated struct config out.
 *
 * SECURITY: the file is written by the operator, not by the network, but
 * it decides which ports speak plaintext. The rules of DESIGN.md §7 that a
 * configuration could break (credentials only over TLS) are enforced here,
 * so a server with such a listener never starts.
 *
 * Every problem is collected, not only the first, each as
 * "FILE:LINE: key.path: message"; list elements are named as libconfig
 * paths name them, counted from 0 ("listeners.[2].port").
 */
#include "server/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/limits.h"
#include "server/config_get.h"
#include "lib/mem.h"

#define WORKERS_MAX 256
/* A configuration file larger than this is a mistake (wrong file). */
#define CONFIG_FILE_MAX (1024L * 1024)
/* Host names: RFC 1035 2.3.4. */
#define HOSTNAME_MAX 253
#define LABEL_MAX 63

static const char *const service_names[] = {"smtp", "submission", "imap",
					    "pop3"};
static const char *const tls_mode_names[] = {"none", "starttls", "implicit"};
static const char *const log_level_names[] = {"debug", "info", "warn", "error"};
static const char *const tls_version_names[] = {"TLSv1.2", "TLSv1.3"};

static const char *const root_keys[] = {
	"hostname", "data_dir", "user",	 "workers", "log",   "tls",
	"limits",   "smtp",	"queue", "dns",	    "relay", "listeners"};
static const char *const log_keys[] = {"level", "file"};
static const char *const tls_keys[] = {"cert", "key", "min_version", "sni"};
static const char *const sni_keys[] = {"name", "cert", "key"};
static const char *const limits_keys[] = {
	"max_connections",
	"max_connections_per_ip",
	"idle_timeout",
	"shutdown_timeout",
};
static const char *const smtp_keys[] = {
	"max_message_size", "max_recipients", "max_errors",
	"data_timeout",	    "vrfy",	      "expn",
	"etrn_domains",	    "mx_auth",	      "hide_client_ip",
	"relay_networks",   "etrn_networks",
};
static const char *const listener_keys[] = {"service", "address", "port",
					    "tls"};

/* RFC 1123 2.1 host name; with wildcard, "*." may lead (SNI names). */
static int hostname_valid(const char *name, int wildcard)
{
	size_t label = 0;

	if (wildcard && strncmp(name, "*.", 2) == 0)
		name += 2;
	if (name[0] == '\0' || strlen(name) > HOSTNAME_MAX)
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if ((label == 0 && *p == '-') || ++label > LABEL_MAX)
			return 0;
	}
	return label > 0 && name[strlen(name) - 1] != '-';
}

static void parse_hostname(struct config_loader *ld, config_setting_t *root)
{
	char buf[HOSTNAME_MAX + 2];
	const char *value;

	switch (config_get_string(ld, root, NULL, "hostname", &value)) {
	case 1:
		if (!hostname_valid(value, 0)) {
			config_report(
				ld, config_setting_get_member(root, "hostname"),
				NULL, "hostname",
				"must be a host name: letters, digits, '-' "
				"and '.' (got \"%s\")",
				value);
			return;
		}
		ld->cfg->hostname = xstrdup(value);
		return;
	case 0:
		if (gethostname(buf, sizeof(buf)) != 0)
			strlcpy_p(buf, "localhost", sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		ld->cfg->hostname = xstrdup(buf);
		return;
	default:
		return;
	}
}

static void parse_workers(struct config_loader *ld, config_setting_t *root)
{
	struct config *cfg = ld->cfg;
	long cpus;

	if (config_get_int(ld, root, NULL, "workers", 0, WORKERS_MAX,
			   &cfg->workers) < 0)
		return;
	if (cfg->workers != 0)
		return;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	if (cpus > WORKERS_MAX)
		cpus = WORKERS_MAX;
	cfg->workers = (int)cpus;
}

static void parse_log(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *log = config_get_group(ld, root, "log");
	const char *file;
	int level;

	if (log == NULL)
		return;
	config_check_keys(ld, log, "log", log_keys, COUNT(log_keys));
	if (config_get_enum(ld, log, "log", "level", log_level_names,
			    COUNT(log_level_names), &level) == 1)
		ld->cfg->log_level = (enum log_level)level;
	/* "" is the documented way to say stderr. */
	if (config_get_string(ld, log, "log", "file", &file) == 1 &&
	    file[0] != '\0')
		ld->cfg->log_file = config_path_resolve(ld->base_dir, file);
}

/* Parse one tls.sni element into sni; path names it in messages. */
static void parse_sni(struct config_loader *ld, config_setting_t *group,
		      const char *path, struct config_sni *sni)
{
	const char *name;
	int ret;

	sni->line = (int)config_setting_source_line(group);
	config_check_keys(ld, group, path, sni_keys, COUNT(sni_keys));
	ret = config_get_text(ld, group, path, "name", &name);
	if (ret == 0)
		config_report_missing(ld, group, path, "name");
	else if (ret == 1 && !hostname_valid(name, 1))
		config_report(
			ld, config_setting_get_member(group, "name"), path,
			"name",
			"must be a host name, \"*.\" may lead (got \"%s\")",
			name);
	else if (ret == 1)
		sni->name = xstrdup(name);
	if (config_get_path(ld, group, path, "cert", &sni->cert) == 0)
		config_report_missing(ld, group, path, "cert");
	if (config_get_path(ld, group, path, "key", &sni->key) == 0)
		config_report_missing(ld, group, path, "key");
}

/* Host names compare without case: RFC 4343. */
static void check_sni_duplicate(struct config_loader *ld,
				config_setting_t *group, const char *path,
				size_t i)
{
	const struct config_sni *sni = ld->cfg->tls.sni;

	if (sni[i].name == NULL)
		return;
	for (size_t j = 0; j < i; j++) {
		if (sni[j].name != NULL &&
		    strcasecmp(sni[j].name, sni[i].name) == 0) {
			config_report(ld, group, path, "name",
				      "\"%s\" is already given at line %d",
				      sni[i].name, sni[j].line);
			return;
		}
	}
}

static void parse_sni_list(struct config_loader *ld, config_setting_t *tls)
{
	config_setting_t *list = config_get_group_list(ld, tls, "tls", "sni");
	struct config *cfg = ld->cfg;

	if (list == NULL)
		return;
	cfg->tls.sni_count = (size_t)config_setting_length(list);
	cfg->tls.sni = xcalloc(cfg->tls.sni_count, sizeof(*cfg->tls.sni));
	for (size_t i = 0; i < cfg->tls.sni_count; i++) {
		config_setting_t *e = config_setting_get_elem(list, (int)i);
		char *path = xasprintf("tls.sni.[%zu]", i);

		parse_sni(ld, e, path, &cfg->tls.sni[i]);
		check_sni_duplicate(ld, e, path, i);
		free(path);
	}
	/* A client that sends no SNI (or an unknown name) needs a default. */
	if (cfg->tls.sni_count > 0 && cfg->tls.cert == NULL)
		config_report(ld, list, "tls", "sni",
			      "needs tls.cert and tls.key as the default "
			      "certificate");
}

static void parse_tls(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *tls = config_get_group(ld, root, "tls");
	struct config *cfg = ld->cfg;
	int cert, key, version;

	if (tls == NULL)
		return;
	cfg->tls.line = (int)config_setting_source_line(tls);
	config_check_keys(ld, tls, "tls", tls_keys, COUNT(tls_keys));
	cert = config_get_path(ld, tls, "tls", "cert", &cfg->tls.cert);
	key = config_get_path(ld, tls, "tls", "key", &cfg->tls.key);
	if (cert == 1 && key == 0)
		config_report(
			ld, config_setting_get_member(tls, "cert"), "tls", NULL,
			"cert is set but key is missing: set both or neither");
	else if (cert == 0 && key == 1)
		config_report(
			ld, config_setting_get_member(tls, "key"), "tls", NULL,
			"key is set but cert is missing: set both or neither");
	if (cert != 1 || key != 1) {
		xfree(&cfg->tls.cert);
		xfree(&cfg->tls.key);
	}
	if (config_get_enum(ld, tls, "tls", "min_version", tls_version_names,
			    COUNT(tls_version_names), &version) == 1)
		cfg->tls.min_version = version == 0 ? 12 : 13;
	parse_sni_list(ld, tls);
}

static void parse_limits(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *limits = config_get_group(ld, root, "limits");
	struct config *cfg = ld->cfg;

	if (limits == NULL)
		return;
	config_check_keys(ld, limits, "limits", limits_keys,
			  COUNT(limits_keys));
	(void)config_get_int(ld, limits, "limits", "max_connections", 1,
			     1000000, &cfg->limits.max_connections);
	(void)config_get_int(ld, limits, "limits", "max_connections_per_ip", 1,
			     1000000, &cfg->limits.max_connections_per_ip);
	(void)config_get_int(ld, limits, "limits", "idle_timeout", 10, 86400,
			     &cfg->limits.idle_timeout);
	(void)config_get_int(ld, limits, "limits", "shutdown_timeout", 0, 3600,
			     &cfg->limits.shutdown_timeout);
}

/* smtp.relay_networks, smtp.etrn_networks: lists of CIDR ranges. */
static void parse_networks(struct config_loader *ld, config_setting_t *smtp,
			   const char *key, struct cidr **nets_r,
			   size_t *count_r)
{
	char **nets = NULL;
	size_t n = 0;

	if (config_get_strings(ld, smtp, "smtp", key, &nets, &n) != 1)
		return;
	*nets_r = xcalloc(n, sizeof(struct cidr));
	for (size_t i = 0; i < n; i++) {
		if (cidr_parse(nets[i], &(*nets_r)[i]) < 0)
			config_report(ld, config_setting_get_member(smtp, key),
				      "smtp", key,
				      "\"%s\" is not an address or CIDR range",
				      nets[i]);
		free(nets[i]);
	}
	free(nets);
	*count_r = n;
}

static void parse_smtp(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *smtp = config_get_group(ld, root, "smtp");
	struct config *cfg = ld->cfg;

	if (smtp == NULL)
		return;
	config_check_keys(ld, smtp, "smtp", smtp_keys, COUNT(smtp_keys));
	(void)config_get_int(ld, smtp, "smtp", "max_message_size", 1024,
			     INT32_MAX, &cfg->smtp.max_message_size);
	(void)config_get_int(ld, smtp, "smtp", "max_recipients", 1, 100000,
			     &cfg->smtp.max_recipients);
	(void)config_get_int(ld, smtp, "smtp", "max_errors", 1, 1000,
			     &cfg->smtp.max_errors);
	(void)config_get_int(ld, smtp, "smtp", "data_timeout", 10, 86400,
			     &cfg->smtp.data_timeout);
	(void)config_get_bool(ld, smtp, "smtp", "vrfy", &cfg->smtp.vrfy);
	(void)config_get_bool(ld, smtp, "smtp", "expn", &cfg->smtp.expn);
	(void)config_get_strings(ld, smtp, "smtp", "etrn_domains",
				 &cfg->smtp.etrn_domains,
				 &cfg->smtp.etrn_count);
	(void)config_get_bool(ld, smtp, "smtp", "mx_auth", &cfg->smtp.mx_auth);
	(void)config_get_bool(ld, smtp, "smtp", "hide_client_ip",
			      &cfg->smtp.hide_client_ip);
	parse_networks(ld, smtp, "relay_networks", &cfg->smtp.relay_networks,
		       &cfg->smtp.relay_count);
	parse_networks(ld, smtp, "etrn_networks", &cfg->smtp.etrn_networks,
		       &cfg->smtp.etrn_net_count);
}

/* Binary form of a listener's address, for comparing two spellings. */
struct endpoint {
	int family;
	unsigned char addr[16];
};

static int endpoint_parse(const char *address, struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, address, ep->addr) == 1)
		ep->family = AF_INET;
	else if (inet_pton(AF_INET6, address, ep->addr) == 1)
		ep->family = AF_INET6;
	else
		return -1;
	return 0;
}

static void parse_listener_address(struct config_loader *ld,
				   config_setting_t *group, const char *path,
				   struct config_listener *l)
{
	struct endpoint ep;
	const char *address = "0.0.0.0";

	if (config_get_string(ld, group, path, "address", &address) < 0)
		return;
	if (endpoint_parse(address, &ep) < 0) {
		config_report(
			ld, config_setting_get_member(group, "address"), path,
			"address",
			"must be a numeric IPv4 or IPv6 address (got \"%s\")",
			address);
		return;
	}
	l->address = xstrdup(address);
}

/*
 * DESIGN.md §7: credentials only over TLS. Every service but MX asks for
 * them, so only smtp may listen in plaintext.
 */
static void check_listener_tls(struct config_loader *ld,
			       config_setting_t *group, const char *path,
			       const struct config_listener *l)
{
	config_setting_t *s = config_setting_get_member(group, "tls");

	if (l->tls != CONFIG_TLS_NONE && ld->cfg->tls.cert == NULL)
		config_report(
			ld, s, path, "tls",
			"\"%s\" needs a certificate: set tls.cert and tls.key",
			config_tls_mode_name(l->tls));
	else if (l->tls == CONFIG_TLS_NONE && l->service != SERVICE_SMTP)
		config_report(
			ld, s, path, "tls",
			"\"none\" is not allowed for %s: credentials are only "
			"accepted over TLS (use \"starttls\" or \"implicit\")",
			config_service_name(l->service));
}

/*
 * Parse one listeners element. Returns 0 when address and port are valid
 * (enough to look for duplicates), else -1.
 */
static int parse_listener(struct config_loader *ld, config_setting_t *group,
			  const char *path, struct config_listener *l)
{
	int service = 0, tls = 0, found_service, found_tls, found_port;

	l->line = (int)config_setting_source_line(group);
	config_check_keys(ld, group, path, listener_keys, COUNT(listener_keys));
	found_service =
		config_get_enum(ld, group, path, "service", service_names,
				COUNT(service_names), &service);
	found_tls = config_get_enum(ld, group, path, "tls", tls_mode_names,
				    COUNT(tls_mode_names), &tls);
	found_port =
		config_get_int(ld, group, path, "port", 1, 65535, &l->port);
	parse_listener_address(ld, group, path, l);
	if (found_service == 0)
		config_report_missing(ld, group, path, "service");
	if (found_tls == 0)
		config_report_missing(ld, group, path, "tls");
	if (found_port == 0)
		config_report_missing(ld, group, path, "port");
	l->service = (enum config_service)service;
	l->tls = (enum config_tls_mode)tls;
	if (found_service == 1 && found_tls == 1)
		check_listener_tls(ld, group, path, l);
	return found_port == 1 && l->address != NULL ? 0 : -1;
}

/* Two listeners on one address and port could not both bind. */
static void check_listener_duplicate(struct config_loader *ld,
				     config_setting_t *group, const char *path,
				     size_t i, const unsigned char *valid)
{
	const struct config_listener *ls = ld->cfg->listeners;
	struct endpoint a, b;

	(void)endpoint_parse(ls[i].address, &a);
	for (size_t j = 0; j < i; j++) {
		if (!valid[j] || ls[j].port != ls[i].port)
			continue;
		(void)endpoint_parse(ls[j].address, &b);
		if (memcmp(&a, &b, sizeof(a)) == 0) {
			config_report(ld, group, path, NULL,
				      "address %s port %d is already used by "
				      "listeners.[%zu] at line %d",
				      ls[i].address, ls[i].port, j, ls[j].line);
			return;
		}
	}
}

static void parse_listeners(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *list = config_setting_get_member(root, "listeners");
	struct config *cfg = ld->cfg;
	unsigned char *valid; /* fit for the duplicate check */

	if (list == NULL) {
		config_report_missing(ld, root, NULL, "listeners");
		return;
	}
	list = config_get_group_list(ld, root, NULL, "listeners");
	if (list == NULL)
		return;
	cfg->listener_count = (size_t)config_setting_length(list);
	if (cfg->listener_count == 0 ||
	    cfg->listener_count > LIMIT_CONFIG_LISTENERS)
		config_report(ld, list, NULL, "listeners",
			      "must hold 1..%d listeners (got %zu)",
			      LIMIT_CONFIG_LISTENERS, cfg->listener_count);
	cfg->listeners = xcalloc(cfg->listener_count, sizeof(*cfg->listeners));
	valid = xcalloc(cfg->listener_count, sizeof(*valid));
	for (size_t i = 0; i < cfg->listener_count; i++) {
		config_setting_t *e = config_setting_get_elem(list, (int)i);
		char *path = xasprintf("listeners.[%zu]", i);

		if (parse_listener(ld, e, path, &cfg->listeners[i]) == 0) {
			valid[i] = 1;
			check_listener_duplicate(ld, e, path, i, valid);
		}
		free(path);
	}
	free(valid);
}

static void set_defaults(struct config *cfg)
{
	cfg->workers = 0;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->tls.min_version = 12;
	cfg->limits.max_connections = LIMIT_MAX_CONNECTIONS;
	cfg->limits.max_connections_per_ip = LIMIT_MAX_CONNECTIONS_PER_IP;
	cfg->limits.idle_timeout = LIMIT_IDLE_TIMEOUT;
	cfg->limits.shutdown_timeout = LIMIT_SHUTDOWN_TIMEOUT;
	cfg->smtp.max_message_size = LIMIT_SMTP_MESSAGE_SIZE;
	cfg->smtp.max_recipients = LIMIT_SMTP_RECIPIENTS;
	cfg->smtp.max_errors = LIMIT_SMTP_ERRORS;
	cfg->smtp.data_timeout = LIMIT_SMTP_DATA_TIMEOUT;
	config_outbound_defaults(cfg);
}

/* Order matters: listeners are checked against the tls group. */
static void parse_root(struct config_loader *ld, config_setting_t *root)
{
	const char *user;
	int ret;

	config_check_keys(ld, root, NULL, root_keys, COUNT(root_keys));
	parse_hostname(ld, root);
	if (config_get_path(ld, root, NULL, "data_dir", &ld->cfg->data_dir) ==
	    0)
		config_report_missing(ld, root, NULL, "data_dir");
	ret = config_get_text(ld, root, NULL, "user", &user);
	if (ret == 1)
		ld->cfg->user = xstrdup(user);
	parse_workers(ld, root);
	parse_log(ld, root);
	parse_tls(ld, root);
	parse_limits(ld, root);
	parse_smtp(ld, root);
	config_parse_outbound(ld, root);
	parse_listeners(ld, root);
}

/*
 * Parse text; name is used in messages, path stored as cfg->path, base_dir
 * (absolute) resolves relative paths and @include.
 */
static struct config *parse_text(const char *text, const char *name,
				 const char *path, const char *base_dir,
				 struct config_errors *errors)
{
	struct config_loader ld = {name, base_dir, errors, NULL};
	size_t before = errors->count;
	config_t lc;

	ld.cfg = xcalloc(1, sizeof(*ld.cfg));
	ld.cfg->path = xstrdup(path);
	set_defaults(ld.cfg);
	config_init(&lc);
	config_set_include_dir(&lc, base_dir);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		char *file = config_source_name(&ld, config_error_file(&lc));

		config_errors_add(errors, xasprintf("%s:%d: %s", file,
						    config_error_line(&lc),
						    config_error_text(&lc)));
		free(file);
	} else {
		parse_root(&ld, config_root_setting(&lc));
	}
	config_destroy(&lc);
	if (errors->count > before)
		config_free(&ld.cfg);
	return ld.cfg;
}

/* path made absolute against the current folder; the caller frees it. */
static char *absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return config_path_resolve("/", path);
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return NULL;
	abs = config_path_resolve(cwd, path);
	free(cwd);
	return abs;
}

struct config *config_parse_string(const char *text, const char *name,
				   const char *base_dir,
				   struct config_errors *errors)
{
	char *base = absolute(base_dir != NULL ? base_dir : ".");
	struct config *cfg;

	if (base == NULL) {
		config_errors_add(errors,
				  xasprintf("%s: cannot find the current "
					    "folder: %s",
					    name, strerror(errno)));
		return NULL;
	}
	cfg = parse_text(text, name, name, base, errors);
	free(base);
	return cfg;
}

/* Why the opened file cannot be a configuration, or NULL when it can. */
static char *file_unfit(const char *path, FILE *fp)
{
	struct stat st;

	if (fstat(fileno(fp), &st) != 0)
		return xasprintf("%s: cannot read: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return xasprintf("%s: not a regular file", path);
	if (st.st_size > CONFIG_FILE_MAX)
		return xasprintf("%s: larger than %ld bytes", path,
				 CONFIG_FILE_MAX);
	return NULL;
}

/*
 * Read the whole file, bounded. Returns the text (caller frees) or NULL
 * with an error recorded.
 */
static char *read_file(const char *path, struct config_errors *errors)
{
	FILE *fp = fopen(path, "r");
	char *text, *unfit;
	size_t len;

	if (fp == NULL) {
		config_errors_add(errors, xasprintf("%s: cannot open: %s", path,
						    strerror(errno)));
		return NULL;
	}
	unfit = file_unfit(path, fp);
	if (unfit != NULL) {
		config_errors_add(errors, unfit);
		fclose(fp);
		return NULL;
	}
	/* One byte more than allowed: a file that grew is caught too. */
	text = xmalloc(CONFIG_FILE_MAX + 2);
	len = fread(text, 1, CONFIG_FILE_MAX + 1, fp);
	text[len] = '\0';
	if (ferror(fp))
		unfit = xasprintf("%s: cannot read: %s", path, strerror(errno));
	else if (len > CONFIG_FILE_MAX)
		unfit = xasprintf("%s: larger than %ld bytes", path,
				  CONFIG_FILE_MAX);
	else if (memchr(text, '\0', len) != NULL)
		unfit = xasprintf("%s: holds a NUL byte", path);
	if (unfit != NULL) {
		config_errors_add(errors, unfit);
		xfree(&text);
	}
	fclose(fp);
	return text;
}

struct config *config_load(const char *path, struct config_errors *errors)
{
	char *abs = absolute(path);
	char *text, *slash;
	struct config *cfg = NULL;

	if (abs == NULL) {
		config_errors_add(errors,
				  xasprintf("%s: cannot find the current "
					    "folder: %s",
					    path, strerror(errno)));
		return NULL;
	}
	text = read_file(path, errors);
	if (text != NULL) {
		char *base;

		slash = strrchr(abs, '/');
		base = slash == abs ? xstrdup("/")
				    : xstrndup(abs, (size_t)(slash - abs));
		/* cfg->path absolute: a reload after chdir("/") finds it. */
		cfg = parse_text(text, path, abs, base, errors);
		free(base);
		free(text);
	}
	free(abs);
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->hostname);
	free(cfg->data_dir);
	free(cfg->user);
	free(cfg->log_file);
	free(cfg->tls.cert);
	free(cfg->tls.key);
	for (size_t i = 0; i < cfg->tls.sni_count; i++) {
		free(cfg->tls.sni[i].name);
		free(cfg->tls.sni[i].cert);
		free(cfg->tls.sni[i].key);
	}
	free(cfg->tls.sni);
	for (size_t i = 0; i < cfg->listener_count; i++)
		free(cfg->listeners[i].address);
	free(cfg->listeners);
	for (size_t i = 0; i < cfg->smtp.etrn_count; i++)
		free(cfg->smtp.etrn_domains[i]);
	free(cfg->smtp.etrn_domains);
	free(cfg->smtp.relay_networks);
	free(cfg->smtp.etrn_networks);
	config_outbound_free(cfg);
	free(cfg);
	*cfgp = NULL;
}

const char *config_service_name(enum config_service service)
{
	if ((size_t)service >= COUNT(service_names))
		panic("config_service_name: bad service %d", (int)service);
	return service_names[service];
}

const char *config_tls_mode_name(enum config_tls_mode mode)
{
	if ((size_t)mode >= COUNT(tls_mode_names))
		panic("config_tls_mode_name: bad mode %d", (int)mode);
	return tls_mode_names[mode];
}
