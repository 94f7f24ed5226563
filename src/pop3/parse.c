/*
 * POP3 command lines and multi-line bodies (RFC 1939, RFC 2449).
 *
 * SECURITY: hostile input before login. Pure functions: nothing here
 * allocates or keeps state between calls beyond what the caller holds.
 */
#include "pop3/parse.h"

#include <string.h>
#include <strings.h>

/* The parameters a command takes; PASS takes the rest of the line. */
static const struct pop3_syntax {
	const char *name;
	enum pop3_cmd cmd;
	unsigned char min_args, max_args;
	bool rest; /* one parameter: everything after "KEYWORD " */
} pop3_syntax[] = {
	{"CAPA", POP3_CMD_CAPA, 0, 0, false},
	{"STLS", POP3_CMD_STLS, 0, 0, false},
	{"USER", POP3_CMD_USER, 1, 1, false},
	{"PASS", POP3_CMD_PASS, 1, 1, true},
	/* RFC 5034 4; a bare AUTH lists the mechanisms (as RFC 1734
	 * clients expect). */
	{"AUTH", POP3_CMD_AUTH, 0, 2, false},
	{"APOP", POP3_CMD_APOP, 2, 2, false},
	{"STAT", POP3_CMD_STAT, 0, 0, false},
	{"LIST", POP3_CMD_LIST, 0, 1, false},
	{"RETR", POP3_CMD_RETR, 1, 1, false},
	{"TOP", POP3_CMD_TOP, 2, 2, false},
	{"DELE", POP3_CMD_DELE, 1, 1, false},
	{"NOOP", POP3_CMD_NOOP, 0, 0, false},
	{"RSET", POP3_CMD_RSET, 0, 0, false},
	{"UIDL", POP3_CMD_UIDL, 0, 1, false},
	{"QUIT", POP3_CMD_QUIT, 0, 0, false},
};

#define POP3_NSYNTAX (sizeof(pop3_syntax) / sizeof(pop3_syntax[0]))

const char *pop3_cmd_name(enum pop3_cmd cmd)
{
	for (size_t i = 0; i < POP3_NSYNTAX; i++) {
		if (pop3_syntax[i].cmd == cmd)
			return pop3_syntax[i].name;
	}
	return "?";
}

/* RFC 2449 3: keyword = 3*4VCHAR; every one we know is letters. */
static const struct pop3_syntax *pop3_keyword(const char *p, size_t len)
{
	if (len < 3 || len > 4)
		return NULL;
	for (size_t i = 0; i < POP3_NSYNTAX; i++) {
		if (strlen(pop3_syntax[i].name) == len &&
		    strncasecmp(pop3_syntax[i].name, p, len) == 0)
			return &pop3_syntax[i];
	}
	return NULL;
}

/* RFC 2449 3 param = 1*VCHAR; octets over 0x7F pass (UTF-8 names). */
static bool pop3_param_octet(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* Split line[0..len) at single SPs into cmd->args; -1 with *error_r. */
static int pop3_split_args(const char *p, size_t len, size_t max,
			   struct pop3_command *cmd, const char **error_r)
{
	size_t i = 0;

	while (len > 0 && p[len - 1] == ' ')
		len--; /* a trailing SP is harmless: accept it */
	while (i < len) {
		size_t start = i;

		while (i < len && p[i] != ' ') {
			if (!pop3_param_octet((unsigned char)p[i])) {
				*error_r = "Parameters are printable text";
				return -1;
			}
			i++;
		}
		if (i == start) {
			*error_r = "Parameters are separated by one space";
			return -1;
		}
		if (cmd->argc == max) {
			*error_r = "Too many parameters";
			return -1;
		}
		cmd->args[cmd->argc].p = p + start;
		cmd->args[cmd->argc].len = i - start;
		cmd->argc++;
		if (i < len)
			i++; /* the SP */
	}
	return 0;
}

int pop3_parse_command(const char *line, size_t len, struct pop3_command *cmd_r,
		       const char **error_r)
{
	const struct pop3_syntax *syn;
	size_t klen = 0;

	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->cmd = POP3_CMD_UNKNOWN;
	cmd_r->rest = line + len;
	if (len > POP3_COMMAND_MAX - 2) {
		*error_r = "Command line too long";
		return -2;
	}
	while (klen < len && line[klen] != ' ')
		klen++;
	if (klen < len) {
		cmd_r->rest = line + klen + 1;
		cmd_r->rest_len = len - klen - 1;
	} else {
		cmd_r->rest = line + len;
	}
	syn = pop3_keyword(line, klen);
	if (syn == NULL) {
		*error_r = "Unknown command";
		return -1;
	}
	cmd_r->cmd = syn->cmd;
	if (syn->rest) {
		if (cmd_r->rest_len == 0 ||
		    memchr(cmd_r->rest, '\0', cmd_r->rest_len) != NULL) {
			*error_r = "Syntax: PASS password";
			return -1;
		}
		cmd_r->argc = 1;
		cmd_r->args[0].p = cmd_r->rest;
		cmd_r->args[0].len = cmd_r->rest_len;
		return 0;
	}
	if (pop3_split_args(cmd_r->rest, cmd_r->rest_len, syn->max_args, cmd_r,
			    error_r) < 0)
		return -1;
	if (cmd_r->argc < syn->min_args) {
		*error_r = "Missing parameter";
		return -1;
	}
	return 0;
}

int pop3_parse_number(const char *s, size_t len, uint32_t *n_r)
{
	uint64_t n = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*n_r = (uint32_t)n;
	return 0;
}

size_t pop3_uidl(uint32_t uidvalidity, uint32_t uid, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";

	if (size < 18) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	for (int i = 0; i < 8; i++) {
		out[i] = hex[(uidvalidity >> (28 - 4 * i)) & 15];
		out[9 + i] = hex[(uid >> (28 - 4 * i)) & 15];
	}
	out[8] = '.';
	out[17] = '\0';
	return 17;
}

void pop3_dotstuff_init(struct pop3_dotstuff *d, bool top, uint32_t lines)
{
	memset(d, 0, sizeof(*d));
	d->bol = true;
	d->limited = top;
	d->lines_left = lines;
}

/* The line that just ended at LF: the blank one ends the header. */
static void pop3_dotstuff_eol(struct pop3_dotstuff *d)
{
	bool blank = d->line_len == 0 || (d->line_len == 1 && d->cr);

	if (d->in_body) {
		if (d->limited && d->lines_left > 0)
			d->lines_left--;
	} else if (blank) {
		d->in_body = true; /* RFC 5322 2.1: header, blank line, body */
	}
	d->bol = true;
	d->line_len = 0;
	d->cr = false;
}

size_t pop3_dotstuff(struct pop3_dotstuff *d, const char *in, size_t in_len,
		     char *out, size_t out_size, size_t *out_len_r)
{
	size_t i = 0, o = 0;

	while (i < in_len && !d->done) {
		char c = in[i];

		if (d->bol && d->in_body && d->limited && d->lines_left == 0) {
			d->done = true; /* TOP: enough body lines */
			break;
		}
		if (d->bol && c == '.') {
			if (out_size - o < 2)
				break;
			out[o++] = '.'; /* RFC 1939 3 byte-stuffing */
		} else if (out_size - o < 1) {
			break;
		}
		out[o++] = c;
		i++;
		if (c == '\n') {
			pop3_dotstuff_eol(d);
		} else {
			d->bol = false;
			d->line_len++;
			d->cr = c == '\r';
		}
	}
	*out_len_r = o;
	return i;
}

size_t pop3_dotstuff_end(const struct pop3_dotstuff *d, char *out,
			 size_t out_size)
{
	size_t o = 0;

	if (out_size < 5) {
		if (out_size > 0)
			out[0] = '\0';
		return 0;
	}
	if (!d->bol) {
		/* RFC 1939 3: the terminator is CRLF "." CRLF. */
		if (!d->cr)
			out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}
