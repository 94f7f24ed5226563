/*
 * POP3 command parsing and multi-line output (RFC 1939, RFC 2449): pure
 * functions over (bytes, length), no I/O and no globals, so they are unit
 * tested row by row and fuzzed.
 *
 * SECURITY: every function here reads hostile input; none allocates, and
 * every output is bounded by a size the caller gives.
 */
#ifndef POP3_PARSE_H
#define POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 2449 4: a command is at most 255 octets, CRLF included. */
#define POP3_COMMAND_MAX 255
/* RFC 2449 3: at most this many parameters for any command we know. */
#define POP3_ARGS_MAX 2
/* RFC 1939 7: a unique-id is 1..70 characters in 0x21..0x7E. */
#define POP3_UIDL_MAX 70
/* RFC 2449 4: the first line of a response, CRLF included. */
#define POP3_RESPONSE_MAX 512

enum pop3_cmd {
	POP3_CMD_UNKNOWN,
	POP3_CMD_CAPA,
	POP3_CMD_STLS,
	POP3_CMD_USER,
	POP3_CMD_PASS,
	POP3_CMD_AUTH,
	POP3_CMD_APOP,
	POP3_CMD_STAT,
	POP3_CMD_LIST,
	POP3_CMD_RETR,
	POP3_CMD_TOP,
	POP3_CMD_DELE,
	POP3_CMD_NOOP,
	POP3_CMD_RSET,
	POP3_CMD_UIDL,
	POP3_CMD_QUIT,
};

struct pop3_arg {
	const char *p; /* into the line, not NUL-terminated */
	size_t len;    /* >= 1 */
};

struct pop3_command {
	enum pop3_cmd cmd;
	size_t argc;
	struct pop3_arg args[POP3_ARGS_MAX];
	/*
	 * Everything after the keyword and its one SP, as sent (PASS: RFC
	 * 1939 7 lets the password hold spaces). Empty when no argument.
	 */
	const char *rest;
	size_t rest_len;
};

/*
 * Parse a command line line[0..len) (CRLF removed). The keyword is
 * case-insensitive (RFC 1939 3); parameters are separated by one SP and
 * trailing SPs are ignored. Each known command's number of parameters is
 * checked here (LIST takes 0 or 1, TOP exactly 2, ...); PASS takes the
 * rest of the line as one parameter.
 *
 * Returns 0 with *cmd_r filled (pointers into line); -1 when the line is
 * not a command we accept, with cmd_r->cmd set when the keyword was known
 * and *error_r a static sentence for the -ERR reply; -2 when len is over
 * POP3_COMMAND_MAX - 2.
 */
int pop3_parse_command(const char *line, size_t len, struct pop3_command *cmd_r,
		       const char **error_r)
	__attribute__((warn_unused_result));

/* The keyword of cmd in upper case ("RETR"); "?" for POP3_CMD_UNKNOWN. */
const char *pop3_cmd_name(enum pop3_cmd cmd);

/*
 * A decimal number s[0..len): 1..10 digits, no sign, at most UINT32_MAX.
 * Returns 0 with *n_r set, or -1.
 */
int pop3_parse_number(const char *s, size_t len, uint32_t *n_r)
	__attribute__((warn_unused_result));

/*
 * The unique-id of a message (RFC 1939 7 UIDL): the mailbox's UIDVALIDITY
 * and the message's UID as two 8-digit lower-case hex numbers joined by a
 * dot, "5f3a2b1c.0000002a". Both numbers are fixed for the life of the
 * message in the store, so the id is stable across sessions, and a store
 * rebuilt with a new UIDVALIDITY gives new ids (clients then fetch again
 * rather than miss mail). Writes it NUL-terminated into out[0..size) and
 * returns its length (17), or 0 when size is under 18.
 */
size_t pop3_uidl(uint32_t uidvalidity, uint32_t uid, char *out, size_t size);

/*
 * Byte-stuffing of a multi-line response body (RFC 1939 3), fed in
 * chunks: a line starting with "." gets one more. For TOP (RFC 1939 7)
 * it stops after the header, the blank line and the given number of body
 * lines; a message with no blank line is sent whole.
 *
 * The input is the message with CRLF line ends (lines end at LF; a bare
 * CR is data).
 */
struct pop3_dotstuff {
	bool bol;	     /* at the start of a line */
	bool in_body;	     /* past the blank line that ends the header */
	bool limited;	     /* TOP: count body lines */
	bool done;	     /* TOP: nothing more is sent */
	bool cr;	     /* the last octet was CR */
	size_t line_len;     /* octets of the current line, before LF */
	uint32_t lines_left; /* TOP: body lines still to send */
};

/* Start a body: all of it (top false) or TOP with lines body lines. */
void pop3_dotstuff_init(struct pop3_dotstuff *d, bool top, uint32_t lines);

/*
 * Stuff in[0..in_len) into out[0..out_size) (out_size >= 2). Returns the
 * input octets consumed, which is less than in_len when out is full or the
 * TOP limit is reached (d->done; the rest is not wanted); *out_len_r is
 * the octets written.
 */
size_t pop3_dotstuff(struct pop3_dotstuff *d, const char *in, size_t in_len,
		     char *out, size_t out_size, size_t *out_len_r);

/*
 * The end of the response: CRLF when the body did not end with one, then
 * ".CRLF", into out[0..out_size) (out_size >= 5). Returns the length.
 */
size_t pop3_dotstuff_end(const struct pop3_dotstuff *d, char *out,
			 size_t out_size);

#endif
