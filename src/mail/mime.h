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
#define MIME_HEADER_MAX ((size_t)64 * 1024) /* one unfolded header field */

struct mime_part {
	/* Offsets into the message: header block (fields, each with its line
	 * end, without the blank line), body (after the blank line, up to the
	 * part's end, without the CRLF that belongs to the next boundary).
	 * body_off - hdr_off is the header with its blank line (RFC 3501
	 * BODY[HEADER] / BODY[n.MIME]). A part with no blank line has
	 * body_off == hdr_off + hdr_len and an empty body. */
	size_t hdr_off, hdr_len;
	size_t body_off, body_len;
	/* Lines in the body: its LFs, plus one for a last line with no line
	 * end (the one before a boundary). Dovecot counts only the LFs. */
	size_t body_lines;
	char *type, *subtype; /* lower-case; "text"/"plain" by default */
	char *encoding;	      /* Content-Transfer-Encoding, lower-case */
	struct mime_part *parent;
	struct mime_part *children; /* multipart parts, or the message/rfc822
				       inner message (one child) */
	struct mime_part *next;
	size_t n_children;
};

/*
 * Parse msg (len bytes). Never fails (allocation failure aborts). The
 * caller frees with mime_free(); msg must outlive the tree.
 *
 * Broken MIME is shown rather than refused: an invalid Content-Type is
 * text/plain (RFC 2045 5.2); a multipart with no usable boundary, or
 * whose boundary never appears, is text/plain holding its whole body; a
 * missing close delimiter ends the multipart at its parent's end.
 * Depth counts one level per multipart part and per message/rfc822
 * message; the part at MIME_DEPTH_MAX, or created when MIME_PARTS_MAX
 * parts exist, is text/plain; past MIME_PARTS_MAX boundaries are text of
 * the last part. Only the first MIME_HEADERS_MAX fields of a header are
 * read, and a field over MIME_HEADER_MAX octets counts as absent.
 */
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

/*
 * RFC 3501 ENVELOPE / BODY / BODYSTRUCTURE strings (NIL, quoted strings or
 * literals as needed, header values kept raw as RFC 3501 asks). malloc'd;
 * the caller frees. Never fails.
 *
 * mime_envelope: part is a message, the root or the child of a
 * message/rfc822 part. Header values are unfolded and trimmed; a value
 * with CR, LF or 8-bit octets, or over 1024 octets, is a literal
 * "{n}\r\n...". Addresses are (name adl mailbox host) with quoting
 * removed, "MISSING_MAILBOX" / "MISSING_DOMAIN" for missing parts and
 * groups as RFC 3501 describes.
 *
 * mime_bodystructure: extended = false gives BODY. Type, subtype,
 * encoding and parameter names are lower-case ("text" "plain" ... "7bit"),
 * parameter values as written; RFC 2231 continuations are joined, and an
 * extended one is given as "name*" "charset'lang'%XX..." (RFC 9051
 * 7.5.2). Extension data: MD5 is NIL, then disposition, language, location.
 * Sizes are octets as stored (Dovecot counts LF as CRLF).
 */
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
 * insensitive) in a header block, malloc'd, or NULL when absent (or over
 * MIME_HEADER_MAX). The block ends at hdr_len or at an empty line, so a
 * whole message may be passed. Unfolding drops the line ends before WSP (RFC
 * 5322 2.2.3); WSP at both ends and NULs are removed.
 */
char *mime_header_get(const char *hdr, size_t hdr_len, const char *name);

/* One header field as written: its first line and the continuation lines
 * after it (RFC 5322 2.2.3), line ends included. Nothing is copied. */
struct mime_field {
	const char *start; /* the whole field: start[0..len) */
	size_t len;
	const char *name; /* before ":", WSP before it dropped (RFC 5322
			   * 4.5.3); name_len 0 when the first line has no
			   * colon */
	size_t name_len;
	const char *value; /* after ":" to the field's end */
	size_t value_len;
};

/*
 * The field of hdr[0..len) at *pos, moving *pos past it. False at the end
 * or at an empty line (the end of a header; *pos stays on it). Each octet
 * is looked at a bounded number of times; no limit on the field count,
 * which callers apply as they need.
 */
bool mime_field_next(const char *hdr, size_t len, size_t *pos,
		     struct mime_field *f);

/*
 * The header fields of hdr[0..hdr_len) (each with its line end, no blank
 * line) whose names are (not, when exclude) in names, in order, with their
 * continuation lines; names match ASCII case-insensitively (RFC 9051
 * 6.4.5.1: FETCH BODY[HEADER.FIELDS]). Written to out, which has room for
 * hdr_len octets; *out_len_r is the length written. Returns the number of
 * fields copied.
 */
size_t mime_header_fields(const char *hdr, size_t hdr_len, char *const *names,
			  size_t n_names, bool exclude, char *out,
			  size_t *out_len_r);

/*
 * The body of part with its Content-Transfer-Encoding undone (base64 and
 * quoted-printable, both read leniently; other encodings as they are).
 * With to_utf8, a part of type text is also converted from its charset
 * (UTF-8, US-ASCII, ISO-8859-1, Windows-1252) to UTF-8; with no or an
 * unknown charset, valid UTF-8 is kept and other octets are read as
 * ISO-8859-1. Other types are never converted. For SEARCH BODY/TEXT,
 * call it on the parts with no children (a multipart's body is its raw
 * parts, boundaries included).
 * malloc'd and NUL-terminated, its length (without the NUL) in *len_r;
 * the caller frees. Never fails.
 */
char *mime_decode_body(const struct mime_part *part, const char *msg,
		       bool to_utf8, size_t *len_r);

#endif
