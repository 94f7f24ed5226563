/*
 * Commands valid in any state (RFC 3501 6.1) and the small session-wide
 * ones: CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161),
 * NAMESPACE (RFC 2342).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "net/conn.h"

/* RFC 2971 3.3: at most 30 field-value pairs, fields <= 30 octets. */
#define IMAP_ID_PAIRS_MAX 30
#define IMAP_ID_FIELD_MAX 30
#define IMAP_ID_VALUE_MAX 1024

const char *imap_capabilities(const struct imap_session *s)
{
	static char caps[512];
	bool tls = conn_is_tls(s->conn);
	bool can_tls = s->srv->tls != NULL && s->srv->starttls && !tls;
	int n;

	n = snprintf(caps, sizeof(caps),
		     "IMAP4rev1 LITERAL+ SASL-IR ID IDLE NAMESPACE ENABLE "
		     "UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE "
		     "COMPRESS=DEFLATE UIDPLUS MOVE CONDSTORE QRESYNC ESEARCH "
		     "SEARCHRES BINARY");
	if (s->state != IMAP_STATE_NOT_AUTH)
		return caps;
	if (can_tls)
		n += snprintf(caps + n, sizeof(caps) - (size_t)n, " STARTTLS");
	/* DESIGN.md 7: credentials only over TLS. */
	if (tls)
		snprintf(caps + n, sizeof(caps) - (size_t)n,
			 " AUTH=PLAIN AUTH=SCRAM-SHA-256");
	else
		snprintf(caps + n, sizeof(caps) - (size_t)n, " LOGINDISABLED");
	return caps;
}

enum imap_cmd_result imap_cmd_capability(struct imap_session *s,
					 const char *tag, struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	imap_untagged(s, "CAPABILITY %s", imap_capabilities(s));
	imap_ok(s, tag, "CAPABILITY completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_noop(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	/* imap_ok sends the pending updates (RFC 3501 6.1.2). */
	imap_ok(s, tag, "NOOP completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_logout(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	imap_untagged(s, "BYE Logging out");
	imap_session_unselect(s);
	imap_session_set_state(s, IMAP_STATE_LOGOUT);
	imap_ok(s, tag, "LOGOUT completed");
	conn_close(s->conn);
	return IMAP_CMD_DONE;
}

/* Log what the client says it is (RFC 2971), checked and bounded. */
static int id_params(struct imap_session *s, struct imap_args *a)
{
	char text[600] = "";
	size_t used = 0;
	int pairs = 0;

	if (imap_args_is_nil(a))
		return imap_args_skip(a);
	if (imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		const char *field, *value;
		size_t flen, vlen;

		if (++pairs > IMAP_ID_PAIRS_MAX ||
		    imap_args_string(a, &field, &flen) < 0 ||
		    imap_args_nstring(a, &value, &vlen) < 0 ||
		    flen > IMAP_ID_FIELD_MAX ||
		    (value != NULL && vlen > IMAP_ID_VALUE_MAX)) {
			a->error = "Bad ID parameters";
			return -1;
		}
		if (used < sizeof(text) && value != NULL) {
			int n = snprintf(text + used, sizeof(text) - used,
					 "%s%s=%.60s", used ? " " : "", field,
					 value);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	if (imap_args_list_close(a) < 0)
		return -1;
	if (text[0] != '\0') {
		char q[700];

		log_info(conn_sid(s->conn), "imap id", "client=%s",
			 log_qs(q, sizeof(q), text));
	}
	return 0;
}

enum imap_cmd_result imap_cmd_id(struct imap_session *s, const char *tag,
				 struct imap_args *a)
{
	if (id_params(s, a) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	imap_untagged(s, "ID (\"name\" \"postern\" \"vendor\" \"postern\")");
	imap_ok(s, tag, "ID completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_enable(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	unsigned before = s->enabled, want = 0;

	do {
		const char *ext;

		if (imap_args_atom(a, &ext) < 0)
			return IMAP_CMD_BAD;
		/* RFC 5161 3.1: unknown extensions are ignored. */
		if (strcasecmp(ext, "CONDSTORE") == 0)
			want |= IMAP_ENABLED_CONDSTORE;
		else if (strcasecmp(ext, "QRESYNC") == 0)
			want |= IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE;
	} while (!imap_args_at_end(a));
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if ((want & IMAP_ENABLED_CONDSTORE) &&
	    !(before & IMAP_ENABLED_CONDSTORE))
		imap_condstore_enable(s);
	s->enabled |= want;
	/* RFC 5161 3.2: list only what this command newly enabled. */
	imap_untagged(
		s, "ENABLED%s%s",
		(want & ~before) & IMAP_ENABLED_CONDSTORE ? " CONDSTORE" : "",
		(want & ~before) & IMAP_ENABLED_QRESYNC ? " QRESYNC" : "");
	imap_ok(s, tag, "ENABLE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_namespace(struct imap_session *s, const char *tag,
					struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	/* RFC 2342 5: one personal namespace, no others. */
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_ok(s, tag, "NAMESPACE completed");
	return IMAP_CMD_DONE;
}
