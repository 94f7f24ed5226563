/*
 * imap/search: the SEARCH program parser (every RFC 3501 key, MODSEQ,
 * CHARSET, RETURN, nesting, bad input, every prefix of good input) and
 * the evaluator on four messages (flags, keywords, sizes, dates, sent
 * dates, encoded-word headers, QP/base64/8-bit bodies, attachments,
 * nested messages, sequence and UID sets), including that content is
 * loaded only when a key needs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "imap/msgset.h"
#include "imap/search.h"
#include "mail/mime.h"
#include "store/store.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Parse "t SEARCH" + text[0..len) from an exact-size copy, as a handler
 * sees it: the cursor after the command name.
 */
static int parse_text(const char *text, size_t len,
		      struct search_program **prog_r, const char **error_r)
{
	static const char head[] = "t SEARCH";
	size_t hl = sizeof(head) - 1;
	char *in = malloc(hl + len);
	struct imap_args a;
	const char *tag, *name;
	int r;

	assert_non_null(in);
	memcpy(in, head, hl);
	memcpy(in + hl, text, len);
	imap_args_init(&a, in, hl + len);
	assert_int_equal(imap_args_command(&a, &tag, &name), 0);
	r = search_parse(&a, prog_r);
	if (r == 0 && imap_args_finish(&a) < 0) {
		search_program_free(prog_r);
		r = -1;
	}
	*error_r = imap_args_error(&a);
	imap_args_fini(&a);
	free(in);
	return r;
}

/* ---- Parsing ---- */

enum {
	F_SEQ = 1,     /* uses_seq */
	F_MODSEQ = 2,  /* uses_modseq */
	F_CONTENT = 4, /* needs_content */
	F_ESEARCH = 8,
};

struct parse_row {
	const char *in;
	int ret;
	size_t len;	/* 0: strlen(in) */
	unsigned flags; /* checked when ret == 0 */
	unsigned ret_opts;
};

static const struct parse_row parse_rows[] = {
	/* Every RFC 3501 key. */
	{" ALL", 0, 0, 0, 0},
	{" ANSWERED", 0, 0, 0, 0},
	{" BCC x", 0, 0, F_CONTENT, 0},
	{" BEFORE 1-Feb-1994", 0, 0, 0, 0},
	{" BODY \"a b\"", 0, 0, F_CONTENT, 0},
	{" CC {3}\r\nabc", 0, 0, F_CONTENT, 0},
	{" DELETED", 0, 0, 0, 0},
	{" DRAFT", 0, 0, 0, 0},
	{" FLAGGED", 0, 0, 0, 0},
	{" FROM smith", 0, 0, F_CONTENT, 0},
	{" HEADER X-Spam yes", 0, 0, F_CONTENT, 0},
	{" HEADER \"Message-ID\" \"\"", 0, 0, F_CONTENT, 0},
	{" KEYWORD $Junk", 0, 0, 0, 0},
	{" LARGER 100", 0, 0, 0, 0},
	{" NEW", 0, 0, 0, 0},
	{" NOT SEEN", 0, 0, 0, 0},
	{" OLD", 0, 0, 0, 0},
	{" ON \"1-Feb-1994\"", 0, 0, 0, 0},
	{" OR SEEN FLAGGED", 0, 0, 0, 0},
	{" RECENT", 0, 0, 0, 0},
	{" SEEN", 0, 0, 0, 0},
	{" SENTBEFORE 1-Feb-1994", 0, 0, F_CONTENT, 0},
	{" SENTON 1-Feb-1994", 0, 0, F_CONTENT, 0},
	{" SENTSINCE 1-Feb-1994", 0, 0, F_CONTENT, 0},
	{" SINCE 1-Feb-1994", 0, 0, 0, 0},
	{" SMALLER 4294967295", 0, 0, 0, 0},
	{" SUBJECT hello", 0, 0, F_CONTENT, 0},
	{" TEXT hello", 0, 0, F_CONTENT, 0},
	{" TO hello", 0, 0, F_CONTENT, 0},
	{" UID 1:*", 0, 0, 0, 0},
	{" UNANSWERED", 0, 0, 0, 0},
	{" UNDELETED", 0, 0, 0, 0},
	{" UNDRAFT", 0, 0, 0, 0},
	{" UNFLAGGED", 0, 0, 0, 0},
	{" UNKEYWORD $Junk", 0, 0, 0, 0},
	{" UNSEEN", 0, 0, 0, 0},
	{" 1,3:5,*", 0, 0, F_SEQ, 0},
	/* "$" (RFC 9051 6.4.4.1): UIDs, so no F_SEQ */
	{" $", 0, 0, 0, 0},
	{" UID $", 0, 0, 0, 0},
	{" (SEEN FLAGGED)", 0, 0, 0, 0},
	/* Case, combinations, nesting. */
	{" seen unseen Not Seen", 0, 0, 0, 0},
	{" DELETED FROM \"SMITH\" SINCE 1-Feb-1994", 0, 0, F_CONTENT, 0},
	{" OR (SEEN 1:2) NOT (UID 5 TEXT x)", 0, 0, F_SEQ | F_CONTENT, 0},
	{" NOT NOT NOT ALL", 0, 0, 0, 0},
	{" ((((ALL))))", 0, 0, 0, 0},
	{" OR OR SEEN DRAFT OR NEW OLD", 0, 0, 0, 0},
	/* MODSEQ (RFC 7162 3.1.5). */
	{" MODSEQ 0", 0, 0, F_MODSEQ, 0},
	{" MODSEQ \"/flags/\\\\draft\" all 620162338", 0, 0, F_MODSEQ, 0},
	{" MODSEQ \"/flags/$x\" priv 1 SEEN", 0, 0, F_MODSEQ, 0},
	{" OR NOT MODSEQ 720162338 LARGER 50000", 0, 0, F_MODSEQ, 0},
	{" MODSEQ \"/other\" all 1", -1, 0, 0, 0},
	{" MODSEQ \"/flags/x\" none 1", -1, 0, 0, 0},
	{" MODSEQ 9223372036854775808", -1, 0, 0, 0},
	{" MODSEQ", -1, 0, 0, 0},
	/* CHARSET. */
	{" CHARSET UTF-8 SUBJECT x", 0, 0, F_CONTENT, 0},
	{" CHARSET us-ascii ALL", 0, 0, 0, 0},
	{" CHARSET \"UTF-8\" ALL", 0, 0, 0, 0},
	{" CHARSET KOI8-R ALL", SEARCH_ERR_CHARSET, 0, 0, 0},
	{" CHARSET ISO-8859-1 TEXT x", SEARCH_ERR_CHARSET, 0, 0, 0},
	{" CHARSET UTF-8", -1, 0, 0, 0},
	{" ALL CHARSET UTF-8", -1, 0, 0, 0},
	{" CHARSET", -1, 0, 0, 0},
	/* RETURN (ESEARCH). */
	{" RETURN () ALL", 0, 0, F_ESEARCH, SEARCH_RET_ALL},
	{" RETURN (MIN MAX) SEEN", 0, 0, F_ESEARCH,
	 SEARCH_RET_MIN | SEARCH_RET_MAX},
	{" RETURN (count all) CHARSET UTF-8 SEEN", 0, 0, F_ESEARCH,
	 SEARCH_RET_COUNT | SEARCH_RET_ALL},
	{" RETURN (SAVE) ALL", 0, 0, F_ESEARCH, SEARCH_RET_SAVE},
	{" RETURN (SAVE MIN) ALL", 0, 0, F_ESEARCH,
	 SEARCH_RET_SAVE | SEARCH_RET_MIN},
	{" RETURN (SAVE) $", 0, 0, F_ESEARCH, SEARCH_RET_SAVE},
	{" RETURN (FOO) ALL", -1, 0, 0, 0},
	{" RETURN ALL", -1, 0, 0, 0},
	{" CHARSET UTF-8 RETURN () ALL", -1, 0, 0, 0},
	{" RETURN () RETURN () ALL", -1, 0, 0, 0},
	/* Bad input. */
	{"", -1, 0, 0, 0},
	{" ", -1, 0, 0, 0},
	{" FOO", -1, 0, 0, 0},
	{" SEEN FOO", -1, 0, 0, 0},
	{"  SEEN", -1, 0, 0, 0},
	{" SEEN  DRAFT", -1, 0, 0, 0},
	{" SEEN)", -1, 0, 0, 0},
	{" (SEEN", -1, 0, 0, 0},
	{" ()", -1, 0, 0, 0},
	{" NOT", -1, 0, 0, 0},
	{" OR SEEN", -1, 0, 0, 0},
	{" BEFORE", -1, 0, 0, 0},
	{" BEFORE 30-Feb-2020", -1, 0, 0, 0},
	{" BEFORE 1-Foo-2020", -1, 0, 0, 0},
	{" BEFORE 1-Feb-20", -1, 0, 0, 0},
	{" LARGER -1", -1, 0, 0, 0},
	{" LARGER 4294967296", -1, 0, 0, 0},
	{" LARGER x", -1, 0, 0, 0},
	{" UID", -1, 0, 0, 0},
	{" UID x", -1, 0, 0, 0},
	{" UID 1:", -1, 0, 0, 0},
	{" 0", -1, 0, 0, 0},
	{" 1:3x", -1, 0, 0, 0},
	{" $x", -1, 0, 0, 0},
	{" 1,$", -1, 0, 0, 0},
	{" KEYWORD", -1, 0, 0, 0},
	{" KEYWORD \\Seen", -1, 0, 0, 0},
	{" HEADER", -1, 0, 0, 0},
	{" HEADER X", -1, 0, 0, 0},
	{" HEADER \"\" x", -1, 0, 0, 0},
	{" HEADER \"a:b\" x", -1, 0, 0, 0},
	{" SUBJECT", -1, 0, 0, 0},
	{" SUBJECT \"abc", -1, 0, 0, 0},
	{" SUBJECT {5}\r\nab", -1, 0, 0, 0},
	{" SUBJECT {3}\r\na\0c", -1, 17, 0, 0},
	{" ALL\r\n", -1, 0, 0, 0},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];
		struct search_program *p = NULL;
		const char *error;
		size_t len = r->len ? r->len : strlen(r->in);
		int ret;

		ret = parse_text(r->in, len, &p, &error);
		if (ret != r->ret)
			fail_msg("row %zu (%s): %d (%s)", i, r->in, ret, error);
		if (ret != 0) {
			assert_null(p);
			if (ret == -1)
				assert_true(error[0] != '\0');
			continue;
		}
		assert_non_null(p);
		if (p->uses_seq != !!(r->flags & F_SEQ) ||
		    p->uses_modseq != !!(r->flags & F_MODSEQ) ||
		    p->needs_content != !!(r->flags & F_CONTENT) ||
		    p->esearch != !!(r->flags & F_ESEARCH))
			fail_msg("row %zu (%s): flags seq=%d modseq=%d "
				 "content=%d esearch=%d",
				 i, r->in, p->uses_seq, p->uses_modseq,
				 p->needs_content, p->esearch);
		assert_int_equal(p->ret, r->ret_opts);
		search_program_free(&p);
		assert_null(p);
	}
}

/* Build "NOT NOT ... ALL" or "((...ALL...))" n deep. */
static char *nested(const char *open, const char *close, unsigned n)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc(1 + n * (lo + lc) + 4);
	size_t k = 0;

	assert_non_null(s);
	s[k++] = ' ';
	for (unsigned i = 0; i < n; i++, k += lo)
		memcpy(s + k, open, lo);
	memcpy(s + k, "ALL", 3);
	k += 3;
	for (unsigned i = 0; i < n; i++, k += lc)
		memcpy(s + k, close, lc);
	s[k] = '\0';
	return s;
}

static void test_depth_and_count(void **state)
{
	struct search_program *p;
	const char *error;
	char *s;
	size_t len;

	(void)state;
	s = nested("NOT ", "", SEARCH_DEPTH_MAX);
	assert_int_equal(parse_text(s, strlen(s), &p, &error), 0);
	search_program_free(&p);
	free(s);
	s = nested("NOT ", "", SEARCH_DEPTH_MAX + 1);
	assert_int_equal(parse_text(s, strlen(s), &p, &error), -1);
	free(s);
	s = nested("NOT ", "", 100000); /* the stack must not care */
	assert_int_equal(parse_text(s, strlen(s), &p, &error), -1);
	free(s);
	s = nested("OR ALL ", "", SEARCH_DEPTH_MAX + 1);
	assert_int_equal(parse_text(s, strlen(s), &p, &error), -1);
	free(s);
	s = nested("(", ")", 20);
	assert_int_equal(parse_text(s, strlen(s), &p, &error), 0);
	search_program_free(&p);
	free(s);
	s = nested("(", ")", 1000);
	assert_int_equal(parse_text(s, strlen(s), &p, &error), -1);
	free(s);
	/* SEARCH_KEYS_MAX keys pass, one more does not. */
	len = (SEARCH_KEYS_MAX + 1) * 5;
	s = malloc(len + 1);
	assert_non_null(s);
	for (size_t i = 0; i < SEARCH_KEYS_MAX + 1; i++)
		memcpy(s + i * 5, " SEEN", 5);
	assert_int_equal(parse_text(s, len - 5, &p, &error), 0);
	search_program_free(&p);
	assert_int_equal(parse_text(s, len, &p, &error), -1);
	assert_string_equal(error, "Too many search keys");
	free(s);
}

/* Every prefix of a good program fails cleanly or parses. */
static void test_prefixes(void **state)
{
	static const char *good[] = {
		" CHARSET UTF-8 OR (FROM \"a b\" 1:3) NOT HEADER X-A {2}\r\nxy",
		" RETURN (MIN COUNT) MODSEQ \"/flags/\\\\seen\" all 5 UID "
		"2,4:*",
		" SENTSINCE 1-Jan-2000 BEFORE \"5-May-2020\" KEYWORD a LARGER "
		"9",
	};

	(void)state;
	for (size_t g = 0; g < NROWS(good); g++) {
		size_t len = strlen(good[g]);

		for (size_t cut = 0; cut <= len; cut++) {
			struct search_program *p = NULL;
			const char *error;
			int r = parse_text(good[g], cut, &p, &error);

			assert_true(r == 0 || r == -1 ||
				    r == SEARCH_ERR_CHARSET);
			assert_true((r == 0) == (p != NULL));
			search_program_free(&p);
		}
	}
}

/* ---- Helpers ---- */

struct day_row {
	const char *in;
	int ret;
	int y, m, d;
};

static const struct day_row day_rows[] = {
	{"Mon, 6 Jan 2020 10:00:00 +0000", 0, 2020, 1, 6},
	{"Mon, 15 Mar 2021 23:30:00 -0800", 0, 2021, 3, 15},
	{"  Tue ,  01 Jul 2003 10:52:37 +0200", 0, 2003, 7, 1},
	{"1 Jan 22 08:00 +0100", 0, 2022, 1, 1},
	{"1 Jan 99 08:00 +0100", 0, 1999, 1, 1},
	{"1 Jan 101 08:00 +0100", 0, 2001, 1, 1},
	{"31 dec 1999", 0, 1999, 12, 31},
	{"", -1, 0, 0, 0},
	{"Mon 6 Jan 2020", -1, 0, 0, 0},
	{"6 Foo 2020", -1, 0, 0, 0},
	{"32 Jan 2020", -1, 0, 0, 0},
	{"0 Jan 2020", -1, 0, 0, 0},
	{"6 Jan", -1, 0, 0, 0},
	{"6 Jan 20201", -1, 0, 0, 0},
	{"6 Jan 2", -1, 0, 0, 0},
};

static time_t day(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};

	return timegm(&tm);
}

static void test_sent_day(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(day_rows); i++) {
		const struct day_row *r = &day_rows[i];
		time_t t = 0;
		int ret = search_parse_sent_day(r->in, &t);

		if (ret != r->ret)
			fail_msg("row %zu (%s): %d", i, r->in, ret);
		if (ret == 0 && t != day(r->y, r->m, r->d))
			fail_msg("row %zu (%s): wrong day", i, r->in);
	}
}

static void test_text_contains(void **state)
{
	(void)state;
	assert_true(search_text_contains("Hello World", 11, "WORLD"));
	assert_true(search_text_contains("Hello World", 11, ""));
	assert_false(search_text_contains("Hello", 5, "hello!"));
	assert_true(search_text_contains("Grüße", strlen("Grüße"), "GRÜSSE") ==
		    false);
	assert_true(
		search_text_contains("MÜNCHEN", strlen("MÜNCHEN"), "münchen"));
	assert_true(search_text_contains("ΣΟΦΙΑ", strlen("ΣΟΦΙΑ"), "σοφια"));
	assert_true(search_text_contains("Москва", strlen("Москва"), "МОСКВА"));
	assert_true(search_text_contains("Łódź", strlen("Łódź"), "ŁÓDŹ"));
	/* Invalid UTF-8 is compared as octets. */
	assert_true(search_text_contains("a\xff\xfe"
					 "b",
					 4, "\xff\xfe"));
}

/* ---- Evaluation ---- */

static const char C1[] = "From: Bob Example <bob@example.test>\r\n"
			 "To: Alice <alice@example.test>\r\n"
			 "Cc: carol@example.test\r\n"
			 "Subject: Quarterly report\r\n"
			 "Date: Mon, 6 Jan 2020 10:00:00 +0000\r\n"
			 "\r\n"
			 "The numbers are in.\r\n";

static const char C2[] =
	"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\n"
	"To: alice@example.test\r\n"
	"Bcc: dave@example.test\r\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\r\n"
	"Date: Mon, 15 Mar 2021 23:30:00 -0800\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"K=C3=A4se und=\r\n"
	" Brot\r\n";

static const char C3[] = "From: chef@example.test\r\n"
			 "To: alice@example.test\r\n"
			 "Subject: lunch\r\n"
			 "Date: 1 Jan 22 08:00 +0100\r\n"
			 "Content-Type: multipart/mixed; boundary=XX\r\n"
			 "\r\n"
			 "preamble pineapple\r\n"
			 "--XX\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Transfer-Encoding: base64\r\n"
			 "\r\n"
			 "c2VjcmV0IGJhbmFuYSByZWNpcGUNCg==\r\n"
			 "--XX\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Content-Transfer-Encoding: base64\r\n"
			 "\r\n"
			 "emVicmEgc3RyaXBlcw==\r\n"
			 "--XX\r\n"
			 "Content-Type: message/rfc822\r\n"
			 "\r\n"
			 "Subject: inner topic\r\n"
			 "From: x@example.test\r\n"
			 "\r\n"
			 "inner body\r\n"
			 "--XX--\r\n";

static const char C4[] = "Received: from relay1.example\r\n"
			 "Received: from relay2.example\r\n"
			 "\tby here\r\n"
			 "From: latin@example.test\r\n"
			 "Subject: latin\r\n"
			 "Content-Type: text/plain; charset=iso-8859-1\r\n"
			 "Content-Transfer-Encoding: 8bit\r\n"
			 "\r\n"
			 "Gr\xfc\xdf"
			 "e\r\n";

struct fixture {
	struct search_msg msgs[4];
	const char *content[4];
	unsigned loads[4];
	unsigned header_loads[4]; /* of loads, SEARCH_NEED_HEADER ones */
	unsigned field_loads[4];  /* of loads, SEARCH_NEED_FIELDS ones */
	bool use_fields;	  /* match_mask calls search_use_fields */
};

/* As the store keeps them (store_fields.c), less those no test needs. */
static char *const cached_fields[] = {"Bcc",  "Cc",	 "Date",
				      "From", "Subject", "To"};

static bool is_cached(const char *name)
{
	for (size_t i = 0; i < NROWS(cached_fields); i++)
		if (strcasecmp(cached_fields[i], name) == 0)
			return true;
	return false;
}

static struct fixture fx;

static void fixture_init(void)
{
	memset(&fx, 0, sizeof(fx));
	fx.msgs[0] = (struct search_msg){
		.seq = 1,
		.uid = 10,
		.flags = STORE_F_SEEN | STORE_F_ANSWERED,
		.keywords = "$Label1 Work",
		.modseq = 5,
		.internaldate = day(2020, 1, 6) + 36000,
		.size = 500,
	};
	fx.msgs[1] = (struct search_msg){
		.seq = 2,
		.uid = 20,
		.flags = STORE_F_FLAGGED,
		.recent = true,
		.modseq = 9,
		.internaldate = day(2021, 3, 15) + 86399,
		.size = 1500,
	};
	fx.msgs[2] = (struct search_msg){
		.seq = 3,
		.uid = 30,
		.flags = STORE_F_DELETED | STORE_F_DRAFT,
		.keywords = "$Important",
		.recent = true,
		.modseq = 7,
		.internaldate = day(2022, 1, 1),
		.size = 5000,
	};
	fx.msgs[3] = (struct search_msg){
		.seq = 4,
		.uid = 40,
		.flags = STORE_F_SEEN,
		.modseq = 1,
		.internaldate = day(2023, 6, 1),
		.size = 100,
	};
	fx.content[0] = C1;
	fx.content[1] = C2;
	fx.content[2] = C3;
	fx.content[3] = C4;
}

/* What store_msg_load_fields gives: the cached fields, the blank line. */
static int load_fields(const char *msg, char **data_r, size_t *len_r)
{
	const char *end = strstr(msg, "\r\n\r\n");
	size_t hlen = end != NULL ? (size_t)(end - msg) + 2 : strlen(msg), o;
	char *out = malloc(hlen + 3);

	assert_non_null(out);
	mime_header_fields(msg, hlen, cached_fields, NROWS(cached_fields),
			   false, out, &o);
	if (end != NULL) {
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	out[o] = '\0';
	*data_r = out;
	*len_r = o;
	return 0;
}

static int load(void *ctx, const struct search_msg *m, enum search_need need,
		char **data_r, size_t *len_r)
{
	size_t i = m->seq - 1, len;

	(void)ctx;
	fx.loads[i]++;
	if (fx.content[i] == NULL)
		return -1;
	len = strlen(fx.content[i]);
	if (need == SEARCH_NEED_FIELDS) {
		fx.field_loads[i]++;
		return load_fields(fx.content[i], data_r, len_r);
	}
	if (need == SEARCH_NEED_HEADER) {
		/* What store_msg_load_header gives: up to the empty line. */
		const char *end = strstr(fx.content[i], "\r\n\r\n");

		fx.header_loads[i]++;
		if (end != NULL)
			len = (size_t)(end - fx.content[i]) + 4;
	}
	*data_r = malloc(len + 1);
	assert_non_null(*data_r);
	memcpy(*data_r, fx.content[i], len);
	(*data_r)[len] = '\0';
	*len_r = len;
	return 0;
}

/* "$" of the evaluation rows: messages 2 and 4, and a UID that is gone. */
static const uint32_t fx_saved[] = {20, 35, 40};

/* Bit i set: message i+1 matches. */
static unsigned match_mask(const char *criteria)
{
	struct search_program *p;
	const char *error;
	unsigned mask = 0;

	if (parse_text(criteria, strlen(criteria), &p, &error) != 0)
		fail_msg("%s: does not parse: %s", criteria, error);
	search_prepare(p, 4, 40, fx_saved, NROWS(fx_saved));
	if (fx.use_fields)
		search_use_fields(p, is_cached);
	for (unsigned i = 0; i < 4; i++)
		if (search_match(p, &fx.msgs[i], load, NULL) == 1)
			mask |= 1u << i;
	search_program_free(&p);
	return mask;
}

struct eval_row {
	const char *in;
	unsigned mask;
};

static const struct eval_row eval_rows[] = {
	{" ALL", 15},
	{" ANSWERED", 1},
	{" UNANSWERED", 14},
	{" DELETED", 4},
	{" UNDELETED", 11},
	{" DRAFT", 4},
	{" UNDRAFT", 11},
	{" FLAGGED", 2},
	{" UNFLAGGED", 13},
	{" SEEN", 9},
	{" UNSEEN", 6},
	{" KEYWORD work", 1},
	{" KEYWORD $Important", 4},
	{" KEYWORD Label1", 0},
	{" UNKEYWORD $LABEL1", 14},
	{" RECENT", 6},
	{" NEW", 6},
	{" OLD", 9},
	{" LARGER 1000", 6},
	{" SMALLER 1000", 9},
	{" LARGER 5000", 0},
	{" SMALLER 100", 0},
	{" BEFORE 6-Jan-2020", 0},
	{" ON 6-Jan-2020", 1},
	{" SINCE 6-Jan-2020", 15},
	{" BEFORE 16-Mar-2021", 3},
	{" ON 15-Mar-2021", 2},
	{" SINCE 1-Jan-2022", 12},
	{" SENTON 15-Mar-2021", 2},
	{" SENTON 16-Mar-2021", 0},
	{" SENTBEFORE 1-Jan-2021", 1},
	{" SENTSINCE 1-Jan-2000", 7},
	{" SENTON 1-Jan-2022", 4},
	{" FROM bob", 1},
	{" FROM \"BOB EXAMPLE\"", 1},
	{" FROM {5}\r\njürg", 2},
	{" TO alice", 7},
	{" CC carol", 1},
	{" BCC dave", 2},
	{" CC dave", 0},
	{" SUBJECT {7}\r\ngrüße", 2},
	{" SUBJECT {8}\r\nMÜNCHEN", 2},
	{" SUBJECT \"aus m\"", 2},
	{" SUBJECT \"inner topic\"", 0},
	{" SUBJECT \"\"", 15},
	{" HEADER Received relay2", 8},
	{" HEADER received \"by here\"", 8},
	{" HEADER Received \"\"", 8},
	{" HEADER X-Missing \"\"", 0},
	{" HEADER Subject {7}\r\ngrüße", 2},
	{" BODY {5}\r\nkäse", 2},
	{" BODY \"und Brot\"", 2},
	{" BODY \"secret BANANA\"", 4},
	{" BODY zebra", 0},
	{" BODY pineapple", 0},
	{" BODY \"inner topic\"", 4},
	{" BODY {6}\r\ngrüß", 8},
	{" BODY quarterly", 0},
	{" BODY \"\"", 15},
	{" TEXT quarterly", 1},
	{" TEXT numbers", 1},
	{" TEXT {7}\r\ngrüße", 10},
	{" TEXT \"inner body\"", 4},
	{" NOT SEEN", 6},
	{" OR SEEN DRAFT", 13},
	{" (SEEN ANSWERED)", 1},
	{" NOT (OR SEEN FLAGGED)", 4},
	{" OR FROM bob KEYWORD $Important", 5},
	{" 1:2", 3},
	{" 2,4", 10},
	{" *", 8},
	{" 3:*", 12},
	{" *:3", 12},
	{" 5", 0},
	{" 5:*", 8},
	{" UID 20:30", 6},
	{" UID *", 8},
	{" UID 15", 0},
	{" UID 1:15", 1},
	{" UID 41:*", 8},
	{" 1:3 UID 30:40", 4},
	{" $", 10},
	{" UID $", 10},
	{" NOT $", 5},
	{" OR $ 1", 11},
	{" MODSEQ 7", 6},
	{" MODSEQ \"/flags/\\\\seen\" all 9", 2},
	{" MODSEQ 0", 15},
	{" UNSEEN NOT DRAFT BODY {5}\r\nkäse", 2},
	{" OR NOT MODSEQ 6 LARGER 1000", 15},
	{" CHARSET UTF-8 SUBJECT latin", 8},
};

static void test_eval(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(eval_rows); i++) {
		unsigned got;

		/* The same answers from the cached fields as from the
		 * header or the whole message. */
		for (int fields = 0; fields < 2; fields++) {
			fixture_init();
			fx.use_fields = fields;
			got = match_mask(eval_rows[i].in);
			if (got != eval_rows[i].mask)
				fail_msg("row %zu (%s, fields %d): mask %u, "
					 "want %u",
					 i, eval_rows[i].in, fields, got,
					 eval_rows[i].mask);
			for (unsigned k = 0; k < 4; k++)
				assert_true(fx.loads[k] <= 1);
		}
	}
}

static void test_lazy_content(void **state)
{
	(void)state;
	/* Keys on metadata never load a message. */
	fixture_init();
	assert_int_equal(match_mask(" OR SEEN (UNSEEN LARGER 1) NOT UID 7"),
			 15);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(fx.loads[k], 0);
	/* AND tries the cheap key first: unseen messages are not read. */
	fixture_init();
	assert_int_equal(match_mask(" SUBJECT report SEEN"), 1);
	assert_int_equal(fx.loads[0], 1);
	assert_int_equal(fx.loads[1], 0);
	assert_int_equal(fx.loads[2], 0);
	assert_int_equal(fx.loads[3], 1);
	/* OR needs no content when its cheap side matches. */
	fixture_init();
	assert_int_equal(match_mask(" OR BODY zzz SEEN"), 9);
	assert_int_equal(fx.loads[0], 0);
	assert_int_equal(fx.loads[1], 1);
	/* Header keys read the header only; BODY and TEXT the whole. */
	fixture_init();
	assert_int_equal(match_mask(" SUBJECT report"), 1);
	assert_int_equal(fx.header_loads[0], 1);
	fixture_init();
	assert_int_equal(match_mask(" OR SUBJECT report BODY banana"), 5);
	assert_int_equal(fx.loads[0], 1);
	assert_int_equal(fx.header_loads[0], 0);
	fixture_init();
	assert_int_equal(match_mask(" TEXT \"inner body\""), 4);
	assert_int_equal(fx.header_loads[2], 0);
	/* With the fields cached, header keys read them, unless a key
	 * names a field that is not kept or reads the body. */
	fixture_init();
	fx.use_fields = true;
	assert_int_equal(match_mask(" SUBJECT report SENTBEFORE 1-Jan-2021"),
			 1);
	assert_int_equal(fx.field_loads[0], 1);
	assert_int_equal(fx.header_loads[0], 0);
	fixture_init();
	fx.use_fields = true;
	assert_int_equal(match_mask(" OR SUBJECT report HEADER Received zzz"),
			 1);
	assert_int_equal(fx.field_loads[0], 0);
	assert_int_equal(fx.header_loads[0], 1);
	fixture_init();
	fx.use_fields = true;
	assert_int_equal(match_mask(" OR SUBJECT report BODY banana"), 5);
	assert_int_equal(fx.field_loads[0] + fx.header_loads[0], 0);
	/* Several content keys share one load. */
	fixture_init();
	assert_int_equal(match_mask(" FROM bob TEXT numbers BODY numbers"), 1);
	assert_int_equal(fx.loads[0], 1);
	/* A message that cannot be read matches no content key. */
	fixture_init();
	fx.content[0] = NULL;
	assert_int_equal(match_mask(" FROM bob"), 0);
	fixture_init();
	fx.content[0] = NULL;
	assert_int_equal(match_mask(" NOT FROM bob"), 15);
}

static void test_prepare_empty(void **state)
{
	struct search_program *p;
	const char *error;

	(void)state;
	fixture_init();
	/* "*" of an empty mailbox names nothing. */
	assert_int_equal(parse_text(" *", 2, &p, &error), 0);
	search_prepare(p, 0, 0, NULL, 0);
	assert_int_equal(search_match(p, &fx.msgs[0], NULL, NULL), 0);
	search_program_free(&p);
	/* Without a loader, content keys do not match. */
	assert_int_equal(parse_text(" TEXT x", 7, &p, &error), 0);
	search_prepare(p, 4, 40, NULL, 0);
	assert_int_equal(search_match(p, &fx.msgs[0], NULL, NULL), 0);
	search_program_free(&p);
}

/* ---- Number sets (msgset.h) ---- */

static void test_msgset(void **state)
{
	static const struct {
		uint32_t nums[8];
		size_t n;
		const char *out;
	} rows[] = {
		{{0}, 0, ""},
		{{7}, 1, "7"},
		{{1, 2, 3}, 3, "1:3"},
		{{3, 4, 5, 9, 7}, 5, "3:5,9,7"},
		{{5, 4, 3}, 3, "5,4,3"},
		{{1, 3, 4, 6}, 4, "1,3:4,6"},
		{{4294967294u, 4294967295u, 1}, 3, "4294967294:4294967295,1"},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char *s = imap_msgset_format(rows[i].nums, rows[i].n);

		assert_string_equal(s, rows[i].out);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_depth_and_count),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_sent_day),
		cmocka_unit_test(test_text_contains),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_lazy_content),
		cmocka_unit_test(test_prepare_empty),
		cmocka_unit_test(test_msgset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
