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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/limits.h"
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

static const char *const root_keys[] = {"hostname", "data_dir", "user",
					"workers",  "log",	"tls",
					"limits",   "listeners"};
static const char *const log_keys[] = {"level", "file"};
static const char *const tls_keys[] = {"cert", "key", "min_version", "sni"};
static const char *const sni_keys[] = {"name", "cert", "key"};
static const char *const limits_keys[] = {
	"max_connections",
	"max_connections_per_ip",
	"idle_timeout",
	"shutdown_timeout",
};
static const char *const listener_keys[] = {"service", "address", "port",
					    "tls"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One load in progress. */
struct loader {
	const char *name;     /* file name in messages */
	const char *base_dir; /* absolute; relative paths start here */
	struct config_errors *errors;
	struct config *cfg;
};

static void errors_add(struct config_errors *errors, char *msg)
{
	errors->msgs = xrealloc(errors->msgs,
				(errors->count + 1) * sizeof(*errors->msgs));
	errors->msgs[errors->count++] = msg;
}

void config_errors_fini(struct config_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		free(errors->msgs[i]);
	free(errors->msgs);
	errors->msgs = NULL;
	errors->count = 0;
}

/*
 * Make path absolute against base (already absolute) and drop "." parts
 * and repeated slashes. ".." stays: with symbolic links only the file
 * system knows where it leads. The caller frees the result.
 */
static char *path_resolve(const char *base, const char *path)
{
	char *p =
		path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", base, path);
	char *out = p;
	const char *in = p;

	while (*in != '\0') {
		const char *part;
		size_t len;

		while (*in == '/')
			in++;
		part = in;
		while (*in != '\0' && *in != '/')
			in++;
		len = (size_t)(in - part);
		if (len == 0 || (len == 1 && part[0] == '.'))
			continue;
		*out++ = '/';
		memmove(out, part, len);
		out += len;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
	return p;
}

/*
 * Name of the file a setting or error comes from: the name the caller gave
 * for the main file, an absolute path for an @include (libconfig keeps the
 * name as written). The caller frees it.
 */
static char *source_name(const struct loader *ld, const char *file)
{
	if (file == NULL)
		return xstrdup(ld->name);
	return path_resolve(ld->base_dir, file);
}

/*
 * Record "FILE:LINE: parent.key: message" for setting where. parent and key
 * may each be NULL. The root group has no line; its errors (missing
 * top-level keys) point at line 1.
 */
static void __attribute__((format(printf, 5, 6)))
report(struct loader *ld, const config_setting_t *where, const char *parent,
       const char *key, const char *fmt, ...)
{
	char *file = source_name(ld, config_setting_source_file(where));
	unsigned int line = config_setting_source_line(where);
	va_list ap;
	char *body;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		fatal("out of memory formatting a configuration error");
	va_end(ap);
	if (line == 0)
		line = 1;
	errors_add(ld->errors,
		   xasprintf("%s:%u: %s%s%s%s%s", file, line,
			     parent != NULL ? parent : "",
			     parent != NULL && key != NULL ? "." : "",
			     key != NULL ? key : "",
			     parent != NULL || key != NULL ? ": " : "", body));
	free(body);
	free(file);
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Edit distance where swapping two neighbours counts as one edit ("prot"
 * for "port"), for "did you mean". Long names count as far.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][32]; /* rows i-2, i-1, i, rotating */

	if (la >= COUNT(rows[0]) || lb >= COUNT(rows[0]))
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3];
		size_t *prev2 = rows[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

/* One edit away, or two for names long enough to tell apart. */
static int near_miss(const char *name, const char *known)
{
	size_t d = edit_distance(name, known);

	return d == 1 || (d == 2 && strlen(known) >= 6);
}

/* Report every member of group whose name is not in known[]. */
static void check_keys(struct loader *ld, config_setting_t *group,
		       const char *path, const char *const *known, size_t n)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const char *near = NULL;
		size_t k;

		for (k = 0; k < n && strcmp(name, known[k]) != 0; k++) {
			if (near == NULL && near_miss(name, known[k]))
				near = known[k];
		}
		if (k < n)
			continue;
		if (near != NULL)
			report(ld, s, path, NULL,
			       "unknown key '%s' (did you mean '%s'?)", name,
			       near);
		else
			report(ld, s, path, NULL, "unknown key '%s'", name);
	}
}

/*
 * Typed getters. Each returns 1 when key is present and valid, 0 when it
 * is absent, -1 when it is invalid (already reported).
 */
static int get_string(struct loader *ld, config_setting_t *group,
		      const char *path, const char *key, const char **value_r)
{
	config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(ld, s, path, key, "must be a string (got %s)",
		       type_name(s));
		return -1;
	}
	*value_r = config_setting_get_string(s);
	return 1;
}

/* A non-empty string. */
static int get_text(struct loader *ld, config_setting_t *group,
		    const char *path, const char *key, const char **value_r)
{
	int ret = get_string(ld, group, path, key, value_r);

	if (ret == 1 && (*value_r)[0] == '\0') {
		report(ld, config_setting_get_member(group, key), path, key,
		       "must not be empty");
		return -1;
	}
	return ret;
}

/*
 * Note: libconfig 1.5 wraps integers that overflow 32 bits without a word;
 * only values written with an L suffix arrive as 64-bit.
 */
static int get_int(struct loader *ld, config_setting_t *group, const char *path,
		   const char *key, long long min, long long max, int *value_r)
{
	config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		report(ld, s, path, key, "must be an integer (got %s)",
		       type_name(s));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		report(ld, s, path, key, "must be %lld..%lld (got %lld)", min,
		       max, v);
		return -1;
	}
	*value_r = (int)v;
	return 1;
}

/* "\"a\", \"b\" or \"c\"", for messages; the caller frees it. */
static char *join_names(const char *const *names, size_t n)
{
	char *s = xasprintf("\"%s\"", names[0]);

	for (size_t i = 1; i < n; i++) {
		char *next = xasprintf("%s%s\"%s\"", s,
				       i + 1 == n ? " or " : ", ", names[i]);

		free(s);
		s = next;
	}
	return s;
}

/* A string that must be one of names[]; *value_r gets its index. */
static int get_enum(struct loader *ld, config_setting_t *group,
		    const char *path, const char *key, const char *const *names,
		    size_t n, int *value_r)
{
	const char *value;
	int ret = get_string(ld, group, path, key, &value);
	char *expected;

	if (ret != 1)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0) {
			*value_r = (int)i;
			return 1;
		}
	}
	expected = join_names(names, n);
	report(ld, config_setting_get_member(group, key), path, key,
	       "must be %s (got \"%s\")", expected, value);
	free(expected);
	return -1;
}

/* A non-empty path, made absolute; *value_r is owned by the caller. */
static int get_path(struct loader *ld, config_setting_t *group,
		    const char *path, const char *key, char **value_r)
{
	const char *value;
	int ret = get_text(ld, group, path, key, &value);

	if (ret == 1)
		*value_r = path_resolve(ld->base_dir, value);
	return ret;
}

/* A group member that must itself be a group; NULL when absent or not. */
static config_setting_t *get_group(struct loader *ld, config_setting_t *parent,
				   const char *key)
{
	config_setting_t *s = config_setting_get_member(parent, key);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		report(ld, s, NULL, key, "must be a group { ... } (got %s)",
		       type_name(s));
		return NULL;
	}
	return s;
}

/* A list of groups ( { ... }, ... ); NULL when absent or not. */
static config_setting_t *get_group_list(struct loader *ld,
					config_setting_t *parent,
					const char *path, const char *key)
{
	config_setting_t *s = config_setting_get_member(parent, key);
	int ok = 1;

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		report(ld, s, path, key,
		       "must be a list of groups ( { ... }, ... ) (got %s)",
		       type_name(s));
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			char *name = xasprintf("%s%s%s.[%d]",
					       path != NULL ? path : "",
					       path != NULL ? "." : "", key, i);

			report(ld, e, name, NULL,
			       "must be a group { ... } (got %s)",
			       type_name(e));
			free(name);
			ok = 0;
		}
	}
	return ok ? s : NULL;
}

static void report_missing(struct loader *ld, const config_setting_t *where,
			   const char *path, const char *key)
{
	report(ld, where, path, key, "required setting is missing");
}

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

static void parse_hostname(struct loader *ld, config_setting_t *root)
{
	char buf[HOSTNAME_MAX + 2];
	const char *value;

	switch (get_string(ld, root, NULL, "hostname", &value)) {
	case 1:
		if (!hostname_valid(value, 0)) {
			report(ld, config_setting_get_member(root, "hostname"),
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

static void parse_workers(struct loader *ld, config_setting_t *root)
{
	struct config *cfg = ld->cfg;
	long cpus;

	if (get_int(ld, root, NULL, "workers", 0, WORKERS_MAX, &cfg->workers) <
	    0)
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

static void parse_log(struct loader *ld, config_setting_t *root)
{
	config_setting_t *log = get_group(ld, root, "log");
	const char *file;
	int level;

	if (log == NULL)
		return;
	check_keys(ld, log, "log", log_keys, COUNT(log_keys));
	if (get_enum(ld, log, "log", "level", log_level_names,
		     COUNT(log_level_names), &level) == 1)
		ld->cfg->log_level = (enum log_level)level;
	/* "" is the documented way to say stderr. */
	if (get_string(ld, log, "log", "file", &file) == 1 && file[0] != '\0')
		ld->cfg->log_file = path_resolve(ld->base_dir, file);
}

/* Parse one tls.sni element into sni; path names it in messages. */
static void parse_sni(struct loader *ld, config_setting_t *group,
		      const char *path, struct config_sni *sni)
{
	const char *name;
	int ret;

	sni->line = (int)config_setting_source_line(group);
	check_keys(ld, group, path, sni_keys, COUNT(sni_keys));
	ret = get_text(ld, group, path, "name", &name);
	if (ret == 0)
		report_missing(ld, group, path, "name");
	else if (ret == 1 && !hostname_valid(name, 1))
		report(ld, config_setting_get_member(group, "name"), path,
		       "name",
		       "must be a host name, \"*.\" may lead (got \"%s\")",
		       name);
	else if (ret == 1)
		sni->name = xstrdup(name);
	if (get_path(ld, group, path, "cert", &sni->cert) == 0)
		report_missing(ld, group, path, "cert");
	if (get_path(ld, group, path, "key", &sni->key) == 0)
		report_missing(ld, group, path, "key");
}

/* Host names compare without case: RFC 4343. */
static void check_sni_duplicate(struct loader *ld, config_setting_t *group,
				const char *path, size_t i)
{
	const struct config_sni *sni = ld->cfg->tls.sni;

	if (sni[i].name == NULL)
		return;
	for (size_t j = 0; j < i; j++) {
		if (sni[j].name != NULL &&
		    strcasecmp(sni[j].name, sni[i].name) == 0) {
			report(ld, group, path, "name",
			       "\"%s\" is already given at line %d",
			       sni[i].name, sni[j].line);
			return;
		}
	}
}

static void parse_sni_list(struct loader *ld, config_setting_t *tls)
{
	config_setting_t *list = get_group_list(ld, tls, "tls", "sni");
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
		report(ld, list, "tls", "sni",
		       "needs tls.cert and tls.key as the default certificate");
}

static void parse_tls(struct loader *ld, config_setting_t *root)
{
	config_setting_t *tls = get_group(ld, root, "tls");
	struct config *cfg = ld->cfg;
	int cert, key, version;

	if (tls == NULL)
		return;
	cfg->tls.line = (int)config_setting_source_line(tls);
	check_keys(ld, tls, "tls", tls_keys, COUNT(tls_keys));
	cert = get_path(ld, tls, "tls", "cert", &cfg->tls.cert);
	key = get_path(ld, tls, "tls", "key", &cfg->tls.key);
	if (cert == 1 && key == 0)
		report(ld, config_setting_get_member(tls, "cert"), "tls", NULL,
		       "cert is set but key is missing: set both or neither");
	else if (cert == 0 && key == 1)
		report(ld, config_setting_get_member(tls, "key"), "tls", NULL,
		       "key is set but cert is missing: set both or neither");
	if (cert != 1 || key != 1) {
		xfree(&cfg->tls.cert);
		xfree(&cfg->tls.key);
	}
	if (get_enum(ld, tls, "tls", "min_version", tls_version_names,
		     COUNT(tls_version_names), &version) == 1)
		cfg->tls.min_version = version == 0 ? 12 : 13;
	parse_sni_list(ld, tls);
}

static void parse_limits(struct loader *ld, config_setting_t *root)
{
	config_setting_t *limits = get_group(ld, root, "limits");
	struct config *cfg = ld->cfg;

	if (limits == NULL)
		return;
	check_keys(ld, limits, "limits", limits_keys, COUNT(limits_keys));
	(void)get_int(ld, limits, "limits", "max_connections", 1, 1000000,
		      &cfg->limits.max_connections);
	(void)get_int(ld, limits, "limits", "max_connections_per_ip", 1,
		      1000000, &cfg->limits.max_connections_per_ip);
	(void)get_int(ld, limits, "limits", "idle_timeout", 10, 86400,
		      &cfg->limits.idle_timeout);
	(void)get_int(ld, limits, "limits", "shutdown_timeout", 0, 3600,
		      &cfg->limits.shutdown_timeout);
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

static void parse_listener_address(struct loader *ld, config_setting_t *group,
				   const char *path, struct config_listener *l)
{
	struct endpoint ep;
	const char *address = "0.0.0.0";

	if (get_string(ld, group, path, "address", &address) < 0)
		return;
	if (endpoint_parse(address, &ep) < 0) {
		report(ld, config_setting_get_member(group, "address"), path,
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
static void check_listener_tls(struct loader *ld, config_setting_t *group,
			       const char *path,
			       const struct config_listener *l)
{
	config_setting_t *s = config_setting_get_member(group, "tls");

	if (l->tls != CONFIG_TLS_NONE && ld->cfg->tls.cert == NULL)
		report(ld, s, path, "tls",
		       "\"%s\" needs a certificate: set tls.cert and tls.key",
		       config_tls_mode_name(l->tls));
	else if (l->tls == CONFIG_TLS_NONE && l->service != SERVICE_SMTP)
		report(ld, s, path, "tls",
		       "\"none\" is not allowed for %s: credentials are only "
		       "accepted over TLS (use \"starttls\" or \"implicit\")",
		       config_service_name(l->service));
}

/*
 * Parse one listeners element. Returns 0 when address and port are valid
 * (enough to look for duplicates), else -1.
 */
static int parse_listener(struct loader *ld, config_setting_t *group,
			  const char *path, struct config_listener *l)
{
	int service = 0, tls = 0, found_service, found_tls, found_port;

	l->line = (int)config_setting_source_line(group);
	check_keys(ld, group, path, listener_keys, COUNT(listener_keys));
	found_service = get_enum(ld, group, path, "service", service_names,
				 COUNT(service_names), &service);
	found_tls = get_enum(ld, group, path, "tls", tls_mode_names,
			     COUNT(tls_mode_names), &tls);
	found_port = get_int(ld, group, path, "port", 1, 65535, &l->port);
	parse_listener_address(ld, group, path, l);
	if (found_service == 0)
		report_missing(ld, group, path, "service");
	if (found_tls == 0)
		report_missing(ld, group, path, "tls");
	if (found_port == 0)
		report_missing(ld, group, path, "port");
	l->service = (enum config_service)service;
	l->tls = (enum config_tls_mode)tls;
	if (found_service == 1 && found_tls == 1)
		check_listener_tls(ld, group, path, l);
	return found_port == 1 && l->address != NULL ? 0 : -1;
}

/* Two listeners on one address and port could not both bind. */
static void check_listener_duplicate(struct loader *ld, config_setting_t *group,
				     const char *path, size_t i,
				     const unsigned char *valid)
{
	const struct config_listener *ls = ld->cfg->listeners;
	struct endpoint a, b;

	(void)endpoint_parse(ls[i].address, &a);
	for (size_t j = 0; j < i; j++) {
		if (!valid[j] || ls[j].port != ls[i].port)
			continue;
		(void)endpoint_parse(ls[j].address, &b);
		if (memcmp(&a, &b, sizeof(a)) == 0) {
			report(ld, group, path, NULL,
			       "address %s port %d is already used by "
			       "listeners.[%zu] at line %d",
			       ls[i].address, ls[i].port, j, ls[j].line);
			return;
		}
	}
}

static void parse_listeners(struct loader *ld, config_setting_t *root)
{
	config_setting_t *list = config_setting_get_member(root, "listeners");
	struct config *cfg = ld->cfg;
	unsigned char *valid; /* fit for the duplicate check */

	if (list == NULL) {
		report_missing(ld, root, NULL, "listeners");
		return;
	}
	list = get_group_list(ld, root, NULL, "listeners");
	if (list == NULL)
		return;
	cfg->listener_count = (size_t)config_setting_length(list);
	if (cfg->listener_count == 0 ||
	    cfg->listener_count > LIMIT_CONFIG_LISTENERS)
		report(ld, list, NULL, "listeners",
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
}

/* Order matters: listeners are checked against the tls group. */
static void parse_root(struct loader *ld, config_setting_t *root)
{
	const char *user;
	int ret;

	check_keys(ld, root, NULL, root_keys, COUNT(root_keys));
	parse_hostname(ld, root);
	if (get_path(ld, root, NULL, "data_dir", &ld->cfg->data_dir) == 0)
		report_missing(ld, root, NULL, "data_dir");
	ret = get_text(ld, root, NULL, "user", &user);
	if (ret == 1)
		ld->cfg->user = xstrdup(user);
	parse_workers(ld, root);
	parse_log(ld, root);
	parse_tls(ld, root);
	parse_limits(ld, root);
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
	struct loader ld = {name, base_dir, errors, NULL};
	size_t before = errors->count;
	config_t lc;

	ld.cfg = xcalloc(1, sizeof(*ld.cfg));
	ld.cfg->path = xstrdup(path);
	set_defaults(ld.cfg);
	config_init(&lc);
	config_set_include_dir(&lc, base_dir);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		char *file = source_name(&ld, config_error_file(&lc));

		errors_add(errors,
			   xasprintf("%s:%d: %s", file, config_error_line(&lc),
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
		return path_resolve("/", path);
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return NULL;
	abs = path_resolve(cwd, path);
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
		errors_add(errors, xasprintf("%s: cannot find the current "
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
		errors_add(errors, xasprintf("%s: cannot open: %s", path,
					     strerror(errno)));
		return NULL;
	}
	unfit = file_unfit(path, fp);
	if (unfit != NULL) {
		errors_add(errors, unfit);
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
		errors_add(errors, unfit);
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
		errors_add(errors, xasprintf("%s: cannot find the current "
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
