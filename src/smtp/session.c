#include "smtp/session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/limits.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"

struct smtp_session {
	struct conn *conn;
	const struct smtp_server *srv;
};

static void smtp_session_free(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	conn_free(&s->conn);
	free(s);
	*sp = NULL;
}

/* The verb is the first word; returns its length. */
static size_t smtp_verb(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] != ' ')
		i++;
	return i;
}

static bool verb_is(const char *line, size_t vlen, const char *verb)
{
	return strlen(verb) == vlen && strncasecmp(line, verb, vlen) == 0;
}

static void smtp_ehlo(struct smtp_session *s)
{
	struct conn *c = s->conn;

	conn_printf(c, "250-%s\r\n", s->srv->hostname);
	conn_printf(c, "250-PIPELINING\r\n");
	if (s->srv->starttls && s->srv->tls != NULL && !conn_is_tls(c))
		conn_printf(c, "250-STARTTLS\r\n");
	conn_printf(c, "250 ENHANCEDSTATUSCODES\r\n");
}

/* Returns false when the session stops reading (QUIT, STARTTLS). */
static bool smtp_command(struct smtp_session *s, const char *line, size_t len)
{
	struct conn *c = s->conn;
	size_t vlen = smtp_verb(line, len);

	if (verb_is(line, vlen, "EHLO")) {
		smtp_ehlo(s);
	} else if (verb_is(line, vlen, "HELO")) {
		conn_printf(c, "250 %s\r\n", s->srv->hostname);
	} else if (verb_is(line, vlen, "NOOP") || verb_is(line, vlen, "RSET")) {
		conn_printf(c, "250 2.0.0 OK\r\n");
	} else if (verb_is(line, vlen, "QUIT")) {
		conn_printf(c, "221 2.0.0 Bye\r\n");
		conn_close(c);
		return false;
	} else if (verb_is(line, vlen, "STARTTLS")) {
		if (!s->srv->starttls || s->srv->tls == NULL ||
		    conn_is_tls(c)) {
			conn_printf(c, "503 5.5.1 STARTTLS not available\r\n");
		} else if (vlen != len) {
			/* RFC 3207 4: STARTTLS takes no parameters. */
			conn_printf(c, "501 5.5.4 Syntax: STARTTLS\r\n");
		} else {
			conn_printf(c, "220 2.0.0 Ready to start TLS\r\n");
			conn_start_tls(c, s->srv->tls, NULL);
			return false;
		}
	} else {
		conn_printf(c, "451 4.3.0 Command not yet available\r\n");
	}
	return true;
}

static void smtp_input(struct smtp_session *s)
{
	const char *line;
	size_t len;
	unsigned flags;

	for (;;) {
		enum linereader_result r;

		r = conn_read_line(s->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		if (r == LINE_TOO_LONG) {
			/* RFC 5321 4.5.3.1.4 */
			conn_printf(s->conn, "500 5.5.2 Line too long\r\n");
		} else if (r != LINE_OK || (flags & LINE_F_NUL)) {
			conn_printf(s->conn,
				    "500 5.5.2 Syntax error: line must end "
				    "in CRLF and hold no NUL\r\n");
		} else if (!smtp_command(s, line, len)) {
			return;
		}
	}
}

static void smtp_on_conn(struct conn *conn, enum conn_event ev, void *arg)
{
	struct smtp_session *s = arg;

	switch (ev) {
	case CONN_EV_DATA:
		smtp_input(s);
		break;
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(conn), "starttls", "version=%s cipher=%s",
			 conn_tls_version(conn), conn_tls_cipher(conn));
		break;
	case CONN_EV_TIMEOUT:
		/* RFC 5321 4.5.3.2: the server may close an idle session. */
		conn_printf(conn, "421 4.4.2 %s Timeout, closing\r\n",
			    s->srv->hostname);
		conn_close(conn);
		break;
	case CONN_EV_SHUTDOWN:
		conn_printf(conn, "421 4.3.2 %s Service shutting down\r\n",
			    s->srv->hostname);
		conn_close(conn);
		break;
	case CONN_EV_FLUSHED:
		break;
	case CONN_EV_CLOSED:
		log_info(conn_sid(conn), "disconnect", "peer=%s",
			 conn_peer_ip(conn));
		smtp_session_free(&s);
		break;
	}
}

void smtp_session_start(struct conn *conn, const struct smtp_server *srv)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->srv = srv;
	conn_set_max_line(conn, LIMIT_SMTP_COMMAND_LINE);
	conn_set_timeout(conn, srv->idle_timeout);
	conn_set_callback(conn, smtp_on_conn, s);
	/* RFC 5321 4.3.1 */
	conn_printf(conn, "220 %s ESMTP postern\r\n", srv->hostname);
}

void smtp_session_refuse(struct conn *conn, const struct smtp_server *srv,
			 const char *why)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->srv = srv;
	conn_set_callback(conn, smtp_on_conn, s);
	conn_printf(conn, "421 4.7.0 %s %s, try again later\r\n", srv->hostname,
		    why);
	conn_close(conn);
}
