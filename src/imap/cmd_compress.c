/*
 * COMPRESS DEFLATE (RFC 4978): the connection deflates what it sends and
 * inflates what it reads from right after the tagged OK.
 *
 * SECURITY: only after login (RFC 4978 7 grammar: command-auth), so no
 * secret of the login itself travels in a compressed stream next to
 * attacker-chosen text. The inflated input lands in the connection's
 * bounded buffer; every IMAP limit applies to it unchanged.
 */
#include <strings.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "net/conn.h"

enum imap_cmd_result imap_cmd_compress(struct imap_session *s, const char *tag,
				       struct imap_args *a)
{
	const char *mech;

	if (imap_args_atom(a, &mech) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (strcasecmp(mech, "DEFLATE") != 0) {
		imap_bad(s, tag, "Unknown compression mechanism");
		return IMAP_CMD_DONE;
	}
	if (conn_is_compressed(s->conn)) {
		/* RFC 4978 3: a second COMPRESS is BAD. */
		imap_bad(s, tag, "DEFLATE is active already");
		return IMAP_CMD_DONE;
	}
	imap_ok(s, tag, "DEFLATE active");
	if (conn_start_compress(s->conn) < 0) {
		/* The OK is out: the session cannot go on in step. */
		log_warn(conn_sid(s->conn), "cannot start compression",
			 "peer=%s", conn_peer_ip(s->conn));
		conn_close(s->conn);
		return IMAP_CMD_DONE;
	}
	log_debug(conn_sid(s->conn), "compress", "mechanism=DEFLATE");
	return IMAP_CMD_DONE;
}
