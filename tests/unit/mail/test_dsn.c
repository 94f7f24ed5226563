/*
 * mail/dsn: the NOTIFY policy for every combination, and composed DSNs
 * parsed back: the MIME structure, every field, what is returned of the
 * original, and untrusted text that tries to break out of its place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dsn.h"

/* Sun, 22 Nov 2026 00:21:37 +0000 */
#define WHEN ((time_t)1795306897)
#define DATE "Sun, 22 Nov 2026 00:21:37 +0000"
#define ARRIVED ((time_t)1795306000)
#define ARRIVED_DATE "Sun, 22 Nov 2026 00:06:40 +0000"
#define RETRY ((time_t)1795393297)
#define RETRY_DATE "Mon, 23 Nov 2026 00:21:37 +0000"

#define ORIG_HDR                                                               \
	"From: Alice <alice@example.org>\r\n"                                  \
	"To: bob@example.net\r\n"                                              \
	"Subject: lunch\r\n"                                                   \
	"Message-ID: <1@example.org>\r\n"
#define ORIG_BODY "Shall we?\r\n"
#define ORIG ORIG_HDR "\r\n" ORIG_BODY

/* ------------------------------------------------------------------ */
/* dsn_wanted                                                          */

enum { F, D, S }; /* columns: failed, delayed, success-like */

static void test_wanted_table(void **state)
{
	/* Row n: NOTIFY bits n; what failed, delayed and the three success
	 * actions (delivered, relayed, expanded) give. RFC 3461 4.1. */
	static const bool want[16][3] = {
		[0x0] = {true, true, false},   /* absent: FAILURE,DELAY */
		[0x1] = {false, false, false}, /* NEVER */
		[0x2] = {false, false, true},  /* SUCCESS */
		[0x3] = {false, false, false}, /* NEVER wins */
		[0x4] = {true, false, false},  /* FAILURE */
		[0x5] = {false, false, false},
		[0x6] = {true, false, true}, /* SUCCESS,FAILURE */
		[0x7] = {false, false, false},
		[0x8] = {false, true, false}, /* DELAY */
		[0x9] = {false, false, false},
		[0xa] = {false, true, true}, /* SUCCESS,DELAY */
		[0xb] = {false, false, false},
		[0xc] = {true, true, false}, /* FAILURE,DELAY */
		[0xd] = {false, false, false},
		[0xe] = {true, true, true}, /* all three */
		[0xf] = {false, false, false},
	};
	static const struct {
		enum dsn_action action;
		int col;
	} actions[] = {
		{DSN_FAILED, F},  {DSN_DELAYED, D},  {DSN_DELIVERED, S},
		{DSN_RELAYED, S}, {DSN_EXPANDED, S},
	};

	(void)state;
	for (unsigned n = 0; n < 16; n++) {
		for (size_t a = 0; a < 5; a++) {
			enum dsn_action act = actions[a].action;
			bool w = want[n][actions[a].col];

			assert_int_equal(dsn_wanted(n, act, "a@example.org"),
					 w);
			/* Bits above the four are ignored. */
			assert_int_equal(
				dsn_wanted(n | 0x30, act, "a@example.org"), w);
			/* Never a bounce to the null sender. */
			assert_false(dsn_wanted(n, act, ""));
			assert_false(dsn_wanted(n, act, NULL));
		}
	}
	assert_false(dsn_wanted(0, (enum dsn_action)99, "a@example.org"));
}

/* ------------------------------------------------------------------ */
/* Parsing a composed DSN back                                         */

struct part {
	const char *hdr; /* fields, each ending in CRLF */
	size_t hdr_len;
	const char *body;
	size_t body_len;
};

struct dsn {
	char *msg;
	size_t len;
	size_t hdr_len;
	char boundary[128];
	struct part parts[4];
	size_t nparts;
};

static size_t count(const char *s, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const char *p = s, *end = s + len;

	while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return n;
}

/* CRLF only, no line over 998 octets, no NUL. */
static void check_lines(const char *m, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		assert_true(m[i] != '\0');
		if (m[i] == '\r') {
			assert_true(i + 1 < len && m[i + 1] == '\n');
			i++;
			line = 0;
			continue;
		}
		assert_true(m[i] != '\n');
		line++;
		assert_true(line <= 998);
	}
	assert_int_equal(line, 0); /* ends in CRLF */
}

/* Value of the first field name in the block, unfolded; NULL if none.
 * The caller frees it. */
static char *field(const char *blk, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *p = blk, *end = blk + len;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *stop;
		char *v;
		size_t o = 0;

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && memcmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			/* The field runs until a line not starting with WSP. */
			stop = eol;
			while (stop + 2 < end &&
			       (stop[2] == ' ' || stop[2] == '\t'))
				stop = memmem(stop + 2,
					      (size_t)(end - stop - 2), "\r\n",
					      2);
			v = malloc((size_t)(stop - p) + 1);
			assert_non_null(v);
			for (const char *q = p + nl + 1; q < stop; q++) {
				if (q[0] == '\r' && q[1] == '\n') {
					q++;
					continue;
				}
				v[o++] = *q;
			}
			v[o] = '\0';
			/* Drop the space after the colon. */
			if (v[0] == ' ')
				memmove(v, v + 1, o);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

static void assert_field(const char *blk, size_t len, const char *name,
			 const char *want)
{
	char *v = field(blk, len, name);

	if (want == NULL) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

/* Group i of a delivery-status body: 0 per-message, 1.. per recipient. */
static void group(const struct part *p, size_t i, const char **g, size_t *glen)
{
	const char *s = p->body, *end = p->body + p->body_len;

	for (; i > 0; i--) {
		s = memmem(s, (size_t)(end - s), "\r\n\r\n", 4);
		assert_non_null(s);
		s += 4;
	}
	*g = s;
	s = memmem(s, (size_t)(end - s), "\r\n\r\n", 4);
	*glen = s != NULL ? (size_t)(s - *g) + 2 : (size_t)(end - *g);
}

static void parse_parts(struct dsn *d)
{
	char delim[140];
	const char *p, *end = d->msg + d->len;

	snprintf(delim, sizeof(delim), "\r\n--%s", d->boundary);
	p = memmem(d->msg + d->hdr_len, (size_t)(end - d->msg - d->hdr_len),
		   delim, strlen(delim));
	assert_non_null(p);
	for (;;) {
		struct part *pt;
		const char *next, *blank;

		p += strlen(delim);
		if (memcmp(p, "--\r\n", 4) == 0) {
			/* The close delimiter ends the message. */
			assert_ptr_equal(p + 4, end);
			return;
		}
		assert_memory_equal(p, "\r\n", 2);
		p += 2;
		assert_true(d->nparts < 4);
		pt = &d->parts[d->nparts++];
		next = memmem(p, (size_t)(end - p), delim, strlen(delim));
		assert_non_null(next);
		blank = memmem(p, (size_t)(next - p), "\r\n\r\n", 4);
		assert_non_null(blank);
		pt->hdr = p;
		pt->hdr_len = (size_t)(blank - p) + 2;
		pt->body = blank + 4;
		pt->body_len = (size_t)(next - pt->body);
		p = next;
	}
}

static void parse(struct dsn *d, char *msg, size_t len)
{
	char *ct, *b;
	const char *blank;

	assert_non_null(msg);
	assert_int_equal(strlen(msg), len);
	memset(d, 0, sizeof(*d));
	d->msg = msg;
	d->len = len;
	check_lines(msg, len);
	blank = strstr(msg, "\r\n\r\n");
	assert_non_null(blank);
	d->hdr_len = (size_t)(blank - msg) + 2;
	ct = field(msg, d->hdr_len, "Content-Type");
	assert_non_null(ct);
	b = strstr(ct, "boundary=\"");
	assert_non_null(b);
	b += 10;
	assert_true(strchr(b, '"') != NULL);
	*strchr(b, '"') = '\0';
	assert_true(strlen(b) > 0 && strlen(b) <= 70);
	snprintf(d->boundary, sizeof(d->boundary), "%s", b);
	free(ct);
	parse_parts(d);
	/* The boundary is nowhere but in its parameter and delimiters. */
	assert_int_equal(count(msg, len, d->boundary), d->nparts + 2);
}

static char *compose(struct dsn *d, const struct dsn_report *r,
		     const char *seed)
{
	size_t len = 12345;
	char *m = dsn_compose(r, WHEN, seed, &len);

	parse(d, m, len);
	return m;
}

static const struct dsn_rcpt bob_failed = {
	.address = "bob@example.net",
	.action = DSN_FAILED,
	.status = "5.1.1",
	.remote_mta = "mx.example.net",
	.diagnostic = "550 5.1.1 no such user",
	.last_attempt = WHEN,
};

static struct dsn_report report(const struct dsn_rcpt *rcpts, size_t n)
{
	struct dsn_report r = {
		.reporting_mta = "mx.example.org",
		.sender = "alice@example.org",
		.arrival = ARRIVED,
		.rcpts = rcpts,
		.nrcpts = n,
		.original = ORIG,
		.original_len = strlen(ORIG),
	};

	return r;
}

/* ------------------------------------------------------------------ */
/* Composition                                                         */

static void test_exact_bytes(void **state)
{
	static const char want[] =
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
		"To: <alice@example.org>\r\n"
		"Subject: Undelivered Mail Returned to Sender\r\n"
		"Date: " DATE "\r\n"
		"Message-ID: <1795306897.Q1.f@mx.example.org>\r\n"
		"Auto-Submitted: auto-replied\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; "
		"report-type=delivery-status;\r\n"
		"\tboundary=\"=_dsn_Q1\"\r\n"
		"\r\n"
		"This is a delivery status notification in MIME format.\r\n"
		"\r\n"
		"--=_dsn_Q1\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"Content-Description: Notification\r\n"
		"\r\n"
		"This is the mail delivery system at mx.example.org.\r\n"
		"\r\n"
		"Your message could not be delivered to one or more of its "
		"recipients.\r\n"
		"The mail system has given up on them; the reasons are "
		"below.\r\n"
		"\r\n"
		"<bob@example.net>: delivery failed (status 5.1.1)\r\n"
		"    mx.example.net said: 550 5.1.1 no such user\r\n"
		"\r\n"
		"The header of your message is attached below.\r\n"
		"\r\n"
		"--=_dsn_Q1\r\n"
		"Content-Type: message/delivery-status\r\n"
		"Content-Description: Delivery report\r\n"
		"\r\n"
		"Reporting-MTA: dns; mx.example.org\r\n"
		"Arrival-Date: " ARRIVED_DATE "\r\n"
		"\r\n"
		"Final-Recipient: rfc822; bob@example.net\r\n"
		"Action: failed\r\n"
		"Status: 5.1.1\r\n"
		"Remote-MTA: dns; mx.example.net\r\n"
		"Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
		"Last-Attempt-Date: " DATE "\r\n"
		"\r\n"
		"--=_dsn_Q1\r\n"
		"Content-Type: text/rfc822-headers\r\n"
		"Content-Description: Original message header\r\n"
		"\r\n" ORIG_HDR "\r\n"
		"--=_dsn_Q1--\r\n";
	struct dsn_report r = report(&bob_failed, 1);
	size_t len;
	char *m;

	(void)state;
	m = dsn_compose(&r, WHEN, "Q1", &len);
	assert_non_null(m);
	assert_string_equal(m, want);
	assert_int_equal(len, strlen(want));
	free(m);
}

static void test_structure_hdrs(void **state)
{
	struct dsn_report r = report(&bob_failed, 1);
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	m = compose(&d, &r, "seed-1");
	assert_field(m, d.hdr_len, "From",
		     "Mail Delivery System <MAILER-DAEMON@mx.example.org>");
	assert_field(m, d.hdr_len, "To", "<alice@example.org>");
	assert_field(m, d.hdr_len, "Auto-Submitted", "auto-replied");
	assert_field(m, d.hdr_len, "MIME-Version", "1.0");
	assert_field(m, d.hdr_len, "Date", DATE);
	assert_field(m, d.hdr_len, "Message-ID",
		     "<1795306897.seed-1.f@mx.example.org>");
	assert_field(m, d.hdr_len, "Content-Transfer-Encoding", NULL);
	assert_string_equal(d.boundary, "=_dsn_seed-1");
	assert_int_equal(d.nparts, 3);
	assert_field(d.parts[0].hdr, d.parts[0].hdr_len, "Content-Type",
		     "text/plain; charset=us-ascii");
	assert_field(d.parts[1].hdr, d.parts[1].hdr_len, "Content-Type",
		     "message/delivery-status");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	/* Per-message fields; no ENVID was given (RFC 3461 6.3 a). */
	group(&d.parts[1], 0, &g, &gl);
	assert_field(g, gl, "Reporting-MTA", "dns; mx.example.org");
	assert_field(g, gl, "Arrival-Date", ARRIVED_DATE);
	assert_field(g, gl, "Original-Envelope-Id", NULL);
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Original-Recipient", NULL);
	assert_field(g, gl, "Final-Recipient", "rfc822; bob@example.net");
	assert_field(g, gl, "Action", "failed");
	assert_field(g, gl, "Status", "5.1.1");
	assert_field(g, gl, "Remote-MTA", "dns; mx.example.net");
	assert_field(g, gl, "Diagnostic-Code", "smtp; 550 5.1.1 no such user");
	assert_field(g, gl, "Last-Attempt-Date", DATE);
	assert_field(g, gl, "Will-Retry-Until", NULL);
	/* The header block exactly, not the body. */
	assert_int_equal(d.parts[2].body_len, strlen(ORIG_HDR));
	assert_memory_equal(d.parts[2].body, ORIG_HDR, strlen(ORIG_HDR));
	assert_null(strstr(m, "Shall we?"));
	free(m);
}

static void test_ret_full(void **state)
{
	struct dsn_report r = report(&bob_failed, 1);
	struct dsn d;
	char *m;

	(void)state;
	r.return_full = true;
	m = compose(&d, &r, "s");
	assert_int_equal(d.nparts, 3);
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "message/rfc822");
	assert_int_equal(d.parts[2].body_len, strlen(ORIG));
	assert_memory_equal(d.parts[2].body, ORIG, strlen(ORIG));
	assert_non_null(strstr(d.parts[0].body, "Your message is attached"));
	free(m);

	/* Exactly at the cap is still whole; one octet over is not. */
	r.max_return = strlen(ORIG);
	m = compose(&d, &r, "s");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "message/rfc822");
	free(m);
	r.max_return = strlen(ORIG) - 1;
	m = compose(&d, &r, "s");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	assert_int_equal(d.parts[2].body_len, strlen(ORIG_HDR));
	assert_non_null(strstr(d.parts[0].body, "The header of your message"));
	free(m);
}

static void test_ret_full_success_gives_headers(void **state)
{
	struct dsn_rcpt rc = bob_failed;
	struct dsn_report r = report(&rc, 1);
	struct dsn d;
	char *m;

	(void)state;
	/* RFC 3461 4.3: RET only matters for a failure. */
	rc.action = DSN_DELIVERED;
	rc.status = "2.0.0";
	rc.diagnostic = "250 2.0.0 ok";
	r.return_full = true;
	m = compose(&d, &r, "s");
	assert_field(m, d.hdr_len, "Subject",
		     "Successful Mail Delivery Report");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	free(m);
}

static void test_envid_orcpt(void **state)
{
	struct dsn_rcpt rc[3] = {bob_failed, bob_failed, bob_failed};
	struct dsn_report r = report(rc, 3);
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	r.envid = "QQ+2B1+3Dx";
	rc[0].orcpt = "rfc822;b+2Bx@example.net";
	rc[1].orcpt = "";
	rc[2].orcpt = "nosemicolon";
	m = compose(&d, &r, "s");
	group(&d.parts[1], 0, &g, &gl);
	/* RFC 3461 6.3 a, d: xtext decoded. */
	assert_field(g, gl, "Original-Envelope-Id", "QQ+1=x");
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Original-Recipient", "rfc822; b+x@example.net");
	group(&d.parts[1], 2, &g, &gl);
	assert_field(g, gl, "Original-Recipient", NULL);
	group(&d.parts[1], 3, &g, &gl);
	assert_field(g, gl, "Original-Recipient", "unknown; nosemicolon");
	assert_non_null(
		strstr(d.parts[0].body, "Original recipient: b+x@example.net"));
	free(m);

	/* An empty ENVID is no ENVID. */
	r.envid = "";
	m = compose(&d, &r, "s");
	group(&d.parts[1], 0, &g, &gl);
	assert_field(g, gl, "Original-Envelope-Id", NULL);
	free(m);
}

static void test_delayed(void **state)
{
	struct dsn_rcpt rc = {
		.address = "carol@example.com",
		.action = DSN_DELAYED,
		.remote_mta = "mx.example.com",
		.diagnostic = "451 4.7.1 greylisted, try later",
		.last_attempt = WHEN,
		.will_retry_until = RETRY,
	};
	struct dsn_report r = report(&rc, 1);
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	r.return_full = true; /* not for a delay */
	m = compose(&d, &r, "s");
	assert_field(m, d.hdr_len, "Subject",
		     "Delayed Mail (still being retried)");
	assert_field(m, d.hdr_len, "Message-ID",
		     "<1795306897.s.d@mx.example.org>");
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Action", "delayed");
	/* No status given: RFC 3461 6.3 g. */
	assert_field(g, gl, "Status", "4.0.0");
	assert_field(g, gl, "Will-Retry-Until", RETRY_DATE);
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	assert_non_null(strstr(d.parts[0].body,
			       "Delivery will be tried until " RETRY_DATE));
	free(m);

	/* Will-Retry-Until belongs to delayed recipients only. */
	rc.action = DSN_FAILED;
	m = compose(&d, &r, "s");
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Will-Retry-Until", NULL);
	assert_field(g, gl, "Status", "5.0.0");
	free(m);
}

static void test_success_and_mixed(void **state)
{
	struct dsn_rcpt rc[3] = {
		{.address = "r1@example.net",
		 .action = DSN_RELAYED,
		 .remote_mta = "old.example.net",
		 .diagnostic = "250 ok"},
		{.address = "r2@example.net", .action = DSN_DELIVERED},
		{.address = "r3@example.net", .action = DSN_EXPANDED},
	};
	struct dsn_report r = report(rc, 3);
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	r.arrival = 0;
	m = compose(&d, &r, "s");
	assert_field(m, d.hdr_len, "Subject",
		     "Successful Mail Delivery Report");
	group(&d.parts[1], 0, &g, &gl);
	assert_field(g, gl, "Arrival-Date", NULL);
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Final-Recipient", "rfc822; r1@example.net");
	assert_field(g, gl, "Action", "relayed");
	assert_field(g, gl, "Status", "2.0.0");
	group(&d.parts[1], 2, &g, &gl);
	assert_field(g, gl, "Action", "delivered");
	assert_field(g, gl, "Remote-MTA", NULL);
	assert_field(g, gl, "Diagnostic-Code", NULL);
	assert_field(g, gl, "Last-Attempt-Date", NULL);
	group(&d.parts[1], 3, &g, &gl);
	assert_field(g, gl, "Action", "expanded");
	free(m);

	/* One failure makes it a bounce. */
	rc[1].action = DSN_FAILED;
	m = compose(&d, &r, "s");
	assert_field(m, d.hdr_len, "Subject",
		     "Undelivered Mail Returned to Sender");
	free(m);
}

static void test_diagnostic_injection(void **state)
{
	struct dsn_rcpt rc = bob_failed;
	struct dsn_report r = report(&rc, 1);
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	rc.diagnostic = "550 bad\r\nSubject: pwned\r\n\r\n--=_dsn_s\r\n"
			"Content-Type: text/html\n\r\x01\x1b[31m \xff\t";
	rc.remote_mta = "mx\r\nX-Evil: 1";
	rc.address = "bob\r\n@example.net";
	m = compose(&d, &r, "s");
	assert_int_equal(d.nparts, 3);
	/* The seed's first boundary is in the text, so another is used. */
	assert_string_equal(d.boundary, "=_dsn_s_1");
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Diagnostic-Code",
		     "smtp; 550 bad Subject: pwned --=_dsn_s "
		     "Content-Type: text/html [31m ?");
	assert_field(g, gl, "Remote-MTA", "dns; mx??X-Evil:?1");
	assert_field(g, gl, "Final-Recipient", "rfc822; bob??@example.net");
	assert_null(strstr(m, "\r\nSubject: pwned"));
	assert_null(strstr(m, "\r\nX-Evil"));
	assert_null(strstr(m, "\r\nContent-Type: text/html"));
	assert_null(strstr(m, "\x1b"));
	free(m);
}

static void test_long_diagnostic(void **state)
{
	struct dsn_rcpt rc = bob_failed;
	struct dsn_report r = report(&rc, 1);
	char *diag = malloc(6001), *v;
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	assert_non_null(diag);
	/* One word far longer than a line: cut hard at 998, then capped. */
	memcpy(diag, "550 ", 4);
	memset(diag + 4, 'x', 5996);
	diag[6000] = '\0';
	rc.diagnostic = diag;
	m = compose(&d, &r, "s");
	group(&d.parts[1], 1, &g, &gl);
	v = field(g, gl, "Diagnostic-Code");
	assert_non_null(v);
	assert_true(strlen(v) <= strlen("smtp; ") + DSN_DIAGNOSTIC_MAX + 3 + 8);
	assert_string_equal(v + strlen(v) - 4, "x...");
	free(v);
	free(m);

	/* Many short words: folded at 78 where it can. */
	for (size_t i = 0; i < 6000; i++)
		diag[i] = i % 7 == 6 ? ' ' : 'y';
	memcpy(diag, "421 ", 4);
	m = compose(&d, &r, "s");
	group(&d.parts[1], 1, &g, &gl);
	for (const char *p = g; p < g + gl;) {
		const char *eol = strstr(p, "\r\n");

		assert_true(eol - p <= 78);
		p = eol + 2;
	}
	free(m);
	free(diag);
}

static void test_boundary_in_original(void **state)
{
	char orig[8192];
	struct dsn_report r = report(&bob_failed, 1);
	struct dsn d;
	size_t n;
	char *m;

	(void)state;
	/* A few candidates in the body: another boundary, still whole. */
	n = (size_t)snprintf(orig, sizeof(orig),
			     ORIG_HDR "\r\n--=_dsn_s\r\n=_dsn_s_1\r\n");
	r.original = orig;
	r.original_len = n;
	r.return_full = true;
	m = compose(&d, &r, "s");
	assert_string_equal(d.boundary, "=_dsn_s_2");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "message/rfc822");
	assert_int_equal(d.parts[2].body_len, n);
	free(m);

	/* A body crafted to hold every candidate: the header only. */
	n = (size_t)snprintf(orig, sizeof(orig), ORIG_HDR "\r\n=_dsn_s\r\n");
	for (unsigned i = 1; i < 200; i++)
		n += (size_t)snprintf(orig + n, sizeof(orig) - n,
				      "=_dsn_s_%u\r\n", i);
	r.original_len = n;
	m = compose(&d, &r, "s");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	assert_int_equal(d.parts[2].body_len, strlen(ORIG_HDR));
	free(m);

	/* The same in the header too: nothing is returned. */
	n = 0;
	for (unsigned i = 0; i < 200; i++)
		n += (size_t)snprintf(orig + n, sizeof(orig) - n,
				      "X-%u: =_dsn_s_%u =_dsn_s\r\n", i, i);
	n += (size_t)snprintf(orig + n, sizeof(orig) - n, "\r\nbody\r\n");
	r.original_len = n;
	m = compose(&d, &r, "s");
	assert_int_equal(d.nparts, 2);
	assert_null(strstr(d.parts[0].body, "attached"));
	free(m);
}

static void test_unreturnable_original(void **state)
{
	static const char bare_lf_body[] = ORIG_HDR "\r\nline\nline\r\n";
	static const char bare_lf_hdr[] = "Subject: x\nFrom: y\r\n\r\nb\r\n";
	char long_body[2048];
	struct dsn_report r = report(&bob_failed, 1);
	struct dsn d;
	size_t n;
	char *m;

	(void)state;
	r.return_full = true;
	r.original = bare_lf_body;
	r.original_len = strlen(bare_lf_body);
	m = compose(&d, &r, "s");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	free(m);

	n = (size_t)snprintf(long_body, sizeof(long_body), ORIG_HDR "\r\n");
	memset(long_body + n, 'z', 999);
	memcpy(long_body + n + 999, "\r\n", 3);
	r.original = long_body;
	r.original_len = strlen(long_body);
	m = compose(&d, &r, "s");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "text/rfc822-headers");
	free(m);

	r.original = bare_lf_hdr;
	r.original_len = strlen(bare_lf_hdr);
	m = compose(&d, &r, "s");
	assert_int_equal(d.nparts, 2);
	free(m);

	/* No original, and a message with no header, return nothing. */
	r.original = NULL;
	r.original_len = 0;
	m = compose(&d, &r, "s");
	assert_int_equal(d.nparts, 2);
	free(m);
	r.original = "\r\nbody only\r\n";
	r.original_len = strlen(r.original);
	r.return_full = false;
	m = compose(&d, &r, "s");
	assert_int_equal(d.nparts, 2);
	free(m);
}

static void test_no_dsn(void **state)
{
	struct dsn_report r = report(&bob_failed, 1);
	size_t len = 7;

	(void)state;
	r.sender = "";
	assert_null(dsn_compose(&r, WHEN, "s", &len));
	assert_int_equal(len, 0);
	r.sender = NULL;
	assert_null(dsn_compose(&r, WHEN, "s", NULL));
	r.sender = "a@example.org";
	r.nrcpts = 0;
	assert_null(dsn_compose(&r, WHEN, "s", NULL));
}

static void test_utf8(void **state)
{
	struct dsn_rcpt rc[2] = {bob_failed, bob_failed};
	struct dsn_report r = report(rc, 2);
	static const char intl[] = "Subject: Gr\xc3\xbc\xc3\x9f"
				   "e\r\nFrom: a@example.org\r\n\r\nb\r\n";
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	rc[0].address = "j\xc3\xbcrgen@b\xc3\xbc"
			"cher.example";
	rc[0].orcpt = "utf-8;j\\x{FC}rgen@b\\x{FC}cher.example";
	r.sender = "s\xc3\xa9n@example.org";
	m = compose(&d, &r, "s");
	assert_field(m, d.hdr_len, "Content-Type",
		     "multipart/report; report-type=global-delivery-status;"
		     "\tboundary=\"=_dsn_s\"");
	assert_field(m, d.hdr_len, "Content-Transfer-Encoding", "8bit");
	assert_field(m, d.hdr_len, "To", "<s\xc3\xa9n@example.org>");
	assert_field(d.parts[0].hdr, d.parts[0].hdr_len, "Content-Type",
		     "text/plain; charset=utf-8");
	assert_field(d.parts[1].hdr, d.parts[1].hdr_len, "Content-Type",
		     "message/global-delivery-status");
	assert_field(d.parts[1].hdr, d.parts[1].hdr_len,
		     "Content-Transfer-Encoding", "8bit");
	group(&d.parts[1], 1, &g, &gl);
	/* RFC 6533 3: the utf-8 type for the address that needs it, and
	 * the ORCPT form kept as it is. */
	assert_field(g, gl, "Final-Recipient",
		     "utf-8; j\xc3\xbcrgen@b\xc3\xbc"
		     "cher.example");
	assert_field(g, gl, "Original-Recipient",
		     "utf-8; j\\x{FC}rgen@b\\x{FC}cher.example");
	group(&d.parts[1], 2, &g, &gl);
	assert_field(g, gl, "Final-Recipient", "rfc822; bob@example.net");
	free(m);

	/* ASCII addresses, UTF-8 header returned: message/global-headers;
	 * malformed UTF-8 in an address never passes. */
	rc[0].address = "bad\xff\xc3@example.net";
	rc[0].orcpt = NULL;
	r.sender = "alice@example.org";
	r.original = intl;
	r.original_len = strlen(intl);
	m = compose(&d, &r, "s");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len, "Content-Type",
		     "message/global-headers");
	assert_field(d.parts[2].hdr, d.parts[2].hdr_len,
		     "Content-Transfer-Encoding", "8bit");
	group(&d.parts[1], 1, &g, &gl);
	assert_field(g, gl, "Final-Recipient", "rfc822; bad??@example.net");
	free(m);
}

static void test_field_values(void **state)
{
	static const struct {
		const char *status, *want_status;
		const char *diag, *want_diag;
	} rows[] = {
		{"5.1.1", "5.1.1", "550-first line\r\n550 second",
		 "smtp; 550-first line 550 second"},
		{"5.01.1", "5.0.0", "connection timed out",
		 "X-Postern; connection timed out"},
		{"9.1.1", "5.0.0", "550", "smtp; 550"},
		{"5.1.1000", "5.0.0", "55 short", "X-Postern; 55 short"},
		{"5.1", "5.0.0", "  \r\n ", NULL},
		{"4.4.7", "4.4.7", "", NULL},
	};
	struct dsn_rcpt rc = bob_failed;
	struct dsn_report r = report(&rc, 1);
	struct dsn d;
	const char *g;
	size_t gl;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *m;

		rc.status = rows[i].status;
		rc.diagnostic = rows[i].diag;
		m = compose(&d, &r, "s");
		group(&d.parts[1], 1, &g, &gl);
		assert_field(g, gl, "Status", rows[i].want_status);
		assert_field(g, gl, "Diagnostic-Code", rows[i].want_diag);
		free(m);
	}
}

static void test_names(void **state)
{
	struct dsn_report r = report(&bob_failed, 1);
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	/* RFC 3461 6.3 b: a name that is not fully qualified. */
	r.reporting_mta = "localhost";
	r.message_id_domain = "example.org";
	m = compose(&d, &r, "a/b c!d");
	group(&d.parts[1], 0, &g, &gl);
	assert_field(g, gl, "Reporting-MTA", "x-local-hostname; localhost");
	assert_field(m, d.hdr_len, "Message-ID",
		     "<1795306897.abcd.f@example.org>");
	assert_string_equal(d.boundary, "=_dsn_abcd");
	free(m);

	/* No seed, and an invalid Message-ID domain: the host name. */
	r.reporting_mta = "mx.example.org";
	r.message_id_domain = "bad domain";
	m = compose(&d, &r, NULL);
	assert_string_equal(d.boundary, "=_dsn_dsn");
	assert_field(m, d.hdr_len, "Message-ID",
		     "<1795306897.dsn.f@mx.example.org>");
	free(m);
}

static void test_many_rcpts(void **state)
{
	struct dsn_rcpt rc[100];
	char addr[100][64], diag[2100];
	struct dsn_report r;
	struct dsn d;
	const char *g;
	size_t gl;
	char *m;

	(void)state;
	memset(diag, 'w', sizeof(diag) - 1);
	diag[sizeof(diag) - 1] = '\0';
	memcpy(diag, "550 ", 4);
	for (size_t i = 0; i < 100; i++) {
		snprintf(addr[i], sizeof(addr[i]), "user%zu@example.net", i);
		rc[i] = bob_failed;
		rc[i].address = addr[i];
		rc[i].diagnostic = diag;
	}
	r = report(rc, 100);
	m = compose(&d, &r, "s");
	group(&d.parts[1], 100, &g, &gl);
	assert_field(g, gl, "Final-Recipient", "rfc822; user99@example.net");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted_table),
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_structure_hdrs),
		cmocka_unit_test(test_ret_full),
		cmocka_unit_test(test_ret_full_success_gives_headers),
		cmocka_unit_test(test_envid_orcpt),
		cmocka_unit_test(test_delayed),
		cmocka_unit_test(test_success_and_mixed),
		cmocka_unit_test(test_diagnostic_injection),
		cmocka_unit_test(test_long_diagnostic),
		cmocka_unit_test(test_boundary_in_original),
		cmocka_unit_test(test_unreturnable_original),
		cmocka_unit_test(test_no_dsn),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_field_values),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_many_rcpts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
