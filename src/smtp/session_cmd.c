/*
 * SMTP commands outside the mail transaction: greeting, reset, STARTTLS,
 * VRFY/EXPN policy, HELP, ETRN, QUIT.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/sasl.h"
#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/address.h"
#include "net/conn.h"
#include "queue/spool.h"
#include "smtp/session_int.h"

static bool smtp_starttls_offered(const struct smtp_session *s)
{
	return s->srv->starttls && s->srv->tls != NULL && !conn_is_tls(s->conn);
}

/* HELO and EHLO: remember the name, start over (RFC 5321 4.1.4). */
static bool smtp_greet(struct smtp_session *s, const char *arg, size_t len,
		       bool esmtp)
{
	struct smtp_error err;
	char q[300];

	if (smtp_parse_helo(arg, len, &err) < 0) {
		smtp_reply_parse_error(s, &err);
		return false;
	}
	smtp_txn_reset(s);
	if (len >= sizeof(s->helo))
		len = sizeof(s->helo) - 1;
	memcpy(s->helo, arg, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	smtp_session_set_state(s, SMTP_STATE_HELO);
	log_debug(conn_sid(s->conn), esmtp ? "ehlo" : "helo", "name=%s",
		  log_qs(q, sizeof(q), s->helo));
	return true;
}

void smtp_cmd_helo(struct smtp_session *s, const char *arg, size_t len)
{
	if (smtp_greet(s, arg, len, false))
		smtp_reply(s, 250, NULL, "%s", s->srv->hostname);
}

void smtp_cmd_ehlo(struct smtp_session *s, const char *arg, size_t len)
{
	struct conn *c = s->conn;

	if (!smtp_greet(s, arg, len, true))
		return;
	/* RFC 5321 4.1.1.1; each keyword from its own RFC. */
	conn_printf(c, "250-%s\r\n", s->srv->hostname);
	conn_printf(c, "250-PIPELINING\r\n"); /* RFC 2920 */
	conn_printf(c, "250-SIZE %zu\r\n", s->srv->max_message_size); /* 1870 */
	conn_printf(c, "250-8BITMIME\r\n");	       /* RFC 6152 */
	conn_printf(c, "250-SMTPUTF8\r\n");	       /* RFC 6531 */
	conn_printf(c, "250-ENHANCEDSTATUSCODES\r\n"); /* RFC 2034 */
	conn_printf(c, "250-CHUNKING\r\n");	       /* RFC 3030 */
	conn_printf(c, "250-DSN\r\n");		       /* RFC 3461 */
	if (smtp_starttls_offered(s))
		conn_printf(c, "250-STARTTLS\r\n"); /* RFC 3207 */
	if (smtp_auth_offered(s))
		conn_printf(c, "250-AUTH %s\r\n", sasl_mech_list()); /* 4954 */
	conn_printf(c, "250 ETRN\r\n"); /* RFC 1985 */
}

void smtp_cmd_rset(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_txn_reset(s);
	if (s->state != SMTP_STATE_INIT)
		smtp_session_set_state(s, SMTP_STATE_HELO);
	smtp_reply(s, 250, "2.0.0", "OK");
}

void smtp_cmd_noop(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, 250, "2.0.0", "OK");
}

void smtp_cmd_quit(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, 221, "2.0.0", "%s Bye", s->srv->hostname);
	smtp_session_set_state(s, SMTP_STATE_QUIT);
	conn_close(s->conn);
}

void smtp_cmd_starttls(struct smtp_session *s, const char *arg, size_t len)
{
	if (!smtp_starttls_offered(s)) {
		smtp_reply_error(s, 503, "5.5.1", "STARTTLS not available");
		return;
	}
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	/*
	 * RFC 3207 4.2: forget everything learnt before TLS, and (in
	 * conn_start_tls) every byte the client pipelined in plaintext.
	 */
	smtp_txn_reset(s);
	s->esmtp = false;
	s->helo[0] = '\0';
	smtp_session_set_state(s, SMTP_STATE_INIT);
	conn_start_tls(s->conn, s->srv->tls, NULL);
}

/* The address of VRFY/EXPN: "<a@b>" or "a@b". */
static enum userdb_lookup smtp_lookup_arg(struct smtp_session *s,
					  const char *arg, size_t len,
					  struct userdb_mailbox *boxes,
					  size_t max, size_t *n_r)
{
	struct address addr;
	const char *error;
	size_t used;
	int r;

	if (len > 0 && arg[0] == '<')
		r = address_parse_path(arg, len, ADDRESS_F_UTF8, &addr, &used,
				       &error);
	else
		r = address_parse_mailbox(arg, len, ADDRESS_F_UTF8, &addr,
					  &error);
	if (r < 0 || addr.domain[0] == '\0')
		return USERDB_NO_DOMAIN;
	return userdb_resolve(s->srv->userdb, addr.local, addr.domain, boxes,
			      max, n_r);
}

void smtp_cmd_vrfy(struct smtp_session *s, const char *arg, size_t len)
{
	struct userdb_mailbox box;
	size_t n;

	if (len == 0) {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	if (!s->srv->vrfy) {
		/* RFC 5321 3.5.3: do not reveal, but do not refuse either. */
		smtp_reply(s, 252, "2.5.2",
			   "Cannot VRFY user, but will accept message and "
			   "attempt delivery");
		return;
	}
	switch (smtp_lookup_arg(s, arg, len, &box, 1, &n)) {
	case USERDB_FOUND:
		smtp_reply(s, 250, "2.1.5", "<%s@%s>", box.local, box.domain);
		break;
	case USERDB_NO_USER:
		smtp_reply(s, 550, "5.1.1", "User unknown");
		break;
	case USERDB_NO_DOMAIN:
		smtp_reply(s, 551, "5.1.6", "User not local");
		break;
	case USERDB_TEMPFAIL:
		smtp_reply(s, 451, "4.3.0", "Temporary lookup failure");
		break;
	}
}

void smtp_cmd_expn(struct smtp_session *s, const char *arg, size_t len)
{
	struct userdb_mailbox boxes[32];
	size_t n = 0;

	if (!s->srv->expn) {
		smtp_reply_error(s, 502, "5.5.1", "EXPN not available");
		return;
	}
	if (len == 0) {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: EXPN address");
		return;
	}
	if (smtp_lookup_arg(s, arg, len, boxes, 32, &n) != USERDB_FOUND ||
	    n == 0) {
		smtp_reply(s, 550, "5.1.1", "No such list");
		return;
	}
	for (size_t i = 0; i < n; i++)
		conn_printf(s->conn, "250%c2.1.5 <%s@%s>\r\n",
			    i + 1 < n ? '-' : ' ', boxes[i].local,
			    boxes[i].domain);
}

void smtp_cmd_help(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, 214, "2.0.0",
		   "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT "
		   "VRFY EXPN HELP ETRN STARTTLS; see RFC 5321");
}

/* RFC 1985 4: the queue worker sees the flushed envelopes at once. */
static void smtp_etrn_flush(struct smtp_session *s, const char *node)
{
	const char *error;
	size_t n = 0;

	if (spool_flush(s->srv->data_dir, node, &n, &error) < 0 && n == 0) {
		log_error(conn_sid(s->conn), "etrn failed", "error=%s",
			  log_qs((char[300]){0}, 300, error));
		smtp_reply(s, 458, "4.3.0",
			   "Unable to queue messages for "
			   "node %s",
			   node);
	} else if (n == 0) {
		smtp_reply(s, 251, "2.0.0",
			   "OK, no messages waiting for node "
			   "%s",
			   node);
	} else {
		smtp_reply(s, 250, "2.0.0", "OK, queuing for node %s started",
			   node);
	}
}

/* RFC 1985 8: whether this client may ask for queue runs at all. */
static bool smtp_etrn_client_ok(const struct smtp_session *s)
{
	const struct smtp_server *srv = s->srv;

	if (srv->etrn_net_count == 0 || s->relay_ok || s->user[0] != '\0')
		return true;
	for (size_t i = 0; i < srv->etrn_net_count; i++) {
		if (cidr_match(&srv->etrn_networks[i], conn_peer_ip(s->conn)))
			return true;
	}
	return false;
}

/*
 * Whether the configuration allows ETRN for node ("@name" when sub). An
 * entry "d" allows "ETRN d"; "@d" allows d, its subdomains and "ETRN @x"
 * for x within d. RFC 1985 8: no one releases "@com" unless told to.
 */
static bool smtp_etrn_node_ok(const struct smtp_server *srv, const char *node,
			      bool sub)
{
	for (size_t i = 0;
	     srv->etrn_domains != NULL && srv->etrn_domains[i] != NULL; i++) {
		const char *e = srv->etrn_domains[i];

		if (e[0] == '@' ? address_domain_within(node, e + 1)
				: !sub && strcasecmp(e, node) == 0)
			return true;
	}
	return false;
}

/* RFC 1985 5: "ETRN name", "ETRN @name" (subdomains), "ETRN #queue". */
void smtp_cmd_etrn(struct smtp_session *s, const char *arg, size_t len)
{
	char node[ADDRESS_DOMAIN_MAX + 2];
	bool sub = len > 0 && arg[0] == '@';

	if (len == 0 || len >= sizeof(node) || len == (size_t)sub) {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: ETRN domain");
		return;
	}
	memcpy(node, arg, len);
	node[len] = '\0';
	if (!smtp_etrn_client_ok(s)) {
		smtp_reply(s, 459, "4.7.1", "ETRN not allowed from %s",
			   conn_peer_ip(s->conn));
		return;
	}
	/* RFC 1985 5.3: queue names are the server's; postern has one. */
	if (node[0] == '#') {
		smtp_reply(s, 458, "4.3.0", "No queue named %s", node + 1);
		return;
	}
	if (!smtp_etrn_node_ok(s->srv, node + sub, sub)) {
		smtp_reply(s, 459, "4.7.1", "Node %s not allowed", node);
		return;
	}
	smtp_etrn_flush(s, node);
}
