/*
 * APPEND (RFC 3501 6.3.11) with APPENDUID (RFC 4315 3).
 *
 * The message literal was capped by the session at max_message_size
 * before any of it was read (NO [TOOBIG] otherwise); it is handed to the
 * store in place, which writes it durably before the OK.
 */
#include <string.h>
#include <time.h>

#include "imap/session_int.h"
#include "net/conn.h"
#include "store/store.h"

enum imap_cmd_result imap_cmd_append(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	const char *name, *keywords = NULL, *data, *error = NULL;
	unsigned flags = 0;
	time_t date = 0;
	size_t len;
	uint32_t uidvalidity = 0, uid = 0;
	int r;

	if (imap_args_mailbox(a, &name) < 0)
		return IMAP_CMD_BAD;
	if (imap_args_is_list(a) &&
	    imap_args_flags(a, false, &flags, &keywords) < 0)
		return IMAP_CMD_BAD;
	/* A date-time is the only quoted argument that can come here. */
	if (!imap_args_at_end(a) && !imap_args_is_list(a) &&
	    (a->p + 1 < a->end && a->p[1] == '"') &&
	    imap_args_datetime(a, &date) < 0)
		return IMAP_CMD_BAD;
	if (imap_args_message(a, &data, &len, NULL) < 0 ||
	    imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (len > s->srv->max_message_size) {
		imap_no(s, tag, "[TOOBIG] Message too large");
		return IMAP_CMD_DONE;
	}
	if (len == 0) {
		imap_no(s, tag, "[CANNOT] Empty message");
		return IMAP_CMD_DONE;
	}
	r = store_append(s->store_user, name, data, len, flags, keywords, date,
			 &uidvalidity, &uid, &error);
	if (r < 0) {
		/* RFC 3501 6.3.11: TRYCREATE when the mailbox is missing. */
		imap_no_store(s, tag, r, error, true);
		return IMAP_CMD_DONE;
	}
	imap_ok(s, tag, "[APPENDUID %u %u] APPEND completed", uidvalidity, uid);
	return IMAP_CMD_DONE;
}
