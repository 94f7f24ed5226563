/*
 * libFuzzer target for lib/linereader.
 *
 * Input: byte 0 picks the line limit, bytes 1..3 the sizes of the reads
 * (used in turn), the rest is the stream. The stream is fed as a
 * connection feeds it (append a read, call until LINE_MORE with nothing
 * consumed, drop what was consumed), and again in one piece: both must
 * give the same lines, and every result must be what its name says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/linereader.h"
#include "fuzz.h"

#define HEADER 4

struct event {
	enum linereader_result res;
	size_t start; /* offset of the line in the stream */
	size_t len;
	unsigned flags;
};

struct run {
	struct event *ev;
	size_t n;
	size_t cap;
	size_t rest; /* bytes left unconsumed at the end */
};

static void record(struct run *r, enum linereader_result res, size_t start,
		   const struct line *line)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->ev = realloc(r->ev, r->cap * sizeof(*r->ev));
		CHECK(r->ev != NULL);
	}
	r->ev[r->n].res = res;
	r->ev[r->n].start = start;
	r->ev[r->n].len = line->len;
	r->ev[r->n].flags = line->flags;
	r->n++;
}

/* What each result promises about the bytes it describes. */
static void check_line(const struct linereader *lr, enum linereader_result res,
		       const char *p, size_t avail, const struct line *line)
{
	const char *nul;

	CHECK(line->consumed <= avail);
	CHECK(line->len <= lr->max);
	if (res == LINE_MORE) {
		CHECK(line->flags == 0);
		/* Waiting for input only while under the limit. */
		if (line->consumed == 0)
			CHECK(avail < lr->max);
		return;
	}
	/* Progress: every result other than LINE_MORE drops bytes. */
	CHECK(line->consumed > 0);
	CHECK(line->consumed >= line->len);
	nul = memchr(p, '\0', line->len);
	CHECK((line->flags == LINE_F_NUL) == (nul != NULL));
	switch (res) {
	case LINE_OK:
		CHECK(line->consumed == line->len + 2);
		CHECK(p[line->len] == '\r' && p[line->len + 1] == '\n');
		CHECK(line->len + 2 <= lr->max);
		break;
	case LINE_BARE_LF:
		CHECK(line->consumed == line->len + 1);
		CHECK(p[line->len] == '\n');
		break;
	case LINE_BARE_CR:
		CHECK(line->consumed == line->len + 1);
		CHECK(p[line->len] == '\r');
		CHECK(line->len + 1 < avail && p[line->len + 1] != '\n');
		break;
	case LINE_TOO_LONG:
		CHECK(line->len == lr->max);
		/* Whatever it drops past the line is a tail up to one LF. */
		CHECK(memchr(p + lr->max, '\n',
			     line->consumed - lr->max -
				     (line->consumed > lr->max)) == NULL);
		CHECK(!lr->skipping == (line->consumed > lr->max &&
					p[line->consumed - 1] == '\n'));
		return;
	default:
		CHECK(!"unknown result");
	}
	CHECK(memchr(p, '\n', line->len) == NULL);
	CHECK(memchr(p, '\r', line->len) == NULL);
}

/* Feed stream[0..len) in reads of sizes[i % 3] bytes. */
static void feed(size_t max, const uint8_t sizes[3], const char *stream,
		 size_t len, struct run *r)
{
	struct linereader lr;
	char *pending = malloc(len ? len : 1);
	size_t plen = 0, base = 0, fed = 0, reads = 0;

	CHECK(pending != NULL);
	linereader_init(&lr, max);
	memset(r, 0, sizeof(*r));
	while (fed < len) {
		size_t n = sizes ? 1 + sizes[reads++ % 3] % 32 : len;

		if (n > len - fed)
			n = len - fed;
		memcpy(pending + plen, stream + fed, n);
		plen += n;
		fed += n;
		for (;;) {
			/* An exact-size copy: ASan sees any read past it. */
			char *p = malloc(plen ? plen : 1);
			struct line line;
			enum linereader_result res;

			CHECK(p != NULL);
			memcpy(p, pending, plen);
			res = linereader_next(&lr, p, plen, &line);
			check_line(&lr, res, p, plen, &line);
			free(p);
			if (res != LINE_MORE)
				record(r, res, base, &line);
			memmove(pending, pending + line.consumed,
				plen - line.consumed);
			plen -= line.consumed;
			base += line.consumed;
			if (res == LINE_MORE && line.consumed == 0)
				break;
		}
	}
	r->rest = plen;
	free(pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run chunked, whole;
	size_t max;

	if (size < HEADER)
		return 0;
	/* Mostly small limits, to reach them; sometimes the SMTP one. */
	max = data[0] & 0x80 ? 512 : 2 + (data[0] & 0x3f);

	feed(max, data + 1, (const char *)data + HEADER, size - HEADER,
	     &chunked);
	feed(max, NULL, (const char *)data + HEADER, size - HEADER, &whole);

	/* How the bytes were split across reads must not change the lines. */
	CHECK(chunked.n == whole.n);
	CHECK(chunked.rest == whole.rest);
	for (size_t i = 0; i < whole.n; i++) {
		CHECK(chunked.ev[i].res == whole.ev[i].res);
		CHECK(chunked.ev[i].start == whole.ev[i].start);
		CHECK(chunked.ev[i].len == whole.ev[i].len);
		CHECK(chunked.ev[i].flags == whole.ev[i].flags);
	}
	free(chunked.ev);
	free(whole.ev);
	return 0;
}
