/*
 * CRLF-strict line splitter: a pure parser over bytes, no I/O, so the
 * connection layer, unit tests and the fuzzer all drive the same code.
 *
 * It never guesses: a bare LF, a bare CR or an over-long line is reported
 * to the caller, who decides (SMTP refuses bare LF in DATA: SMTP smuggling).
 */
#ifndef LIB_LINEREADER_H
#define LIB_LINEREADER_H

#include <stddef.h>

enum linereader_result {
	LINE_MORE = 0,	    /* no complete line yet: read more */
	LINE_OK = 1,	    /* a line ended by CRLF */
	LINE_BARE_LF = -1,  /* a line ended by LF without CR */
	LINE_TOO_LONG = -2, /* no CRLF within max bytes */
	LINE_BARE_CR = -3,  /* a CR not followed by LF */
};

/* The line held a NUL byte (reported, not refused). */
#define LINE_F_NUL 0x01

struct linereader {
	size_t max;	/* longest line, CRLF included */
	size_t scanned; /* bytes known to hold no LF and no decidable CR */
	int skipping;	/* discarding the rest of an over-long line */
	int nul;	/* a NUL was seen in the scanned bytes */
};

struct line {
	size_t len;	 /* line length without its terminator */
	size_t consumed; /* bytes the caller must drop, on every result */
	unsigned flags;	 /* LINE_F_* */
};

/* max counts the terminating CRLF, as RFC 5321 4.5.3.1 does; max >= 2. */
void linereader_init(struct linereader *lr, size_t max);

/*
 * Look for the next line at the start of data[0..len). The caller passes
 * the same unconsumed bytes again (plus new ones) until a result other
 * than LINE_MORE, and always drops line_r->consumed bytes, which may be
 * non-zero even for LINE_MORE (the tail of an over-long line).
 *
 * LINE_OK, LINE_BARE_LF, LINE_BARE_CR: the line is data[0..line_r->len).
 * LINE_BARE_CR ends the line at the stray CR; what follows is a new line.
 * LINE_TOO_LONG: reported once; the bytes up to and including the next LF
 * are then dropped silently: while dropping, LINE_MORE comes back with
 * consumed > 0, and the caller calls again after dropping those bytes.
 */
enum linereader_result linereader_next(struct linereader *lr, const char *data,
				       size_t len, struct line *line_r);

#endif
