/*
 * libFuzzer target for smtp/reply.
 *
 * The input is what a server sends: it is split into lines at LF (a CR
 * before it is dropped), as the client does. Each line is fed, in an
 * exact-size copy, to smtp_reply_parse_line, smtp_reply_status,
 * smtp_reply_add (one reply after another) and smtp_ehlo_keyword. The
 * results are checked against small references written from the
 * contract in smtp/reply.h: codes in range, text and status pointing
 * into the line and bounded, NUL-terminated reply text without control
 * characters, totals within SMTP_REPLY_MAX, and EHLO flags set only by
 * their keyword.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/reply.h"
#include "fuzz.h"

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

/* RFC 5321 4.2, as the header states it: is the line a reply line? */
static bool ref_line_ok(const char *line, size_t len)
{
	if (len < 3 || len > SMTP_REPLY_LINE_MAX - 2)
		return false;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    !digit(line[2]))
		return false;
	return len == 3 || line[3] == ' ' || line[3] == '-';
}

/* 1 to 3 digits at text[*pos]. */
static bool ref_digits(const char *text, size_t len, size_t *pos)
{
	size_t n = 0;

	while (*pos < len && n < 3 && digit(text[*pos])) {
		(*pos)++;
		n++;
	}
	return n > 0;
}

/* RFC 3463 status at the start of text: its length, or 0. */
static size_t ref_status(int code, const char *text, size_t len)
{
	size_t pos = 0;

	if (len == 0 || text[0] != '0' + code / 100 ||
	    (text[0] != '2' && text[0] != '4' && text[0] != '5'))
		return 0;
	pos = 1;
	if (pos >= len || text[pos++] != '.' || !ref_digits(text, len, &pos))
		return 0;
	if (pos >= len || text[pos++] != '.' || !ref_digits(text, len, &pos))
		return 0;
	if (pos < len && text[pos] != ' ')
		return 0;
	return pos;
}

static void check_status_field(const char *status)
{
	size_t n;

	CHECK(terminated(status, SMTP_STATUS_MAX));
	n = strlen(status);
	if (n == 0)
		return;
	CHECK(ref_status(status[0] == '2'   ? 200
			 : status[0] == '4' ? 400
					    : 500,
			 status, n) == n);
}

static void fuzz_parse_line(const char *line, size_t len)
{
	struct smtp_reply_line l;
	int ret;

	memset(&l, 0xa5, sizeof(l));
	ret = smtp_reply_parse_line(line, len, &l);
	CHECK(ret == 0 || ret == -1);
	CHECK((ret == 0) == ref_line_ok(line, len));
	if (ret != 0)
		return;
	CHECK(l.code >= 200 && l.code <= 559);
	CHECK(l.code ==
	      (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
	CHECK(l.last == (len == 3 || line[3] == ' '));
	CHECK(l.text == line + (len == 3 ? 3 : 4));
	CHECK(l.text + l.text_len == line + len);
}

static void fuzz_status(const char *text, size_t len)
{
	static const int codes[] = {200, 250, 354, 421, 450, 550, 554};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char status[SMTP_STATUS_MAX];
		size_t n;

		memset(status, 'x', sizeof(status));
		n = smtp_reply_status(codes[i], text, len, status);
		CHECK(n == ref_status(codes[i], text, len));
		CHECK(n <= len && n < SMTP_STATUS_MAX);
		CHECK(terminated(status, sizeof(status)));
		CHECK(strlen(status) == n);
		CHECK(memcmp(status, text, n) == 0);
	}
}

/* One keyword into a fresh struct: it sets what it names, nothing else. */
static void fuzz_ehlo_fresh(const char *text, size_t len)
{
	struct smtp_ehlo e;
	static const struct {
		const char *kw;
		size_t off;
	} flags[] = {
		{"PIPELINING", offsetof(struct smtp_ehlo, pipelining)},
		{"STARTTLS", offsetof(struct smtp_ehlo, starttls)},
		{"SIZE", offsetof(struct smtp_ehlo, size)},
		{"8BITMIME", offsetof(struct smtp_ehlo, eightbitmime)},
		{"SMTPUTF8", offsetof(struct smtp_ehlo, smtputf8)},
		{"DSN", offsetof(struct smtp_ehlo, dsn)},
		{"CHUNKING", offsetof(struct smtp_ehlo, chunking)},
		{"ENHANCEDSTATUSCODES",
		 offsetof(struct smtp_ehlo, enhancedstatuscodes)},
	};
	unsigned set = 0;

	memset(&e, 0, sizeof(e));
	smtp_ehlo_keyword(&e, text, len);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		size_t n = strlen(flags[i].kw);

		if (!*(bool *)((char *)&e + flags[i].off))
			continue;
		set++;
		CHECK(len >= n && strncasecmp(text, flags[i].kw, n) == 0);
		CHECK(len == n || text[n] == ' ');
	}
	if (e.auth != 0) {
		set++;
		CHECK((e.auth &
		       ~(unsigned)(SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN)) == 0);
		CHECK(len > 5 && strncasecmp(text, "AUTH", 4) == 0 &&
		      (text[4] == ' ' || text[4] == '='));
	}
	CHECK(set <= 1);
	if (e.size_max != 0) {
		uint64_t v = 0;
		size_t i = 4;

		CHECK(e.size);
		while (i < len && text[i] == ' ')
			i++;
		CHECK(i < len);
		for (; i < len; i++) {
			CHECK(digit(text[i]));
			CHECK(v <=
			      (UINT64_MAX - (uint64_t)(text[i] - '0')) / 10);
			v = v * 10 + (uint64_t)(text[i] - '0');
		}
		CHECK(v == e.size_max);
	}
}

/* Keywords accumulate: a flag once set stays set. */
static void fuzz_ehlo_acc(struct smtp_ehlo *e, const char *text, size_t len)
{
	struct smtp_ehlo old = *e;

	smtp_ehlo_keyword(e, text, len);
	CHECK(!old.pipelining || e->pipelining);
	CHECK(!old.starttls || e->starttls);
	CHECK(!old.size || e->size);
	CHECK(!old.eightbitmime || e->eightbitmime);
	CHECK(!old.smtputf8 || e->smtputf8);
	CHECK(!old.dsn || e->dsn);
	CHECK(!old.chunking || e->chunking);
	CHECK(!old.enhancedstatuscodes || e->enhancedstatuscodes);
	CHECK((old.auth & e->auth) == old.auth);
	CHECK((e->auth & ~(unsigned)(SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN)) == 0);
	CHECK(e->size_max == 0 || e->size);
}

/* Feed one line to the reply being built; returns its result. */
static int fuzz_add(struct smtp_reply *r, struct smtp_ehlo *e, const char *line,
		    size_t len)
{
	struct smtp_reply old = *r;
	struct smtp_reply_line l;
	size_t old_text, text_len;
	int ret, want;

	memset(&l, 0xa5, sizeof(l));
	ret = smtp_reply_add(r, line, len, &l);
	CHECK(ret >= -2 && ret <= 1);
	CHECK(!old.done);
	if (!ref_line_ok(line, len))
		want = -1;
	else if (old.lines > 0 && old.code != (line[0] - '0') * 100 +
						      (line[1] - '0') * 10 +
						      (line[2] - '0'))
		want = -1;
	else if (old.total + len + 2 > SMTP_REPLY_MAX)
		want = -2;
	else
		want = len == 3 || line[3] == ' ' ? 1 : 0;
	CHECK(ret == want);
	if (ret < 0)
		return ret;

	CHECK(l.code >= 200 && l.code <= 559);
	CHECK(l.text >= line && l.text + l.text_len == line + len);
	CHECK(r->code == l.code);
	CHECK(r->lines == old.lines + 1);
	CHECK(r->total == old.total + len + 2 && r->total <= SMTP_REPLY_MAX);
	CHECK(r->done == (ret == 1) && r->done == l.last);
	CHECK(old.lines == 0 || strcmp(r->status, old.status) == 0);
	check_status_field(r->status);
	if (old.lines == 0) {
		CHECK(strlen(r->status) ==
		      ref_status(l.code, l.text, l.text_len));
		CHECK(strncmp(r->status, l.text, strlen(r->status)) == 0);
	}

	/* The text only grows, stays bounded and clean. */
	CHECK(terminated(r->text, sizeof(r->text)));
	text_len = strlen(r->text);
	old_text = strlen(old.text);
	CHECK(text_len < SMTP_REPLY_TEXT_MAX);
	CHECK(text_len >= old_text && memcmp(r->text, old.text, old_text) == 0);
	CHECK(text_len <= old_text + 1 + l.text_len);
	for (size_t i = 0; i < text_len; i++)
		CHECK((unsigned char)r->text[i] >= 0x20 && r->text[i] != 0x7f);

	/* As the client does: every line after the first of a 250 reply. */
	if (r->lines > 1 && l.code == 250)
		fuzz_ehlo_acc(e, l.text, l.text_len);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct smtp_reply r;
	struct smtp_ehlo e;
	size_t pos = 0;

	smtp_reply_init(&r);
	CHECK(r.code == 0 && r.lines == 0 && r.total == 0 && !r.done);
	CHECK(r.text[0] == '\0' && r.status[0] == '\0');
	memset(&e, 0, sizeof(e));
	while (pos < size) {
		const char *nl = memchr(in + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (in + pos)) : size - pos;
		char *line;

		/* An exact-size copy: ASan sees any read past it. */
		line = malloc(len ? len : 1);
		CHECK(line != NULL);
		memcpy(line, in + pos, len);
		pos += len + (nl != NULL);
		if (len > 0 && line[len - 1] == '\r')
			len--;

		fuzz_parse_line(line, len);
		fuzz_status(line, len);
		if (len >= 4)
			fuzz_status(line + 4, len - 4);
		fuzz_ehlo_fresh(line, len);
		if (len >= 4)
			fuzz_ehlo_fresh(line + 4, len - 4);
		fuzz_ehlo_acc(&e, line, len);
		if (fuzz_add(&r, &e, line, len) != 0)
			smtp_reply_init(&r);
		free(line);
	}
	return 0;
}
