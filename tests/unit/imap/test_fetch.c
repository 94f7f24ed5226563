/*
 * imap/cmd_fetch: the FETCH item list and modifiers (macros, sections,
 * partials, CHANGEDSINCE, VANISHED), the octets each section names in a
 * nested MIME message, HEADER.FIELDS subsetting, partial windows and the
 * INTERNALDATE format, row by row. Inputs are exact-size heap copies so
 * the sanitizer build sees any read past the end; every valid item list
 * is also cut at each byte and must then fail cleanly or parse a prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/cmd_fetch.h"
#include "mail/mime.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

/* A short text for a parsed request, to compare with a row. */
static void describe(const struct imap_fetch_req *q, char *out, size_t size)
{
	static const char *names[] = {
		[IMAP_FETCH_UID] = "UID",
		[IMAP_FETCH_FLAGS] = "FLAGS",
		[IMAP_FETCH_INTERNALDATE] = "INTERNALDATE",
		[IMAP_FETCH_RFC822_SIZE] = "RFC822.SIZE",
		[IMAP_FETCH_ENVELOPE] = "ENVELOPE",
		[IMAP_FETCH_BODY] = "BODY",
		[IMAP_FETCH_BODYSTRUCTURE] = "BODYSTRUCTURE",
		[IMAP_FETCH_MODSEQ] = "MODSEQ",
	};
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < q->n; i++) {
		const struct imap_fetch_item *it = &q->items[i];

		o += (size_t)snprintf(out + o, size - o, "%s", i ? " " : "");
		if (it->label == NULL) {
			o += (size_t)snprintf(out + o, size - o, "%s",
					      names[it->att]);
			continue;
		}
		o += (size_t)snprintf(out + o, size - o, "%s%s", it->label,
				      it->peek ? "!" : "");
		if (it->partial)
			o += (size_t)snprintf(out + o, size - o, "<%u.%u>",
					      it->start, it->count);
	}
	if (q->changedsince_given)
		o += (size_t)snprintf(out + o, size - o, " ~%llu",
				      (unsigned long long)q->changedsince);
	if (q->vanished)
		snprintf(out + o, size - o, " VANISHED");
}

struct parse_row {
	const char *in;
	bool uid, qresync;
	int ret;
	const char *want; /* describe() of the result when ret == 0 */
	bool sets_seen;
};

static const struct parse_row parse_rows[] = {
	{"FLAGS", false, false, 0, "FLAGS", false},
	{"flags", false, false, 0, "FLAGS", false},
	{"(UID FLAGS)", false, false, 0, "UID FLAGS", false},
	{"FAST", false, false, 0, "FLAGS INTERNALDATE RFC822.SIZE", false},
	{"all", false, false, 0, "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE",
	 false},
	{"FULL", false, false, 0,
	 "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY", false},
	{"FAST", true, false, 0, "UID FLAGS INTERNALDATE RFC822.SIZE", false},
	{"(FLAGS UID)", true, false, 0, "FLAGS UID", false},
	{"(BODY BODYSTRUCTURE ENVELOPE)", false, false, 0,
	 "BODY BODYSTRUCTURE ENVELOPE", false},
	{"BODY[]", false, false, 0, "BODY[]", true},
	{"BODY.PEEK[]", false, false, 0, "BODY[]!", false},
	{"body.peek[header]", false, false, 0, "BODY[HEADER]!", false},
	{"BODY[1.2.MIME]", false, false, 0, "BODY[1.2.MIME]", true},
	{"BODY[1.2.mime]<0.10>", false, false, 0, "BODY[1.2.MIME]<0.10>", true},
	{"BODY[3.TEXT]", false, false, 0, "BODY[3.TEXT]", true},
	{"BODY[10.20]", false, false, 0, "BODY[10.20]", true},
	{"BODY.PEEK[HEADER.FIELDS (DATE FROM)]", false, false, 0,
	 "BODY[HEADER.FIELDS (DATE FROM)]!", false},
	{"BODY.PEEK[2.HEADER.FIELDS.NOT (\"X\\\"A\" {1}\r\nB)]<5.6>", false,
	 false, 0, "BODY[2.HEADER.FIELDS.NOT (\"X\\\"A\" B)]!<5.6>", false},
	{"(RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE)", false, false, 0,
	 "RFC822 RFC822.HEADER! RFC822.TEXT RFC822.SIZE", true},
	{"RFC822.HEADER", false, false, 0, "RFC822.HEADER!", false},
	{"(BINARY[1] BINARY.PEEK[2.1]<0.1> BINARY.SIZE[3])", false, false, 0,
	 "BINARY[1] BINARY[2.1]!<0.1> BINARY.SIZE[3]!", true},
	{"BINARY[]", false, false, 0, "BINARY[]", true},
	{"MODSEQ", false, false, 0, "MODSEQ", false},
	{"(FLAGS) (CHANGEDSINCE 12345)", false, false, 0, "FLAGS MODSEQ ~12345",
	 false},
	{"(FLAGS MODSEQ) (CHANGEDSINCE 7)", true, false, 0,
	 "UID FLAGS MODSEQ ~7", false},
	{"(FLAGS) (CHANGEDSINCE 1 VANISHED)", true, true, 0,
	 "UID FLAGS MODSEQ ~1 VANISHED", false},
	{"(FLAGS) (VANISHED CHANGEDSINCE 1)", true, true, 0,
	 "UID FLAGS MODSEQ ~1 VANISHED", false},
	/* Refused */
	{"", false, false, -1, NULL, false},
	{"()", false, false, -1, NULL, false},
	{"(ALL)", false, false, -1, NULL, false},
	{"(FLAGS FAST)", false, false, -1, NULL, false},
	{"FAST FLAGS", false, false, -1, NULL, false},
	{"NOSUCH", false, false, -1, NULL, false},
	{"BODY[", false, false, -1, NULL, false},
	{"BODY[]]", false, false, -1, NULL, false},
	{"BODY[1.]", false, false, -1, NULL, false},
	{"BODY[.1]", false, false, -1, NULL, false},
	{"BODY[0]", false, false, -1, NULL, false},
	{"BODY[1.0]", false, false, -1, NULL, false},
	{"BODY[1x]", false, false, -1, NULL, false},
	{"BODY[MIME]", false, false, -1, NULL, false},
	{"BODY[TEXT.1]", false, false, -1, NULL, false},
	{"BODY[HEADER.FIELDS]", false, false, -1, NULL, false},
	{"BODY[HEADER.FIELDS ()]", false, false, -1, NULL, false},
	{"BODY[HEADER.FIELDS (A:B)]", false, false, -1, NULL, false},
	{"BODY[HEADER.FIELDS (\"A B\")]", false, false, -1, NULL, false},
	{"BODY[HEADER (A)]", false, false, -1, NULL, false},
	{"BODY[]<1>", false, false, -1, NULL, false},
	{"BODY[]<1.0>", false, false, -1, NULL, false},
	{"BODY[]<-1.5>", false, false, -1, NULL, false},
	{"BODY[] <1.5>", false, false, -1, NULL, false},
	{"BODY.PEEK", false, false, -1, NULL, false},
	{"BODY.PEEK[TEXT", false, false, -1, NULL, false},
	{"BINARY[1.MIME]", false, false, -1, NULL, false},
	{"BINARY[TEXT]", false, false, -1, NULL, false},
	{"BINARY.SIZE[1]<0.1>", false, false, -1, NULL, false},
	{"RFC822[]", false, false, -1, NULL, false},
	{"(FLAGS", false, false, -1, NULL, false},
	{"FLAGS)", false, false, -1, NULL, false},
	{"(FLAGS) (NOSUCH 1)", false, false, -1, NULL, false},
	{"(FLAGS) ()", false, false, -1, NULL, false},
	{"(FLAGS) (CHANGEDSINCE)", false, false, -1, NULL, false},
	{"(FLAGS) (CHANGEDSINCE x)", false, false, -1, NULL, false},
	{"(FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)", false, false, -1, NULL,
	 false},
	/* RFC 7162 3.2.6: VANISHED only on UID FETCH, with QRESYNC and
	 * CHANGEDSINCE. */
	{"(FLAGS) (CHANGEDSINCE 1 VANISHED)", false, true, -1, NULL, false},
	{"(FLAGS) (CHANGEDSINCE 1 VANISHED)", true, false, -1, NULL, false},
	{"(FLAGS) (VANISHED)", true, true, -1, NULL, false},
	{"FLAGS extra", false, false, -1, NULL, false},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];
		size_t len = strlen(r->in);
		char *in = exact(r->in, len);
		struct imap_args a;
		struct imap_fetch_req q;
		char got[512];
		int ret;

		imap_args_init(&a, in, len);
		ret = imap_fetch_parse(&a, r->uid, r->qresync, &q);
		if (ret != r->ret)
			fail_msg("row %zu \"%s\": ret %d (%s)", i, r->in, ret,
				 imap_args_error(&a));
		if (ret == 0) {
			describe(&q, got, sizeof(got));
			if (strcmp(got, r->want) != 0)
				fail_msg("row %zu \"%s\": got \"%s\"", i, r->in,
					 got);
			assert_int_equal(q.sets_seen, r->sets_seen);
		} else {
			assert_true(imap_args_error(&a)[0] != '\0');
		}
		imap_fetch_req_free(&q);
		imap_args_fini(&a);
		free(in);
	}
}

/* Every prefix of a valid list fails cleanly or parses (e.g. "FLAGS"
 * of "FLAGS ..."), and never reads past its end. */
static void test_parse_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];
		size_t len = strlen(r->in);

		if (r->ret != 0)
			continue;
		for (size_t cut = 0; cut < len; cut++) {
			char *in = exact(r->in, cut);
			struct imap_args a;
			struct imap_fetch_req q;
			int ret;

			imap_args_init(&a, in, cut);
			ret = imap_fetch_parse(&a, r->uid, r->qresync, &q);
			assert_true(ret == 0 || ret == -1);
			imap_fetch_req_free(&q);
			imap_args_fini(&a);
			free(in);
		}
	}
}

static void test_limits(void **state)
{
	char in[8192];
	size_t o = 0;
	struct imap_args a;
	struct imap_fetch_req q;

	(void)state;
	/* One item more than IMAP_FETCH_ITEMS_MAX. */
	o += (size_t)snprintf(in + o, sizeof(in) - o, "(");
	for (int i = 0; i <= IMAP_FETCH_ITEMS_MAX; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%sFLAGS",
				      i ? " " : "");
	snprintf(in + o, sizeof(in) - o, ")");
	imap_args_init(&a, in, strlen(in));
	assert_int_equal(imap_fetch_parse(&a, false, false, &q), -1);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	/* Header names over IMAP_FETCH_FIELDS_MAX. */
	o = (size_t)snprintf(in, sizeof(in), "BODY[HEADER.FIELDS (");
	for (int i = 0; i <= IMAP_FETCH_FIELDS_MAX; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%sX%d",
				      i ? " " : "", i);
	snprintf(in + o, sizeof(in) - o, ")]");
	imap_args_init(&a, in, strlen(in));
	assert_int_equal(imap_fetch_parse(&a, false, false, &q), -1);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
}

/* ---- Sections ---- */

#define HDR                                                                    \
	"From: Bob <bob@example.test>\r\n"                                     \
	"Subject: fetch test\r\n"                                              \
	"X-Folded: one\r\n"                                                    \
	" two\r\n"                                                             \
	"MIME-Version: 1.0\r\n"                                                \
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
#define TEXT                                                                   \
	"preamble\r\n"                                                         \
	"--outer\r\n"                                                          \
	"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"          \
	"\r\n"                                                                 \
	"--inner\r\n"                                                          \
	"Content-Type: text/plain\r\n"                                         \
	"\r\n"                                                                 \
	"Plain body.\r\n"                                                      \
	"--inner\r\n"                                                          \
	"Content-Type: text/html\r\n"                                          \
	"Content-Transfer-Encoding: quoted-printable\r\n"                      \
	"\r\n"                                                                 \
	"<p>Html=20body=\r\n"                                                  \
	"</p>\r\n"                                                             \
	"--inner--\r\n"                                                        \
	"--outer\r\n"                                                          \
	"Content-Type: application/octet-stream\r\n"                           \
	"Content-Transfer-Encoding: base64\r\n"                                \
	"\r\n"                                                                 \
	"AAECAwQ=\r\n"                                                         \
	"--outer\r\n"                                                          \
	"Content-Type: message/rfc822\r\n"                                     \
	"\r\n"                                                                 \
	"From: Carol <carol@example.test>\r\n"                                 \
	"Subject: inner\r\n"                                                   \
	"\r\n"                                                                 \
	"Inner text.\r\n"                                                      \
	"--outer\r\n"                                                          \
	"Content-Type: text/plain\r\n"                                         \
	"Content-Transfer-Encoding: x-unknown\r\n"                             \
	"\r\n"                                                                 \
	"odd\r\n"                                                              \
	"--outer--\r\n"
static const char msg_text[] = HDR "\r\n" TEXT;

struct section_row {
	const char *item;
	int ret;
	const char *want;
	size_t want_len; /* 0: strlen(want) */
};

static const struct section_row section_rows[] = {
	{"BODY[]", 0, HDR "\r\n" TEXT, 0},
	{"BODY[HEADER]", 0, HDR "\r\n", 0},
	{"BODY[TEXT]", 0, TEXT, 0},
	{"BODY[1]", 0,
	 "--inner\r\nContent-Type: text/plain\r\n\r\nPlain body.\r\n"
	 "--inner\r\nContent-Type: text/html\r\n"
	 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	 "<p>Html=20body=\r\n</p>\r\n--inner--",
	 0},
	{"BODY[1.1]", 0, "Plain body.", 0},
	{"BODY[1.1.MIME]", 0, "Content-Type: text/plain\r\n\r\n", 0},
	{"BODY[1.2.MIME]", 0,
	 "Content-Type: text/html\r\nContent-Transfer-Encoding: "
	 "quoted-printable\r\n\r\n",
	 0},
	{"BODY[2]", 0, "AAECAwQ=", 0},
	{"BODY[3]", 0,
	 "From: Carol <carol@example.test>\r\nSubject: inner\r\n\r\n"
	 "Inner text.",
	 0},
	{"BODY[3.HEADER]", 0,
	 "From: Carol <carol@example.test>\r\nSubject: inner\r\n\r\n", 0},
	{"BODY[3.TEXT]", 0, "Inner text.", 0},
	{"BODY[3.1]", 0, "Inner text.", 0},
	{"BODY[3.MIME]", 0, "Content-Type: message/rfc822\r\n\r\n", 0},
	{"BODY[3.HEADER.FIELDS (subject)]", 0, "Subject: inner\r\n\r\n", 0},
	{"BODY[HEADER.FIELDS (SUBJECT x-folded FROM)]", 0,
	 "From: Bob <bob@example.test>\r\nSubject: fetch test\r\n"
	 "X-Folded: one\r\n two\r\n\r\n",
	 0},
	{"BODY[HEADER.FIELDS (Nope)]", 0, "\r\n", 0},
	{"BODY[HEADER.FIELDS.NOT (From Subject MIME-Version X-Folded)]", 0,
	 "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n", 0},
	/* Absent, or HEADER/TEXT of a part that is not a message. */
	{"BODY[9]", 1, NULL, 0},
	{"BODY[1.9]", 1, NULL, 0},
	{"BODY[2.1]", 1, NULL, 0},
	{"BODY[1.HEADER]", 1, NULL, 0},
	{"BODY[2.TEXT]", 1, NULL, 0},
	/* BINARY: transfer encoding undone, leaves only. */
	{"BINARY[2]", 0, "\x00\x01\x02\x03\x04", 5},
	{"BINARY[1.2]", 0, "<p>Html body</p>", 0},
	{"BINARY[1.1]", 0, "Plain body.", 0},
	{"BINARY[]", 0, HDR "\r\n" TEXT, 0},
	{"BINARY.SIZE[2]", 0, "\x00\x01\x02\x03\x04", 5},
	/* Not leaves: given as they are. */
	{"BINARY[1]", 0,
	 "--inner\r\nContent-Type: text/plain\r\n\r\nPlain body.\r\n"
	 "--inner\r\nContent-Type: text/html\r\n"
	 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	 "<p>Html=20body=\r\n</p>\r\n--inner--",
	 0},
	{"BINARY[3]", 0,
	 "From: Carol <carol@example.test>\r\nSubject: inner\r\n\r\n"
	 "Inner text.",
	 0},
	/* x-unknown: NO [UNKNOWN-CTE]. */
	{"BINARY[4]", -1, NULL, 0},
	{"BINARY.SIZE[4]", -1, NULL, 0},
	{"BINARY[9]", 1, NULL, 0},
};

static void parse_item(const char *text, struct imap_args *a,
		       struct imap_fetch_req *q)
{
	imap_args_init(a, text, strlen(text));
	if (imap_fetch_parse(a, false, false, q) != 0)
		fail_msg("\"%s\": %s", text, imap_args_error(a));
	assert_int_equal(q->n, 1);
}

static void test_sections(void **state)
{
	size_t len = sizeof(msg_text) - 1;
	char *msg = exact(msg_text, len);
	struct mime_part *root = mime_parse(msg, len);

	(void)state;
	for (size_t i = 0; i < NROWS(section_rows); i++) {
		const struct section_row *r = &section_rows[i];
		struct imap_args a;
		struct imap_fetch_req q;
		const char *data;
		size_t n, want_len;
		char *owned;
		int ret;

		parse_item(r->item, &a, &q);
		ret = imap_fetch_section(msg, len, root, &q.items[0], &data, &n,
					 &owned);
		if (ret != r->ret)
			fail_msg("row %zu %s: ret %d", i, r->item, ret);
		if (ret == 0) {
			want_len = r->want_len ? r->want_len : strlen(r->want);
			if (n != want_len || memcmp(data, r->want, n) != 0)
				fail_msg("row %zu %s: got \"%.*s\"", i, r->item,
					 (int)n, data);
		}
		free(owned);
		imap_fetch_req_free(&q);
		imap_args_fini(&a);
	}
	mime_free(&root);
	free(msg);
}

/* RFC 2045 6.4: a multipart "in base64" cannot be decoded: NO. */
static void test_encoded_multipart(void **state)
{
	static const char m[] =
		"Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\n"
		"Content-Type: multipart/alternative; boundary=i\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"--i\r\n\r\nYQ==\r\n--i--\r\n"
		"--o--\r\n";
	char *msg = exact(m, sizeof(m) - 1);
	struct mime_part *root = mime_parse(msg, sizeof(m) - 1);
	struct imap_args a;
	struct imap_fetch_req q;
	const char *data;
	size_t n;
	char *owned;

	(void)state;
	parse_item("BINARY[1]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 -1);
	assert_null(owned);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	parse_item("BINARY[1.1]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 0);
	assert_int_equal(n, 4);
	assert_memory_equal(data, "YQ==", 4);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	mime_free(&root);
	free(msg);
}

/* A message of one part with a bare-LF base64 text body: BINARY sends
 * CRLF (RFC 9051 7.5.2); a message with no blank line has no TEXT. */
static void test_single_part(void **state)
{
	static const char m1[] = "Subject: x\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Transfer-Encoding: base64\r\n"
				 "\r\n"
				 "YQpiCg==\r\n"; /* "a\nb\n" */
	static const char m2[] = "Subject: only\r\n";
	struct imap_args a;
	struct imap_fetch_req q;
	struct mime_part *root;
	const char *data;
	size_t n;
	char *owned, *msg;

	(void)state;
	msg = exact(m1, sizeof(m1) - 1);
	root = mime_parse(msg, sizeof(m1) - 1);
	parse_item("BINARY[1]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m1) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 0);
	assert_int_equal(n, 6);
	assert_memory_equal(data, "a\r\nb\r\n", 6);
	free(owned);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	parse_item("BODY[1]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m1) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 0);
	assert_int_equal(n, 10);
	assert_memory_equal(data, "YQpiCg==\r\n", 10);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	mime_free(&root);
	free(msg);

	msg = exact(m2, sizeof(m2) - 1);
	root = mime_parse(msg, sizeof(m2) - 1);
	parse_item("BODY[HEADER]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m2) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 0);
	/* RFC 3501 6.4.5: no blank line when the message has none. */
	assert_int_equal(n, sizeof(m2) - 1);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	parse_item("BODY[HEADER.FIELDS (Subject)]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m2) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 0);
	assert_int_equal(n, sizeof(m2) - 1);
	assert_memory_equal(data, m2, n);
	free(owned);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	parse_item("BODY[TEXT]", &a, &q);
	assert_int_equal(imap_fetch_section(msg, sizeof(m2) - 1, root,
					    &q.items[0], &data, &n, &owned),
			 0);
	assert_int_equal(n, 0);
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	mime_free(&root);
	free(msg);
}

struct fields_row {
	const char *hdr;
	const char *names; /* space-separated */
	bool exclude;
	const char *want;
	size_t count;
};

static const struct fields_row fields_rows[] = {
	{"A: 1\r\nB: 2\r\nC: 3\r\n", "b", false, "B: 2\r\n", 1},
	{"A: 1\r\nB: 2\r\nC: 3\r\n", "b", true, "A: 1\r\nC: 3\r\n", 2},
	{"A: 1\r\n\tmore\r\nB: 2\r\n", "A", false, "A: 1\r\n\tmore\r\n", 1},
	{"A: 1\r\nA: 2\r\n", "a", false, "A: 1\r\nA: 2\r\n", 2},
	/* Names match exactly, not as prefixes; WSP before ":" is allowed. */
	{"AB: 1\r\nA : 2\r\n", "A", false, "A : 2\r\n", 1},
	/* A line with no colon is no field name: only kept by .NOT. */
	{"junk\r\nA: 1\r\n", "A", false, "A: 1\r\n", 1},
	{"junk\r\nA: 1\r\n", "A", true, "junk\r\n", 1},
	/* Bare LF and a last line with no line end. */
	{"A: 1\nB: 2", "B", false, "B: 2", 1},
	{"", "A", false, "", 0},
};

static void test_header_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(fields_rows); i++) {
		const struct fields_row *r = &fields_rows[i];
		char names_buf[128], *names[8];
		size_t n_names = 0, hlen = strlen(r->hdr), out_len;
		char *hdr = exact(r->hdr, hlen);
		char *out = malloc(hlen + 1);
		size_t count;

		snprintf(names_buf, sizeof(names_buf), "%s", r->names);
		for (char *t = names_buf; *t != '\0';) {
			char *sp = strchr(t, ' ');

			names[n_names++] = t;
			if (sp == NULL)
				break;
			*sp = '\0';
			t = sp + 1;
		}
		count = mime_header_fields(hdr, hlen, names, n_names,
					   r->exclude, out, &out_len);
		if (count != r->count || out_len != strlen(r->want) ||
		    memcmp(out, r->want, out_len) != 0)
			fail_msg("row %zu: %zu fields \"%.*s\"", i, count,
				 (int)out_len, out);
		free(out);
		free(hdr);
	}
}

static void test_partial(void **state)
{
	static const struct {
		size_t len;
		uint32_t start, count;
		size_t off, n;
	} rows[] = {
		{100, 0, 10, 0, 10},	      {100, 90, 10, 90, 10},
		{100, 95, 10, 95, 5},	      {100, 100, 10, 100, 0},
		{100, 1000, 1, 100, 0},	      {0, 0, 5, 0, 0},
		{100, 0, UINT32_MAX, 0, 100},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t off, n;

		imap_fetch_partial(rows[i].len, rows[i].start, rows[i].count,
				   &off, &n);
		assert_int_equal(off, rows[i].off);
		assert_int_equal(n, rows[i].n);
	}
}

static void test_date(void **state)
{
	char buf[IMAP_FETCH_DATE_LEN + 1];

	(void)state;
	imap_fetch_date(837593065, buf, sizeof(buf));
	assert_string_equal(buf, "\"17-Jul-1996 08:44:25 +0000\"");
	imap_fetch_date(0, buf, sizeof(buf));
	assert_string_equal(buf, "\"01-Jan-1970 00:00:00 +0000\"");
	imap_fetch_date(1709210096, buf, sizeof(buf));
	assert_string_equal(buf, "\"29-Feb-2024 12:34:56 +0000\"");
	assert_int_equal(strlen(buf), IMAP_FETCH_DATE_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_single_part),
		cmocka_unit_test(test_encoded_multipart),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
