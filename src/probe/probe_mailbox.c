/*
 * A small IMAP and POP3 client for the probe: greeting, CAPABILITY /
 * CAPA (RFC 3501 6.1.1, RFC 2449), STARTTLS / STLS (RFC 3501 6.2.1,
 * RFC 2595 4), then with credentials LOGIN or AUTHENTICATE PLAIN
 * (RFC 3501 6.2, RFC 4616) or USER/PASS or AUTH PLAIN (RFC 1939 7,
 * RFC 5034), and LOGOUT / QUIT. Nothing else of either protocol.
 *
 * SECURITY: lines are bounded by the connection (PROBE_LINE_MAX); input
 * buffered before TLS is discarded by conn_start_tls(); credentials are
 * written only when conn_is_tls() says so, and never when they hold a
 * character that would end the command line.
 */
#include "probe/probe_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "lib/base64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"

enum mb_state {
	MB_TLS, /* implicit TLS handshake, before the greeting */
	MB_GREETING,
	MB_CAPA,     /* CAPABILITY / CAPA */
	MB_STARTTLS, /* awaiting the answer to STARTTLS / STLS */
	MB_HANDSHAKE,
	MB_LOGIN, /* LOGIN, AUTHENTICATE, USER, PASS, AUTH */
	MB_LOGOUT,
	MB_CLOSING,
};

struct probe_mailbox {
	struct probe_job *j;
	struct conn *conn;
	struct event *timer;
	enum mb_state state;
	bool imap;
	bool capa_multi; /* POP3: inside the CAPA list */
	int login_step;	 /* POP3 USER 0, PASS 1; IMAP AUTHENTICATE 1 */
};

static bool mb_main(const struct probe_mailbox *m)
{
	return m->j->phase == PROBE_PHASE_MAIN;
}

static struct tls_ctx *mb_tls(const struct probe_mailbox *m)
{
	return mb_main(m) ? m->j->ctx->tls : m->j->ctx->legacy;
}

static void mb_arm(struct probe_mailbox *m)
{
	int ms = m->j->ctx->timeout_ms;
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(m->timer, &tv);
}

static void mb_send(struct probe_mailbox *m, enum mb_state st, const char *line)
{
	conn_printf(m->conn, "%s\r\n", line);
	m->state = st;
	mb_arm(m);
}

static void mb_close(struct probe_mailbox *m)
{
	if (m->state == MB_CLOSING)
		return;
	m->state = MB_CLOSING;
	mb_arm(m);
	conn_close(m->conn);
}

static void mb_fail(struct probe_mailbox *m, const char *why)
{
	struct probe_target *t = m->j->t;

	if (mb_main(m) && t->status == PROBE_ST_OPEN && t->detail == NULL) {
		t->status = PROBE_ST_FAILED;
		t->detail = xstrdup(why);
	}
	mb_close(m);
}

/* Characters that would end or split a command line. */
static bool mb_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			return false;
	}
	return true;
}

/* IMAP quoted string (RFC 3501 4.3): '\' and '"' escaped. */
static char *mb_quote(const char *s)
{
	size_t n = strlen(s);
	char *q = xmalloc(2 * n + 3);
	size_t k = 0;

	q[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			q[k++] = '\\';
		q[k++] = s[i];
	}
	q[k++] = '"';
	q[k] = '\0';
	return q;
}

/* PLAIN's message (RFC 4616), base64: "\0user\0password". */
static char *mb_plain(const struct probe_opts *o)
{
	size_t ul = strlen(o->user), pl = strlen(o->password);
	size_t len = ul + pl + 2;
	char *msg = xmalloc(len);
	char *b = xmalloc(base64_encoded_len(len) + 1);

	msg[0] = '\0';
	memcpy(msg + 1, o->user, ul);
	msg[ul + 1] = '\0';
	memcpy(msg + ul + 2, o->password, pl);
	base64_encode(msg, len, b);
	explicit_bzero(msg, len);
	free(msg);
	return b;
}

static void mb_send_secret(struct probe_mailbox *m, char *line)
{
	mb_send(m, MB_LOGIN, line);
	explicit_bzero(line, strlen(line));
	free(line);
}

static void mb_login(struct probe_mailbox *m)
{
	const struct probe_opts *o = m->j->ctx->o;
	struct probe_target *t = m->j->t;

	if (!mb_main(m) || o->user == NULL) {
		mb_send(m, MB_LOGOUT, m->imap ? "z LOGOUT" : "QUIT");
		return;
	}
	/* SECURITY: never in clear. */
	if (!conn_is_tls(m->conn)) {
		t->login = PROBE_LOGIN_NO_TLS;
		mb_send(m, MB_LOGOUT, m->imap ? "z LOGOUT" : "QUIT");
		return;
	}
	if (!mb_safe(o->user) || !mb_safe(o->password)) {
		t->login = PROBE_LOGIN_FAILED;
		t->login_detail = xstrdup("the credentials hold a line break");
		mb_send(m, MB_LOGOUT, m->imap ? "z LOGOUT" : "QUIT");
		return;
	}
	m->login_step = 0;
	if (m->imap && probe_list_has(&t->caps_tls, "LOGINDISABLED") &&
	    probe_list_has(&t->caps_tls, "AUTH=PLAIN")) {
		m->login_step = 1;
		mb_send(m, MB_LOGIN, "a AUTHENTICATE PLAIN");
	} else if (m->imap) {
		char *u = mb_quote(o->user), *p = mb_quote(o->password);

		mb_send_secret(m, xasprintf("a LOGIN %s %s", u, p));
		free(u);
		explicit_bzero(p, strlen(p));
		free(p);
	} else if (!probe_list_has(&t->caps_tls, "USER") &&
		   probe_list_has(&t->auth_tls, "PLAIN")) {
		char *b = mb_plain(o);

		m->login_step = 2;
		mb_send_secret(m, xasprintf("AUTH PLAIN %s", b));
		free(b);
	} else {
		mb_send_secret(m, xasprintf("USER %s", o->user));
	}
}

static void mb_login_result(struct probe_mailbox *m, bool ok, const char *text,
			    size_t len)
{
	struct probe_target *t = m->j->t;

	t->login = ok ? PROBE_LOGIN_OK : PROBE_LOGIN_FAILED;
	if (!ok)
		t->login_detail = probe_clean(text, len);
	mb_send(m, MB_LOGOUT, m->imap ? "z LOGOUT" : "QUIT");
}

/* The capabilities are known: STARTTLS, or login, or done. */
static void mb_after_capa(struct probe_mailbox *m)
{
	struct probe_target *t = m->j->t;
	bool tls = conn_is_tls(m->conn);

	if (!tls && mb_main(m)) {
		t->starttls = probe_list_has(&t->caps_plain,
					     m->imap ? "STARTTLS" : "STLS");
		/* RFC 3501 6.2.3: LOGINDISABLED, else LOGIN works here. */
		t->login_plain =
			m->imap ? !probe_list_has(&t->caps_plain,
						  "LOGINDISABLED")
				: probe_list_has(&t->caps_plain, "USER");
	}
	if (!tls && t->role->tls == PROBE_STARTTLS &&
	    (t->starttls || !mb_main(m))) {
		mb_send(m, MB_STARTTLS, m->imap ? "s STARTTLS" : "STLS");
		return;
	}
	mb_login(m);
}

static void mb_greeting(struct probe_mailbox *m, const char *s, size_t len)
{
	struct probe_target *t = m->j->t;
	bool ok = m->imap ? (len >= 4 && (strncasecmp(s, "* OK", 4) == 0 ||
					  strncasecmp(s, "* PREAUTH", 9) == 0))
			  : (len >= 3 && strncasecmp(s, "+OK", 3) == 0);

	if (mb_main(m)) {
		free(t->greeting);
		t->greeting = probe_clean(s, len);
		if (!ok) {
			t->status = PROBE_ST_FAILED;
			t->detail = xstrdup("not a greeting of this protocol");
			mb_close(m);
			return;
		}
		t->status = PROBE_ST_OPEN;
	} else if (!ok) {
		mb_close(m);
		return;
	}
	mb_send(m, MB_CAPA, m->imap ? "c CAPABILITY" : "CAPA");
}

/* A tagged IMAP reply "tag OK|NO|BAD text", or untagged / continuation. */
static void mb_imap_line(struct probe_mailbox *m, const char *s, size_t len)
{
	bool ok = len >= 5 && strncasecmp(s + 1, " OK", 3) == 0;

	if (m->state == MB_CAPA && len > 13 &&
	    strncasecmp(s, "* CAPABILITY ", 13) == 0) {
		if (mb_main(m))
			probe_imap_capability(m->j->t, conn_is_tls(m->conn),
					      s + 13, len - 13);
		return;
	}
	if (m->state == MB_LOGIN && m->login_step == 1 && len >= 1 &&
	    s[0] == '+') {
		m->login_step = 2;
		mb_send_secret(m, mb_plain(m->j->ctx->o));
		return;
	}
	if (len < 2 || s[0] == '*' || s[1] != ' ')
		return; /* untagged data the probe does not need */
	switch (m->state) {
	case MB_CAPA:
		if (!ok)
			mb_fail(m, "CAPABILITY refused");
		else
			mb_after_capa(m);
		break;
	case MB_STARTTLS:
		if (!ok) {
			m->j->t->tls_error = xstrdup("STARTTLS refused");
			mb_login(m);
			break;
		}
		m->state = MB_HANDSHAKE;
		mb_arm(m);
		conn_start_tls(m->conn, mb_tls(m), m->j->t->host);
		break;
	case MB_LOGIN:
		mb_login_result(m, ok, s + 2, len - 2);
		break;
	case MB_LOGOUT:
		mb_close(m);
		break;
	default:
		break;
	}
}

static void mb_pop3_line(struct probe_mailbox *m, const char *s, size_t len)
{
	bool ok = len >= 3 && strncasecmp(s, "+OK", 3) == 0;

	if (m->state == MB_CAPA && m->capa_multi) {
		if (len == 1 && s[0] == '.') {
			m->capa_multi = false;
			mb_after_capa(m);
		} else {
			/* RFC 1939 3: a leading dot is doubled */
			if (len > 0 && s[0] == '.')
				s++, len--;
			if (mb_main(m))
				probe_pop3_capa(m->j->t, conn_is_tls(m->conn),
						s, len);
		}
		return;
	}
	switch (m->state) {
	case MB_CAPA:
		/* RFC 2449 5: -ERR means no CAPA; go on without. */
		if (ok)
			m->capa_multi = true;
		else
			mb_after_capa(m);
		break;
	case MB_STARTTLS:
		if (!ok) {
			m->j->t->tls_error = xstrdup("STLS refused");
			mb_login(m);
			break;
		}
		m->state = MB_HANDSHAKE;
		mb_arm(m);
		conn_start_tls(m->conn, mb_tls(m), m->j->t->host);
		break;
	case MB_LOGIN:
		if (ok && m->login_step == 0) {
			m->login_step = 1;
			mb_send_secret(m, xasprintf("PASS %s",
						    m->j->ctx->o->password));
		} else {
			mb_login_result(m, ok, s, len);
		}
		break;
	case MB_LOGOUT:
		mb_close(m);
		break;
	default:
		break;
	}
}

static void mb_input(struct probe_mailbox *m)
{
	while (m->state != MB_CLOSING && m->state != MB_TLS &&
	       m->state != MB_HANDSHAKE) {
		enum linereader_result r;
		const char *line;
		size_t len;
		unsigned flags;

		r = conn_read_line(m->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		if (r == LINE_TOO_LONG || (flags & LINE_F_NUL)) {
			mb_fail(m, "a line too long, or with a NUL byte");
			return;
		}
		if (m->state == MB_GREETING)
			mb_greeting(m, line, len);
		else if (m->imap)
			mb_imap_line(m, line, len);
		else
			mb_pop3_line(m, line, len);
	}
}

static void mb_tls_done(struct probe_mailbox *m)
{
	struct probe_target *t = m->j->t;
	bool implicit = m->state == MB_TLS;

	if (!mb_main(m)) {
		probe_target_legacy(t, conn_tls_version(m->conn));
		mb_close(m);
		return;
	}
	probe_tls_capture(t, m->conn);
	if (implicit) {
		m->state = MB_GREETING;
		mb_arm(m);
		mb_input(m);
		return;
	}
	/* RFC 3501 6.2.1, RFC 2595 4: ask again, the list may change. */
	mb_send(m, MB_CAPA, m->imap ? "c CAPABILITY" : "CAPA");
}

/* The connection is gone: say what it cut short, end the session. */
static void mb_closed(struct probe_mailbox *m)
{
	struct probe_job *j = m->j;
	struct probe_target *t = j->t;
	bool handshake = m->state == MB_TLS || m->state == MB_HANDSHAKE;

	if (!mb_main(m)) {
		if (handshake)
			t->legacy = 0;
	} else if (t->status == PROBE_ST_PENDING) {
		t->status = PROBE_ST_FAILED;
		t->detail = xstrdup(handshake ? "the TLS handshake failed"
					      : "closed before the greeting");
	} else if (handshake && t->tls_error == NULL) {
		t->tls_error = xstrdup("the TLS handshake failed");
	} else if (m->state != MB_CLOSING && m->state != MB_LOGOUT &&
		   t->detail == NULL) {
		t->status = PROBE_ST_FAILED;
		t->detail = xstrdup("the server closed the connection");
	}
	event_free(m->timer);
	conn_free(&m->conn);
	free(m);
	probe_job_session_done(j);
}

static void mb_conn_cb(struct conn *conn, enum conn_event ev, void *arg)
{
	struct probe_mailbox *m = arg;

	(void)conn;
	switch (ev) {
	case CONN_EV_DATA:
		mb_input(m);
		break;
	case CONN_EV_TLS_DONE:
		mb_tls_done(m);
		break;
	case CONN_EV_CLOSED:
		mb_closed(m);
		break;
	case CONN_EV_FLUSHED:
	case CONN_EV_TIMEOUT:
	case CONN_EV_SHUTDOWN:
	case CONN_EV_WAKE:
		break;
	}
}

static void mb_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe_mailbox *m = arg;
	struct probe_target *t = m->j->t;

	(void)fd;
	(void)what;
	if (m->state == MB_CLOSING) {
		/* A close that does not finish: drop the socket. */
		mb_closed(m);
		return;
	}
	if (mb_main(m) && t->status == PROBE_ST_PENDING) {
		t->status = PROBE_ST_SILENT;
	} else if (m->state == MB_LOGIN) {
		/* Servers delay a refusal on purpose; not a broken session. */
		t->login = PROBE_LOGIN_FAILED;
		t->login_detail = xstrdup("no answer in time");
	} else if (mb_main(m) && t->detail == NULL) {
		t->status = PROBE_ST_FAILED;
		t->detail = xstrdup("no answer in time");
	}
	mb_close(m);
}

void probe_mailbox_start(struct probe_job *j, struct conn *conn)
{
	struct probe_mailbox *m = xcalloc(1, sizeof(*m));

	m->j = j;
	m->conn = conn;
	m->imap = j->t->role->proto == PROBE_IMAP;
	m->timer = evtimer_new(j->ctx->base, mb_on_timer, m);
	if (m->timer == NULL)
		fatal("cannot create a timer");
	j->mb = m;
	conn_set_callback(conn, mb_conn_cb, m);
	conn_set_timeout(conn, 0); /* each step has its own deadline */
	if (j->t->role->tls == PROBE_IMPLICIT) {
		m->state = MB_TLS; /* RFC 8314 3.3 */
		conn_start_tls(conn, mb_tls(m), j->t->host);
	} else {
		m->state = MB_GREETING;
	}
	mb_arm(m);
}
