/*
 * FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2; RFC 9051 6.4.5 with
 * BINARY; RFC 7162 MODSEQ, CHANGEDSINCE, VANISHED): the pure parts, kept
 * apart from the handler so they can be unit tested and fuzzed.
 *
 *   cmd_fetch_parse.c  the data item list and the modifiers
 *   cmd_fetch_body.c   the octets a BODY[section] / BINARY[section] names
 *   cmd_fetch.c        the handler: one message at a time, resumable
 *
 * SECURITY: the item list comes from an authenticated but untrusted
 * client; it is read with the bounded cursor of imap/parse.h and capped at
 * IMAP_FETCH_ITEMS_MAX items and IMAP_FETCH_FIELDS_MAX header names. The
 * message bytes may be hostile too: sections are found with mail/mime.h's
 * bounded parser and every offset is checked against the message length.
 */
#ifndef IMAP_CMD_FETCH_H
#define IMAP_CMD_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"

struct mime_part;

/* Most data items in one FETCH, and header names in one HEADER.FIELDS. */
#define IMAP_FETCH_ITEMS_MAX 64
#define IMAP_FETCH_FIELDS_MAX 256

enum imap_fetch_att {
	IMAP_FETCH_UID,
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY, /* BODY: BODYSTRUCTURE without extensions */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_MODSEQ,	/* RFC 7162 3.1.4.2 */
	IMAP_FETCH_SECTION,	/* BODY[...], BODY.PEEK[...], RFC822* */
	IMAP_FETCH_BINARY,	/* BINARY[...], BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE, /* BINARY.SIZE[...] */
};

/* What follows the part number in a section (RFC 9051 6.4.5.1). */
enum imap_fetch_text {
	IMAP_FETCH_TEXT_NONE,	    /* "" (whole message) or "1.2" (a part) */
	IMAP_FETCH_TEXT_HEADER,	    /* HEADER */
	IMAP_FETCH_TEXT_FIELDS,	    /* HEADER.FIELDS (list) */
	IMAP_FETCH_TEXT_FIELDS_NOT, /* HEADER.FIELDS.NOT (list) */
	IMAP_FETCH_TEXT_TEXT,	    /* TEXT */
	IMAP_FETCH_TEXT_MIME,	    /* MIME (needs a part number) */
};

/* One data item; strings owned by the item (imap_fetch_req_free). */
struct imap_fetch_item {
	enum imap_fetch_att att;
	/*
	 * For SECTION/BINARY/BINARY_SIZE: the name written in the response
	 * ("BODY[1.2.HEADER.FIELDS (DATE FROM)]", "RFC822.TEXT",
	 * "BINARY[2]"), without the partial's "<origin>".
	 */
	char *label;
	char *part; /* "1.2" or "" */
	enum imap_fetch_text text;
	char **fields; /* HEADER.FIELDS[.NOT] names, n_fields of them */
	size_t n_fields;
	bool peek;    /* does not set \Seen */
	bool partial; /* <start.count> given */
	uint32_t start, count;
};

struct imap_fetch_req {
	struct imap_fetch_item *items;
	size_t n;
	bool changedsince_given; /* RFC 7162 3.1.4.1 */
	uint64_t changedsince;
	bool vanished;	 /* RFC 7162 3.2.6 (UID FETCH only) */
	bool sets_seen;	 /* some item sets \Seen when not read-only */
	bool needs_text; /* some item needs the message bytes */
	bool has_modseq; /* MODSEQ asked (or implied by CHANGEDSINCE) */
	bool has_uid;	 /* UID asked (always for UID FETCH) */
	bool has_flags;	 /* FLAGS asked */
};

/*
 * Read FETCH's arguments after the sequence set: the macro, item or item
 * list, then the optional modifier list. uid: UID FETCH (UID is added as
 * the first item when missing; VANISHED allowed). qresync: the client
 * enabled QRESYNC (VANISHED refused otherwise, RFC 7162 3.2.6). CHANGEDSINCE
 * adds MODSEQ. Reads to the end of the command. Returns 0 with *req filled
 * (the caller frees it with imap_fetch_req_free, also after -1), or -1
 * with a->error set for "tag BAD".
 */
int imap_fetch_parse(struct imap_args *a, bool uid, bool qresync,
		     struct imap_fetch_req *req)
	__attribute__((warn_unused_result));
void imap_fetch_req_free(struct imap_fetch_req *req);

/*
 * The octets item (SECTION, BINARY or BINARY_SIZE) names in msg[0..len)
 * whose MIME tree is root, before any partial is applied. Returns:
 *   0  *data_r and *len_r set; they point into msg, or into *owned_r when the
 *      text had to be built (HEADER.FIELDS, BINARY decoding): the caller
 *      frees *owned_r (NULL when nothing was allocated);
 *   1  the section does not exist in this message (sent as an empty
 *      string, as Dovecot does);
 *  -1  BINARY of a part whose Content-Transfer-Encoding is unknown, or a
 *      multipart / message part claiming base64 or quoted-printable
 *      (RFC 9051 6.4.5: NO [UNKNOWN-CTE]).
 */
int imap_fetch_section(const char *msg, size_t len,
		       const struct mime_part *root,
		       const struct imap_fetch_item *item, const char **data_r,
		       size_t *len_r, char **owned_r);

/*
 * RFC 3501 6.4.5 partial: of a text of len octets, the window <start.count>
 * as an offset and length (empty when start is past the end, cut at the
 * end).
 */
void imap_fetch_partial(size_t len, uint32_t start, uint32_t count,
			size_t *off_r, size_t *n_r);

/*
 * INTERNALDATE as RFC 3501 date-time, quoted: "\"17-Jul-1996 09:44:25
 * +0000\"" in UTC. buf needs IMAP_FETCH_DATE_LEN + 1 octets.
 */
#define IMAP_FETCH_DATE_LEN 28
void imap_fetch_date(int64_t t, char *buf, size_t size);

#endif
