#include "imap/session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"

/* Longest command line before literals exist (RFC 7162 4 asks >= 8192). */
#define IMAP_LINE_MAX 8192

struct imap_session {
	struct conn *conn;
	const struct imap_server *srv;
};

static void imap_session_free(struct imap_session **sp)
{
	struct imap_session *s = *sp;

	if (s == NULL)
		return;
	conn_free(&s->conn);
	free(s);
	*sp = NULL;
}

static void imap_capability(struct imap_session *s, const char *prefix,
			    const char *suffix)
{
	bool tls = s->srv->starttls && s->srv->tls != NULL &&
		   !conn_is_tls(s->conn);

	conn_printf(s->conn, "%sIMAP4rev1%s LOGINDISABLED%s", prefix,
		    tls ? " STARTTLS" : "", suffix);
}

/* Split "tag verb rest"; tag and verb are atoms. Returns false if bad. */
static bool imap_split(const char *line, size_t len, size_t *tag_len_r,
		       const char **verb_r, size_t *verb_len_r)
{
	size_t i = 0, v;

	while (i < len && line[i] != ' ' && (unsigned char)line[i] > ' ' &&
	       line[i] != '*' && line[i] != '+')
		i++;
	if (i == 0 || i >= len || line[i] != ' ')
		return false;
	*tag_len_r = i;
	v = ++i;
	while (i < len && line[i] != ' ')
		i++;
	if (i == v)
		return false;
	*verb_r = line + v;
	*verb_len_r = i - v;
	return true;
}

/* Returns false when the session stops reading. */
static bool imap_command(struct imap_session *s, const char *line, size_t len)
{
	struct conn *c = s->conn;
	size_t tlen, vlen;
	const char *verb;

	if (!imap_split(line, len, &tlen, &verb, &vlen)) {
		conn_printf(c, "* BAD Command line not understood\r\n");
		return true;
	}
#define VERB(x) (vlen == strlen(x) && strncasecmp(verb, x, vlen) == 0)
	if (VERB("CAPABILITY")) {
		imap_capability(s, "* CAPABILITY ", "\r\n");
		conn_printf(c, "%.*s OK CAPABILITY completed\r\n", (int)tlen,
			    line);
	} else if (VERB("NOOP")) {
		conn_printf(c, "%.*s OK NOOP completed\r\n", (int)tlen, line);
	} else if (VERB("LOGOUT")) {
		conn_printf(c, "* BYE Logging out\r\n");
		conn_printf(c, "%.*s OK LOGOUT completed\r\n", (int)tlen, line);
		conn_close(c);
		return false;
	} else if (VERB("STARTTLS")) {
		if (!s->srv->starttls || s->srv->tls == NULL ||
		    conn_is_tls(c)) {
			conn_printf(c, "%.*s BAD STARTTLS not available\r\n",
				    (int)tlen, line);
			return true;
		}
		/* RFC 9051 6.2.1 */
		conn_printf(c, "%.*s OK Begin TLS negotiation now\r\n",
			    (int)tlen, line);
		conn_start_tls(c, s->srv->tls, NULL);
		return false;
	} else {
		conn_printf(c, "%.*s NO [UNAVAILABLE] Not yet available\r\n",
			    (int)tlen, line);
	}
#undef VERB
	return true;
}

static void imap_input(struct imap_session *s)
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
			conn_printf(s->conn, "* BAD Line too long\r\n");
		else if (r != LINE_OK || (flags & LINE_F_NUL))
			conn_printf(
				s->conn,
				"* BAD Lines end in CRLF and hold no NUL\r\n");
		else if (!imap_command(s, line, len))
			return;
	}
}

static void imap_on_conn(struct conn *conn, enum conn_event ev, void *arg)
{
	struct imap_session *s = arg;

	switch (ev) {
	case CONN_EV_DATA:
		imap_input(s);
		break;
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(conn), "starttls", "version=%s cipher=%s",
			 conn_tls_version(conn), conn_tls_cipher(conn));
		break;
	case CONN_EV_TIMEOUT:
		conn_printf(conn, "* BYE Autologout; idle for too long\r\n");
		conn_close(conn);
		break;
	case CONN_EV_SHUTDOWN:
		conn_printf(conn,
			    "* BYE [UNAVAILABLE] Server shutting down\r\n");
		conn_close(conn);
		break;
	case CONN_EV_FLUSHED:
	case CONN_EV_WAKE:
		break;
	case CONN_EV_CLOSED:
		log_info(conn_sid(conn), "disconnect", "peer=%s",
			 conn_peer_ip(conn));
		imap_session_free(&s);
		break;
	}
}

static struct imap_session *imap_session_new(struct conn *conn,
					     const struct imap_server *srv)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->srv = srv;
	conn_set_max_line(conn, IMAP_LINE_MAX);
	conn_set_timeout(conn, srv->idle_timeout);
	conn_set_callback(conn, imap_on_conn, s);
	return s;
}

void imap_session_start(struct conn *conn, const struct imap_server *srv)
{
	struct imap_session *s = imap_session_new(conn, srv);

	/* RFC 9051 7.1.1: the greeting carries the capabilities. */
	imap_capability(s, "* OK [CAPABILITY ", "] ");
	conn_printf(conn, "%s postern ready\r\n", srv->hostname);
}

void imap_session_refuse(struct conn *conn, const struct imap_server *srv,
			 const char *why)
{
	imap_session_new(conn, srv);
	conn_printf(conn, "* BYE [UNAVAILABLE] %s, try again later\r\n", why);
	conn_close(conn);
}
