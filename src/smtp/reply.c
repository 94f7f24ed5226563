/*
 * SMTP reply and EHLO keyword parsing for the client side.
 *
 * SECURITY: parses what a remote server sends; pure and bounded.
 */
#include "smtp/reply.h"

#include <string.h>
#include <strings.h>

static bool reply_digit(char c)
{
	return c >= '0' && c <= '9';
}

int smtp_reply_parse_line(const char *line, size_t len,
			  struct smtp_reply_line *line_r)
{
	/* RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39 */
	if (len < 3 || len > SMTP_REPLY_LINE_MAX - 2)
		return -1;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    !reply_digit(line[2]))
		return -1;
	line_r->code =
		(line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3) {
		line_r->last = true;
		line_r->text = line + 3;
		line_r->text_len = 0;
		return 0;
	}
	if (line[3] != ' ' && line[3] != '-')
		return -1;
	line_r->last = line[3] == ' ';
	line_r->text = line + 4;
	line_r->text_len = len - 4;
	return 0;
}

/* 1 to 3 digits at text[*pos]; advances *pos. */
static bool reply_status_part(const char *text, size_t len, size_t *pos)
{
	size_t start = *pos;

	while (*pos < len && *pos - start < 3 && reply_digit(text[*pos]))
		(*pos)++;
	return *pos > start;
}

size_t smtp_reply_status(int code, const char *text, size_t len,
			 char status_r[SMTP_STATUS_MAX])
{
	size_t pos = 1;

	status_r[0] = '\0';
	/* RFC 3463 2: the class is 2, 4 or 5, as the reply's first digit. */
	if (len < 5 || text[0] != (char)('0' + code / 100) ||
	    (text[0] != '2' && text[0] != '4' && text[0] != '5'))
		return 0;
	if (text[pos++] != '.' || !reply_status_part(text, len, &pos))
		return 0;
	if (pos >= len || text[pos++] != '.' ||
	    !reply_status_part(text, len, &pos))
		return 0;
	if (pos < len && text[pos] != ' ')
		return 0;
	memcpy(status_r, text, pos);
	status_r[pos] = '\0';
	return pos;
}

void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* Append text to r->text, neutralised and cut. */
static void reply_text_append(struct smtp_reply *r, const char *text,
			      size_t len)
{
	size_t have = strlen(r->text);

	if (have > 0 && len > 0 && have < sizeof(r->text) - 1)
		r->text[have++] = ' ';
	for (size_t i = 0; i < len && have < sizeof(r->text) - 1; i++) {
		unsigned char ch = (unsigned char)text[i];

		r->text[have++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	r->text[have] = '\0';
}

int smtp_reply_add(struct smtp_reply *r, const char *line, size_t len,
		   struct smtp_reply_line *line_r)
{
	struct smtp_reply_line l;
	char status[SMTP_STATUS_MAX];
	size_t skip;

	if (r->done || smtp_reply_parse_line(line, len, &l) < 0)
		return -1;
	if (r->lines > 0 && l.code != r->code)
		return -1; /* RFC 5321 4.2.1: one code for all lines */
	if (len + 2 > SMTP_REPLY_MAX - r->total)
		return -2;
	r->total += len + 2;
	skip = smtp_reply_status(l.code, l.text, l.text_len, status);
	if (r->lines == 0) {
		r->code = l.code;
		memcpy(r->status, status, sizeof(status));
	} else if (skip > 0 && strcmp(status, r->status) != 0) {
		skip = 0; /* a different code is part of the text */
	}
	while (skip > 0 && skip < l.text_len && l.text[skip] == ' ')
		skip++;
	reply_text_append(r, l.text + skip, l.text_len - skip);
	r->lines++;
	if (line_r != NULL)
		*line_r = l;
	if (!l.last)
		return 0;
	r->done = true;
	return 1;
}

/* Does text start with keyword kw, ending at SP, '=' (AUTH=) or the end? */
static bool ehlo_is(const char *text, size_t len, const char *kw,
		    size_t *after_r)
{
	size_t n = strlen(kw);

	if (len < n || strncasecmp(text, kw, n) != 0)
		return false;
	if (len > n && text[n] != ' ')
		return false;
	*after_r = n;
	return true;
}

/* RFC 1870 4: "SIZE" [SP number]; 0 or absent means no fixed limit. */
static void ehlo_size(struct smtp_ehlo *e, const char *p, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;

	e->size = true;
	e->size_max = 0;
	while (i < len && p[i] == ' ')
		i++;
	if (i == len)
		return;
	for (; i < len && reply_digit(p[i]); i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return; /* absurd: treat as no limit */
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (i == len)
		e->size_max = v;
}

/* The mechanism list of AUTH (RFC 4954 3), SP separated. */
static void ehlo_auth(struct smtp_ehlo *e, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && (p[i] == ' ' || p[i] == '='))
			i++;
		start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i - start == 5 && strncasecmp(p + start, "PLAIN", 5) == 0)
			e->auth |= SMTP_AUTH_PLAIN;
		else if (i - start == 5 &&
			 strncasecmp(p + start, "LOGIN", 5) == 0)
			e->auth |= SMTP_AUTH_LOGIN;
	}
}

void smtp_ehlo_keyword(struct smtp_ehlo *e, const char *text, size_t len)
{
	static const struct {
		const char *kw;
		size_t off;
	} flags[] = {
		{"PIPELINING", offsetof(struct smtp_ehlo, pipelining)},
		{"STARTTLS", offsetof(struct smtp_ehlo, starttls)},
		{"8BITMIME", offsetof(struct smtp_ehlo, eightbitmime)},
		{"SMTPUTF8", offsetof(struct smtp_ehlo, smtputf8)},
		{"DSN", offsetof(struct smtp_ehlo, dsn)},
		{"CHUNKING", offsetof(struct smtp_ehlo, chunking)},
		{"ENHANCEDSTATUSCODES",
		 offsetof(struct smtp_ehlo, enhancedstatuscodes)},
	};
	size_t after;

	if (ehlo_is(text, len, "SIZE", &after)) {
		ehlo_size(e, text + after, len - after);
		return;
	}
	/* "AUTH=LOGIN PLAIN": the pre-RFC 4954 form some servers still send */
	if (len > 5 && strncasecmp(text, "AUTH", 4) == 0 &&
	    (text[4] == ' ' || text[4] == '=')) {
		ehlo_auth(e, text + 5, len - 5);
		return;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (ehlo_is(text, len, flags[i].kw, &after)) {
			*(bool *)((char *)e + flags[i].off) = true;
			return;
		}
	}
}
