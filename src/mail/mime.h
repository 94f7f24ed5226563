/*
 * MIME structure of a message (RFC 2045-2047, 2231) and its IMAP views
 * (RFC 3501 7.4.2: ENVELOPE, BODY, BODYSTRUCTURE).
 *
 * One linear pass over the bytes builds a tree of parts with offsets into
 * the caller's buffer; nothing is copied. Limits bound the work on hostile
 * input (MIME_DEPTH_MAX, MIME_PARTS_MAX, MIME_HEADERS_MAX, MIME_HEADER_MAX):
 * past a limit the rest is treated as opaque text/plain, never an error,
 * so a message can always be shown.
 *
 * Lines may end in CRLF or bare LF (Maildirs written by other tools).
 */
#ifndef MAIL_MIME_H
#define MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>

#define MIME_DEPTH_MAX 20
#define MIME_PARTS_MAX 500
#define MIME_HEADERS_MAX 1000
#define MIME_HEADER_MAX (64 * 1024) /* one unfolded header field */

struct mime_part {
	/* Offsets into the message: header block (fields, without the blank
	 * line), body (after the blank line, up to the part's end, without the
	 * CRLF that belongs to the next boundary). */
	size_t hdr_off, hdr_len;
	size_t body_off, body_len;
	size_t body_lines;	/* lines in the body */
	char *type, *subtype;	/* lower-case; "text"/"plain" by default */
	char *encoding;		/* Content-Transfer-Encoding, lower-case */
	struct mime_part *parent;
	struct mime_part *children; /* multipart parts, or the message/rfc822
				       inner message (one child) */
	struct mime_part *next;
	size_t n_children;
};

/* Parse msg (len bytes). Never fails (allocation failure aborts). The
 * caller frees with mime_free(); msg must outlive the tree. */
struct mime_part *mime_parse(const char *msg, size_t len);
void mime_free(struct mime_part **rootp);

/*
 * The part named by an IMAP section part number ("1.2.3"; "" = root),
 * RFC 3501 6.4.5; NULL when there is no such part. For a message/rfc822
 * part, its number names the part and "N.HEADER"/"N.TEXT" the inner
 * message; the IMAP layer handles those suffixes.
 */
const struct mime_part *mime_section(const struct mime_part *root,
				     const char *section);

/* RFC 3501 ENVELOPE / BODY / BODYSTRUCTURE strings (NIL, quoted strings or
 * literals as needed, header values kept raw as RFC 3501 asks). malloc'd;
 * the caller frees. */
char *mime_envelope(const struct mime_part *part, const char *msg);
char *mime_bodystructure(const struct mime_part *part, const char *msg,
			 bool extended);

/*
 * Decode RFC 2047 encoded words in an unfolded header value into UTF-8
 * (charsets: UTF-8, US-ASCII, ISO-8859-1, Windows-1252; others kept as
 * they are). malloc'd; the caller frees. For SEARCH and display.
 */
char *mime_decode_words(const char *value, size_t len);

/*
 * The unfolded value of the first header field called name (case-
 * insensitive) in a header block, malloc'd, or NULL when absent.
 */
char *mime_header_get(const char *hdr, size_t hdr_len, const char *name);

#endif
