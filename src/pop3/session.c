#include "pop3/session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"

/* RFC 2449 4: commands up to 255 octets, CRLF included. */
#define POP3_LINE_MAX 255

struct pop3_session {
	struct conn *conn;
	const struct pop3_server *srv;
};

static void pop3_session_free(struct pop3_session **sp)
{
	struct pop3_session *s = *sp;

	if (s == NULL)
		return;
	conn_free(&s->conn);
	free(s);
	*sp = NULL;
}

static void pop3_capa(struct pop3_session *s)
{
	struct conn *c = s->conn;

	/* RFC 2449 5 */
	conn_printf(c, "+OK Capability list follows\r\n");
	if (s->srv->starttls && s->srv->tls != NULL && !conn_is_tls(c))
		conn_printf(c, "STLS\r\n");
	conn_printf(c, "RESP-CODES\r\nIMPLEMENTATION postern\r\n.\r\n");
}

/* Returns false when the session stops reading. */
static bool pop3_command(struct pop3_session *s, const char *line, size_t len)
{
	struct conn *c = s->conn;
	size_t vlen = 0;

	while (vlen < len && line[vlen] != ' ')
		vlen++;
#define VERB(x) (vlen == strlen(x) && strncasecmp(line, x, vlen) == 0)
	if (VERB("CAPA")) {
		pop3_capa(s);
	} else if (VERB("QUIT")) {
		conn_printf(c, "+OK %s signing off\r\n", s->srv->hostname);
		conn_close(c);
		return false;
	} else if (VERB("STLS")) {
		if (!s->srv->starttls || s->srv->tls == NULL ||
		    conn_is_tls(c)) {
			conn_printf(c, "-ERR STLS not available\r\n");
			return true;
		}
		/* RFC 2595 4 */
		conn_printf(c, "+OK Begin TLS negotiation\r\n");
		conn_start_tls(c, s->srv->tls, NULL);
		return false;
	} else {
		conn_printf(c, "-ERR [SYS/TEMP] Not yet available\r\n");
	}
#undef VERB
	return true;
}

static void pop3_input(struct pop3_session *s)
{
	const char *line;
	size_t len;
	unsigned flags;

	for (;;) {
		enum linereader_result r;

		r = conn_read_line(s->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		if (r == LINE_TOO_LONG)
			conn_printf(s->conn, "-ERR Line too long\r\n");
		else if (r != LINE_OK || (flags & LINE_F_NUL))
			conn_printf(
				s->conn,
				"-ERR Lines end in CRLF and hold no NUL\r\n");
		else if (!pop3_command(s, line, len))
			return;
	}
}

static void pop3_on_conn(struct conn *conn, enum conn_event ev, void *arg)
{
	struct pop3_session *s = arg;

	switch (ev) {
	case CONN_EV_DATA:
		pop3_input(s);
		break;
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(conn), "stls", "version=%s cipher=%s",
			 conn_tls_version(conn), conn_tls_cipher(conn));
		break;
	case CONN_EV_TIMEOUT:
		/* RFC 1939 3: close without a response. */
		conn_close(conn);
		break;
	case CONN_EV_SHUTDOWN:
		conn_printf(conn, "-ERR [SYS/TEMP] Server shutting down\r\n");
		conn_close(conn);
		break;
	case CONN_EV_FLUSHED:
	case CONN_EV_WAKE:
		break;
	case CONN_EV_CLOSED:
		log_info(conn_sid(conn), "disconnect", "peer=%s",
			 conn_peer_ip(conn));
		pop3_session_free(&s);
		break;
	}
}

static struct pop3_session *pop3_session_new(struct conn *conn,
					     const struct pop3_server *srv)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->srv = srv;
	conn_set_max_line(conn, POP3_LINE_MAX);
	conn_set_timeout(conn, srv->idle_timeout);
	conn_set_callback(conn, pop3_on_conn, s);
	return s;
}

void pop3_session_start(struct conn *conn, const struct pop3_server *srv)
{
	pop3_session_new(conn, srv);
	conn_printf(conn, "+OK %s postern ready\r\n", srv->hostname);
}

void pop3_session_refuse(struct conn *conn, const struct pop3_server *srv,
			 const char *why)
{
	pop3_session_new(conn, srv);
	conn_printf(conn, "-ERR [SYS/TEMP] %s, try again later\r\n", why);
	conn_close(conn);
}
