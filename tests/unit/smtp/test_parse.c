/* smtp/parse: verbs, MAIL/RCPT parameters, BDAT, HELO, row by row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/parse.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define ALL                                                                    \
	(SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 |               \
	 SMTP_EXT_DSN | SMTP_EXT_AUTH)

/* An exact-size heap copy, so the sanitizer build sees any over-read. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

struct verb_row {
	const char *line;
	size_t len;
	enum smtp_verb verb;
	const char *arg;
};

#define S(s) s, sizeof(s) - 1

static const struct verb_row verb_rows[] = {
	{S("EHLO example.com"), SMTP_VERB_EHLO, "example.com"},
	{S("ehlo x"), SMTP_VERB_EHLO, "x"},
	{S("HELO x"), SMTP_VERB_HELO, "x"},
	{S("MaIl FROM:<>"), SMTP_VERB_MAIL, "FROM:<>"},
	{S("RCPT  TO:<a@b>"), SMTP_VERB_RCPT, " TO:<a@b>"},
	{S("DATA"), SMTP_VERB_DATA, ""},
	{S("DATA "), SMTP_VERB_DATA, ""},
	{S("BDAT 10 LAST"), SMTP_VERB_BDAT, "10 LAST"},
	{S("RSET"), SMTP_VERB_RSET, ""},
	{S("noop hello"), SMTP_VERB_NOOP, "hello"},
	{S("QUIT"), SMTP_VERB_QUIT, ""},
	{S("VRFY a"), SMTP_VERB_VRFY, "a"},
	{S("EXPN a"), SMTP_VERB_EXPN, "a"},
	{S("HELP"), SMTP_VERB_HELP, ""},
	{S("ETRN @x"), SMTP_VERB_ETRN, "@x"},
	{S("StartTLS"), SMTP_VERB_STARTTLS, ""},
	{S("AUTH PLAIN AGEAYg=="), SMTP_VERB_AUTH, "PLAIN AGEAYg=="},
	{S("MAILX FROM:<>"), SMTP_VERB_UNKNOWN, "FROM:<>"},
	{S("MAI"), SMTP_VERB_UNKNOWN, ""},
	{S("MAIL:"), SMTP_VERB_UNKNOWN, ""},
	{S(""), SMTP_VERB_UNKNOWN, ""},
	{S(" MAIL FROM:<>"), SMTP_VERB_UNKNOWN, "MAIL FROM:<>"},
	{S("NOOP\t"), SMTP_VERB_UNKNOWN, ""},
	{S("MA\0L x"), SMTP_VERB_UNKNOWN, "x"},
	{S("DATA\0"), SMTP_VERB_UNKNOWN, ""},
	{S("QUIT\xff"), SMTP_VERB_UNKNOWN, ""},
};

static void test_verbs(void **state)
{
	for (size_t i = 0; i < NROWS(verb_rows); i++) {
		const struct verb_row *r = &verb_rows[i];
		char *line = exact(r->line, r->len);
		const char *arg = NULL;
		size_t arg_len = 99;

		assert_int_equal(smtp_parse_verb(line, r->len, &arg, &arg_len),
				 r->verb);
		assert_int_equal(arg_len, strlen(r->arg));
		assert_true(arg >= line && arg + arg_len == line + r->len);
		assert_memory_equal(arg, r->arg, arg_len);
		free(line);
	}
}

static void test_verb_names(void **state)
{
	const char *arg;
	size_t arg_len;

	for (int v = SMTP_VERB_HELO; v <= SMTP_VERB_AUTH; v++) {
		const char *name = smtp_verb_name((enum smtp_verb)v);

		assert_int_equal(
			smtp_parse_verb(name, strlen(name), &arg, &arg_len), v);
	}
	assert_string_equal(smtp_verb_name(SMTP_VERB_MAIL), "MAIL");
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
	assert_string_equal(smtp_verb_name((enum smtp_verb)999), "UNKNOWN");
}

struct mail_row {
	const char *arg;
	unsigned exts;
	int code; /* 0: accepted */
	const char *status;
	const char *from; /* address_format of the sender */
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	enum smtp_ret ret;
	const char *envid;
	const char *auth;
};

static const struct mail_row mail_rows[] = {
	/* The path and the syntax around it */
	{.arg = "FROM:<a@b>", .from = "a@b"},
	{.arg = "from:<a@b>", .from = "a@b"},
	{.arg = "FROM: <a@b>", .from = "a@b"},
	{.arg = "FROM:   <a@b>", .from = "a@b"},
	{.arg = " FROM:<a@b>", .from = "a@b"},
	{.arg = "FROM:<a@b> ", .from = "a@b"},
	{.arg = "FROM:<>", .from = ""},
	{.arg = "FROM:<@x,@y:a@b>", .from = "a@b"},
	{.arg = "FROM:<\"a b\"@[192.0.2.1]>", .from = "\"a b\"@[192.0.2.1]"},
	{.arg = "", .code = 501, .status = "5.5.4"},
	{.arg = "FROM:", .code = 501, .status = "5.5.4"},
	{.arg = "FROM:a@b", .code = 501, .status = "5.5.4"},
	{.arg = "FROM: a@b", .code = 501, .status = "5.5.4"},
	{.arg = "FROM <a@b>", .code = 501, .status = "5.5.4"},
	{.arg = "FROM<a@b>", .code = 501, .status = "5.5.4"},
	{.arg = "TO:<a@b>", .code = 501, .status = "5.5.4"},
	{.arg = "FRO:<a@b>", .code = 501, .status = "5.5.4"},
	{.arg = "FROM:<a@b>x", .code = 501, .status = "5.5.4"},
	{.arg = "FROM:<a@b>\tSIZE=1",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b", .code = 501, .status = "5.1.7"},
	{.arg = "FROM:<a b@c>", .code = 501, .status = "5.1.7"},
	{.arg = "FROM:<a@b_c>", .code = 501, .status = "5.1.7"},
	{.arg = "FROM:<Postmaster>", .code = 501, .status = "5.1.7"},
	{.arg = "FROM:<a@[300.0.0.1]>", .code = 501, .status = "5.1.7"},
	/* SIZE, RFC 1870 */
	{.arg = "FROM:<a@b> SIZE=1000",
	 .exts = SMTP_EXT_SIZE,
	 .from = "a@b",
	 .has_size = true,
	 .size = 1000},
	{.arg = "FROM:<a@b> size=0",
	 .exts = SMTP_EXT_SIZE,
	 .from = "a@b",
	 .has_size = true,
	 .size = 0},
	{.arg = "FROM:<a@b> SIZE=18446744073709551615",
	 .exts = SMTP_EXT_SIZE,
	 .from = "a@b",
	 .has_size = true,
	 .size = UINT64_MAX},
	{.arg = "FROM:<a@b> SIZE=00000000000000000001",
	 .exts = SMTP_EXT_SIZE,
	 .from = "a@b",
	 .has_size = true,
	 .size = 1},
	{.arg = "FROM:<a@b> SIZE=000000000000000000001",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=18446744073709551616",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=99999999999999999999",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=1k",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=-1",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=+1",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=1=2",
	 .exts = SMTP_EXT_SIZE,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=1000",
	 .exts = ALL & ~SMTP_EXT_SIZE,
	 .code = 555,
	 .status = "5.5.4"},
	/* BODY, RFC 6152 */
	{.arg = "FROM:<a@b> BODY=7BIT",
	 .exts = SMTP_EXT_8BITMIME,
	 .from = "a@b",
	 .body = SMTP_BODY_7BIT},
	{.arg = "FROM:<a@b> BODY=8BITMIME",
	 .exts = SMTP_EXT_8BITMIME,
	 .from = "a@b",
	 .body = SMTP_BODY_8BITMIME},
	{.arg = "FROM:<a@b> body=8bitmime",
	 .exts = SMTP_EXT_8BITMIME,
	 .from = "a@b",
	 .body = SMTP_BODY_8BITMIME},
	{.arg = "FROM:<a@b> BODY=BINARYMIME",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> BODY=8BIT",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> BODY", .exts = ALL, .code = 501, .status = "5.5.4"},
	{.arg = "FROM:<a@b> BODY=8BITMIME",
	 .exts = ALL & ~SMTP_EXT_8BITMIME,
	 .code = 555,
	 .status = "5.5.4"},
	/* SMTPUTF8, RFC 6531 3.4 */
	{.arg = "FROM:<a@b> SMTPUTF8",
	 .exts = SMTP_EXT_SMTPUTF8,
	 .from = "a@b",
	 .smtputf8 = true},
	{.arg = "FROM:<a@b> smtputf8",
	 .exts = SMTP_EXT_SMTPUTF8,
	 .from = "a@b",
	 .smtputf8 = true},
	{.arg = "FROM:<\xc3\xbc@x> SMTPUTF8",
	 .exts = SMTP_EXT_SMTPUTF8,
	 .from = "\xc3\xbc@x",
	 .smtputf8 = true},
	{.arg = "FROM:<a@\xc3\xbc.de> SMTPUTF8",
	 .exts = SMTP_EXT_SMTPUTF8,
	 .from = "a@\xc3\xbc.de",
	 .smtputf8 = true},
	{.arg = "FROM:<a@b> SMTPUTF8=yes",
	 .exts = SMTP_EXT_SMTPUTF8,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SMTPUTF8=",
	 .exts = SMTP_EXT_SMTPUTF8,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SMTPUTF8",
	 .exts = ALL & ~SMTP_EXT_SMTPUTF8,
	 .code = 555,
	 .status = "5.5.4"},
	/* RFC 6531 3.5: a UTF-8 sender without SMTPUTF8 */
	{.arg = "FROM:<\xc3\xbc@x>",
	 .exts = ALL,
	 .code = 550,
	 .status = "5.6.7"},
	{.arg = "FROM:<\xc3\xbc@x>", .exts = 0, .code = 550, .status = "5.6.7"},
	{.arg = "FROM:<\xc3\xbc@x> SMTPUTF8",
	 .exts = 0,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<\xc3\xbc@x> SIZE=1",
	 .exts = ALL,
	 .code = 550,
	 .status = "5.6.7"},
	{.arg = "FROM:<\xc0\xaf@x> SMTPUTF8",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.1.7"},
	{.arg = "FROM:<\xed\xa0\x80@x> SMTPUTF8",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.1.7"},
	/* RET, ENVID: RFC 3461 4.3, 4.4 */
	{.arg = "FROM:<a@b> RET=FULL",
	 .exts = SMTP_EXT_DSN,
	 .from = "a@b",
	 .ret = SMTP_RET_FULL},
	{.arg = "FROM:<a@b> ret=hdrs",
	 .exts = SMTP_EXT_DSN,
	 .from = "a@b",
	 .ret = SMTP_RET_HDRS},
	{.arg = "FROM:<a@b> RET=ALL",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> RET",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> RET=FULL",
	 .exts = ALL & ~SMTP_EXT_DSN,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=QQ314159",
	 .exts = SMTP_EXT_DSN,
	 .from = "a@b",
	 .envid = "QQ314159"},
	{.arg = "FROM:<a@b> ENVID=a+2Bb+3D!~",
	 .exts = SMTP_EXT_DSN,
	 .from = "a@b",
	 .envid = "a+2Bb+3D!~"},
	{.arg = "FROM:<a@b> ENVID=a+2bb",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=a+2",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=a+",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=a+GG",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=a\x7f",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=\xc3\xbc SMTPUTF8",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ENVID=x",
	 .exts = ALL & ~SMTP_EXT_DSN,
	 .code = 555,
	 .status = "5.5.4"},
	/* AUTH, RFC 4954 5 */
	{.arg = "FROM:<a@b> AUTH=<>",
	 .exts = SMTP_EXT_AUTH,
	 .from = "a@b",
	 .auth = "<>"},
	{.arg = "FROM:<a@b> AUTH=e+2Bmc2@example.com",
	 .exts = SMTP_EXT_AUTH,
	 .from = "a@b",
	 .auth = "e+2Bmc2@example.com"},
	{.arg = "FROM:<a@b> AUTH=",
	 .exts = SMTP_EXT_AUTH,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> AUTH",
	 .exts = SMTP_EXT_AUTH,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> AUTH=a+zz",
	 .exts = SMTP_EXT_AUTH,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> AUTH=<>",
	 .exts = ALL & ~SMTP_EXT_AUTH,
	 .code = 555,
	 .status = "5.5.4"},
	/* Combinations, spacing */
	{.arg = "FROM:<a@b> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x "
		"AUTH=<>",
	 .exts = ALL,
	 .from = "a@b",
	 .has_size = true,
	 .size = 10,
	 .body = SMTP_BODY_8BITMIME,
	 .smtputf8 = true,
	 .ret = SMTP_RET_HDRS,
	 .envid = "x",
	 .auth = "<>"},
	{.arg = "FROM:<>  SIZE=10   BODY=7BIT  ",
	 .exts = ALL,
	 .from = "",
	 .has_size = true,
	 .size = 10,
	 .body = SMTP_BODY_7BIT},
	{.arg = "FROM:<\xc3\xbc@x> BODY=8BITMIME SMTPUTF8",
	 .exts = ALL,
	 .from = "\xc3\xbc@x",
	 .body = SMTP_BODY_8BITMIME,
	 .smtputf8 = true},
	/* Repeated, unknown, the other command's, malformed keywords */
	{.arg = "FROM:<a@b> SIZE=1 SIZE=2",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> BODY=7BIT body=8BITMIME",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SMTPUTF8 SMTPUTF8",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> FOO=bar",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> FOO", .exts = ALL, .code = 555, .status = "5.5.4"},
	{.arg = "FROM:<a@b> X-FOO=1",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZEX=1",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> NOTIFY=NEVER",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> ORCPT=rfc822;a@b",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> -FOO=1",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> =1", .exts = ALL, .code = 501, .status = "5.5.4"},
	{.arg = "FROM:<a@b> FO_O=1",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> SIZE=x FOO=1",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "FROM:<a@b> FOO=1 SIZE=x",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
};

static void check_error(const struct smtp_error *err, int code,
			const char *status)
{
	assert_int_equal(err->code, code);
	assert_string_equal(err->status, status);
	assert_non_null(err->text);
	assert_true(strlen(err->text) > 0);
}

static void test_mail(void **state)
{
	for (size_t i = 0; i < NROWS(mail_rows); i++) {
		const struct mail_row *r = &mail_rows[i];
		size_t len = strlen(r->arg);
		char *arg = exact(r->arg, len);
		struct address from;
		struct smtp_mail_params mp;
		struct smtp_error err = {0};
		char buf[ADDRESS_PATH_MAX];
		int ret = smtp_parse_mail(arg, len, r->exts, &from, &mp, &err);

		free(arg);
		if (ret != (r->code ? -1 : 0))
			fail_msg("\"%s\": got %d %d %s %s", r->arg, ret,
				 err.code, err.status, err.text);
		if (r->code != 0) {
			check_error(&err, r->code, r->status);
			continue;
		}
		address_format(&from, buf, sizeof(buf));
		assert_string_equal(buf, r->from);
		assert_int_equal(from.null, r->from[0] == '\0');
		assert_int_equal(mp.has_size, r->has_size);
		assert_int_equal(mp.size, r->size);
		assert_int_equal(mp.body, r->body);
		assert_int_equal(mp.smtputf8, r->smtputf8);
		assert_int_equal(mp.ret, r->ret);
		assert_string_equal(mp.envid, r->envid ? r->envid : "");
		assert_string_equal(mp.auth, r->auth ? r->auth : "");
	}
}

struct rcpt_row {
	const char *arg;
	unsigned exts;
	bool utf8; /* MAIL had SMTPUTF8 */
	int code;
	const char *status;
	const char *local;
	const char *domain;
	unsigned notify;
	const char *orcpt;
};

#define NOTIFY_SFD                                                             \
	(SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY)

static const struct rcpt_row rcpt_rows[] = {
	{.arg = "TO:<a@b>", .local = "a", .domain = "b"},
	{.arg = "to:<a@b>", .local = "a", .domain = "b"},
	{.arg = "To: <a@b> ", .local = "a", .domain = "b"},
	{.arg = "TO:<@r:a@b>", .local = "a", .domain = "b"},
	{.arg = "TO:<>", .code = 501, .status = "5.1.3"},
	{.arg = "TO:<a@b", .code = 501, .status = "5.1.3"},
	{.arg = "TO:<a..b@c>", .code = 501, .status = "5.1.3"},
	{.arg = "TO:a@b", .code = 501, .status = "5.5.4"},
	{.arg = "TO:", .code = 501, .status = "5.5.4"},
	{.arg = "", .code = 501, .status = "5.5.4"},
	{.arg = "FROM:<a@b>", .code = 501, .status = "5.5.4"},
	{.arg = "TO:<a@b>x", .code = 501, .status = "5.5.4"},
	/* RFC 5321 4.1.1.3: <Postmaster> without a domain */
	{.arg = "TO:<Postmaster>", .local = "Postmaster", .domain = ""},
	{.arg = "TO:<postmaster>", .local = "Postmaster", .domain = ""},
	{.arg = "TO: <POSTMASTER> NOTIFY=NEVER",
	 .exts = ALL,
	 .local = "Postmaster",
	 .domain = "",
	 .notify = SMTP_NOTIFY_NEVER},
	{.arg = "TO:<Postmaster@example.com>",
	 .local = "Postmaster",
	 .domain = "example.com"},
	{.arg = "TO:<Postmaster>x", .code = 501, .status = "5.5.4"},
	{.arg = "TO:<Postmasterx>", .code = 501, .status = "5.1.3"},
	{.arg = "TO:<Postmaster", .code = 501, .status = "5.1.3"},
	/* RFC 6531 3.5 */
	{.arg = "TO:<\xc3\xbc@x>", .exts = ALL, .code = 553, .status = "5.6.7"},
	{.arg = "TO:<\xc3\xbc@x>",
	 .exts = ALL,
	 .utf8 = true,
	 .local = "\xc3\xbc",
	 .domain = "x"},
	{.arg = "TO:<\xc3@x>",
	 .exts = ALL,
	 .utf8 = true,
	 .code = 501,
	 .status = "5.1.3"},
	/* NOTIFY, RFC 3461 4.1 */
	{.arg = "TO:<a@b> NOTIFY=NEVER",
	 .exts = SMTP_EXT_DSN,
	 .local = "a",
	 .domain = "b",
	 .notify = SMTP_NOTIFY_NEVER},
	{.arg = "TO:<a@b> NOTIFY=SUCCESS",
	 .exts = SMTP_EXT_DSN,
	 .local = "a",
	 .domain = "b",
	 .notify = SMTP_NOTIFY_SUCCESS},
	{.arg = "TO:<a@b> NOTIFY=FAILURE,DELAY",
	 .exts = SMTP_EXT_DSN,
	 .local = "a",
	 .domain = "b",
	 .notify = SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY},
	{.arg = "TO:<a@b> notify=delay,success,failure",
	 .exts = SMTP_EXT_DSN,
	 .local = "a",
	 .domain = "b",
	 .notify = NOTIFY_SFD},
	{.arg = "TO:<a@b> NOTIFY=NEVER,SUCCESS",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=DELAY,NEVER",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=SUCCESS,",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=,SUCCESS",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=SUCCESS,,DELAY",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=BOGUS",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> NOTIFY=NEVER",
	 .exts = ALL & ~SMTP_EXT_DSN,
	 .code = 555,
	 .status = "5.5.4"},
	/* ORCPT, RFC 3461 4.2 */
	{.arg = "TO:<a@b> ORCPT=rfc822;a@b",
	 .exts = SMTP_EXT_DSN,
	 .local = "a",
	 .domain = "b",
	 .orcpt = "rfc822;a@b"},
	{.arg = "TO:<a@b> ORCPT=rfc822;a+2Bb@c",
	 .exts = SMTP_EXT_DSN,
	 .local = "a",
	 .domain = "b",
	 .orcpt = "rfc822;a+2Bb@c"},
	{.arg = "TO:<a@b> ORCPT=rfc822",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT=;a@b",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT=rfc822;",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT=rfc822;a+zz",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT=rf(c;a@b",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT",
	 .exts = SMTP_EXT_DSN,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<\xc3\xbc@x> ORCPT=utf-8;\xc3\xbc@x",
	 .exts = ALL,
	 .utf8 = true,
	 .local = "\xc3\xbc",
	 .domain = "x",
	 .orcpt = "utf-8;\xc3\xbc@x"},
	{.arg = "TO:<a@x> ORCPT=utf-8;\xc3\xbc@x",
	 .exts = ALL,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@x> ORCPT=rfc822;\xc3\xbc@x",
	 .exts = ALL,
	 .utf8 = true,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@x> ORCPT=utf-8;\xc3@x",
	 .exts = ALL,
	 .utf8 = true,
	 .code = 501,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT=rfc822;a@b",
	 .exts = ALL & ~SMTP_EXT_DSN,
	 .code = 555,
	 .status = "5.5.4"},
	/* Combinations, repeats, MAIL parameters */
	{.arg = "TO:<a@b> NOTIFY=SUCCESS ORCPT=rfc822;x@y",
	 .exts = ALL,
	 .local = "a",
	 .domain = "b",
	 .notify = SMTP_NOTIFY_SUCCESS,
	 .orcpt = "rfc822;x@y"},
	{.arg = "TO:<a@b> ORCPT=rfc822;x@y  NOTIFY=NEVER ",
	 .exts = ALL,
	 .local = "a",
	 .domain = "b",
	 .notify = SMTP_NOTIFY_NEVER,
	 .orcpt = "rfc822;x@y"},
	{.arg = "TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> ORCPT=rfc822;x ORCPT=rfc822;y",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> SIZE=1", .exts = ALL, .code = 555, .status = "5.5.4"},
	{.arg = "TO:<a@b> SMTPUTF8",
	 .exts = ALL,
	 .code = 555,
	 .status = "5.5.4"},
	{.arg = "TO:<a@b> FOO", .exts = ALL, .code = 555, .status = "5.5.4"},
	{.arg = "TO:<a@b> F_O", .exts = ALL, .code = 501, .status = "5.5.4"},
};

static void test_rcpt(void **state)
{
	for (size_t i = 0; i < NROWS(rcpt_rows); i++) {
		const struct rcpt_row *r = &rcpt_rows[i];
		size_t len = strlen(r->arg);
		char *arg = exact(r->arg, len);
		struct address to;
		struct smtp_rcpt_params rp;
		struct smtp_error err = {0};
		int ret = smtp_parse_rcpt(arg, len, r->exts, r->utf8, &to, &rp,
					  &err);

		free(arg);
		if (ret != (r->code ? -1 : 0))
			fail_msg("\"%s\": got %d %d %s %s", r->arg, ret,
				 err.code, err.status, err.text);
		if (r->code != 0) {
			check_error(&err, r->code, r->status);
			continue;
		}
		assert_string_equal(to.local, r->local);
		assert_string_equal(to.domain, r->domain);
		assert_false(to.null);
		assert_int_equal(rp.notify, r->notify);
		assert_string_equal(rp.orcpt, r->orcpt ? r->orcpt : "");
	}
}

/* Values at their limits (RFC 3461 4.2, 4.4; RFC 5321 4.5.3.1.3). */
static void test_param_limits(void **state)
{
	char arg[700], big[600];
	struct address a;
	struct smtp_mail_params mp;
	struct smtp_rcpt_params rp;
	struct smtp_error err;
	int n;

	memset(big, 'x', sizeof(big));
	n = snprintf(arg, sizeof(arg), "FROM:<a@b> ENVID=%.100s", big);
	assert_int_equal(smtp_parse_mail(arg, (size_t)n, ALL, &a, &mp, &err),
			 0);
	assert_int_equal(strlen(mp.envid), 100);
	n = snprintf(arg, sizeof(arg), "FROM:<a@b> ENVID=%.101s", big);
	assert_int_equal(smtp_parse_mail(arg, (size_t)n, ALL, &a, &mp, &err),
			 -1);
	check_error(&err, 501, "5.5.4");
	n = snprintf(arg, sizeof(arg), "FROM:<a@b> AUTH=%.256s", big);
	assert_int_equal(smtp_parse_mail(arg, (size_t)n, ALL, &a, &mp, &err),
			 0);
	assert_int_equal(strlen(mp.auth), 256);
	n = snprintf(arg, sizeof(arg), "FROM:<a@b> AUTH=%.257s", big);
	assert_int_equal(smtp_parse_mail(arg, (size_t)n, ALL, &a, &mp, &err),
			 -1);
	n = snprintf(arg, sizeof(arg), "TO:<a@b> ORCPT=rfc822;%.493s", big);
	assert_int_equal(
		smtp_parse_rcpt(arg, (size_t)n, ALL, false, &a, &rp, &err), 0);
	assert_int_equal(strlen(rp.orcpt), 500);
	n = snprintf(arg, sizeof(arg), "TO:<a@b> ORCPT=rfc822;%.494s", big);
	assert_int_equal(
		smtp_parse_rcpt(arg, (size_t)n, ALL, false, &a, &rp, &err), -1);
	check_error(&err, 501, "5.5.4");
	/* Over-long paths: 501 Path too long, RFC 5321 4.5.3.1.9 */
	n = snprintf(arg, sizeof(arg), "FROM:<%.65s@b>", big);
	assert_int_equal(smtp_parse_mail(arg, (size_t)n, ALL, &a, &mp, &err),
			 -1);
	check_error(&err, 501, "5.1.7");
	n = snprintf(arg, sizeof(arg), "TO:<%.64s@%.60s.%.60s.%.60s.%.6s>", big,
		     big, big, big, big);
	assert_int_equal(
		smtp_parse_rcpt(arg, (size_t)n, ALL, false, &a, &rp, &err), 0);
	n = snprintf(arg, sizeof(arg), "TO:<%.64s@%.60s.%.60s.%.60s.%.7s>", big,
		     big, big, big, big);
	assert_int_equal(
		smtp_parse_rcpt(arg, (size_t)n, ALL, false, &a, &rp, &err), -1);
	check_error(&err, 501, "5.1.3");
}

struct bdat_row {
	const char *arg;
	int ret;
	uint64_t size;
	bool last;
};

static const struct bdat_row bdat_rows[] = {
	{"100", 0, 100, false},
	{"0", 0, 0, false},
	{"100 LAST", 0, 100, true},
	{"0 LAST", 0, 0, true},
	{"100 last", 0, 100, true},
	{"  100  LAST  ", 0, 100, true},
	{"100 ", 0, 100, false},
	{"18446744073709551615", 0, UINT64_MAX, false},
	{"00000000000000000007 LAST", 0, 7, true},
	{"18446744073709551616", -1, 0, false},
	{"000000000000000000007", -1, 0, false},
	{"", -1, 0, false},
	{" ", -1, 0, false},
	{"LAST", -1, 0, false},
	{"100 LAS", -1, 0, false},
	{"100 LASTX", -1, 0, false},
	{"100 LAST x", -1, 0, false},
	{"100LAST", -1, 0, false},
	{"100\tLAST", -1, 0, false},
	{"-1", -1, 0, false},
	{"+1", -1, 0, false},
	{"1 2", -1, 0, false},
	{"1x", -1, 0, false},
	{"0x10", -1, 0, false},
};

static void test_bdat(void **state)
{
	for (size_t i = 0; i < NROWS(bdat_rows); i++) {
		const struct bdat_row *r = &bdat_rows[i];
		size_t len = strlen(r->arg);
		char *arg = exact(r->arg, len);
		uint64_t size = 99;
		bool last = true;
		struct smtp_error err = {0};
		int ret = smtp_parse_bdat(arg, len, &size, &last, &err);

		free(arg);
		if (ret != r->ret)
			fail_msg("\"%s\": got %d", r->arg, ret);
		if (ret != 0) {
			check_error(&err, 501, "5.5.4");
			continue;
		}
		assert_int_equal(size, r->size);
		assert_int_equal(last, r->last);
	}
}

struct helo_row {
	const char *arg;
	int ret;
};

static const struct helo_row helo_rows[] = {
	{"example.com", 0},
	{"localhost", 0},
	{"mail-1.example.com", 0},
	{" example.com ", 0},
	{"[192.0.2.1]", 0},
	{"[IPv6:2001:db8::1]", 0},
	{"", -1},
	{"   ", -1},
	{"exa mple.com", -1},
	{"a_b.example.com", -1},
	{"ex..com", -1},
	{"-a.com", -1},
	{"a-.com", -1},
	{"example.com.", -1},
	{".example.com", -1},
	{"[300.1.1.1]", -1},
	{"[192.0.2.1", -1},
	{"b\xc3\xbc"
	 "cher.de",
	 -1},
	{"a@b", -1},
	{"\"x\"", -1},
	{"x\ty", -1},
};

static void test_helo(void **state)
{
	char big[300];

	for (size_t i = 0; i < NROWS(helo_rows); i++) {
		const struct helo_row *r = &helo_rows[i];
		size_t len = strlen(r->arg);
		char *arg = exact(r->arg, len);
		struct smtp_error err = {0};
		int ret = smtp_parse_helo(arg, len, &err);

		free(arg);
		if (ret != r->ret)
			fail_msg("\"%s\": got %d", r->arg, ret);
		if (ret != 0)
			check_error(&err, 501, "5.5.4");
	}
	/* RFC 5321 4.5.3.1.2: 255 octets, and one more */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 50 == 49 ? '.' : 'h';
	{
		struct smtp_error err;

		assert_int_equal(smtp_parse_helo(big, 255, &err), 0);
		assert_int_equal(smtp_parse_helo(big, 256, &err), -1);
		assert_int_equal(smtp_parse_helo(big, 300, &err), -1);
	}
}

/* Every prefix of every MAIL and RCPT row: no over-read, one result. */
static void test_prefixes(void **state)
{
	for (size_t i = 0; i < NROWS(mail_rows); i++) {
		size_t len = strlen(mail_rows[i].arg);

		for (size_t k = 0; k <= len; k++) {
			char *arg = exact(mail_rows[i].arg, k);
			struct address a;
			struct smtp_mail_params mp;
			struct smtp_error err = {0};
			int ret = smtp_parse_mail(arg, k, ALL, &a, &mp, &err);

			assert_true(ret == 0 || (ret == -1 && err.code >= 500));
			free(arg);
		}
	}
	for (size_t i = 0; i < NROWS(rcpt_rows); i++) {
		size_t len = strlen(rcpt_rows[i].arg);

		for (size_t k = 0; k <= len; k++) {
			char *arg = exact(rcpt_rows[i].arg, k);
			struct address a;
			struct smtp_rcpt_params rp;
			struct smtp_error err = {0};
			int ret = smtp_parse_rcpt(arg, k, ALL, true, &a, &rp,
						  &err);

			assert_true(ret == 0 || (ret == -1 && err.code >= 500));
			free(arg);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_verb_names),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_param_limits),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_helo),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
