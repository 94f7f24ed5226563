#include "lib/linereader.h"

#include <string.h>

void linereader_init(struct linereader *lr, size_t max)
{
	memset(lr, 0, sizeof(*lr));
	lr->max = max < 2 ? 2 : max;
}

static void line_done(struct linereader *lr, struct line *line_r, size_t len,
		      size_t consumed)
{
	line_r->len = len;
	line_r->consumed = consumed;
	line_r->flags = lr->nul ? LINE_F_NUL : 0;
	lr->scanned = 0;
	lr->nul = 0;
}

/* Drop the tail of an over-long line; returns bytes dropped. */
static size_t skip_tail(struct linereader *lr, const char *data, size_t len)
{
	const char *lf = memchr(data, '\n', len);

	if (lf == NULL)
		return len;
	lr->skipping = 0;
	return (size_t)(lf - data) + 1;
}

enum linereader_result linereader_next(struct linereader *lr, const char *data,
				       size_t len, struct line *line_r)
{
	size_t limit, i;

	memset(line_r, 0, sizeof(*line_r));
	if (lr->skipping) {
		/*
		 * Stop even when the tail ends here: a line is reported at
		 * data[0], so the caller must drop the tail and call again.
		 */
		line_r->consumed = skip_tail(lr, data, len);
		return LINE_MORE;
	}

	limit = len < lr->max ? len : lr->max;
	for (i = lr->scanned; i < limit; i++) {
		char c = data[i];

		if (c == '\0') {
			lr->nul = 1;
		} else if (c == '\n') {
			/* RFC 5321 2.3.8: lines end in CRLF, and only there. */
			line_done(lr, line_r, i, i + 1);
			return LINE_BARE_LF;
		} else if (c == '\r') {
			if (i + 1 == len) {
				/* CR at the end of what we have: wait. */
				break;
			}
			if (i + 1 == lr->max) {
				/*
				 * The line and its CRLF would be max + 1
				 * bytes; deciding here would also depend on
				 * how the bytes were split across reads.
				 */
				break;
			}
			if (data[i + 1] == '\n') {
				line_done(lr, line_r, i, i + 2);
				return LINE_OK;
			}
			line_done(lr, line_r, i, i + 1);
			return LINE_BARE_CR;
		}
	}
	lr->scanned = i;
	if (len >= lr->max) {
		/*
		 * max bytes and no line end within them (a CR in the last
		 * place could only end a line one byte too long).
		 */
		lr->skipping = 1;
		line_done(lr, line_r, lr->max, lr->max);
		/*
		 * Drop what of the tail is here already, so that a whole
		 * over-long line needs no second call.
		 */
		line_r->consumed +=
			skip_tail(lr, data + lr->max, len - lr->max);
		return LINE_TOO_LONG;
	}
	return LINE_MORE;
}
