/*
 * The outbound part of the configuration: queue timing, concurrency and
 * source addresses, the DNS resolver, the optional smart host.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/rdata.h"
#include "lib/limits.h"
#include "lib/mem.h"
#include "server/config_get.h"

static const char *const queue_keys[] = {
	"lifetime",	"warn_after",	   "concurrency",	  "mx_port",
	"retry",	"max_connections", "max_per_destination", "tls_policy",
	"bind_address", "bind_address6",
};
static const char *const tls_policy_keys[] = {"domain", "tls"};
/* queue.tls_policy words, in enum config_out_tls order. */
static const char *const out_tls_names[] = {"none", "may", "encrypt"};
static const char *const dns_keys[] = {"forward", "trust_anchor"};
static const char *const relay_keys[] = {"host", "port", "user",
					 "password_file", "auto_ports"};
/* relay.auto_ports words, in enum config_relay_tls order. */
static const char *const relay_tls_names[] = {"may", "starttls", "tls"};

void config_outbound_defaults(struct config *cfg)
{
	cfg->queue.lifetime = LIMIT_QUEUE_LIFETIME;
	cfg->queue.warn_after = LIMIT_QUEUE_WARN_AFTER;
	cfg->queue.concurrency = LIMIT_QUEUE_CONCURRENCY;
	cfg->queue.mx_port = 25;
	cfg->queue.max_connections = LIMIT_QUEUE_CONNECTIONS;
	cfg->queue.max_per_destination = LIMIT_QUEUE_PER_DESTINATION;
}

void config_outbound_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->queue.tls_policy_count; i++)
		free(cfg->queue.tls_policy[i].domain);
	free(cfg->queue.tls_policy);
	free(cfg->queue.bind_address);
	free(cfg->queue.bind_address6);
	free(cfg->dns.forward);
	free(cfg->dns.trust_anchor);
	free(cfg->relay.host);
	free(cfg->relay.user);
	free(cfg->relay.password_file);
}

/* queue.retry = [300, 600, ...]: seconds between attempts, last repeats. */
static void parse_retry(struct config_loader *ld, config_setting_t *q)
{
	config_setting_t *r = config_setting_get_member(q, "retry");
	struct config *cfg = ld->cfg;
	int n;

	if (r == NULL)
		return;
	n = config_setting_length(r);
	if ((config_setting_type(r) != CONFIG_TYPE_ARRAY &&
	     config_setting_type(r) != CONFIG_TYPE_LIST) ||
	    n < 1 || n > (int)COUNT(cfg->queue.retry)) {
		config_report(ld, r, "queue", "retry",
			      "must be an array of 1..%zu integers (seconds)",
			      COUNT(cfg->queue.retry));
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(r, i);
		long long v = -1;

		if (config_setting_type(e) == CONFIG_TYPE_INT ||
		    config_setting_type(e) == CONFIG_TYPE_INT64)
			v = config_setting_get_int64(e);
		if (v < 1 || v > 86400) {
			config_report(ld, e, "queue", "retry",
				      "element %d must be 1..86400 seconds", i);
			return;
		}
		cfg->queue.retry[i] = (int)v;
	}
	cfg->queue.retry_count = (size_t)n;
}

/* One queue.tls_policy element: a domain (or "*") and its mode. */
static void parse_tls_policy_one(struct config_loader *ld, config_setting_t *g,
				 const char *path, struct config_tls_policy *tp)
{
	const char *domain;
	int ret, mode;

	tp->line = (int)config_setting_source_line(g);
	tp->tls = CONFIG_OUT_TLS_MAY;
	config_check_keys(ld, g, path, tls_policy_keys, COUNT(tls_policy_keys));
	ret = config_get_text(ld, g, path, "domain", &domain);
	if (ret == 0)
		config_report_missing(ld, g, path, "domain");
	else if (ret == 1 && strcmp(domain, "*") != 0 &&
		 (!dns_name_valid(domain) || domain[strlen(domain) - 1] == '.'))
		config_report(ld, config_setting_get_member(g, "domain"), path,
			      "domain",
			      "must be a domain name or \"*\" (got \"%s\")",
			      domain);
	else if (ret == 1)
		tp->domain = xstrdup(domain);
	ret = config_get_enum(ld, g, path, "tls", out_tls_names,
			      COUNT(out_tls_names), &mode);
	if (ret == 0)
		config_report_missing(ld, g, path, "tls");
	else if (ret == 1)
		tp->tls = (enum config_out_tls)mode;
}

/* Domains compare without case (RFC 4343); each may appear once. */
static void check_tls_policy_duplicate(struct config_loader *ld,
				       config_setting_t *g, const char *path,
				       size_t i)
{
	const struct config_tls_policy *tp = ld->cfg->queue.tls_policy;

	if (tp[i].domain == NULL)
		return;
	for (size_t k = 0; k < i; k++) {
		if (tp[k].domain != NULL &&
		    strcasecmp(tp[k].domain, tp[i].domain) == 0) {
			config_report(ld, g, path, "domain",
				      "\"%s\" is already given at line %d",
				      tp[i].domain, tp[k].line);
			return;
		}
	}
}

/* queue.tls_policy = ( { domain = "example.org"; tls = "encrypt"; } ). */
static void parse_tls_policy(struct config_loader *ld, config_setting_t *q)
{
	config_setting_t *list =
		config_get_group_list(ld, q, "queue", "tls_policy");
	struct config *cfg = ld->cfg;
	size_t n;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > CONFIG_TLS_POLICY_MAX) {
		config_report(ld, list, "queue", "tls_policy",
			      "at most %d domains (got %zu)",
			      CONFIG_TLS_POLICY_MAX, n);
		return;
	}
	cfg->queue.tls_policy_count = n;
	cfg->queue.tls_policy = xcalloc(n + 1, sizeof(*cfg->queue.tls_policy));
	for (size_t i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, (int)i);
		char *path = xasprintf("queue.tls_policy.[%zu]", i);

		parse_tls_policy_one(ld, e, path, &cfg->queue.tls_policy[i]);
		check_tls_policy_duplicate(ld, e, path, i);
		free(path);
	}
}

/*
 * queue.lifetime: seconds as an integer (60 and up: anything shorter is
 * a mistake in production), or a string with its unit, "5d", "12h",
 * "30m", "90s", which may go down to one second (tests of expiry).
 */
static void parse_lifetime(struct config_loader *ld, config_setting_t *q)
{
	static const struct {
		char unit;
		long long seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	config_setting_t *s = config_setting_get_member(q, "lifetime");
	const long long max = 30LL * 86400;
	const char *text, *p;
	long long v = 0;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING) {
		(void)config_get_int(ld, q, "queue", "lifetime", 60, max,
				     &ld->cfg->queue.lifetime);
		return;
	}
	text = config_setting_get_string(s);
	for (p = text; *p >= '0' && *p <= '9' && v <= max; p++)
		v = v * 10 + (*p - '0');
	for (size_t i = 0;
	     p > text && p[0] != '\0' && p[1] == '\0' && i < COUNT(units);
	     i++) {
		if (*p == units[i].unit && v <= max) {
			v *= units[i].seconds;
			if (v >= 1 && v <= max) {
				ld->cfg->queue.lifetime = (int)v;
				return;
			}
		}
	}
	config_report(ld, s, "queue", "lifetime",
		      "must be 60..%lld seconds, or a number with its unit "
		      "s, m, h or d up to 30d (got \"%s\")",
		      max, text);
}

/*
 * queue.bind_address (IPv4) and queue.bind_address6 (IPv6): one numeric
 * address of the right family each. Whether it is this host's own shows
 * only when a connection binds it (and fails, EADDRNOTAVAIL): the file
 * may be checked on another machine.
 */
static void parse_bind_address(struct config_loader *ld, config_setting_t *q,
			       const char *key, int family, char **value_r)
{
	unsigned char bin[sizeof(struct in6_addr)];
	const char *v;

	if (config_get_text(ld, q, "queue", key, &v) != 1)
		return;
	if (inet_pton(family, v, bin) != 1) {
		config_report(ld, config_setting_get_member(q, key), "queue",
			      key, "must be a numeric %s address (got \"%s\")",
			      family == AF_INET ? "IPv4" : "IPv6", v);
		return;
	}
	*value_r = xstrdup(v);
}

static void parse_queue(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *q = config_get_group(ld, root, "queue");
	struct config *cfg = ld->cfg;

	if (q == NULL)
		return;
	config_check_keys(ld, q, "queue", queue_keys, COUNT(queue_keys));
	parse_lifetime(ld, q);
	(void)config_get_int(ld, q, "queue", "warn_after", 0, 30 * 86400,
			     &cfg->queue.warn_after);
	(void)config_get_int(ld, q, "queue", "concurrency", 1, 10000,
			     &cfg->queue.concurrency);
	(void)config_get_int(ld, q, "queue", "mx_port", 1, 65535,
			     &cfg->queue.mx_port);
	(void)config_get_int(ld, q, "queue", "max_connections", 1, 10000,
			     &cfg->queue.max_connections);
	(void)config_get_int(ld, q, "queue", "max_per_destination", 1, 10000,
			     &cfg->queue.max_per_destination);
	parse_retry(ld, q);
	parse_tls_policy(ld, q);
	parse_bind_address(ld, q, "bind_address", AF_INET,
			   &cfg->queue.bind_address);
	parse_bind_address(ld, q, "bind_address6", AF_INET6,
			   &cfg->queue.bind_address6);
}

/* A non-empty string setting copied into *value_r. */
static void parse_text_into(struct config_loader *ld, config_setting_t *g,
			    const char *path, const char *key, char **value_r)
{
	const char *v;

	if (config_get_text(ld, g, path, key, &v) == 1)
		*value_r = xstrdup(v);
}

static void parse_dns(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *d = config_get_group(ld, root, "dns");

	if (d == NULL)
		return;
	config_check_keys(ld, d, "dns", dns_keys, COUNT(dns_keys));
	parse_text_into(ld, d, "dns", "forward", &ld->cfg->dns.forward);
	(void)config_get_path(ld, d, "dns", "trust_anchor",
			      &ld->cfg->dns.trust_anchor);
}

/* "PORT/MODE": 1..65535, then may|starttls|tls. */
static int parse_auto_port(const char *s, struct config_relay_port *p_r)
{
	const char *slash = strchr(s, '/');
	long port = 0;
	size_t i;

	if (slash == NULL || slash == s || slash - s > 5)
		return -1;
	for (const char *d = s; d < slash; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		port = port * 10 + (*d - '0');
	}
	if (port < 1 || port > 65535)
		return -1;
	for (i = 0; i < COUNT(relay_tls_names); i++) {
		if (strcmp(slash + 1, relay_tls_names[i]) == 0) {
			p_r->port = (int)port;
			p_r->tls = (enum config_relay_tls)i;
			return 0;
		}
	}
	return -1;
}

/* relay.auto_ports = ["587/starttls", "465/tls", ...]: for tests and
 * unusual smart hosts; the default list is DESIGN.md's. */
static void parse_auto_ports(struct config_loader *ld, config_setting_t *r)
{
	struct config *cfg = ld->cfg;
	char **v = NULL;
	size_t n = 0;

	if (config_get_strings(ld, r, "relay", "auto_ports", &v, &n) != 1)
		return;
	if (n > COUNT(cfg->relay.auto_ports))
		config_report(ld, config_setting_get_member(r, "auto_ports"),
			      "relay", "auto_ports", "at most %zu ports",
			      COUNT(cfg->relay.auto_ports));
	for (size_t i = 0; i < n && i < COUNT(cfg->relay.auto_ports); i++) {
		if (parse_auto_port(v[i], &cfg->relay.auto_ports[i]) < 0) {
			config_report(
				ld, config_setting_get_member(r, "auto_ports"),
				"relay", "auto_ports",
				"\"%s\" is not PORT/MODE (MODE: may, "
				"starttls or tls)",
				v[i]);
			break;
		}
		cfg->relay.auto_count = i + 1;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void parse_relay(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *r = config_get_group(ld, root, "relay");
	struct config *cfg = ld->cfg;
	const char *port;

	if (r == NULL)
		return;
	config_check_keys(ld, r, "relay", relay_keys, COUNT(relay_keys));
	parse_text_into(ld, r, "relay", "host", &cfg->relay.host);
	parse_text_into(ld, r, "relay", "user", &cfg->relay.user);
	(void)config_get_path(ld, r, "relay", "password_file",
			      &cfg->relay.password_file);
	/* port = "auto" or a number */
	if (config_setting_get_member(r, "port") != NULL &&
	    config_setting_type(config_setting_get_member(r, "port")) ==
		    CONFIG_TYPE_STRING) {
		if (config_get_string(ld, r, "relay", "port", &port) == 1 &&
		    strcmp(port, "auto") != 0)
			config_report(
				ld, config_setting_get_member(r, "port"),
				"relay", "port",
				"must be \"auto\" or 1..65535 (got \"%s\")",
				port);
	} else {
		(void)config_get_int(ld, r, "relay", "port", 1, 65535,
				     &cfg->relay.port);
	}
	parse_auto_ports(ld, r);
	if (cfg->relay.user != NULL && cfg->relay.password_file == NULL)
		config_report(ld, r, "relay", "user",
			      "needs relay.password_file");
}

void config_parse_outbound(struct config_loader *ld, config_setting_t *root)
{
	parse_queue(ld, root);
	parse_dns(ld, root);
	parse_relay(ld, root);
}
