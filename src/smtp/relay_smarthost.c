/*
 * Delivery through the smart host (relay.host). With relay.port = auto
 * the candidate ports are tried in order, the one that worked last
 * first; the first that takes a session (greeting, TLS, AUTH) is
 * remembered in memory and in queue/smarthost, and the log says once
 * which ports were blocked on the way (DESIGN.md 2).
 */
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "queue/smarthost_state.h"
#include "smtp/relay_int.h"

/* DESIGN.md 2: submission with STARTTLS, submissions, the alternate
 * submission port, then the MX port. */
static const struct relay_port relay_default_ports[] = {
	{587, SMTP_TLS_ENCRYPT},
	{465, SMTP_TLS_IMPLICIT},
	{2525, SMTP_TLS_ENCRYPT},
	{25, SMTP_TLS_MAY},
};

static const struct relay_port *relay_ports(const struct relay_ctx *ctx,
					    size_t *n_r)
{
	if (ctx->auto_count > 0) {
		*n_r = ctx->auto_count < RELAY_AUTO_MAX ? ctx->auto_count
							: RELAY_AUTO_MAX;
		return ctx->auto_ports;
	}
	*n_r = sizeof(relay_default_ports) / sizeof(relay_default_ports[0]);
	return relay_default_ports;
}

void relay_smarthost_remembered(struct relay_ctx *ctx)
{
	size_t n;
	const struct relay_port *ports = relay_ports(ctx, &n);
	int port = smarthost_state_load(ctx->data_dir, ctx->smarthost);

	ctx->auto_known = -1;
	for (size_t i = 0; port > 0 && i < n; i++) {
		if (ports[i].port == port) {
			ctx->auto_known = (int)i;
			log_info(NULL, "smarthost remembered", "port=%d", port);
			return;
		}
	}
}

void relay_smarthost_start(struct relay_job *j)
{
	const struct relay_ctx *ctx = j->ctx;
	size_t nports = 1, k = 0, n;

	j->auto_index = -1;
	j->blocked[0] = '\0';
	if (ctx->smarthost_port == 0) {
		relay_ports(ctx, &n);
		nports = n;
		/* The port that worked last first, then the list in order. */
		if (ctx->auto_known >= 0 && (size_t)ctx->auto_known < n)
			j->auto_order[k++] = (size_t)ctx->auto_known;
		for (size_t i = 0; i < n; i++) {
			if ((int)i != ctx->auto_known)
				j->auto_order[k++] = i;
		}
	}
	/* The smart host once per port to try. */
	j->hosts = xcalloc(nports, sizeof(*j->hosts));
	for (size_t i = 0; i < nports; i++)
		strlcpy_p(j->hosts[i].name, ctx->smarthost,
			  sizeof(j->hosts[i].name));
	j->nhosts = nports;
	j->port = ctx->smarthost_port;
	/* A fixed port: implicit TLS on 465, STARTTLS required with
	 * credentials or on any port but 25. */
	j->port_tls = j->port == 465 ? SMTP_TLS_IMPLICIT
		      : j->port == 25 && ctx->smarthost_user == NULL
			      ? SMTP_TLS_MAY
			      : SMTP_TLS_ENCRYPT;
}

void relay_smarthost_next_port(struct relay_job *j)
{
	size_t n, len = strlen(j->blocked);
	const struct relay_port *ports;

	if (j->ctx->smarthost_port != 0)
		return;
	ports = relay_ports(j->ctx, &n);
	/* The port tried before this one did not work out. */
	if (j->auto_index >= 0 && len + 7 < sizeof(j->blocked))
		snprintf(j->blocked + len, sizeof(j->blocked) - len, "%s%d",
			 len > 0 ? "," : "", ports[j->auto_index].port);
	j->auto_index = (int)j->auto_order[j->host_i];
	j->port = ports[j->auto_index].port;
	j->port_tls = ports[j->auto_index].tls;
}

void relay_smarthost_ready(struct relay_job *j)
{
	struct relay_ctx *ctx = j->ctx;
	const char *error;

	if (j->auto_index < 0 || j->auto_index == ctx->auto_known)
		return;
	ctx->auto_known = j->auto_index;
	log_info(NULL, "smarthost", "port=%d blocked=%s", j->port,
		 j->blocked[0] != '\0' ? j->blocked : "none");
	if (smarthost_state_save(ctx->data_dir, ctx->smarthost, j->port,
				 &error) < 0)
		log_warn(NULL, "cannot remember the smart host port",
			 "error=%s", log_qs((char[300]){0}, 300, error));
}
