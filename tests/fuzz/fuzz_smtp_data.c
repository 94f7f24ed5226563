/*
 * libFuzzer target for smtp/data.
 *
 * Input: byte 0 picks the mode (bit 0: DATA, else BDAT) and the line
 * limit, bytes 1..3 the sizes of the reads (used in turn), the rest is
 * the stream. The stream is decoded in reads of those sizes and in one
 * piece; both must give the same octets, return, consumed and flags, and
 * must agree with a plain octet-at-a-time reference written from the
 * RFCs. Each call sees exact-size buffers, so ASan catches any access
 * past them, including output beyond the input length of that call.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/data.h"
#include "fuzz.h"

#define HEADER 4

struct run {
	char *out;
	size_t out_len;
	int ret;
	size_t consumed;
	unsigned flags;
};

/* Feed in[0..len) in reads of 1 + sizes[i % 3] % 64 octets, or whole. */
static void feed(bool dot, size_t max, const uint8_t sizes[3], const char *in,
		 size_t len, struct run *r)
{
	struct smtp_data d;
	size_t fed = 0, reads = 0;

	smtp_data_init(&d, dot, max);
	memset(r, 0, sizeof(*r));
	r->out = malloc(len ? len : 1);
	CHECK(r->out != NULL);
	do {
		size_t n = sizes ? 1 + sizes[reads++ % 3] % 64 : len;
		size_t out_len, consumed;
		char *chunk, *out;
		int ret;

		if (n > len - fed)
			n = len - fed;
		chunk = malloc(n ? n : 1);
		out = malloc(n ? n : 1);
		CHECK(chunk != NULL && out != NULL);
		memcpy(chunk, in + fed, n);
		ret = smtp_data_decode(&d, chunk, n, out, &out_len, &consumed);
		CHECK(consumed <= n);
		CHECK(out_len <= consumed);
		CHECK(ret == 0 || (ret == 1 && dot));
		CHECK(ret == 1 || consumed == n);
		memcpy(r->out + r->out_len, out, out_len);
		r->out_len += out_len;
		r->consumed = fed + consumed;
		r->ret = ret;
		free(chunk);
		free(out);
		fed += n;
		if (ret == 1)
			break;
	} while (fed < len);
	r->flags = dot ? d.flags : smtp_data_end(&d);
	CHECK(d.size == r->out_len);
}

/*
 * The same rules, one octet at a time with look-ahead over the whole
 * stream: the terminator is ".\r\n" at a line start; a line start is
 * the start or just after CRLF; a stuffed dot goes, and so does a CR
 * after it that no LF follows.
 */
static void reference(bool dot, size_t max, const char *in, size_t len,
		      struct run *r)
{
	size_t i = 0, line = 0;
	bool bol = true;

	memset(r, 0, sizeof(*r));
	r->out = malloc(len ? len : 1);
	CHECK(r->out != NULL);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (dot && bol && c == '.') {
			if (i + 2 < len && in[i + 1] == '\r' &&
			    in[i + 2] == '\n') {
				r->ret = 1;
				i += 3;
				break;
			}
			line = 1;
			i++;
			if (i < len && in[i] == '\r') {
				line++;
				i++;
				if (i < len)
					r->flags |= SMTP_DATA_BARE_CR;
			}
			bol = false;
			continue;
		}
		bol = false;
		r->out[r->out_len++] = (char)c;
		line++;
		i++;
		if (c == '\r' && i < len && in[i] == '\n') {
			r->out[r->out_len++] = '\n';
			i++;
			if (line + 1 > max)
				r->flags |= SMTP_DATA_LONG_LINE;
			line = 0;
			bol = true;
			continue;
		}
		/* Not before an LF; at the end, BDAT ends in half a CRLF. */
		if (c == '\r' && (i < len || !dot))
			r->flags |= SMTP_DATA_BARE_CR;
		else if (c == '\n')
			r->flags |= SMTP_DATA_BARE_LF;
		else if (c == '\0')
			r->flags |= SMTP_DATA_NUL;
		else if (c >= 0x80)
			r->flags |= SMTP_DATA_8BIT;
		if (line > max)
			r->flags |= SMTP_DATA_LONG_LINE;
	}
	/* A final line without CRLF is measured with the CRLF it needs. */
	if (!dot && !bol && in[len - 1] != '\r' && line + 2 > max)
		r->flags |= SMTP_DATA_LONG_LINE;
	r->consumed = i;
}

static void same(const struct run *a, const struct run *b)
{
	CHECK(a->ret == b->ret);
	CHECK(a->consumed == b->consumed);
	CHECK(a->flags == b->flags);
	CHECK(a->out_len == b->out_len);
	CHECK(memcmp(a->out, b->out, a->out_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run chunked, whole, ref;
	const char *in = (const char *)data + HEADER;
	size_t len, max;
	bool dot;

	if (size < HEADER)
		return 0;
	len = size - HEADER;
	dot = data[0] & 1;
	/* Mostly small limits, to reach them; sometimes the SMTP one. */
	max = data[0] & 0x80 ? 1000 : (data[0] >> 1) & 0x3f;

	feed(dot, max, data + 1, in, len, &chunked);
	feed(dot, max, NULL, in, len, &whole);
	/* smtp_data_init() raises a limit below 2 to 2. */
	reference(dot, max < 2 ? 2 : max, in, len, &ref);

	CHECK(whole.out_len <= whole.consumed && whole.consumed <= len);
	same(&chunked, &whole);
	same(&whole, &ref);
	/* Content flags are plain facts about the octets consumed. */
	CHECK(!(whole.flags & SMTP_DATA_NUL) ==
	      !memchr(in, '\0', whole.consumed));
	free(chunked.out);
	free(whole.out);
	free(ref.out);
	return 0;
}
