/*
 * The octets a FETCH BODY[section] / BINARY[section] names (RFC 3501
 * 6.4.5, RFC 9051 6.4.5.1 and 7.5.2), the partial window, and the
 * INTERNALDATE format. Pure: the message is bytes in memory, its
 * structure comes from mail/mime.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/cmd_fetch.h"
#include "lib/mem.h"
#include "mail/mime.h"

void imap_fetch_partial(size_t len, uint32_t start, uint32_t count,
			size_t *off_r, size_t *n_r)
{
	/* RFC 3501 6.4.5: past the end is empty, beyond it is cut. */
	size_t off = start < len ? start : len;
	size_t n = len - off;

	if (count < n)
		n = count;
	*off_r = off;
	*n_r = n;
}

static bool is_message(const struct mime_part *p)
{
	return strcmp(p->type, "message") == 0 &&
	       (strcmp(p->subtype, "rfc822") == 0 ||
		strcmp(p->subtype, "global") == 0) &&
	       p->children != NULL;
}

/* [off, off+n) clamped to the message: the tree is trusted, but cheaply
 * checked so a parser bug cannot read past the buffer. */
static void span(const char *msg, size_t len, size_t off, size_t n,
		 const char **data_r, size_t *len_r)
{
	if (off > len)
		off = len;
	if (n > len - off)
		n = len - off;
	*data_r = msg + off;
	*len_r = n;
}

/* HEADER.FIELDS[.NOT] of the message m: the subset, then the blank line
 * (RFC 3501 6.4.5: included unless the message has none). */
static void fields(const char *msg, size_t len, const struct mime_part *m,
		   const struct imap_fetch_item *item, const char **data_r,
		   size_t *len_r, char **owned_r)
{
	const char *hdr, *blank;
	size_t hdr_len, blank_len, o;
	char *out;

	span(msg, len, m->hdr_off, m->hdr_len, &hdr, &hdr_len);
	span(msg, len, m->hdr_off + m->hdr_len,
	     m->body_off - (m->hdr_off + m->hdr_len), &blank, &blank_len);
	out = xmalloc(hdr_len + blank_len + 1);
	mime_header_fields(hdr, hdr_len, item->fields, item->n_fields,
			   item->text == IMAP_FETCH_TEXT_FIELDS_NOT, out, &o);
	memcpy(out + o, blank, blank_len);
	*owned_r = out;
	*data_r = out;
	*len_r = o + blank_len;
}

static bool known_cte(const char *enc)
{
	static const char *const known[] = {"7bit", "8bit", "binary", "base64",
					    "quoted-printable"};

	if (enc == NULL || enc[0] == '\0')
		return true;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(enc, known[i]) == 0)
			return true;
	return false;
}

/* Bare LF to CRLF (RFC 9051 7.5.2: decoded text goes out with CRLF). */
static char *crlf(char *s, size_t *len)
{
	size_t extra = 0, o = 0;
	char *out;

	for (size_t i = 0; i < *len; i++)
		extra += s[i] == '\n' && (i == 0 || s[i - 1] != '\r');
	if (extra == 0)
		return s;
	out = xmalloc(*len + extra + 1);
	for (size_t i = 0; i < *len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = s[i];
	}
	out[o] = '\0';
	free(s);
	*len = o;
	return out;
}

/*
 * BINARY[part]: the body with its transfer encoding undone. RFC 9051
 * 6.4.5 asks for leaf parts only; a multipart or message part is given as
 * it is (its encoding can only be 7bit, 8bit or binary), as Dovecot does,
 * rather than failing a client that asked anyway.
 */
static int binary(const char *msg, size_t len, const struct mime_part *part,
		  const struct imap_fetch_item *item, const char **data_r,
		  size_t *len_r, char **owned_r)
{
	const char *enc = part->encoding;

	if (item->part[0] == '\0') {
		*data_r = msg;
		*len_r = len;
		return 0;
	}
	/* RFC 9051 6.4.5: unknown encodings fail (NO [UNKNOWN-CTE]). */
	if (!known_cte(enc))
		return -1;
	if (enc != NULL && (strcasecmp(enc, "base64") == 0 ||
			    strcasecmp(enc, "quoted-printable") == 0)) {
		/* RFC 2045 6.4: a multipart or message is never encoded. */
		if (strcmp(part->type, "multipart") == 0 || is_message(part))
			return -1;
		size_t n;
		char *dec = mime_decode_body(part, msg, false, &n);

		if (strcmp(part->type, "text") == 0)
			dec = crlf(dec, &n);
		*owned_r = dec;
		*data_r = dec;
		*len_r = n;
		return 0;
	}
	span(msg, len, part->body_off, part->body_len, data_r, len_r);
	return 0;
}

int imap_fetch_section(const char *msg, size_t len,
		       const struct mime_part *root,
		       const struct imap_fetch_item *item, const char **data_r,
		       size_t *len_r, char **owned_r)
{
	const struct mime_part *part = root, *m;

	*owned_r = NULL;
	if (item->part[0] != '\0' &&
	    (part = mime_section(root, item->part)) == NULL)
		return 1;
	if (item->att != IMAP_FETCH_SECTION)
		return binary(msg, len, part, item, data_r, len_r, owned_r);
	if (item->text == IMAP_FETCH_TEXT_NONE) {
		if (item->part[0] == '\0')
			span(msg, len, 0, len, data_r, len_r);
		else
			span(msg, len, part->body_off, part->body_len, data_r,
			     len_r);
		return 0;
	}
	if (item->text == IMAP_FETCH_TEXT_MIME) {
		span(msg, len, part->hdr_off, part->body_off - part->hdr_off,
		     data_r, len_r);
		return 0;
	}
	/* HEADER, HEADER.FIELDS, TEXT: of the message itself, or after a
	 * part number of the message/rfc822 part's inner message. */
	m = part;
	if (item->part[0] != '\0') {
		if (!is_message(part))
			return 1;
		m = part->children;
	}
	switch (item->text) {
	case IMAP_FETCH_TEXT_HEADER:
		span(msg, len, m->hdr_off, m->body_off - m->hdr_off, data_r,
		     len_r);
		return 0;
	case IMAP_FETCH_TEXT_TEXT:
		span(msg, len, m->body_off, m->body_len, data_r, len_r);
		return 0;
	default:
		fields(msg, len, m, item, data_r, len_r, owned_r);
		return 0;
	}
}

void imap_fetch_date(int64_t t, char *buf, size_t size)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		/* Out of the grammar's range: say 1970 rather than garble. */
		memset(&tm, 0, sizeof(tm));
		tm.tm_mday = 1;
		tm.tm_year = 70;
	}
	/* RFC 3501 9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz", in UTC. */
	snprintf(buf, size, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
}
