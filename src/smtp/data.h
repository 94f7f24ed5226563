/*
 * The DATA / BDAT body decoder: a pure state machine over bytes.
 *
 * SECURITY (SMTP smuggling, 2023): DATA ends only at <CRLF>.<CRLF>. A
 * bare LF or bare CR anywhere in the body is never taken as a line end
 * and never normalised: it is flagged, decoding goes on to the real end,
 * and the caller refuses the message. Dot-stuffing (RFC 5321 4.5.2) is
 * undone. Nothing here is sized by the client: output never exceeds
 * input.
 */
#ifndef SMTP_DATA_H
#define SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Problems found in the body, accumulated until the end. */
#define SMTP_DATA_BARE_LF 0x01
#define SMTP_DATA_BARE_CR 0x02
#define SMTP_DATA_LONG_LINE 0x04 /* a line over max_line, CRLF included */
#define SMTP_DATA_NUL 0x08
#define SMTP_DATA_8BIT 0x10 /* octets >= 0x80 (not an error by itself) */

struct smtp_data {
	bool dot;	 /* DATA (dot-terminated) rather than BDAT */
	int state;	 /* private */
	size_t max_line; /* RFC 5321 4.5.3.1.6: 1000 */
	size_t line_len; /* private: octets in the current line */
	unsigned flags;	 /* SMTP_DATA_* seen so far */
	uint64_t size;	 /* octets of message written so far */
};

/* dot: DATA mode; else BDAT (raw octets, no terminator). */
void smtp_data_init(struct smtp_data *d, bool dot, size_t max_line);

/*
 * Decode in[0..len) into out, which holds at least len octets. Sets
 * *out_len_r to the message octets produced and *consumed_r to the input
 * octets used. In DATA mode returns 1 when the terminating <CRLF>.<CRLF>
 * was consumed (the final CRLF before the dot belongs to the message, the
 * dot line does not), else 0 (all of in was consumed). In BDAT mode always
 * returns 0 and consumes everything; call smtp_data_end() after the LAST
 * chunk.
 */
int smtp_data_decode(struct smtp_data *d, const char *in, size_t len, char *out,
		     size_t *out_len_r, size_t *consumed_r);

/*
 * BDAT LAST: the message is complete. A message not ending in CRLF is
 * flagged as SMTP_DATA_BARE_CR when it ends in a lone CR. Returns flags.
 */
unsigned smtp_data_end(struct smtp_data *d);

#endif
