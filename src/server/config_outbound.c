/*
 * The outbound part of the configuration: queue timing and concurrency,
 * the DNS resolver, the optional smart host.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/mem.h"
#include "server/config_get.h"

static const char *const queue_keys[] = {
	"lifetime", "warn_after", "concurrency", "mx_port", "retry",
};
static const char *const dns_keys[] = {"forward", "trust_anchor"};
static const char *const relay_keys[] = {"host", "port", "user",
					 "password_file"};

void config_outbound_defaults(struct config *cfg)
{
	cfg->queue.lifetime = LIMIT_QUEUE_LIFETIME;
	cfg->queue.warn_after = LIMIT_QUEUE_WARN_AFTER;
	cfg->queue.concurrency = LIMIT_QUEUE_CONCURRENCY;
	cfg->queue.mx_port = 25;
}

void config_outbound_free(struct config *cfg)
{
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

static void parse_queue(struct config_loader *ld, config_setting_t *root)
{
	config_setting_t *q = config_get_group(ld, root, "queue");
	struct config *cfg = ld->cfg;

	if (q == NULL)
		return;
	config_check_keys(ld, q, "queue", queue_keys, COUNT(queue_keys));
	(void)config_get_int(ld, q, "queue", "lifetime", 60, 30 * 86400,
			     &cfg->queue.lifetime);
	(void)config_get_int(ld, q, "queue", "warn_after", 0, 30 * 86400,
			     &cfg->queue.warn_after);
	(void)config_get_int(ld, q, "queue", "concurrency", 1, 10000,
			     &cfg->queue.concurrency);
	(void)config_get_int(ld, q, "queue", "mx_port", 1, 65535,
			     &cfg->queue.mx_port);
	parse_retry(ld, q);
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
