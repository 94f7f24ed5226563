/*
 * Helpers of the message commands (msgset.h).
 */
#include "imap/msgset.h"

#include <stdio.h>
#include <stdlib.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"

/* "4294967295:4294967295," */
#define MSGSET_ITEM_MAX 22

char *imap_msgset_format(const uint32_t *nums, size_t n)
{
	char *out = xmalloc(n * MSGSET_ITEM_MAX + 1);
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && nums[j] != UINT32_MAX &&
		       nums[j + 1] == nums[j] + 1)
			j++;
		used += (size_t)snprintf(out + used, MSGSET_ITEM_MAX + 1,
					 j == i ? "%s%u" : "%s%u:%u",
					 used > 0 ? "," : "", nums[i], nums[j]);
		i = j + 1;
	}
	return out;
}

void imap_reply_long(struct imap_session *s, const char *tag,
		     const char *status, const char *text)
{
	const char *error;
	unsigned opts = 0;

	/* The updates imap_ok() would send first (RFC 3501 5.2). */
	if (s->state == IMAP_STATE_SELECTED) {
		if (s->cmd != NULL && (s->cmd->flags & IMAP_CMD_F_NO_EXPUNGE))
			opts |= IMAP_SYNC_NO_EXPUNGE;
		if (imap_session_sync(s, opts, &error) < 0)
			log_warn(conn_sid(s->conn), "mailbox sync failed",
				 "error=%s", error);
	}
	imap_printf(s, "%s %s %s\r\n", tag, status, text);
}

void imap_untagged_long(struct imap_session *s, const char *text)
{
	imap_printf(s, "* OK %s\r\n", text);
}
