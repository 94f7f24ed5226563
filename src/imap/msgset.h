/*
 * Helpers shared by the message commands (cmd_search.c, cmd_store.c,
 * cmd_copy.c, cmd_expunge.c): number sets written as sequence sets, and
 * tagged replies whose text may be longer than imap_ok()'s buffer
 * (COPYUID and MODIFIED list whole sets).
 */
#ifndef IMAP_MSGSET_H
#define IMAP_MSGSET_H

#include <stddef.h>
#include <stdint.h>

struct imap_session;

/*
 * nums[0..n) as a sequence set in the order given, runs of consecutive
 * ascending numbers as ranges: {3,4,5,9,7} gives "3:5,9,7" (RFC 4315
 * COPYUID keeps the order; RFC 3501 9 sequence-set). malloc'd, the
 * caller frees; "" when n is 0. Never fails.
 */
char *imap_msgset_format(const uint32_t *nums, size_t n);

/*
 * "tag OK text\r\n" (status "OK" or "NO") after the pending updates, as
 * imap_ok() does (no EXPUNGE for IMAP_CMD_F_NO_EXPUNGE commands), for a
 * text of any length.
 */
void imap_reply_long(struct imap_session *s, const char *tag,
		     const char *status, const char *text);

/* "* OK text\r\n" of any length (MOVE's untagged COPYUID). */
void imap_untagged_long(struct imap_session *s, const char *text);

#endif
