/* mail/address: RFC 5321 4.1.2 paths row by row, limits at the edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/address.h"

#define S(s) s, sizeof(s) - 1

#define U ADDRESS_F_UTF8
#define N ADDRESS_F_ALLOW_NULL

/* Expected bits of struct address. */
#define B_NULL 0x01
#define B_LIT 0x02
#define B_UTF8 0x04
#define B_QUOTED 0x08

struct row {
	const char *in;
	size_t len;
	unsigned flags;
	int ret;
	const char *local; /* when ret == 0 */
	const char *domain;
	unsigned bits;
	size_t consumed; /* 0: all of in */
};

static const struct row path_rows[] = {
	/* RFC 5321 examples (3.3, 3.6, D) */
	{S("<Smith@bar.com>"), 0, 0, "Smith", "bar.com", 0, 0},
	{S("<JQP@bar.com>"), 0, 0, "JQP", "bar.com", 0, 0},
	{S("<userx@y.foo.org>"), 0, 0, "userx", "y.foo.org", 0, 0},
	{S("<@hosta.int,@jkl.org:userc@d.bar.org>"), 0, 0, "userc", "d.bar.org",
	 0, 0},
	{S("<@ONE,@TWO:JOE@THREE>"), 0, 0, "JOE", "THREE", 0, 0},
	{S("<\"Joe\\,Smith\"@example.com>"), 0, 0, "Joe,Smith", "example.com",
	 B_QUOTED, 0},
	/* Dot-string: every atext character */
	{S("<a@b>"), 0, 0, "a", "b", 0, 0},
	{S("<User.Name+tag@Example.COM>"), 0, 0, "User.Name+tag", "Example.COM",
	 0, 0},
	{S("<!#$%&'*+-/=?^_`{|}~@x.y>"), 0, 0, "!#$%&'*+-/=?^_`{|}~", "x.y", 0,
	 0},
	{S("<a.b.c@x>"), 0, 0, "a.b.c", "x", 0, 0},
	{S("<.a@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a.@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a..b@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a b@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a(b)@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a,b@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a\\b@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a\"b\"@x>"), 0, -1, NULL, NULL, 0, 0},
	/* Quoted-string: stored unquoted; quoted only when it must be */
	{S("<\"abc\"@x>"), 0, 0, "abc", "x", 0, 0},
	{S("<\"a.b\"@x>"), 0, 0, "a.b", "x", 0, 0},
	{S("<\"a b\"@x>"), 0, 0, "a b", "x", B_QUOTED, 0},
	{S("<\"a\\\"b\"@x>"), 0, 0, "a\"b", "x", B_QUOTED, 0},
	{S("<\"a\\\\b\"@x>"), 0, 0, "a\\b", "x", B_QUOTED, 0},
	{S("<\"\\a\\b\\c\"@x>"), 0, 0, "abc", "x", 0, 0},
	{S("<\"\"@x>"), 0, 0, "", "x", B_QUOTED, 0},
	{S("<\".a\"@x>"), 0, 0, ".a", "x", B_QUOTED, 0},
	{S("<\"a.\"@x>"), 0, 0, "a.", "x", B_QUOTED, 0},
	{S("<\"a..b\"@x>"), 0, 0, "a..b", "x", B_QUOTED, 0},
	{S("<\"a@b\"@x>"), 0, 0, "a@b", "x", B_QUOTED, 0},
	{S("<\"a\\ b\"@x>"), 0, 0, "a b", "x", B_QUOTED, 0},
	{S("<\"a\tb\"@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\"a\\\x01\"@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\"a\\\x7f\"@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\"abc@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\"abc\\\"@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\"a\"b@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\"a\".b@x>"), 0, -1, NULL, NULL, 0, 0},
	/* Domains: LDH labels */
	{S("<a@b--c.d>"), 0, 0, "a", "b--c.d", 0, 0},
	{S("<a@123.com>"), 0, 0, "a", "123.com", 0, 0},
	{S("<a@xn--bcher-kva.de>"), 0, 0, "a", "xn--bcher-kva.de", 0, 0},
	{S("<a@b.c.>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@.b>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b..c>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@-b.c>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b-.c>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b_c.d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b c>"), 0, -1, NULL, NULL, 0, 0},
	/* Address literals (4.1.3) */
	{S("<a@[192.0.2.1]>"), 0, 0, "a", "[192.0.2.1]", B_LIT, 0},
	{S("<a@[0.0.0.0]>"), 0, 0, "a", "[0.0.0.0]", B_LIT, 0},
	{S("<a@[255.255.255.255]>"), 0, 0, "a", "[255.255.255.255]", B_LIT, 0},
	{S("<a@[256.0.0.1]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1.2.3]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1.2.3.4.5]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1.2.3.]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[010.0.0.1]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1234.0.0.1]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:2001:db8::1]>"), 0, 0, "a", "[IPv6:2001:db8::1]", B_LIT,
	 0},
	{S("<a@[ipv6:::1]>"), 0, 0, "a", "[ipv6:::1]", B_LIT, 0},
	{S("<a@[IPv6:::]>"), 0, 0, "a", "[IPv6:::]", B_LIT, 0},
	{S("<a@[IPv6:1:2:3:4:5:6:7:8]>"), 0, 0, "a", "[IPv6:1:2:3:4:5:6:7:8]",
	 B_LIT, 0},
	{S("<a@[IPv6:::ffff:192.0.2.1]>"), 0, 0, "a", "[IPv6:::ffff:192.0.2.1]",
	 B_LIT, 0},
	{S("<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>"), 0, 0, "a",
	 "[IPv6:1:2:3:4:5:6:192.0.2.1]", B_LIT, 0},
	{S("<a@[IPv6:1:2:3:4:5:6:7:8:9]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:1::2::3]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:12345::1]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:gggg::1]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:192.0.2.1]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[IPv6:fe80::1%eth0]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[2001:db8::1]>"), 0, 0, "a", "[2001:db8::1]", B_LIT, 0},
	{S("<a@[x-tag:any~thing!]>"), 0, 0, "a", "[x-tag:any~thing!]", B_LIT,
	 0},
	{S("<a@[tag:]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[:x]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[tag-:x]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[t_g:x]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[tag:a[b]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[tag:a\\b]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[tag:a b]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[]>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1.2.3.4>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1.2.3.4]x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@[1.2.3.4].com>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b.[1.2.3.4]>"), 0, -1, NULL, NULL, 0, 0},
	/* Source routes: accepted, ignored */
	{S("<@a.b:u@c>"), 0, 0, "u", "c", 0, 0},
	{S("<@a,@b.c,@d:u@e>"), 0, 0, "u", "e", 0, 0},
	{S("<@a,b:u@d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@a,:u@d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@a:>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@:u@d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@a;u@d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@a u@d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@[1.2.3.4]:u@d>"), 0, -1, NULL, NULL, 0, 0},
	{S("<@x>"), 0, -1, NULL, NULL, 0, 0},
	/* The null path */
	{S("<>"), N, 0, "", "", B_NULL, 0},
	{S("<>"), 0, -1, NULL, NULL, 0, 0},
	{S("<> SIZE=10"), N, 0, "", "", B_NULL, 2},
	{S("< >"), N, -1, NULL, NULL, 0, 0},
	{S("<<>>"), N, -1, NULL, NULL, 0, 0},
	/* Where the path ends */
	{S("<a@b> SIZE=10"), 0, 0, "a", "b", 0, 5},
	{S("<a@b>>"), 0, 0, "a", "b", 0, 5},
	{S("<a@b"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b.c"), 0, -1, NULL, NULL, 0, 0},
	{S("a@b"), 0, -1, NULL, NULL, 0, 0},
	{S(" <a@b>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b >"), 0, -1, NULL, NULL, 0, 0},
	{S("< a@b>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a>"), 0, -1, NULL, NULL, 0, 0},
	{S("<Postmaster>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b@c>"), 0, -1, NULL, NULL, 0, 0},
	{S("<"), N, -1, NULL, NULL, 0, 0},
	{S(""), N, -1, NULL, NULL, 0, 0},
	/* Controls and NUL */
	{S("<a\x01@b>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a\x7f@b>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a\0b@c>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b\0>"), 0, -1, NULL, NULL, 0, 0},
	{S("<a@b\r\n>"), 0, -1, NULL, NULL, 0, 0},
	/* RFC 6531 3.3: UTF-8 with the flag; -3 without it */
	{S("<\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae@"
	   "\xcf\x80\xce\xb1\xcf\x81\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3"
	   "\xce\xbc\xce\xb1."
	   "\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae>"),
	 U, 0, "\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae",
	 "\xcf\x80\xce\xb1\xcf\x81\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3"
	 "\xce\xbc\xce\xb1.\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae",
	 B_UTF8, 0},
	{S("<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
	   "\xe5\x91\x8a>"),
	 U, 0, "\xe7\x94\xa8\xe6\x88\xb7",
	 "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", B_UTF8, 0},
	{S("<\xf0\x9f\x98\x80@x>"), U, 0, "\xf0\x9f\x98\x80", "x", B_UTF8, 0},
	{S("<\xf4\x8f\xbf\xbf@x>"), U, 0, "\xf4\x8f\xbf\xbf", "x", B_UTF8, 0},
	{S("<\xef\xbf\xbd@x>"), U, 0, "\xef\xbf\xbd", "x", B_UTF8, 0},
	{S("<a@b\xc3\xbc"
	   "cher.de>"),
	 U, 0, "a",
	 "b\xc3\xbc"
	 "cher.de",
	 B_UTF8, 0},
	{S("<\"\xc3\xbc x\"@x>"), U, 0, "\xc3\xbc x", "x", B_UTF8 | B_QUOTED,
	 0},
	{S("<\"\xc3\xbc\"@x>"), U, 0, "\xc3\xbc", "x", B_UTF8, 0},
	{S("<a.\xc3\xbc.b@x>"), U, 0, "a.\xc3\xbc.b", "x", B_UTF8, 0},
	/* a route is dropped: needs the flag, but the mailbox is ASCII */
	{S("<@\xc3\xbc:a@x>"), U, 0, "a", "x", 0, 0},
	{S("<@\xc3\xbc:a@x>"), 0, -3, NULL, NULL, 0, 0},
	{S("<\xc3\xbc@x>"), 0, -3, NULL, NULL, 0, 0},
	{S("<a@\xc3\xbc.de>"), 0, -3, NULL, NULL, 0, 0},
	{S("<\"\xc3\xbc\"@x>"), 0, -3, NULL, NULL, 0, 0},
	{S("<@\xc3\xbc:a@x>"), 0, -3, NULL, NULL, 0, 0},
	{S("<a@-\xc3\xbc.de>"), U, -1, NULL, NULL, 0, 0},
	{S("<a@[tag:\xc3\xbc]>"), U, -1, NULL, NULL, 0, 0},
	{S("<a@[\xc3\xbc:x]>"), U, -1, NULL, NULL, 0, 0},
	/* Malformed UTF-8 is a syntax error, flag or not */
	{S("<\xc0\xaf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xc1\xbf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xe0\x80\xaf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xe0\x9f\xbf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xf0\x80\x80\xaf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xf0\x8f\xbf\xbf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xed\xa0\x80@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xed\xbf\xbf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xf4\x90\x80\x80@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xf5\x80\x80\x80@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xff@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xfe@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\x80@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xbf@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xc3@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xe2\x82@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xc3\xc3\xbc@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<a@x\xc3>"), U, -1, NULL, NULL, 0, 0},
	{S("<\"\xc3\"@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\"\\\xc3\xbc\"@x>"), U, -1, NULL, NULL, 0, 0},
	{S("<\xc0\xaf@x>"), 0, -1, NULL, NULL, 0, 0},
	{S("<\xed\xa0\x80@x>"), 0, -1, NULL, NULL, 0, 0},
	{"<\xe2\x82", 3, U, -1, NULL, NULL, 0, 0},
};

static const struct row mailbox_rows[] = {
	{S("user@example.com"), 0, 0, "user", "example.com", 0, 0},
	{S("\"a b\"@x"), 0, 0, "a b", "x", B_QUOTED, 0},
	{S("a@[192.0.2.1]"), 0, 0, "a", "[192.0.2.1]", B_LIT, 0},
	{S("\xc3\xbc@x"), U, 0, "\xc3\xbc", "x", B_UTF8, 0},
	{S("\xc3\xbc@x"), 0, -3, NULL, NULL, 0, 0},
	{S("\xc3@x"), U, -1, NULL, NULL, 0, 0},
	{S("<a@b>"), 0, -1, NULL, NULL, 0, 0},
	{S("a@b "), 0, -1, NULL, NULL, 0, 0},
	{S("a@b>"), 0, -1, NULL, NULL, 0, 0},
	{S("a@b.c."), 0, -1, NULL, NULL, 0, 0},
	{S("@a:b@c"), 0, -1, NULL, NULL, 0, 0},
	{S("a@"), 0, -1, NULL, NULL, 0, 0},
	{S("@b"), 0, -1, NULL, NULL, 0, 0},
	{S("a"), 0, -1, NULL, NULL, 0, 0},
	{S(""), 0, -1, NULL, NULL, 0, 0},
	{S(""), N, -1, NULL, NULL, 0, 0},
};

static void check_row(const struct row *r, int ret, const struct address *a,
		      const char *error)
{
	if (ret != r->ret)
		fail_msg("\"%.*s\": got %d (%s), want %d", (int)r->len, r->in,
			 ret, ret == 0 ? "ok" : error, r->ret);
	if (ret != 0) {
		assert_non_null(error);
		assert_true(strlen(error) > 0);
		return;
	}
	assert_string_equal(a->local, r->local);
	assert_string_equal(a->domain, r->domain);
	assert_int_equal(a->null, !!(r->bits & B_NULL));
	assert_int_equal(a->literal, !!(r->bits & B_LIT));
	assert_int_equal(a->utf8, !!(r->bits & B_UTF8));
	assert_int_equal(a->quoted, !!(r->bits & B_QUOTED));
}

/* An exact-size heap copy, so the sanitizer build sees any over-read. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void test_path_rows(void **state)
{
	for (size_t i = 0; i < sizeof(path_rows) / sizeof(path_rows[0]); i++) {
		const struct row *r = &path_rows[i];
		char *in = exact(r->in, r->len);
		struct address a;
		size_t used = 99;
		const char *error = NULL;
		int ret = address_parse_path(in, r->len, r->flags, &a, &used,
					     &error);

		check_row(r, ret, &a, error);
		assert_int_equal(used, ret != 0	     ? 0
				       : r->consumed ? r->consumed
						     : r->len);
		free(in);
	}
}

/* No proper prefix of an accepted path is a path: it lacks the ">". */
static void test_path_prefixes(void **state)
{
	for (size_t i = 0; i < sizeof(path_rows) / sizeof(path_rows[0]); i++) {
		const struct row *r = &path_rows[i];
		size_t end = r->consumed ? r->consumed : r->len;

		if (r->ret != 0)
			continue;
		for (size_t k = 0; k < end; k++) {
			char *in = exact(r->in, k);
			struct address a;
			size_t used;
			const char *error;

			assert_int_not_equal(address_parse_path(in, k, r->flags,
								&a, &used,
								&error),
					     0);
			free(in);
		}
	}
}

static void test_mailbox_rows(void **state)
{
	for (size_t i = 0; i < sizeof(mailbox_rows) / sizeof(mailbox_rows[0]);
	     i++) {
		const struct row *r = &mailbox_rows[i];
		char *in = exact(r->in, r->len);
		struct address a;
		const char *error = NULL;
		int ret =
			address_parse_mailbox(in, r->len, r->flags, &a, &error);

		free(in);
		check_row(r, ret, &a, error);
	}
}

/* What address_format writes parses back to the same address. */
static void test_format_roundtrip(void **state)
{
	for (size_t i = 0; i < sizeof(path_rows) / sizeof(path_rows[0]); i++) {
		const struct row *r = &path_rows[i];
		struct address a, b;
		char buf[2 * ADDRESS_PATH_MAX];
		size_t used, n;
		const char *error;

		if (r->ret != 0 || (r->bits & B_NULL))
			continue;
		assert_int_equal(address_parse_path(r->in, r->len, r->flags, &a,
						    &used, &error),
				 0);
		n = address_format(&a, buf, sizeof(buf));
		assert_int_equal(n, strlen(buf));
		assert_int_equal(
			address_parse_mailbox(buf, n, r->flags, &b, &error), 0);
		assert_string_equal(a.local, b.local);
		assert_string_equal(a.domain, b.domain);
		assert_int_equal(a.quoted, b.quoted);
		assert_int_equal(a.quoted, buf[0] == '"');
	}
}

struct format_row {
	const char *in;
	const char *out;
};

static const struct format_row format_rows[] = {
	{"<a@b>", "a@b"},
	{"<\"abc\"@x>", "abc@x"},
	{"<\"a b\"@x>", "\"a b\"@x"},
	{"<\"a\\\"b\"@x>", "\"a\\\"b\"@x"},
	{"<\"a\\\\b\"@x>", "\"a\\\\b\"@x"},
	{"<\"\\a\"@x>", "a@x"},
	{"<\"\"@x>", "\"\"@x"},
	{"<@r:a@[1.2.3.4]>", "a@[1.2.3.4]"},
	{"<>", ""},
};

static void test_format(void **state)
{
	for (size_t i = 0; i < sizeof(format_rows) / sizeof(format_rows[0]);
	     i++) {
		struct address a;
		char buf[64];
		size_t used;
		const char *error;

		assert_int_equal(address_parse_path(format_rows[i].in,
						    strlen(format_rows[i].in),
						    N, &a, &used, &error),
				 0);
		assert_int_equal(address_format(&a, buf, sizeof(buf)),
				 strlen(format_rows[i].out));
		assert_string_equal(buf, format_rows[i].out);
	}
}

static void test_format_small(void **state)
{
	struct address a;
	char buf[8];
	size_t used;
	const char *error;

	assert_int_equal(address_parse_path(S("<\"a b\"@example.com>"), 0, &a,
					    &used, &error),
			 0);
	/* "a b"@example.com is 17 octets: cut, terminated, length told. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(address_format(&a, buf, 6), 17);
	assert_string_equal(buf, "\"a b\"");
	assert_int_equal(buf[6], 'Z');
	assert_int_equal(address_format(&a, buf, 1), 17);
	assert_string_equal(buf, "");
	buf[0] = 'Z';
	assert_int_equal(address_format(&a, buf, 0), 17);
	assert_int_equal(buf[0], 'Z');
	assert_int_equal(address_format(&a, NULL, 0), 17);
	/* The RCPT <Postmaster> form: no domain, no "@". */
	memset(&a, 0, sizeof(a));
	memcpy(a.local, "Postmaster", sizeof("Postmaster"));
	assert_int_equal(address_format(&a, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "Postmas");
}

/* A domain of len octets: 63-octet labels and a shorter last one. */
static size_t make_domain(char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (i % 64 == 63) ? '.' : 'd';
	if (len > 1 && p[len - 1] == '.') {
		p[len - 2] = '.';
		p[len - 1] = 'e';
	}
	return len;
}

struct limit_row {
	bool quoted;	  /* local part written quoted */
	bool route;	  /* with a 10-octet source route "@r.example:" */
	size_t local_len; /* as written, quotes included */
	size_t domain_len;
	int path_ret;
	int mailbox_ret;
};

/* RFC 5321 4.5.3.1.1-3: 64, 255 and 256 octets, and one more. */
static const struct limit_row limit_rows[] = {
	{false, false, 64, 10, 0, 0},	    {false, false, 65, 10, -2, -2},
	{true, false, 64, 10, 0, 0},	    {true, false, 65, 10, -2, -2},
	{false, false, 64, 189, 0, 0},	/* path 256 */
	{false, false, 64, 190, -2, 0}, /* path 257 */
	{false, false, 1, 252, 0, 0},	    {false, false, 1, 253, -2, 0},
	{false, true, 1, 241, 0, 0},	    {false, true, 1, 242, -2, 0},
	{false, false, 1, 255, -2, 0},	    {false, false, 1, 256, -2, -2},
	{false, false, 64, 255, -2, 0},	    {false, false, 65, 256, -2, -2},
	{false, false, 1000, 1000, -2, -2},
};

static void test_limits(void **state)
{
	for (size_t i = 0; i < sizeof(limit_rows) / sizeof(limit_rows[0]);
	     i++) {
		const struct limit_row *r = &limit_rows[i];
		char in[2200];
		size_t n = 0, used;
		struct address a;
		const char *error;
		size_t route = r->route ? 11 : 0;

		in[n++] = '<';
		if (r->route) {
			memcpy(in + n, "@r.example:", route);
			n += route;
		}
		memset(in + n, 'l', r->local_len);
		if (r->quoted) {
			in[n] = '"';
			in[n + r->local_len - 1] = '"';
		}
		n += r->local_len;
		in[n++] = '@';
		n += make_domain(in + n, r->domain_len);
		in[n++] = '>';
		assert_int_equal(
			address_parse_path(in, n, 0, &a, &used, &error),
			r->path_ret);
		if (r->path_ret == 0) {
			assert_int_equal(used, n);
			assert_int_equal(strlen(a.domain), r->domain_len);
			assert_int_equal(strlen(a.local),
					 r->local_len - (r->quoted ? 2 : 0));
		}
		assert_int_equal(address_parse_mailbox(in + 1 + route,
						       n - 2 - route, 0, &a,
						       &error),
				 r->mailbox_ret);
	}
}

/* Labels: 63 octets, and one more (RFC 1035 2.3.4). */
static void test_label_limit(void **state)
{
	char in[80] = "a@";
	struct address a;
	const char *error;

	memset(in + 2, 'x', 63);
	assert_int_equal(address_parse_mailbox(in, 65, 0, &a, &error), 0);
	memset(in + 2, 'x', 64);
	assert_int_equal(address_parse_mailbox(in, 66, 0, &a, &error), -1);
	memcpy(in + 66, ".com", sizeof(".com"));
	assert_int_equal(address_parse_mailbox(in, 70, 0, &a, &error), -1);
}

/* Every byte value in every position of a short path. */
static void test_garbage(void **state)
{
	char in[] = "<ab@cd.ef>";

	for (size_t pos = 0; pos < sizeof(in) - 1; pos++) {
		for (int c = 0; c < 256; c++) {
			char *p = exact(in, sizeof(in) - 1);
			struct address a;
			size_t used;
			const char *error;
			int ret;

			p[pos] = (char)c;
			ret = address_parse_path(p, sizeof(in) - 1, U | N, &a,
						 &used, &error);
			assert_true(ret == 0 || ret == -1);
			if (ret == 0) {
				assert_true(used <= sizeof(in) - 1);
				assert_true(strlen(a.local) <= 2);
			}
			free(p);
		}
	}
}

static void test_domain_within(void **state)
{
	static const struct {
		const char *domain, *parent;
		bool within;
	} rows[] = {
		{"example.org", "example.org", true},
		{"EXAMPLE.org", "example.ORG", true},
		{"mx.example.org", "example.org", true},
		{"a.b.c.example.org", "example.org", true},
		{"badexample.org", "example.org", false},
		{"example.org", "mx.example.org", false},
		{"org", "example.org", false},
		{"example.org", "", false},
		{"", "example.org", false},
		{".example.org", "example.org", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(address_domain_within(rows[i].domain,
						       rows[i].parent),
				 rows[i].within);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_rows),
		cmocka_unit_test(test_path_prefixes),
		cmocka_unit_test(test_mailbox_rows),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_small),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_label_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_domain_within),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
