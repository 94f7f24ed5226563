/*
 * mail/header: header blocks row by row, each fed whole, one octet at a
 * time, and split in two at every offset, with identical results; then
 * the default limits, and the Date: and Message-ID: writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/header.h"

/* Sun, 22 Nov 2026 00:21:37 +0000 */
#define WHEN ((time_t)1795306897)
#define DATE "Sun, 22 Nov 2026 00:21:37 +0000"

/* Small limits, to reach them with short rows. */
static const struct header_limits few_fields = {.fields_max = 3};
static const struct header_limits short_field = {.field_max = 20};
static const struct header_limits small_header = {.header_max = 30};
static const struct header_limits two_from = {.from_max = 2};

struct row {
	const char *name;
	const char *head; /* consumed: the header, or up to the stop */
	const char *body; /* the rest of the input */
	const struct header_limits *lim;
	int ret; /* last feed: 1 header ended, 0 needs more, -2 limit */
	int fin; /* header_scan_finish() when ret is 0 */
	const char *from; /* the From: list, one per line; NULL: none */
	const char *sender;
	size_t bad_fields;
	bool from_bad;
	bool sender_bad;
	bool msgid, date;
};

#define HB(s) s "\r\n", "Body\r\n" /* header s, then a body */

static const struct row rows[] = {
	/* Basics */
	{"simple",
	 HB("From: user@example.org\r\nTo: x@example.net\r\n"
	    "Subject: hi\r\n"),
	 .ret = 1, .from = "user@example.org"},
	{"message-id and date",
	 HB("Date: " DATE "\r\nFrom: a@example.org\r\n"
	    "Message-ID: <1@example.org>\r\n"),
	 .ret = 1, .from = "a@example.org", .msgid = true, .date = true},
	{"names in any case",
	 HB("fRoM: a@example.org\r\nmessage-id: <x@y>\r\n"
	    "DATE: " DATE "\r\n"),
	 .ret = 1, .from = "a@example.org", .msgid = true, .date = true},
	{"WSP before the colon (obs)",
	 HB("FROM \t: a@example.org\r\nMessage-ID : <x@y>\r\n"), .ret = 1,
	 .from = "a@example.org", .msgid = true},
	{"empty header", "\r\n", "Body\r\nFrom: evil@example.com\r\n",
	 .ret = 1},
	{"empty message", "", "", .ret = 0, .fin = 1},
	{"missing From", HB("To: x@example.net\r\nSubject: no from\r\n"),
	 .ret = 1},
	{"From: in the body is not seen", "From: a@example.org\r\n\r\n",
	 "From: evil@example.com\r\n\r\n", .ret = 1, .from = "a@example.org"},
	{"name that only starts like From",
	 HB("From-X: e@example.com\r\n"
	    "Fromage: f@example.com\r\n"),
	 .ret = 1},

	/* Display names (RFC 5322 3.4) */
	{"display name", HB("From: John Doe <john@example.org>\r\n"), .ret = 1,
	 .from = "john@example.org"},
	{"quoted name with comma and brackets",
	 HB("From: \"Doe, John <ceo@victim.example>\" <john@example.org>\r\n"),
	 .ret = 1, .from = "john@example.org"},
	{"quoted name with escapes",
	 HB("From: \"a \\\"b\\\" \\\\ c\" <x@example.org>\r\n"), .ret = 1,
	 .from = "x@example.org"},
	{"quoted name holding an address",
	 HB("From: \"a@evil.example\" <b@good.example>\r\n"), .ret = 1,
	 .from = "b@good.example"},
	{"initials with dots (obs-phrase)",
	 HB("From: J. R. Doe <jr@example.org>\r\n"), .ret = 1,
	 .from = "jr@example.org"},
	{"no display name", HB("From: <a@example.org>\r\n"), .ret = 1,
	 .from = "a@example.org"},
	{"encoded word left alone",
	 HB("From: =?UTF-8?Q?J=C3=B6rg?= <j@example.org>\r\n"), .ret = 1,
	 .from = "j@example.org"},

	/* Comments and CFWS (RFC 5322 3.2.2) */
	{"comments everywhere",
	 HB("From: (c1) john (c2) @ (c3) example.org (trailing (nested) c)"
	    "\r\n"),
	 .ret = 1, .from = "john@example.org"},
	{"comment holding an address",
	 HB("From: a@example.org (<ceo@victim.example>)\r\n"), .ret = 1,
	 .from = "a@example.org"},
	{"comment with quoted parens",
	 HB("From: a@example.org (a \\) b \\( c)\r\n"), .ret = 1,
	 .from = "a@example.org"},
	{"comment inside angle brackets",
	 HB("From: A <(x) a (y) @ (z) example.org (w)>\r\n"), .ret = 1,
	 .from = "a@example.org"},
	{"unterminated comment", HB("From: a@example.org (oops\r\n"), .ret = 1,
	 .from_bad = true},
	{"stray close paren", HB("From: a@example.org )\r\n"), .ret = 1,
	 .from_bad = true},
	{"comments nested 32 deep",
	 HB("From: a@example.org (((((((((((((((((((((((((((((((("
	    "))))))))))))))))))))))))))))))))\r\n"),
	 .ret = 1, .from = "a@example.org"},
	{"comments nested 33 deep",
	 HB("From: a@example.org ((((((((((((((((((((((((((((((((("
	    ")))))))))))))))))))))))))))))))))\r\n"),
	 .ret = 1, .from_bad = true},

	/* Lists and groups (RFC 5322 3.4, 4.4; RFC 6854) */
	{"several mailboxes",
	 HB("From: a@x.example, \"B, b\" <b@y.example>,c@z.example\r\n"),
	 .ret = 1, .from = "a@x.example\nb@y.example\nc@z.example"},
	{"null members (obs)", HB("From: , a@x.example,, b@y.example ,\r\n"),
	 .ret = 1, .from = "a@x.example\nb@y.example"},
	{"group",
	 HB("From: Team: a@x.example, B <b@x.example>;, c@y.example"
	    "\r\n"),
	 .ret = 1, .from = "a@x.example\nb@x.example\nc@y.example"},
	{"empty group", HB("From: undisclosed-recipients:;\r\n"), .ret = 1},
	{"group with comment", HB("From: T: (none) ; (end)\r\n"), .ret = 1},
	{"nested group", HB("From: A: B: b@x.example;;\r\n"), .ret = 1,
	 .from_bad = true},
	{"group without ;", HB("From: A: a@x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"group without name", HB("From: : a@x.example;\r\n"), .ret = 1,
	 .from_bad = true},
	{"only commas", HB("From: , ,\r\n"), .ret = 1, .from_bad = true},
	{"empty From", HB("From:\r\n"), .ret = 1, .from_bad = true},
	{"missing comma", HB("From: a@x.example b@y.example\r\n"), .ret = 1,
	 .from_bad = true},

	/* Addresses (RFC 5322 3.4.1, 4.4) */
	{"quoted local part",
	 HB("From: \"john doe\"@example.org, \"j\"@example.org\r\n"), .ret = 1,
	 .from = "john doe@example.org\nj@example.org"},
	{"quoted local with escapes",
	 HB("From: \"a\\\"b\\\\c\"@example.org\r\n"), .ret = 1,
	 .from = "a\"b\\c@example.org"},
	{"obs-local-part", HB("From: john . \"doe\"@example.org\r\n"), .ret = 1,
	 .from = "john.doe@example.org"},
	{"obs-domain", HB("From: a@ mail . example . org\r\n"), .ret = 1,
	 .from = "a@mail.example.org"},
	{"domain case kept", HB("From: A@Example.ORG\r\n"), .ret = 1,
	 .from = "A@Example.ORG"},
	{"domain literal",
	 HB("From: a@[192.0.2.1], <b@[IPv6:2001:db8::1]>\r\n"), .ret = 1,
	 .from = "a@[192.0.2.1]\nb@[IPv6:2001:db8::1]"},
	{"obs-route ignored",
	 HB("From: <@r1.example,@r2.example:a@x.example>\r\n"), .ret = 1,
	 .from = "a@x.example"},
	{"route without domain", HB("From: <,:a@x.example>\r\n"), .ret = 1,
	 .from_bad = true},
	{"no domain", HB("From: user\r\n"), .ret = 1, .from_bad = true},
	{"two @", HB("From: a@@x.example\r\n"), .ret = 1, .from_bad = true},
	{"unclosed angle", HB("From: A <a@x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"empty quoted local part", HB("From: \"\"@x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"null address", HB("From: <>\r\n"), .ret = 1, .from_bad = true},
	{"trailing dot in local", HB("From: a.@x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"double dot in local", HB("From: a..b@x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"trailing dot in domain", HB("From: a@x.example.\r\n"), .ret = 1,
	 .from_bad = true},
	{"bad domain label", HB("From: a@-x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"@ in literal", HB("From: a@[x:a@b]\r\n"), .ret = 1, .from_bad = true},
	{"bad literal", HB("From: a@[300.1.1.1]\r\n"), .ret = 1,
	 .from_bad = true},
	{"local part of 65",
	 HB("From: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaa@x.example\r\n"),
	 .ret = 1, .from_bad = true},
	{"text after address", HB("From: <a@x.example> junk\r\n"), .ret = 1,
	 .from_bad = true},
	{"bad field leaves the good one",
	 HB("From: a@x.example\r\n"
	    "From: b@y.example c\r\n"),
	 .ret = 1, .from = "a@x.example", .from_bad = true},
	{"control character", HB("From: A\x01 <a@x.example>\r\n"), .ret = 1,
	 .from_bad = true},

	/* Several From: fields: all of them count */
	{"two From fields",
	 HB("From: a@x.example\r\nTo: t@example.net\r\n"
	    "From: B <b@y.example>\r\n"),
	 .ret = 1, .from = "a@x.example\nb@y.example"},

	/* Folding (RFC 5322 2.2.3, 4.2) */
	{"folded field",
	 HB("From: John\r\n Doe\r\n\t<john@\r\n example.org>\r\n"), .ret = 1,
	 .from = "john@example.org"},
	{"folded in a quoted string",
	 HB("From: \"Doe,\r\n John\" <john@example.org>\r\n"), .ret = 1,
	 .from = "john@example.org"},
	{"fold before the colon",
	 HB("From\r\n : a@x.example\r\nDate\r\n\t:x\r\n"), .ret = 1,
	 .from = "a@x.example", .date = true},
	{"fold after the colon", HB("From:\r\n\ta@x.example\r\n"), .ret = 1,
	 .from = "a@x.example"},
	{"obs-FWS line of only WSP",
	 HB("From: a@x.example\r\n \r\n\t\r\nTo: t@example.net\r\n"), .ret = 1,
	 .from = "a@x.example"},
	{"fold inside a name", HB("Fr\r\n om: a@x.example\r\n"), .ret = 1,
	 .bad_fields = 1},

	/* UTF-8 (RFC 6532) */
	{"UTF-8 address and name",
	 HB("From: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc"
	    "cher.example>\r\n"),
	 .ret = 1,
	 .from = "j\xc3\xb6rg@b\xc3\xbc"
		 "cher.example"},
	{"UTF-8 quoted name",
	 HB("From: \"\xe6\x97\xa5\xe6\x9c\xac\" "
	    "<a@x.example>\r\n"),
	 .ret = 1, .from = "a@x.example"},
	{"UTF-8 quoted local", HB("From: \"\xc3\xa9 t\xc3\xa9\"@x.example\r\n"),
	 .ret = 1, .from = "\xc3\xa9 t\xc3\xa9@x.example"},
	{"bad UTF-8 in address", HB("From: \xff@x.example\r\n"), .ret = 1,
	 .from_bad = true},
	{"overlong UTF-8 in domain", HB("From: a@\xc0\xae.example\r\n"),
	 .ret = 1, .from_bad = true},
	{"8-bit display name tolerated", HB("From: J\xf6rg <j@x.example>\r\n"),
	 .ret = 1, .from = "j@x.example"},

	/* Sender (RFC 5322 3.6.2) */
	{"sender",
	 HB("From: a@x.example, b@x.example\r\n"
	    "Sender: S <s@x.example>\r\n"),
	 .ret = 1, .from = "a@x.example\nb@x.example", .sender = "s@x.example"},
	{"two senders", HB("Sender: s@x.example\r\nSender: t@x.example\r\n"),
	 .ret = 1, .sender_bad = true},
	{"sender list", HB("Sender: s@x.example, t@x.example\r\n"), .ret = 1,
	 .sender_bad = true},
	{"sender group", HB("Sender: G: s@x.example;\r\n"), .ret = 1,
	 .sender_bad = true},
	{"empty sender", HB("Sender: (none)\r\n"), .ret = 1,
	 .sender_bad = true},

	/* Lines that are not fields */
	{"line without colon",
	 HB("Subject: x\r\nnot a field\r\n"
	    "From: a@x.example\r\n"),
	 .ret = 1, .from = "a@x.example", .bad_fields = 1},
	{"continuation first",
	 HB(" From: e@evil.example\r\n"
	    "From: a@x.example\r\n"),
	 .ret = 1, .from = "a@x.example", .bad_fields = 1},
	{"empty name", HB(": x\r\nFrom: a@x.example\r\n"), .ret = 1,
	 .from = "a@x.example", .bad_fields = 1},
	{"8-bit name", HB("Fr\xc3\xb6m: x\r\n"), .ret = 1, .bad_fields = 1},
	{"space inside a name", HB("Fr om: x\r\n"), .ret = 1, .bad_fields = 1},

	/* Bare CR (the session refuses it, the scanner must stay sane) */
	{"bare CR in From", HB("From: a@x.example\rFrom: b@y.example\r\n"),
	 .ret = 1, .from_bad = true},
	{"bare CR before CRLF", HB("Subject: x\r\r\nFrom: a@x.example\r\n"),
	 .ret = 1, .from = "a@x.example"},
	{"bare CR starts a line", HB("\rFrom: e@evil.example\r\n"), .ret = 1,
	 .bad_fields = 1},
	{"bare LF in From", HB("From: a@x.example\nFrom: b@y.example\r\n"),
	 .ret = 1, .from_bad = true},

	/* No body: the message ends inside the header */
	{"no body", "From: a@x.example\r\nDate: " DATE "\r\n", "", .ret = 0,
	 .fin = 1, .from = "a@x.example", .date = true},
	{"no final CRLF", "Message-ID: <x@y>\r\nFrom: a@x.example", "",
	 .ret = 0, .fin = 1, .from = "a@x.example", .msgid = true},
	{"ends in CR", "From: a@x.example\r", "", .ret = 0, .fin = 1,
	 .from_bad = true},

	/* Limits */
	{"fields at the limit", HB("A: 1\r\nB: 2\r\nFrom: a@x.example\r\n"),
	 &few_fields, .ret = 1, .from = "a@x.example"},
	{"too many fields", "A: 1\r\nB: 2\r\nC: 3\r\nD", ": 4\r\n\r\n",
	 &few_fields, .ret = -2},
	{"field at the limit",
	 HB("From: a@x.example.io\r\nSubject: 12345678901\r\n"), &short_field,
	 .ret = 1, .from = "a@x.example.io"},
	{"field too long", "Subject: 123456789012", "3\r\n\r\n", &short_field,
	 .ret = -2},
	{"folded field too long", "Subject: 1234567890\r\n ", "1\r\n\r\n",
	 &short_field, .ret = -2},
	{"header at the limit", HB("Subject: 123456789012345\r\n"),
	 &small_header, .ret = 1},
	{"header too large", "Subject: 12345678901234567890\r\n", "\r\n",
	 &small_header, .ret = -2},
	{"From addresses at the limit",
	 HB("From: a@x.example, b@x.example\r\n"), &two_from, .ret = 1,
	 .from = "a@x.example\nb@x.example"},
	{"too many From addresses",
	 "From: a@x.example\r\nFrom: b@x.example, c@x.example\r\nS",
	 "ubject: x\r\n\r\n", &two_from, .ret = -2,
	 .from = "a@x.example\n"
		 "b@x.example"},
	{"too many From addresses at the end",
	 "From: a@x.example, b@x.example, c@x.example", "", &two_from, .ret = 0,
	 .fin = -2, .from = "a@x.example\nb@x.example"},
};

struct outcome {
	int ret, fin;
	size_t consumed;
	char from[1024];
	const char *sender;
	bool from_bad, sender_bad, msgid, date;
	size_t bad_fields;
	const char *limit_error;
};

/*
 * Feed in[0..len): first split octets, then chunks of step octets (0:
 * the rest at once). Every chunk is its own allocation of its exact size,
 * so a sanitizer sees any read past it.
 */
static void run(const struct header_limits *lim, const char *in, size_t len,
		size_t split, size_t step, struct outcome *o)
{
	struct header_scan *h = header_scan_new(lim);
	size_t pos = 0, used;
	bool first = true;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	while (ret == 0 && (first || pos < len)) {
		size_t n = first ? split : step ? step : len - pos;
		char *chunk;

		first = false;
		if (n > len - pos)
			n = len - pos;
		chunk = malloc(n ? n : 1);
		assert_non_null(chunk);
		memcpy(chunk, in + pos, n);
		ret = header_scan_feed(h, chunk, n, &used);
		free(chunk);
		assert_true(used <= n);
		assert_true(ret != 0 || used == n);
		o->consumed = pos + used;
		pos += n;
	}
	o->ret = ret;
	o->fin = header_scan_finish(h);
	/* Once done, it stays done. */
	assert_int_equal(header_scan_feed(h, "x", 1, &used), o->fin);
	assert_int_equal(used, 0);
	assert_int_equal(header_scan_finish(h), o->fin);

	for (size_t i = 0; i < header_scan_from_count(h); i++) {
		size_t n = strlen(o->from);

		snprintf(o->from + n, sizeof(o->from) - n, "%s%s",
			 i ? "\n" : "", header_scan_from(h, i));
	}
	assert_null(header_scan_from(h, header_scan_from_count(h)));
	o->sender =
		header_scan_sender(h) ? strdup(header_scan_sender(h)) : NULL;
	o->from_bad = header_scan_from_malformed(h);
	o->sender_bad = header_scan_sender_malformed(h);
	o->msgid = header_scan_has(h, "Message-ID");
	o->date = header_scan_has(h, "Date");
	o->bad_fields = header_scan_bad_fields(h);
	o->limit_error = header_scan_limit_error(h);
	header_scan_free(&h);
	assert_null(h);
}

static void check(const struct row *r, size_t len, const struct outcome *o,
		  size_t split, size_t step)
{
	const char *what = NULL;

	if (o->ret != r->ret)
		what = "feed result";
	else if (o->fin != (r->ret != 0 ? r->ret : r->fin))
		what = "finish result";
	else if (o->consumed != (r->ret == 0 ? len : strlen(r->head)))
		what = "consumed";
	else if (strcmp(o->from, r->from ? r->from : "") != 0)
		what = "From list";
	else if (o->from_bad != r->from_bad)
		what = "From malformed";
	else if (strcmp(o->sender ? o->sender : "-",
			r->sender ? r->sender : "-") != 0)
		what = "Sender";
	else if (o->sender_bad != r->sender_bad)
		what = "Sender malformed";
	else if (o->msgid != r->msgid || o->date != r->date)
		what = "has Message-ID/Date";
	else if (o->bad_fields != r->bad_fields)
		what = "bad fields";
	else if ((o->limit_error != NULL) != (o->fin == -2))
		what = "limit error";
	if (what != NULL)
		fail_msg(
			"%s: %s differs (split %zu, step %zu; got from \"%s\", "
			"ret %d, consumed %zu)",
			r->name, what, split, step, o->from, o->ret,
			o->consumed);
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		size_t hlen = strlen(r->head), len = hlen + strlen(r->body);
		char *in = malloc(len + 1);
		struct outcome o;

		assert_non_null(in);
		memcpy(in, r->head, hlen);
		memcpy(in + hlen, r->body, strlen(r->body) + 1);
		/* Whole, one octet at a time, then split at every offset. */
		for (size_t split = 0; split <= len; split++) {
			run(r->lim, in, len, split, 0, &o);
			check(r, len, &o, split, 0);
			free((char *)o.sender);
		}
		run(r->lim, in, len, 0, 1, &o);
		check(r, len, &o, 0, 1);
		free((char *)o.sender);
		free(in);
	}
}

/* A NUL is a control character: never part of an address. */
static void test_nul(void **state)
{
	static const char in[] = "From: a\0b@x.example\r\nX: \0\r\n\r\n";
	struct header_scan *h = header_scan_new(NULL);
	size_t used;

	(void)state;
	assert_int_equal(header_scan_feed(h, in, sizeof(in) - 1, &used), 1);
	assert_int_equal(used, sizeof(in) - 1);
	assert_true(header_scan_from_malformed(h));
	assert_int_equal(header_scan_from_count(h), 0);
	header_scan_free(&h);
	header_scan_free(&h);
}

/* Copy s without its NUL: the scanner sees lengths, not strings. */
static void put(char *dst, const char *s)
{
	while (*s != '\0')
		*dst++ = *s++;
}

static struct header_scan *feed_all(const char *in, size_t len, int want)
{
	struct header_scan *h = header_scan_new(NULL);
	size_t used;

	assert_int_equal(header_scan_feed(h, in, len, &used), want);
	return h;
}

/* The default limits: 1000 fields, 16 KiB a field, 256 KiB in all. */
static void test_default_limits(void **state)
{
	size_t size = (size_t)300 * 1024, n = 0;
	char *in = malloc(size);
	struct header_scan *h;

	(void)state;
	assert_non_null(in);
	for (int i = 0; i < HEADER_FIELDS_MAX; i++)
		n += (size_t)snprintf(in + n, size - n, "X-%d: x\r\n", i);
	put(in + n, "\r\n");
	h = feed_all(in, n + 2, 1);
	header_scan_free(&h);
	put(in + n, "Y: y\r\n\r\n");
	h = feed_all(in, n + 8, -2);
	assert_string_equal(header_scan_limit_error(h),
			    "Too many header fields");
	header_scan_free(&h);

	/* One field of exactly the limit, then one over it. */
	put(in, "Subject: ");
	memset(in + 9, 'x', HEADER_FIELD_MAX - 9);
	put(in + HEADER_FIELD_MAX, "\r\n\r\n");
	h = feed_all(in, HEADER_FIELD_MAX + 4, 1);
	header_scan_free(&h);
	in[HEADER_FIELD_MAX] = 'x';
	h = feed_all(in, HEADER_FIELD_MAX + 4, -2);
	assert_string_equal(header_scan_limit_error(h),
			    "Header field too long");
	header_scan_free(&h);

	/* 200 folded fields of 1 KiB each: 200 KiB is fine, 300 KiB not. */
	n = 0;
	while (n + 1024 <= size) {
		put(in + n, "X: ");
		memset(in + n + 3, 'y', 1024 - 3);
		put(in + n + 1024 - 6, "\r\n z");
		put(in + n + 1024 - 2, "\r\n");
		n += 1024;
	}
	h = feed_all(in, n, -2);
	assert_string_equal(header_scan_limit_error(h),
			    "Message header too large");
	header_scan_free(&h);
	put(in + (size_t)200 * 1024, "\r\n");
	h = feed_all(in, (size_t)200 * 1024 + 2, 1);
	header_scan_free(&h);
	free(in);
}

/* 100 From: addresses pass, the 101st is a limit, not a syntax error. */
static void test_from_limit(void **state)
{
	char in[4096];
	size_t n = 0;
	struct header_scan *h;

	(void)state;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "From: a0@x.example");
	for (int i = 1; i < HEADER_FROM_MAX; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, ",a%d@x.example",
				      i);
	put(in + n, "\r\n\r\n");
	h = feed_all(in, n + 4, 1);
	assert_int_equal(header_scan_from_count(h), HEADER_FROM_MAX);
	assert_string_equal(header_scan_from(h, 99), "a99@x.example");
	header_scan_free(&h);
	n += (size_t)snprintf(in + n, sizeof(in) - n, ",b@x.example\r\n\r\n");
	h = feed_all(in, n, -2);
	assert_false(header_scan_from_malformed(h));
	assert_string_equal(header_scan_limit_error(h),
			    "Too many From: addresses");
	header_scan_free(&h);
}

/* A long display name does not spoil the address after it. */
static void test_long_name(void **state)
{
	char in[2048];
	struct header_scan *h;
	size_t n;

	(void)state;
	put(in, "From: ");
	memset(in + 6, 'n', 1000);
	n = 1006;
	n += (size_t)snprintf(in + n, sizeof(in) - n, " <a@x.example>\r\n\r\n");
	h = feed_all(in, n, 1);
	assert_false(header_scan_from_malformed(h));
	assert_string_equal(header_scan_from(h, 0), "a@x.example");
	header_scan_free(&h);
}

static void test_date(void **state)
{
	char buf[HEADER_DATE_SIZE];

	(void)state;
	assert_int_equal(header_date_format(buf, sizeof(buf), WHEN),
			 strlen(DATE));
	assert_string_equal(buf, DATE);
	assert_int_equal(header_date_format(buf, strlen(DATE), WHEN), 0);
	assert_string_equal(buf, "");
}

static void test_message_id(void **state)
{
	static const char *const bad_unique[] = {"",	 "a b", "a\r\nb",  ".a",
						 "a..b", "a>",	"\xc3\xa9"};
	static const char *const bad_domain[] = {
		"", "x y", "[a]b", "[a[b]", "x\r\nBcc: y", "x.", "[\xc3\xa9]"};
	char buf[64];

	(void)state;
	assert_int_equal(
		header_message_id(buf, sizeof(buf), "1A2B.c", "mx.example.org"),
		23);
	assert_string_equal(buf, "<1A2B.c@mx.example.org>");
	assert_int_equal(
		header_message_id(buf, sizeof(buf), "x", "[192.0.2.1]"), 15);
	assert_string_equal(buf, "<x@[192.0.2.1]>");
	assert_int_equal(header_message_id(buf, 23, "1A2B.c", "mx.example.org"),
			 0);
	assert_string_equal(buf, "");
	for (size_t i = 0; i < sizeof(bad_unique) / sizeof(bad_unique[0]);
	     i++) {
		assert_int_equal(header_message_id(buf, sizeof(buf),
						   bad_unique[i], "x.example"),
				 0);
		assert_string_equal(buf, "");
	}
	for (size_t i = 0; i < sizeof(bad_domain) / sizeof(bad_domain[0]);
	     i++) {
		assert_int_equal(
			header_message_id(buf, sizeof(buf), "u", bad_domain[i]),
			0);
		assert_string_equal(buf, "");
	}
}

/* To:, Cc: and Bcc: for sendmail -t: groups flattened, Bcc may be empty,
 * a malformed field flagged and skipped, fed whole and byte by byte. */
static void test_rcpts(void **state)
{
	static const char in[] =
		"From: a@x.example\r\n"
		"To: One <one@x.example>, \"two q\"@y.example\r\n"
		"Cc: team: three@z.example, four@z.example;\r\n"
		"Bcc:\r\n"
		"Bcc: (hidden) five@w.example\r\n"
		"Cc: <<broken\r\n"
		"\r\nbody\r\n";
	static const char *const want[] = {
		"one@x.example",  "two q@y.example", "three@z.example",
		"four@z.example", "five@w.example",
	};

	for (int pass = 0; pass < 2; pass++) {
		struct header_scan *h = header_scan_new(NULL);
		size_t used = 0;
		int r = 0;

		for (size_t i = 0; i < sizeof(in) - 1 && r == 0; i += used) {
			size_t n = pass == 0 ? sizeof(in) - 1 - i : 1;

			r = header_scan_feed(h, in + i, n, &used);
		}
		assert_int_equal(r, 1);
		assert_int_equal(header_scan_rcpt_count(h), 5);
		for (size_t i = 0; i < 5; i++)
			assert_string_equal(header_scan_rcpt(h, i), want[i]);
		assert_null(header_scan_rcpt(h, 5));
		assert_true(header_scan_rcpt_malformed(h));
		assert_int_equal(header_scan_from_count(h), 1);
		header_scan_free(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_from_limit),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_rcpts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
