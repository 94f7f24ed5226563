/*
 * Message header scanner for submission (RFC 6409 8): which fields a
 * message has, and the addresses in its From: and Sender: fields, read
 * while the message streams through DATA. Plus the Date: and Message-ID:
 * values an MSA adds when they are missing (RFC 6409 8.2, 8.3).
 *
 * A pure, incremental parser: no I/O, no globals. Memory is bounded by
 * struct header_limits; time is linear in the input, whatever the split
 * of the input into feeds.
 *
 * SECURITY: the header is written by an authenticated but untrusted
 * client that may try to send as someone else. The scanner splits fields
 * exactly where RFC 5322 2.2.3 does (CRLF not followed by WSP), so a
 * field name folded before its colon or followed by WSP ("From :", RFC
 * 5322 4.5.2) is still seen; only the empty line ends the header; a From:
 * it cannot read entirely is reported, never skipped.
 */
#ifndef MAIL_HEADER_H
#define MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Defaults for struct header_limits. */
#define HEADER_FIELD_MAX ((size_t)16 * 1024)
#define HEADER_FIELDS_MAX 1000
#define HEADER_BLOCK_MAX ((size_t)256 * 1024)
#define HEADER_FROM_MAX 100
/* To:, Cc: and Bcc: mailboxes kept (sendmail -t). */
#define HEADER_RCPT_MAX 1000
/* Comments nest (RFC 5322 3.2.2); deeper nesting makes a field malformed. */
#define HEADER_COMMENT_DEPTH 32
/* A buffer this large holds header_date_format()'s output. */
#define HEADER_DATE_SIZE 32

/* A member left 0 takes the default above. */
struct header_limits {
	/* Octets of one field as written: name, colon, body and the CRLFs
	 * of its folds; not its final CRLF. */
	size_t field_max;
	/* Fields in the header (lines that are not fields count too). */
	size_t fields_max;
	/* Octets of the whole header, the empty line included. */
	size_t header_max;
	/* From: mailboxes, all From: fields together. */
	size_t from_max;
};

struct header_scan;

/*
 * A scanner at the start of a message. lim may be NULL for the defaults;
 * it is copied. The caller owns the result; free it with
 * header_scan_free(). Never fails (allocation failure aborts).
 */
struct header_scan *header_scan_new(const struct header_limits *lim);

/* Free *hp (NULL is fine) and set *hp to NULL. */
void header_scan_free(struct header_scan **hp);

/*
 * Feed the next len octets of the message: CRLF line ends, already
 * un-dot-stuffed, exactly as they will be stored. Feeds may split the
 * message anywhere, even inside a CRLF; results do not depend on where.
 *
 * Returns:
 *   0   the header goes on; all of data was consumed (*consumed_r = len).
 *   1   the header ended: its empty line was consumed, and *consumed_r
 *       says how much of data was header (the body starts at
 *       data + *consumed_r; the last two header octets are the empty
 *       line's CRLF, so fields can be added before it).
 *  -2   a limit was passed at data[*consumed_r - 1]: the scanner stops,
 *       the rest of the message is opaque to it, and From: could not be
 *       checked. header_scan_limit_error() says which limit; the caller
 *       refuses the message (552 or 554).
 * A malformed header is never an error here: it is recorded, and read
 * through the functions below. Once 1 or -2 was returned, every later
 * call returns the same with *consumed_r = 0.
 */
int header_scan_feed(struct header_scan *h, const char *data, size_t len,
		     size_t *consumed_r) __attribute__((warn_unused_result));

/*
 * The message ended (a message may be all header, with no empty line).
 * Completes the last field. Returns 1, or -2 when a limit was passed
 * (now or before).
 */
int header_scan_finish(struct header_scan *h)
	__attribute__((warn_unused_result));

/*
 * Results: complete once feed or finish returned 1; after -2 they cover
 * only the part that was scanned.
 */

/* Static sentence naming the limit passed, or NULL when none was. */
const char *header_scan_limit_error(const struct header_scan *h);

/*
 * Whether a field with this name is present ("Message-ID", "Date"),
 * compared case-insensitively; WSP before its colon does not count. Says
 * nothing of whether its body is valid.
 */
bool header_scan_has(const struct header_scan *h, const char *name);

/*
 * The From: mailboxes, in order: all From: fields, all mailboxes, group
 * members flattened (RFC 6854). Each is "local@domain": the local part's
 * value (a quoted-string unquoted, its escapes undone, as in struct
 * address; it may hold '@', the domain never does: split at the last
 * '@'), the domain as written (compare case-insensitively). Comments,
 * CFWS, display names and obs-route are left out. Every address passed
 * address_parse_mailbox() with ADDRESS_F_UTF8 (RFC 5321 syntax and
 * lengths, well-formed UTF-8) and has a non-empty local part (""@x is
 * refused). The strings belong to h.
 * A count of 0 without header_scan_from_malformed(): no From: field, or
 * only empty groups ("From: undisclosed:;").
 */
size_t header_scan_from_count(const struct header_scan *h);
/* NULL when i >= header_scan_from_count(h). */
const char *header_scan_from(const struct header_scan *h, size_t i);

/*
 * A From: field could not be read entirely (bad syntax, no mailbox, an
 * address that is not a valid mailbox): the caller refuses the message.
 * The mailboxes of such a field are not in the list.
 */
bool header_scan_from_malformed(const struct header_scan *h);

/*
 * The Sender: mailbox, same form as header_scan_from(); NULL when there
 * is no Sender: field or header_scan_sender_malformed().
 */
const char *header_scan_sender(const struct header_scan *h);
/* Sender: is not exactly one mailbox, or there are several Sender:. */
bool header_scan_sender_malformed(const struct header_scan *h);

/*
 * Lines that are not fields: no colon, a name with octets outside
 * 33..126, or a continuation with no field before it. They are skipped
 * (the header still ends only at the empty line); a strict caller may
 * refuse the message.
 */
size_t header_scan_bad_fields(const struct header_scan *h);

/*
 * RFC 5322 3.3 date-time in UTC with English names and "+0000", e.g.
 * "Sun, 22 Nov 2026 00:21:37 +0000" (received_date()). Returns the
 * length, or 0 when it does not fit in size (HEADER_DATE_SIZE suffices)
 * or t is out of range; buf is then "" when size > 0.
 */
size_t header_date_format(char *buf, size_t size, time_t t);

/*
 * RFC 5322 3.6.4 msg-id "<unique@domain>". unique must be ASCII
 * dot-atom-text, domain dot-atom-text or a "[...]" literal of dtext, so
 * nothing can leave the field. Returns the length, or 0 when an argument
 * is not valid or the result does not fit; buf is then "" when size > 0.
 */
size_t header_message_id(char *buf, size_t size, const char *unique,
			 const char *domain);

/*
 * The addr-specs of every To:, Cc: and Bcc: mailbox, groups flattened, in
 * order (as header_scan_from gives From:), for sendmail -t; a malformed
 * field is flagged and its addresses left out.
 */
size_t header_scan_rcpt_count(const struct header_scan *h);
const char *header_scan_rcpt(const struct header_scan *h, size_t i);
bool header_scan_rcpt_malformed(const struct header_scan *h);

#endif
