/*
 * probe: the advice (which port a mail client should use, port 25 from
 * this network), the warnings of a target, the exit code, and the
 * capability parsers, on targets built by hand, row by row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/mem.h"
#include "probe/probe.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
/* 2026-11-22; certificates below expire before or after it. */
#define NOW 1795305600LL

/* What a target found, in a row's short form. */
enum fix {
	F_OPEN = 1 << 0,     /* greeted */
	F_CLOSED = 1 << 1,   /* refused */
	F_BLOCKED = 1 << 2,  /* connect timed out */
	F_TLS = 1 << 3,	     /* TLS worked, certificate fine */
	F_AUTH = 1 << 4,     /* AUTH offered after TLS */
	F_LOGIN_OK = 1 << 5, /* credentials worked */
	F_LOGIN_NO = 1 << 6, /* credentials refused */
	F_TLS_ERR = 1 << 7,  /* STARTTLS / handshake failed */
	F_UNTRUSTED = 1 << 8,
	F_SILENT = 1 << 9,
};

struct fixture {
	int role;
	unsigned f;
	const char *host;
};

static void make(struct probe_target *t, const struct fixture *x)
{
	memset(t, 0, sizeof(*t));
	t->role = probe_role_find(x->role);
	assert_non_null(t->role);
	t->port = x->role;
	t->host = xstrdup(x->host ? x->host : "mail.test");
	t->legacy = -1;
	t->status = x->f & F_OPEN      ? PROBE_ST_OPEN
		    : x->f & F_CLOSED  ? PROBE_ST_CLOSED
		    : x->f & F_BLOCKED ? PROBE_ST_BLOCKED
		    : x->f & F_SILENT  ? PROBE_ST_SILENT
				       : PROBE_ST_UNREACHABLE;
	t->starttls = true;
	if (x->f & F_TLS) {
		t->tls.done = true;
		t->tls.name_ok = true;
		t->tls.chain_ok = !(x->f & F_UNTRUSTED);
		t->tls.not_after = NOW + 86400;
	}
	if (x->f & F_AUTH)
		probe_list_add(&t->auth_tls, "PLAIN", 5);
	if (x->f & F_LOGIN_OK)
		t->login = PROBE_LOGIN_OK;
	if (x->f & F_LOGIN_NO)
		t->login = PROBE_LOGIN_FAILED;
	if (x->f & F_TLS_ERR)
		t->tls_error = xstrdup("the TLS handshake failed");
}

#define GOOD (F_OPEN | F_TLS | F_AUTH)

struct pick_row {
	const char *name;
	struct fixture t[4];
	size_t n;
	int submission; /* role picked, 0: none */
	const char *host;
	int imap, pop3;
	enum probe_port25 port25;
};

#define T(r, f)                                                                \
	{                                                                      \
		r, f, NULL                                                     \
	}
#define TH(r, f, h)                                                            \
	{                                                                      \
		r, f, h                                                        \
	}

static const struct pick_row pick_rows[] = {
	{"587 first",
	 {T(2525, GOOD), T(465, GOOD), T(587, GOOD)},
	 3,
	 587,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"587 closed: 465",
	 {T(587, F_CLOSED), T(465, GOOD), T(2525, GOOD)},
	 3,
	 465,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"587, 465 gone: 2525",
	 {T(587, F_BLOCKED), T(465, F_CLOSED), T(2525, GOOD)},
	 3,
	 2525,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"587 TLS broken",
	 {T(587, GOOD | F_TLS_ERR), T(465, GOOD)},
	 2,
	 465,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"587 without TLS",
	 {T(587, F_OPEN | F_AUTH), T(465, GOOD)},
	 2,
	 465,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"587 without AUTH",
	 {T(587, F_OPEN | F_TLS), T(465, GOOD)},
	 2,
	 465,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"587 login refused",
	 {T(587, GOOD | F_LOGIN_NO), T(465, GOOD | F_LOGIN_OK)},
	 2,
	 465,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"login ok without AUTH listed",
	 {T(587, F_OPEN | F_TLS | F_LOGIN_OK)},
	 1,
	 587,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"nothing works",
	 {T(587, F_SILENT), T(465, F_OPEN), T(2525, F_CLOSED)},
	 3,
	 0,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"trusted host wins",
	 {TH(587, GOOD | F_UNTRUSTED, "a.test"), TH(587, GOOD, "b.test")},
	 2,
	 587,
	 "b.test",
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"first of equals",
	 {TH(587, GOOD, "a.test"), TH(587, GOOD, "b.test")},
	 2,
	 587,
	 "a.test",
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"25 open",
	 {T(25, F_OPEN), T(25, F_BLOCKED)},
	 2,
	 0,
	 NULL,
	 0,
	 0,
	 PROBE_25_USABLE},
	{"25 dropped",
	 {T(25, F_BLOCKED), T(25, F_BLOCKED)},
	 2,
	 0,
	 NULL,
	 0,
	 0,
	 PROBE_25_BLOCKED},
	{"25 refused",
	 {T(25, F_CLOSED), T(25, F_BLOCKED)},
	 2,
	 0,
	 NULL,
	 0,
	 0,
	 PROBE_25_CLOSED},
	{"25 silent", {T(25, F_SILENT)}, 1, 0, NULL, 0, 0, PROBE_25_CLOSED},
	{"imaps and pop3s",
	 {T(143, F_OPEN | F_TLS), T(993, F_OPEN | F_TLS),
	  T(995, F_OPEN | F_TLS)},
	 3,
	 0,
	 NULL,
	 993,
	 995,
	 PROBE_25_NOT_CHECKED},
	{"993 closed: 143",
	 {T(993, F_CLOSED), T(143, F_OPEN | F_TLS)},
	 2,
	 0,
	 NULL,
	 143,
	 0,
	 PROBE_25_NOT_CHECKED},
	{"110 without STLS",
	 {T(110, F_OPEN)},
	 1,
	 0,
	 NULL,
	 0,
	 0,
	 PROBE_25_NOT_CHECKED},
};

static void test_pick_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(pick_rows); i++) {
		const struct pick_row *r = &pick_rows[i];
		struct probe_target t[4];
		struct probe_advice a;

		for (size_t k = 0; k < r->n; k++)
			make(&t[k], &r->t[k]);
		probe_advise(t, r->n, &a);
		if ((a.submission.t ? a.submission.t->role->port : 0) !=
		    r->submission)
			fail_msg("%s: submission %d", r->name,
				 a.submission.t ? a.submission.t->role->port
						: 0);
		if (r->host != NULL)
			assert_string_equal(a.submission.t->host, r->host);
		assert_int_equal(a.imap.t ? a.imap.t->role->port : 0, r->imap);
		assert_int_equal(a.pop3.t ? a.pop3.t->role->port : 0, r->pop3);
		if (a.port25 != r->port25)
			fail_msg("%s: port25 %s", r->name,
				 probe_port25_name(a.port25));
		for (size_t k = 0; k < r->n; k++)
			probe_target_free_fields(&t[k]);
	}
}

/* A target's warnings: which appear (substring), or none. */
struct warn_row {
	const char *name;
	int role;
	unsigned f;
	void (*tweak)(struct probe_target *t);
	const char *want; /* NULL: no warning at all */
	size_t count;
};

static void no_starttls(struct probe_target *t)
{
	t->starttls = false;
}
static void auth_plain(struct probe_target *t)
{
	probe_list_add(&t->auth_plain, "LOGIN", 5);
}
static void login_plain(struct probe_target *t)
{
	t->login_plain = true;
}
static void expired(struct probe_target *t)
{
	t->tls.not_after = 1577880000; /* 2020-01-01 12:00 */
	t->tls.chain_ok = false;
	t->tls.chain_error = xstrdup("certificate has expired");
}
static void expired_self_signed(struct probe_target *t)
{
	expired(t);
	free(t->tls.chain_error);
	t->tls.chain_error = xstrdup("self-signed certificate");
}
static void mismatch(struct probe_target *t)
{
	t->tls.name_ok = false;
	t->tls.sans = xstrdup("wrong.test");
}
static void legacy(struct probe_target *t)
{
	t->legacy = 1;
	strlcpy_p(t->legacy_version, "TLSv1", sizeof(t->legacy_version));
}
static void not_yet(struct probe_target *t)
{
	t->tls.not_before = NOW + 3600;
}

static const struct warn_row warn_rows[] = {
	{"all good", 587, GOOD, NULL, NULL, 0},
	{"closed is a choice", 587, F_CLOSED, NULL, NULL, 0},
	{"dropped", 587, F_BLOCKED, NULL, "probably blocked by your network",
	 1},
	{"silent", 587, F_SILENT, NULL, "sent no greeting", 1},
	{"no STARTTLS on 25", 25, F_OPEN, no_starttls,
	 "STARTTLS is not offered on port 25", 1},
	{"no STARTTLS on 587", 587, F_OPEN | F_AUTH, no_starttls,
	 "STARTTLS is not offered: passwords", 1},
	{"implicit has no STARTTLS", 465, GOOD, no_starttls, NULL, 0},
	{"AUTH before TLS", 587, GOOD, auth_plain, "offers AUTH before TLS", 1},
	{"AUTH on implicit TLS is fine", 465, GOOD, auth_plain, NULL, 0},
	{"IMAP LOGIN before TLS", 143, F_OPEN | F_TLS, login_plain,
	 "accepts a login before TLS", 1},
	{"POP3 SASL before TLS", 110, F_OPEN | F_TLS, auth_plain,
	 "accepts a login before TLS", 1},
	{"expired", 993, F_OPEN | F_TLS, expired,
	 "the certificate expired on 2020-01-01", 1},
	{"expired and self-signed", 993, F_OPEN | F_TLS, expired_self_signed,
	 "not trusted: self-signed", 2},
	{"not valid yet", 993, F_OPEN | F_TLS, not_yet, "not valid yet", 1},
	{"wrong name", 465, GOOD, mismatch,
	 "does not match mail.test (it is for wrong.test)", 1},
	{"untrusted", 465, GOOD | F_UNTRUSTED, NULL, "is not trusted", 1},
	{"TLS 1.0", 465, GOOD, legacy, "accepts TLSv1: TLS 1.0 and 1.1", 1},
	{"TLS failed", 587, F_OPEN | F_TLS_ERR, NULL, "TLS failed", 1},
	{"login refused", 587, GOOD | F_LOGIN_NO, NULL, "login failed", 1},
};

static void test_warn_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(warn_rows); i++) {
		const struct warn_row *r = &warn_rows[i];
		struct fixture x = {r->role, r->f, NULL};
		struct probe_target t;
		bool found = false;

		make(&t, &x);
		if (r->tweak != NULL)
			r->tweak(&t);
		probe_target_warnings(&t, NOW);
		if (t.warnings.n != r->count)
			fail_msg("%s: %zu warnings, first: %s", r->name,
				 t.warnings.n,
				 t.warnings.n ? t.warnings.v[0] : "-");
		for (size_t k = 0; k < t.warnings.n; k++)
			found |= strstr(t.warnings.v[k], r->want) != NULL;
		if (r->want != NULL && !found)
			fail_msg("%s: no warning with \"%s\"", r->name,
				 r->want);
		probe_target_free_fields(&t);
	}
}

static void test_exit_code(void **state)
{
	struct probe_opts o = {.host = "mail.test"};
	struct probe_run run = {.o = &o};
	struct probe_advice a;
	struct fixture good = {587, GOOD, NULL};
	struct fixture gone = {587, 0, NULL};

	(void)state;
	assert_int_equal(probe_exit_code(&run), 2); /* nothing probed */
	make(&run.t[0], &gone);
	run.n = 1;
	assert_int_equal(probe_exit_code(&run), 2); /* nothing reached */
	probe_target_free_fields(&run.t[0]);
	make(&run.t[0], &good);
	probe_advise(run.t, run.n, &a);
	probe_collect_warnings(&run, &a, NOW);
	assert_int_equal(run.warnings.n, 0);
	assert_int_equal(probe_exit_code(&run), 0);
	run.t[0].starttls = false;
	probe_collect_warnings(&run, &a, NOW);
	assert_int_equal(run.warnings.n, 1);
	assert_non_null(strstr(run.warnings.v[0], "mail.test port 587: "));
	assert_int_equal(probe_exit_code(&run), 1);
	run.error = xstrdup("DNS failed");
	assert_int_equal(probe_exit_code(&run), 2);
	probe_run_free(&run);
}

static void test_global_warnings(void **state)
{
	struct probe_opts o = {.host = "example.test"};
	struct probe_run run = {.o = &o, .domain = true};
	struct probe_advice a;
	const struct fixture f[] = {{587, F_CLOSED, NULL},
				    {25, F_CLOSED, NULL},
				    {993, F_CLOSED, NULL},
				    {995, F_CLOSED, NULL}};

	(void)state;
	for (size_t i = 0; i < NROWS(f); i++)
		make(&run.t[run.n++], &f[i]);
	probe_advise(run.t, run.n, &a);
	probe_collect_warnings(&run, &a, NOW);
	assert_int_equal(run.warnings.n, 3);
	assert_non_null(strstr(run.warnings.v[0], "no submission port"));
	assert_non_null(strstr(run.warnings.v[1], "no MX host accepts"));
	assert_non_null(strstr(run.warnings.v[2], "neither IMAP nor POP3"));
	probe_run_free(&run);
}

static void test_advice_text(void **state)
{
	struct probe_opts o = {.host = "mail.test"};
	struct probe_run run = {.o = &o};
	struct probe_advice a;
	struct probe_list out = {0};
	const struct fixture f[] = {{465, GOOD, NULL},
				    {25, F_BLOCKED, NULL},
				    {143, F_OPEN | F_TLS, NULL},
				    {110, F_CLOSED, NULL}};

	(void)state;
	for (size_t i = 0; i < NROWS(f); i++)
		make(&run.t[run.n++], &f[i]);
	probe_advise(run.t, run.n, &a);
	probe_advice_text(&run, &a, &out);
	assert_int_equal(out.n, 4);
	assert_string_equal(out.v[0],
			    "Sending mail from a mail client: use mail.test "
			    "port 465 with SSL/TLS (implicit TLS), and log in "
			    "with your user name and password.");
	assert_non_null(strstr(out.v[1], "Port 25: probably blocked"));
	assert_non_null(
		strstr(out.v[2], "IMAP on mail.test port 143 with STARTTLS"));
	assert_string_equal(out.v[3], "POP3 is not available.");
	probe_list_free(&out);
	probe_run_free(&run);
}

static void test_list(void **state)
{
	struct probe_list l = {0};
	char big[PROBE_TEXT_MAX + 50];

	(void)state;
	probe_list_add(&l, "AUTH\tPLAIN\x7f", 11);
	assert_string_equal(l.v[0], "AUTH?PLAIN?");
	/* A NUL from the server is a character to hide, not the end. */
	probe_list_add(&l, "a\0b", 3);
	assert_string_equal(l.v[1], "a?b");
	probe_list_free(&l);
	probe_list_add(&l, "AUTH?PLAIN?", 11);
	memset(big, 'a', sizeof(big));
	probe_list_add(&l, big, sizeof(big));
	assert_int_equal(strlen(l.v[1]), PROBE_TEXT_MAX - 1);
	for (int i = 0; i < PROBE_LIST_MAX + 5; i++)
		probe_list_addf(&l, "K%d", i);
	assert_int_equal(l.n, PROBE_LIST_MAX);
	assert_true(probe_list_has(&l, "k0"));
	assert_true(probe_list_has(&l, "AUTH?PLAIN?"));
	assert_false(probe_list_has(&l, "AUTH"));
	probe_list_free(&l);
	probe_list_add(&l, "SIZE 100", 8);
	assert_true(probe_list_has(&l, "size"));
	assert_false(probe_list_has(&l, "SIZ"));
	probe_list_free(&l);
}

static void test_parse_smtp(void **state)
{
	struct probe_target t = {0};
	const struct fixture x = {587, F_OPEN, NULL};

	(void)state;
	make(&t, &x);
	t.starttls = false;
	probe_smtp_keyword(&t, false, "AUTH PLAIN  LOGIN", 17);
	probe_smtp_keyword(&t, false, "AUTH=CRAM-MD5", 13);
	probe_smtp_keyword(&t, false, "AUTHX Y", 7);
	probe_smtp_keyword(&t, false, "SIZE 1000", 9);
	probe_smtp_keyword(&t, false, "starttls", 8);
	assert_int_equal(t.caps_plain.n, 5);
	assert_int_equal(t.auth_plain.n, 3);
	assert_string_equal(t.auth_plain.v[0], "PLAIN");
	assert_string_equal(t.auth_plain.v[1], "LOGIN");
	assert_string_equal(t.auth_plain.v[2], "CRAM-MD5");
	assert_true(t.starttls);
	assert_true(t.size);
	assert_int_equal(t.size_max, 1000);
	t.tls.done = true;
	probe_smtp_keyword(&t, true, "SIZE 2000", 9);
	probe_smtp_keyword(&t, true, "AUTH SCRAM-SHA-256", 18);
	assert_int_equal(t.size_max, 2000);
	assert_int_equal(t.auth_tls.n, 1);
	assert_int_equal(t.caps_tls.n, 2);
	probe_target_free_fields(&t);
}

static void test_parse_imap_pop3(void **state)
{
	struct probe_target t = {0};
	const struct fixture x = {143, F_OPEN, NULL};
	const char caps[] =
		"IMAP4rev1  STARTTLS AUTH=PLAIN AUTH= LOGINDISABLED";

	(void)state;
	make(&t, &x);
	probe_imap_capability(&t, false, caps, strlen(caps));
	assert_int_equal(t.caps_plain.n, 5);
	assert_true(probe_list_has(&t.caps_plain, "logindisabled"));
	assert_int_equal(t.auth_plain.n, 1);
	assert_string_equal(t.auth_plain.v[0], "PLAIN");
	probe_pop3_capa(&t, true, "SASL PLAIN SCRAM-SHA-1", 22);
	probe_pop3_capa(&t, true, "USER", 4);
	probe_pop3_capa(&t, true, "SASL", 4);
	assert_int_equal(t.caps_tls.n, 3);
	assert_int_equal(t.auth_tls.n, 2);
	assert_string_equal(t.auth_tls.v[1], "SCRAM-SHA-1");
	probe_target_free_fields(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_rows),
		cmocka_unit_test(test_warn_rows),
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_global_warnings),
		cmocka_unit_test(test_advice_text),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_parse_smtp),
		cmocka_unit_test(test_parse_imap_pop3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
