/*
 * SMTP replies as a client reads them (RFC 5321 4.2, RFC 2034 enhanced
 * status codes) and the EHLO keywords a server offers (RFC 5321 4.1.1.1
 * and the extension RFCs). Pure functions over (bytes, length): no I/O,
 * no state beyond the struct the caller passes, so they are unit tested
 * row by row and fuzzed.
 *
 * SECURITY: every byte comes from the remote server. Lines and whole
 * replies are bounded; the text kept for reports is cut to a fixed size
 * and has its control characters replaced.
 */
#ifndef SMTP_REPLY_H
#define SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1.5: a reply line, CRLF included. */
#define SMTP_REPLY_LINE_MAX 512
/* All the lines of one reply together (a long EHLO list fits). */
#define SMTP_REPLY_MAX (64 * 1024)
/* Reply text kept for logs, results and DSNs, NUL included. */
#define SMTP_REPLY_TEXT_MAX 512
/* "x.yyy.zzz" and its NUL, with room. */
#define SMTP_STATUS_MAX 16

/* One reply, built line by line by smtp_reply_add(). */
struct smtp_reply {
	int code;			/* 0 until the first line */
	char status[SMTP_STATUS_MAX];	/* enhanced status, "" if none */
	char text[SMTP_REPLY_TEXT_MAX]; /* see smtp_reply_add() */
	size_t total;			/* octets of the lines so far */
	size_t lines;
	bool done; /* the last line was seen */
};

/* One line: "ddd", "ddd SP text" (last line) or "ddd-text". */
struct smtp_reply_line {
	int code;
	bool last;
	const char *text; /* after the separator; not NUL-terminated */
	size_t text_len;
};

/*
 * Parse one reply line (without its CRLF). The code is three digits,
 * 2-5 then 0-5 then 0-9 (RFC 5321 4.2); a line of only the code is a last
 * line. Returns 0, or -1 when malformed or longer than
 * SMTP_REPLY_LINE_MAX - 2.
 */
int smtp_reply_parse_line(const char *line, size_t len,
			  struct smtp_reply_line *line_r)
	__attribute__((warn_unused_result));

/*
 * Parse an enhanced status code (RFC 3463: class "." subject "." detail,
 * 1 to 3 digits each) at the start of text, which must be followed by SP
 * or end there, and whose class must match code's first digit. Returns
 * its length (status_r holds it, NUL-terminated), or 0 when there is
 * none.
 */
size_t smtp_reply_status(int code, const char *text, size_t len,
			 char status_r[SMTP_STATUS_MAX]);

void smtp_reply_init(struct smtp_reply *r);

/*
 * Add the next line of a reply. line_r, if not NULL, gets the parsed
 * line. The reply's text is every line's text, each without a leading
 * enhanced status equal to the first line's, joined by one space; bytes
 * below 0x20 and 0x7f become '?'; it is cut at SMTP_REPLY_TEXT_MAX - 1.
 * Returns 1 when the reply is complete, 0 when more lines follow, -1 for a
 * malformed line or a code that differs from the first line's, -2 when
 * the reply passes SMTP_REPLY_MAX. After a result other than 0, call
 * smtp_reply_init() before the next reply.
 */
int smtp_reply_add(struct smtp_reply *r, const char *line, size_t len,
		   struct smtp_reply_line *line_r)
	__attribute__((warn_unused_result));

/* SASL mechanisms the client can use (RFC 4954 AUTH keyword). */
#define SMTP_AUTH_PLAIN 0x01
#define SMTP_AUTH_LOGIN 0x02

/* What a server offered in its EHLO reply. */
struct smtp_ehlo {
	bool pipelining;	  /* RFC 2920 */
	bool starttls;		  /* RFC 3207 */
	bool size;		  /* RFC 1870 */
	uint64_t size_max;	  /* SIZE's fixed limit; 0: none given */
	bool eightbitmime;	  /* RFC 6152 */
	bool smtputf8;		  /* RFC 6531 */
	bool dsn;		  /* RFC 3461 */
	bool chunking;		  /* RFC 3030 */
	bool enhancedstatuscodes; /* RFC 2034 */
	unsigned auth;		  /* SMTP_AUTH_* offered */
};

/*
 * Record one keyword line of a 250 reply to EHLO (every line but the
 * first, which is the server's name): text as smtp_reply_line gives it.
 * Keywords are case-insensitive; unknown ones and malformed parameters
 * are ignored (a SIZE value that is not a number counts as no limit).
 */
void smtp_ehlo_keyword(struct smtp_ehlo *e, const char *text, size_t len);

#endif
