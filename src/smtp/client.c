/*
 * SMTP client session: lifecycle, the state table and its reply
 * dispatcher, greeting, EHLO/HELO, STARTTLS, AUTH, QUIT. Messages are in
 * client_txn.c.
 *
 * SECURITY: the server's replies are hostile input. They are read
 * through the connection's bounded line reader and smtp/reply.c; nothing
 * read before a TLS handshake survives it (conn_start_tls()); AUTH is
 * sent only over TLS and the secrets are wiped when the client goes.
 */
#include "smtp/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/base64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "smtp/client_int.h"

typedef void smtp_client_handler(struct smtp_client *c,
				 const struct smtp_reply *reply);

static smtp_client_handler client_greeting, client_ehlo_reply,
	client_helo_reply, client_starttls_reply, client_auth_reply,
	client_ready_reply, client_quit_reply;

/*
 * The state table: how long a state waits (RFC 5321 4.5.3.2, minutes;
 * -1: per command, 0: no limit), where a failure in it belongs, and who
 * handles a reply in it (NULL: no reply is read).
 */
static const struct smtp_client_state_row {
	const char *name;
	int minutes;
	enum smtp_client_stage stage;
	smtp_client_handler *handler;
} smtp_client_states[] = {
	[SMTP_CLIENT_TLS] = {"tls", 5, SMTP_STAGE_TLS, NULL},
	[SMTP_CLIENT_GREETING] = {"greeting", 5, SMTP_STAGE_GREETING,
				  client_greeting},
	[SMTP_CLIENT_EHLO] = {"ehlo", 5, SMTP_STAGE_EHLO, client_ehlo_reply},
	[SMTP_CLIENT_HELO] = {"helo", 5, SMTP_STAGE_EHLO, client_helo_reply},
	[SMTP_CLIENT_STARTTLS] = {"starttls", 5, SMTP_STAGE_STARTTLS,
				  client_starttls_reply},
	[SMTP_CLIENT_AUTH] = {"auth", 5, SMTP_STAGE_AUTH, client_auth_reply},
	[SMTP_CLIENT_READY] = {"ready", 0, SMTP_STAGE_MAIL, client_ready_reply},
	[SMTP_CLIENT_TXN] = {"txn", -1, SMTP_STAGE_MAIL, smtp_client_txn_reply},
	[SMTP_CLIENT_BODY] = {"body", 3, SMTP_STAGE_BODY, NULL},
	[SMTP_CLIENT_DOT] = {"dot", 10, SMTP_STAGE_BODY, smtp_client_txn_reply},
	[SMTP_CLIENT_QUIT] = {"quit", 5, SMTP_STAGE_QUIT, client_quit_reply},
	[SMTP_CLIENT_CLOSING] = {"closing", 0, SMTP_STAGE_QUIT, NULL},
	[SMTP_CLIENT_CLOSED] = {"closed", 0, SMTP_STAGE_QUIT, NULL},
};

const char *smtp_client_stage_name(enum smtp_client_stage stage)
{
	static const char *const names[] = {
		[SMTP_STAGE_GREETING] = "greeting", [SMTP_STAGE_EHLO] = "EHLO",
		[SMTP_STAGE_STARTTLS] = "STARTTLS", [SMTP_STAGE_TLS] = "TLS",
		[SMTP_STAGE_AUTH] = "AUTH",	    [SMTP_STAGE_MAIL] = "MAIL",
		[SMTP_STAGE_RCPT] = "RCPT",	    [SMTP_STAGE_DATA] = "DATA",
		[SMTP_STAGE_BODY] = "end of data",  [SMTP_STAGE_QUIT] = "QUIT",
	};

	if ((size_t)stage >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[stage];
}

void smtp_client_arm(struct smtp_client *c, int minutes)
{
	long ms = (long)minutes * c->p.minute_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (minutes > 0)
		evtimer_add(c->timer, &tv);
	else
		evtimer_del(c->timer);
}

void smtp_client_set_state(struct smtp_client *c, enum smtp_client_state st)
{
	int minutes = smtp_client_states[st].minutes;

	if (c->state != st)
		log_debug(c->sid, "client state", "from=%s to=%s",
			  smtp_client_states[c->state].name,
			  smtp_client_states[st].name);
	c->state = st;
	smtp_client_arm(c, minutes < 0 ? smtp_client_txn_minutes(c) : minutes);
}

enum smtp_client_stage smtp_client_stage(const struct smtp_client *c)
{
	if (c->state == SMTP_CLIENT_TXN)
		return smtp_client_txn_stage(c);
	return smtp_client_states[c->state].stage;
}

bool smtp_client_gone(const struct smtp_client *c)
{
	return c->free_pending;
}

void smtp_client_result_reply(struct smtp_client_result *r,
			      enum smtp_client_stage stage,
			      const struct smtp_reply *reply)
{
	memset(r, 0, sizeof(*r));
	r->stage = stage;
	r->code = reply->code;
	if (reply->status[0] != '\0')
		strlcpy_p(r->status, reply->status, sizeof(r->status));
	else
		snprintf(r->status, sizeof(r->status), "%d.0.0",
			 reply->code / 100);
	strlcpy_p(r->text, reply->text, sizeof(r->text));
	r->permanent = r->status[0] == '5';
}

void smtp_client_result_set(struct smtp_client_result *r,
			    enum smtp_client_stage stage, const char *status,
			    const char *fmt, ...)
{
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->stage = stage;
	strlcpy_p(r->status, status, sizeof(r->status));
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	r->permanent = r->status[0] == '5';
}

void smtp_client_fail(struct smtp_client *c, const struct smtp_client_result *r,
		      bool say_quit)
{
	struct smtp_client_result copy = *r;

	log_info(c->sid, "smtp client failed",
		 "peer=%s stage=%s code=%d status=%s text=%s",
		 c->conn ? conn_peer_ip(c->conn) : "-",
		 smtp_client_stage_name(copy.stage), copy.code, copy.status,
		 log_qs((char[600]){0}, 600, copy.text));
	smtp_client_set_state(c, SMTP_CLIENT_CLOSING);
	if (c->conn != NULL) {
		if (say_quit)
			conn_write(c->conn, "QUIT\r\n", 6);
		conn_close(c->conn);
	}
	if (c->txn.msg != NULL)
		smtp_client_txn_finish(c, &copy);
	if (!smtp_client_gone(c) && !c->quitting && c->cb.failed != NULL)
		c->cb.failed(c, &copy, c->arg);
}

/* A refusing reply ends the session; QUIT unless the server said 421. */
static void client_fail_reply(struct smtp_client *c,
			      const struct smtp_reply *reply)
{
	struct smtp_client_result r;

	smtp_client_result_reply(&r, smtp_client_stage(c), reply);
	smtp_client_fail(c, &r, reply->code != 421);
}

static void client_ready(struct smtp_client *c)
{
	smtp_client_set_state(c, SMTP_CLIENT_READY);
	if (c->ready_sent)
		return;
	c->ready_sent = true;
	if (c->cb.ready != NULL)
		c->cb.ready(c, c->arg);
}

static void client_ehlo(struct smtp_client *c)
{
	/* RFC 3207 4.2: forget what was offered before TLS. */
	memset(&c->ehlo, 0, sizeof(c->ehlo));
	conn_printf(c->conn, "EHLO %s\r\n", c->p.helo);
	smtp_client_set_state(c, SMTP_CLIENT_EHLO);
}

/* RFC 5321 3.1, 4.3.2: 220, or 554 (no service) or 421. */
static void client_greeting(struct smtp_client *c,
			    const struct smtp_reply *reply)
{
	if (reply->code == 220)
		client_ehlo(c);
	else
		client_fail_reply(c, reply);
}

/* Base64 of data sent as one line after prefix, wiped after. */
static void client_write_b64(struct smtp_client *c, const char *prefix,
			     const char *data, size_t len)
{
	size_t n = base64_encoded_len(len) + 1;
	char *b = xmalloc(n);

	base64_encode(data, len, b);
	conn_printf(c->conn, "%s%s\r\n", prefix, b);
	explicit_bzero(b, n);
	free(b);
}

/* RFC 4954 4: PLAIN with an initial response (RFC 4616), else LOGIN. */
static void client_auth_start(struct smtp_client *c)
{
	size_t ulen = strlen(c->p.auth_user);
	size_t plen = strlen(c->p.auth_password);
	struct smtp_client_result r;

	smtp_client_set_state(c, SMTP_CLIENT_AUTH);
	if (c->ehlo.auth & SMTP_AUTH_PLAIN) {
		size_t len = ulen + plen + 2;
		char *msg = xmalloc(len);

		msg[0] = '\0';
		memcpy(msg + 1, c->p.auth_user, ulen);
		msg[ulen + 1] = '\0';
		memcpy(msg + ulen + 2, c->p.auth_password, plen);
		c->auth_mech = SMTP_AUTH_PLAIN;
		client_write_b64(c, "AUTH PLAIN ", msg, len);
		explicit_bzero(msg, len);
		free(msg);
	} else if (c->ehlo.auth & SMTP_AUTH_LOGIN) {
		c->auth_mech = SMTP_AUTH_LOGIN;
		c->auth_step = 0;
		conn_write(c->conn, "AUTH LOGIN\r\n", 12);
	} else {
		/* Credentials mean the route needs them: do not go without. */
		smtp_client_result_set(&r, SMTP_STAGE_AUTH, "4.7.0",
				       "the server offers no AUTH mechanism "
				       "we can use (PLAIN, LOGIN)");
		smtp_client_fail(c, &r, true);
	}
}

static void client_auth_reply(struct smtp_client *c,
			      const struct smtp_reply *reply)
{
	if (reply->code == 235) {
		c->authenticated = true;
		log_info(c->sid, "smtp client authenticated", "mech=%s",
			 c->auth_mech == SMTP_AUTH_PLAIN ? "PLAIN" : "LOGIN");
		client_ready(c);
		return;
	}
	/* LOGIN: 334 "Username:", then 334 "Password:" (base64 prompts). */
	if (reply->code == 334 && c->auth_mech == SMTP_AUTH_LOGIN &&
	    c->auth_step < 2) {
		const char *s =
			c->auth_step == 0 ? c->p.auth_user : c->p.auth_password;

		c->auth_step++;
		client_write_b64(c, "", s, strlen(s));
		smtp_client_set_state(c, SMTP_CLIENT_AUTH);
		return;
	}
	if (reply->code == 334)
		conn_write(c->conn, "*\r\n", 3); /* RFC 4954 4: cancel */
	client_fail_reply(c, reply);
}

/* EHLO or HELO accepted: STARTTLS, AUTH or ready, as the policy says. */
static void client_hello_done(struct smtp_client *c)
{
	bool tls = conn_is_tls(c->conn);
	bool can = c->p.tls != NULL && c->p.tls_mode != SMTP_TLS_NONE;
	bool must = c->p.tls_mode == SMTP_TLS_ENCRYPT ||
		    c->p.tls_mode == SMTP_TLS_IMPLICIT ||
		    c->p.auth_user != NULL;
	struct smtp_client_result r;

	if (!tls && can && c->ehlo.starttls && !c->starttls_refused) {
		conn_write(c->conn, "STARTTLS\r\n", 10); /* RFC 3207 4 */
		smtp_client_set_state(c, SMTP_CLIENT_STARTTLS);
		return;
	}
	if (!tls && must) {
		smtp_client_result_set(&r, SMTP_STAGE_STARTTLS, "4.7.5",
				       "TLS is required, but the server "
				       "does not offer STARTTLS");
		smtp_client_fail(c, &r, true);
		return;
	}
	if (c->p.auth_user != NULL && !c->authenticated)
		client_auth_start(c);
	else
		client_ready(c);
}

static void client_ehlo_reply(struct smtp_client *c,
			      const struct smtp_reply *reply)
{
	if (reply->code == 250) {
		client_hello_done(c);
	} else if (reply->code / 100 == 5 && !c->tls_done) {
		/* RFC 5321 3.2: a server without EHLO may know HELO. */
		memset(&c->ehlo, 0, sizeof(c->ehlo));
		conn_printf(c->conn, "HELO %s\r\n", c->p.helo);
		smtp_client_set_state(c, SMTP_CLIENT_HELO);
	} else {
		client_fail_reply(c, reply);
	}
}

static void client_helo_reply(struct smtp_client *c,
			      const struct smtp_reply *reply)
{
	if (reply->code == 250)
		client_hello_done(c);
	else
		client_fail_reply(c, reply);
}

static void client_starttls_reply(struct smtp_client *c,
				  const struct smtp_reply *reply)
{
	if (reply->code == 220) {
		/* Discards anything the server sent after its 220. */
		conn_start_tls(c->conn, c->p.tls, c->p.servername);
		smtp_client_set_state(c, SMTP_CLIENT_TLS);
		return;
	}
	if (c->p.tls_mode == SMTP_TLS_ENCRYPT || c->p.auth_user != NULL) {
		client_fail_reply(c, reply);
		return;
	}
	/* RFC 3207 4: the client may go on without TLS. */
	log_info(c->sid, "STARTTLS refused, going on in plaintext", "code=%d",
		 reply->code);
	c->starttls_refused = true;
	client_hello_done(c);
}

static void client_tls_done(struct smtp_client *c)
{
	const char *why = conn_tls_verify_error(c->conn);
	struct smtp_client_result r;

	log_info(c->sid, "smtp client tls", "version=%s cipher=%s verified=%s",
		 conn_tls_version(c->conn), conn_tls_cipher(c->conn),
		 why == NULL ? "yes" : log_qs((char[128]){0}, 128, why));
	if (c->p.tls_verify && !conn_tls_verified(c->conn)) {
		smtp_client_result_set(&r, SMTP_STAGE_TLS, "4.7.5",
				       "server certificate not trusted: %s",
				       why != NULL ? why : "unknown");
		smtp_client_fail(c, &r, true);
		return;
	}
	c->tls_done = true;
	if (c->p.tls_mode == SMTP_TLS_IMPLICIT)
		smtp_client_set_state(c, SMTP_CLIENT_GREETING);
	else
		client_ehlo(c); /* RFC 3207 4.2 */
}

/* A reply nobody asked for: the server ends an idle session (421). */
static void client_ready_reply(struct smtp_client *c,
			       const struct smtp_reply *reply)
{
	log_info(c->sid, "server closed an idle session", "code=%d text=%s",
		 reply->code, log_qs((char[600]){0}, 600, reply->text));
	smtp_client_set_state(c, SMTP_CLIENT_CLOSING);
	conn_close(c->conn);
}

static void client_quit_reply(struct smtp_client *c,
			      const struct smtp_reply *reply)
{
	(void)reply;
	smtp_client_set_state(c, SMTP_CLIENT_CLOSING);
	conn_close(c->conn);
}

/* A reply line the connection could not give as a line. */
static void client_bad_line(struct smtp_client *c, const char *what)
{
	struct smtp_client_result r;

	smtp_client_result_set(&r, smtp_client_stage(c), "4.5.0",
			       "malformed reply from the server: %s", what);
	smtp_client_fail(c, &r, false);
}

/* One line; returns false when reading must stop. */
static bool client_line(struct smtp_client *c, const char *line, size_t len)
{
	struct smtp_reply_line l;
	struct smtp_reply reply;
	int r = smtp_reply_add(&c->reply, line, len, &l);

	if (r < 0) {
		client_bad_line(c, r == -2 ? "reply too long"
					   : "not an SMTP reply line");
		return false;
	}
	if (c->cb.reply_line != NULL)
		c->cb.reply_line(c, smtp_client_stage(c), &l, c->arg);
	/* Every line after the first names an extension (RFC 5321 4.1.1.1) */
	if (c->state == SMTP_CLIENT_EHLO && c->reply.lines > 1 && l.code == 250)
		smtp_ehlo_keyword(&c->ehlo, l.text, l.text_len);
	if (r == 0)
		return true;
	reply = c->reply;
	smtp_reply_init(&c->reply);
	smtp_client_states[c->state].handler(c, &reply);
	return !smtp_client_gone(c);
}

static void client_input(struct smtp_client *c)
{
	while (c->conn != NULL && smtp_client_states[c->state].handler) {
		enum linereader_result r;
		const char *line;
		size_t len;
		unsigned flags;

		r = conn_read_line(c->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		if (r == LINE_TOO_LONG) {
			client_bad_line(c, "line too long");
			return;
		}
		/* A bare LF is tolerated from a server; a bare CR is not. */
		if (r == LINE_BARE_CR || (flags & LINE_F_NUL)) {
			client_bad_line(c, "bare CR or NUL");
			return;
		}
		if (!client_line(c, line, len))
			return;
	}
}

void smtp_client_kick(struct smtp_client *c)
{
	event_active(c->defer, EV_TIMEOUT, 0);
}

static void client_destroy(struct smtp_client *c)
{
	event_free(c->timer);
	event_free(c->defer);
	conn_free(&c->conn);
	free(c->txn.in);
	free(c->txn.out);
	free((char *)c->p.helo);
	free((char *)c->p.servername);
	free((char *)c->p.auth_user);
	if (c->p.auth_password != NULL) {
		explicit_bzero((char *)c->p.auth_password,
			       strlen(c->p.auth_password));
		free((char *)c->p.auth_password);
	}
	free(c);
}

/* Every entry from the loop ends here: a free asked meanwhile happens. */
static void client_leave(struct smtp_client *c)
{
	if (--c->busy == 0 && c->free_pending)
		client_destroy(c);
}

/* The connection is gone: report what it cut, then closed(). */
static void client_closed(struct smtp_client *c)
{
	enum smtp_client_state was = c->state;
	struct smtp_client_result r;

	conn_free(&c->conn);
	smtp_client_txn_refused(c);
	if (was == SMTP_CLIENT_TLS)
		smtp_client_result_set(&r, SMTP_STAGE_TLS, "4.7.5",
				       "TLS handshake failed%s",
				       c->p.tls_mode == SMTP_TLS_ENCRYPT
					       ? "; TLS is required, so the "
						 "message is not sent in clear"
					       : "");
	else
		smtp_client_result_set(&r, smtp_client_stage(c), "4.4.2",
				       "connection lost in state %s",
				       smtp_client_states[was].name);
	smtp_client_set_state(c, SMTP_CLIENT_CLOSED);
	if (was == SMTP_CLIENT_CLOSING || was == SMTP_CLIENT_QUIT ||
	    c->quitting || (was == SMTP_CLIENT_READY && c->txn.msg == NULL)) {
		if (c->txn.msg != NULL)
			smtp_client_txn_finish(c, &r);
	} else {
		log_info(c->sid, "smtp client failed", "stage=%s text=%s",
			 smtp_client_stage_name(r.stage),
			 log_qs((char[600]){0}, 600, r.text));
		if (c->txn.msg != NULL)
			smtp_client_txn_finish(c, &r);
		if (!smtp_client_gone(c) && c->cb.failed != NULL)
			c->cb.failed(c, &r, c->arg);
	}
	if (!smtp_client_gone(c) && c->cb.closed != NULL)
		c->cb.closed(c, c->arg);
}

static void client_conn_cb(struct conn *conn, enum conn_event ev, void *arg)
{
	struct smtp_client *c = arg;

	(void)conn;
	c->busy++;
	switch (ev) {
	case CONN_EV_DATA:
		client_input(c);
		break;
	case CONN_EV_FLUSHED:
		if (c->state == SMTP_CLIENT_BODY)
			smtp_client_body_pump(c);
		break;
	case CONN_EV_TLS_DONE:
		if (c->state == SMTP_CLIENT_TLS)
			client_tls_done(c);
		break;
	case CONN_EV_CLOSED:
		client_closed(c);
		break;
	case CONN_EV_TIMEOUT:
	case CONN_EV_SHUTDOWN:
	case CONN_EV_WAKE:
		break;
	}
	client_leave(c);
}

static void client_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_client *c = arg;
	struct smtp_client_result r;

	(void)fd;
	(void)what;
	c->busy++;
	if (c->state == SMTP_CLIENT_QUIT) {
		smtp_client_set_state(c, SMTP_CLIENT_CLOSING);
		conn_close(c->conn);
	} else {
		smtp_client_result_set(&r, smtp_client_stage(c), "4.4.2",
				       "timeout in state %s",
				       smtp_client_states[c->state].name);
		smtp_client_fail(c, &r, false);
	}
	client_leave(c);
}

/* Deferred work: input buffered before we looked, a local refusal. */
static void client_on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_client *c = arg;

	(void)fd;
	(void)what;
	c->busy++;
	if (c->txn.refused)
		smtp_client_txn_refused(c);
	else
		client_input(c);
	client_leave(c);
}

static void client_copy_params(struct smtp_client *c,
			       const struct smtp_client_params *p)
{
	if (p->helo == NULL)
		panic("smtp_client_new without a HELO name");
	if (p->tls_mode != SMTP_TLS_NONE && p->tls != NULL &&
	    p->servername == NULL)
		panic("smtp_client_new: TLS without a servername");
	if (p->tls_mode == SMTP_TLS_IMPLICIT && p->tls == NULL)
		panic("smtp_client_new: implicit TLS without a context");
	if ((p->auth_user == NULL) != (p->auth_password == NULL))
		panic("smtp_client_new: user without password or back");
	c->p = *p;
	c->p.helo = xstrdup(p->helo);
	c->p.servername = xstrdup(p->servername);
	c->p.auth_user = xstrdup(p->auth_user);
	c->p.auth_password = xstrdup(p->auth_password);
	if (c->p.minute_ms <= 0)
		c->p.minute_ms = 60000;
}

struct smtp_client *smtp_client_new(struct event_base *base, struct conn *conn,
				    const struct smtp_client_params *params,
				    const struct smtp_client_cb *cb, void *arg)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));

	client_copy_params(c, params);
	c->conn = conn;
	c->cb = *cb;
	c->arg = arg;
	strlcpy_p(c->sid, conn_sid(conn), sizeof(c->sid));
	smtp_reply_init(&c->reply);
	c->timer = evtimer_new(base, client_on_timer, c);
	c->defer = event_new(base, -1, 0, client_on_defer, c);
	if (c->timer == NULL || c->defer == NULL)
		fatal("cannot create smtp client events");
	conn_set_callback(conn, client_conn_cb, c);
	conn_set_timeout(conn, 0); /* the client times each state itself */
	conn_set_max_line(conn, SMTP_REPLY_LINE_MAX);
	log_debug(c->sid, "smtp client start", "peer=%s port=%d tls=%d",
		  conn_peer_ip(conn), conn_peer_port(conn), params->tls_mode);
	if (c->p.tls_mode == SMTP_TLS_IMPLICIT) {
		c->state = SMTP_CLIENT_TLS; /* RFC 8314 3.3 */
		conn_start_tls(conn, c->p.tls, c->p.servername);
	} else {
		c->state = SMTP_CLIENT_GREETING;
		smtp_client_kick(c); /* a greeting that came before us */
	}
	smtp_client_arm(c, smtp_client_states[c->state].minutes);
	return c;
}

void smtp_client_quit(struct smtp_client *c)
{
	if (c->state == SMTP_CLIENT_QUIT || c->state == SMTP_CLIENT_CLOSING ||
	    c->state == SMTP_CLIENT_CLOSED)
		return;
	c->quitting = true;
	if (smtp_client_idle(c)) {
		conn_write(c->conn, "QUIT\r\n", 6); /* RFC 5321 4.1.1.10 */
		smtp_client_set_state(c, SMTP_CLIENT_QUIT);
		return;
	}
	smtp_client_set_state(c, SMTP_CLIENT_CLOSING);
	conn_close(c->conn);
}

void smtp_client_free(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (c->busy > 0)
		c->free_pending = true;
	else
		client_destroy(c);
}

void smtp_client_rset_next(struct smtp_client *c)
{
	c->need_rset = true;
}

bool smtp_client_idle(const struct smtp_client *c)
{
	return c->state == SMTP_CLIENT_READY && c->txn.msg == NULL &&
	       !c->free_pending;
}

const struct smtp_ehlo *smtp_client_ehlo(const struct smtp_client *c)
{
	return &c->ehlo;
}

const struct conn *smtp_client_conn(const struct smtp_client *c)
{
	return c->conn;
}

bool smtp_client_authenticated(const struct smtp_client *c)
{
	return c->authenticated;
}
