/*
 * The DATA / BDAT body decoder (RFC 5321 4.1.1.4, 4.5.2; RFC 3030).
 *
 * SECURITY: hostile input on the hot path of mail reception. The only
 * end of DATA is <CRLF>.<CRLF> with two real CRLFs (RFC 5321 4.1.1.4);
 * a bare CR or LF is never a line end, never a line start and never
 * rewritten (RFC 5321 2.3.8): it is flagged and copied, so that
 * <LF>.<LF>, <CR>.<CR>, <LF>.<CRLF>, <CRLF>.<LF> and their kin end
 * nothing (SMTP smuggling). Output never exceeds input, in every call.
 *
 * Decisions the header leaves open:
 * - Nothing is ever held back for a later call: every octet that will be
 *   output is output in the call that consumed it, so the caller's buffer
 *   of len octets is always enough, whatever the split. The one octet
 *   whose fate is undecided at a line start, the CR of ".\r", is not
 *   output yet; if no LF follows it is a bare CR (flagged, so the message
 *   is refused) and it is dropped together with the stuffed dot.
 * - out may be in (decoding in place): writes never pass reads.
 * - After the terminator, DATA calls return 1 and consume nothing.
 * - BDAT end: a final line without CRLF is accepted (RFC 3030 does not
 *   ask for one); a final lone CR is a half line end, SMTP_DATA_BARE_CR.
 *   The final line is measured with the CRLF that any writer of RFC 5322
 *   text must add to it.
 * - Line length counts the octets received (before unstuffing), bare CR
 *   and LF included since they end no line; the dot line is not counted.
 */
#include "smtp/data.h"

#include <assert.h>
#include <string.h>

enum {
	DATA_BOL,    /* at a line start: start of data or after CRLF */
	DATA_TEXT,   /* inside a line; the previous octet is not a CR */
	DATA_CR,     /* inside a line just after a CR (already output) */
	DATA_DOT,    /* "." at a line start, dropped */
	DATA_DOT_CR, /* "." CR at a line start, neither output */
	DATA_DONE,   /* <CRLF>.<CRLF> consumed */
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero iff some octet of v is zero (exact for the word as a whole). */
static inline uint64_t zero_octet(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

/*
 * Copy from p to *op up to the first octet that needs a decision: CR, LF
 * and, while not yet flagged, NUL and octets >= 0x80. Eight octets at a
 * time; a word is stored only when all of it is plain, so the stores
 * never overtake the loads when out == in. Returns where it stopped.
 */
static inline const unsigned char *copy_plain(const unsigned char *p,
					      const unsigned char *end,
					      unsigned char **op,
					      unsigned flags)
{
	const uint64_t hi = flags & SMTP_DATA_8BIT ? 0 : HIGHS;
	const uint64_t nul = flags & SMTP_DATA_NUL ? 0 : HIGHS;
	unsigned char *o = *op;

	while (end - p >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		if ((zero_octet(v ^ (ONES * '\r')) |
		     zero_octet(v ^ (ONES * '\n')) | (zero_octet(v) & nul) |
		     (v & hi)) != 0)
			break;
		memcpy(o, &v, 8);
		o += 8;
		p += 8;
	}
	for (; p < end; p++) {
		unsigned char c = *p;

		if (c == '\r' || c == '\n' || (c == '\0' && nul) ||
		    (c >= 0x80 && hi))
			break;
		*o++ = c;
	}
	*op = o;
	return p;
}

void smtp_data_init(struct smtp_data *d, bool dot, size_t max_line)
{
	memset(d, 0, sizeof(*d));
	d->dot = dot;
	d->state = DATA_BOL;
	/* An empty line is 2 octets; below that every line would be long. */
	d->max_line = max_line < 2 ? 2 : max_line;
}

int smtp_data_decode(struct smtp_data *d, const char *in, size_t len, char *out,
		     size_t *out_len_r, size_t *consumed_r)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *const end = p + len;
	unsigned char *o = (unsigned char *)out;
	const size_t max = d->max_line;
	size_t line_len = d->line_len;
	unsigned flags = d->flags;
	int state = d->state;
	int ret = 0;

	assert(in != NULL || len == 0);
	assert(out != NULL || len == 0);
	assert(state >= DATA_BOL && state <= DATA_DONE);

	while (p < end) {
		switch (state) {
		case DATA_BOL:
			/* RFC 5321 4.5.2: drop the first dot of a line. */
			if (d->dot && *p == '.') {
				p++;
				line_len = 1;
				state = DATA_DOT;
				break;
			}
			state = DATA_TEXT;
			break;
		case DATA_TEXT: {
			const unsigned char *start = p;
			unsigned char c;

			p = copy_plain(p, end, &o, flags);
			line_len += (size_t)(p - start);
			if (p < end) {
				c = *p++;
				*o++ = c;
				line_len++;
				if (c == '\r')
					state = DATA_CR;
				else if (c == '\n') /* RFC 5321 2.3.8 */
					flags |= SMTP_DATA_BARE_LF;
				else if (c == '\0')
					flags |= SMTP_DATA_NUL;
				else
					flags |= SMTP_DATA_8BIT;
			}
			/* RFC 5321 4.5.3.1.6; the line may never end. */
			if (line_len > max)
				flags |= SMTP_DATA_LONG_LINE;
			break;
		}
		case DATA_CR:
			if (*p == '\n') {
				*o++ = '\n';
				p++;
				if (line_len + 1 > max)
					flags |= SMTP_DATA_LONG_LINE;
				line_len = 0;
				state = DATA_BOL;
				break;
			}
			/* The CR stays, the octet after it is plain text. */
			flags |= SMTP_DATA_BARE_CR;
			state = DATA_TEXT;
			break;
		case DATA_DOT:
			if (*p == '\r') {
				p++;
				line_len++;
				state = DATA_DOT_CR;
				break;
			}
			state = DATA_TEXT;
			break;
		case DATA_DOT_CR:
			if (*p == '\n') {
				/* RFC 5321 4.1.1.4: the end of mail data. */
				p++;
				line_len = 0;
				state = DATA_DONE;
				ret = 1;
				goto done;
			}
			/* "." bare CR: both dropped, see the top. */
			flags |= SMTP_DATA_BARE_CR;
			state = DATA_TEXT;
			break;
		case DATA_DONE:
			ret = 1;
			goto done;
		}
	}
	if (state == DATA_DONE)
		ret = 1;
done:
	d->state = state;
	d->line_len = line_len;
	d->flags = flags;
	*out_len_r = (size_t)(o - (unsigned char *)out);
	*consumed_r = (size_t)(p - (const unsigned char *)in);
	d->size += *out_len_r;
	assert(*out_len_r <= *consumed_r);
	return ret;
}

unsigned smtp_data_end(struct smtp_data *d)
{
	if (d->dot)
		return d->flags;
	if (d->state == DATA_CR) {
		/* The message ends in half a line end. */
		d->flags |= SMTP_DATA_BARE_CR;
	} else if (d->state == DATA_TEXT && d->line_len + 2 > d->max_line) {
		/* RFC 5322 2.1: the final line gets its CRLF. */
		d->flags |= SMTP_DATA_LONG_LINE;
	}
	return d->flags;
}
