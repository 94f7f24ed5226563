/*
 * IMAP responses (RFC 3501 7): tagged status lines, untagged data, and
 * the string forms a response argument may take.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* vasprintf that aborts on allocation failure (lib/mem.h's rule). */
static char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *text;

	if (vasprintf(&text, fmt, ap) < 0)
		fatal("out of memory formatting a reply");
	return text;
}

/* Longest string sent quoted; longer ones go as literals. */
#define IMAP_QUOTED_MAX 1024

static void tagged(struct imap_session *s, const char *tag, const char *status,
		   const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void tagged(struct imap_session *s, const char *tag, const char *status,
		   const char *fmt, va_list ap)
{
	char *text = xvasprintf(fmt, ap);

	conn_printf(s->conn, "%s %s %s\r\n", tag, status, text);
	free(text);
}

/* RFC 3501 5.2: the server may send updates before any tagged reply. */
static void pending_updates(struct imap_session *s)
{
	const char *error;
	unsigned opts = 0;

	if (s->state != IMAP_STATE_SELECTED)
		return;
	if (s->cmd != NULL && (s->cmd->flags & IMAP_CMD_F_NO_EXPUNGE))
		opts |= IMAP_SYNC_NO_EXPUNGE;
	if (imap_session_sync(s, opts, &error) < 0)
		log_warn(conn_sid(s->conn), "mailbox sync failed", "error=%s",
			 error);
}

void imap_ok(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;

	pending_updates(s);
	va_start(ap, fmt);
	tagged(s, tag, "OK", fmt, ap);
	va_end(ap);
}

void imap_no(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;

	pending_updates(s);
	va_start(ap, fmt);
	tagged(s, tag, "NO", fmt, ap);
	va_end(ap);
}

void imap_bad(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tagged(s, tag, "BAD", fmt, ap);
	va_end(ap);
}

void imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	conn_printf(s->conn, "* %s\r\n", text);
	free(text);
}

void imap_no_store(struct imap_session *s, const char *tag, int err,
		   const char *error, bool trycreate)
{
	const char *code, *text;

	switch (err) {
	case STORE_ERR_NAME:
		code = "CANNOT";
		text = "Invalid mailbox name";
		break;
	case STORE_ERR_NONEXISTENT:
		code = trycreate ? "TRYCREATE" : "NONEXISTENT";
		text = "No such mailbox";
		break;
	case STORE_ERR_EXISTS:
		code = "ALREADYEXISTS";
		text = "Mailbox already exists";
		break;
	case STORE_ERR_QUOTA:
		code = "OVERQUOTA";
		text = "Quota exceeded";
		break;
	case STORE_ERR_NOPERM:
		code = "CANNOT";
		text = "Not allowed";
		break;
	case STORE_ERR_MODIFIED:
		code = "MODIFIED";
		text = "Changed meanwhile";
		break;
	case STORE_ERR_EXPUNGED:
		code = "EXPUNGEISSUED";
		text = "Message was expunged";
		break;
	case STORE_ERR_TOOBIG:
		code = "TOOBIG";
		text = "Message too large";
		break;
	case STORE_ERR_LOCKED:
		code = "INUSE";
		text = "Mailbox in use";
		break;
	default:
		/* The error may name a database problem: log, do not send. */
		log_warn(conn_sid(s->conn), "store error", "error=%s",
			 error != NULL ? error : "?");
		imap_no(s, tag, "[SERVERBUG] Internal error; try again later");
		return;
	}
	if (error == NULL || error[0] == '\0')
		error = text;
	imap_no(s, tag, "[%s] %s", code, error);
}

void imap_write(struct imap_session *s, const char *data, size_t len)
{
	conn_write(s->conn, data, len);
}

void imap_printf(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	conn_write(s->conn, text, strlen(text));
	free(text);
}

static bool quotable(const char *str, size_t len)
{
	if (len > IMAP_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return false;
	}
	return true;
}

void imap_write_string(struct imap_session *s, const char *str, size_t len)
{
	size_t start = 0;

	if (!quotable(str, len)) {
		imap_write_literal(s, str, len);
		return;
	}
	conn_write(s->conn, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (str[i] != '"' && str[i] != '\\')
			continue;
		conn_write(s->conn, str + start, i - start);
		conn_write(s->conn, "\\", 1);
		start = i;
	}
	conn_write(s->conn, str + start, len - start);
	conn_write(s->conn, "\"", 1);
}

void imap_write_nstring(struct imap_session *s, const char *str, size_t len)
{
	if (str == NULL)
		conn_write(s->conn, "NIL", 3);
	else
		imap_write_string(s, str, len);
}

void imap_write_astring(struct imap_session *s, const char *str)
{
	size_t len = strlen(str);
	bool atom = len > 0 && len <= IMAP_QUOTED_MAX &&
		    strcasecmp(str, "NIL") != 0;

	for (size_t i = 0; atom && i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		atom = c > ' ' && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
	}
	if (atom)
		conn_write(s->conn, str, len);
	else
		imap_write_string(s, str, len);
}

void imap_write_literal(struct imap_session *s, const char *data, size_t len)
{
	conn_printf(s->conn, "{%zu}\r\n", len);
	conn_write(s->conn, data, len);
}

void imap_write_flags(struct imap_session *s, unsigned flags,
		      const char *keywords, bool recent)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{STORE_F_SEEN, "\\Seen"},
		{STORE_F_ANSWERED, "\\Answered"},
		{STORE_F_FLAGGED, "\\Flagged"},
		{STORE_F_DELETED, "\\Deleted"},
		{STORE_F_DRAFT, "\\Draft"},
	};
	const char *sep = "";

	conn_write(s->conn, "(", 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			conn_printf(s->conn, "%s%s", sep, names[i].name);
			sep = " ";
		}
	}
	if (recent) {
		conn_printf(s->conn, "%s\\Recent", sep);
		sep = " ";
	}
	if (keywords != NULL && keywords[0] != '\0')
		conn_printf(s->conn, "%s%s", sep, keywords);
	conn_write(s->conn, ")", 1);
}
