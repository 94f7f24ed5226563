/*
 * smtp/client: the client runs in an event loop against a scripted
 * server on the other end of a socketpair, in the same process and loop.
 * The script says exactly which bytes the client must send and what the
 * server answers; the callbacks write a log compared at the end.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "lib/mem.h"
#include "net/conn.h"
#include "net/tls.h"
#include "smtp/client.h"

enum step_kind {
	STEP_END,
	STEP_EXPECT, /* the client must send exactly these bytes */
	STEP_SEND,   /* the server sends these */
	STEP_TLS,    /* the server starts TLS (server side) */
	STEP_CLOSE,  /* the server closes */
	STEP_HOLD,   /* the server reads and ignores everything */
	STEP_ANY,    /* on any input, drop it and send these */
};

struct step {
	enum step_kind kind;
	const char *data;
	size_t len;
};

#define C(s)                                                                   \
	{                                                                      \
		STEP_EXPECT, s, sizeof(s) - 1                                  \
	}
#define S(s)                                                                   \
	{                                                                      \
		STEP_SEND, s, sizeof(s) - 1                                    \
	}
#define TLS                                                                    \
	{                                                                      \
		STEP_TLS, NULL, 0                                              \
	}
#define CLOSE                                                                  \
	{                                                                      \
		STEP_CLOSE, NULL, 0                                            \
	}
#define HOLD                                                                   \
	{                                                                      \
		STEP_HOLD, NULL, 0                                             \
	}
#define ANY(s)                                                                 \
	{                                                                      \
		STEP_ANY, s, sizeof(s) - 1                                     \
	}
#define END                                                                    \
	{                                                                      \
		STEP_END, NULL, 0                                              \
	}

#define GREET S("220 mx.test ESMTP\r\n")
#define EHLO C("EHLO client.test\r\n")
#define QUIT C("QUIT\r\n"), S("221 2.0.0 bye\r\n"), CLOSE

struct harness {
	struct event_base *base;
	struct event *guard;
	struct conn *srv;
	struct tls_ctx *srv_tls;
	const struct step *steps;
	size_t step;
	size_t pos;
	bool mismatch;
	struct smtp_client *client;
	bool client_closed;
	struct smtp_client_msg **msgs;
	size_t nmsgs;
	size_t next_msg;
	bool no_quit; /* stay idle after the last message */
	bool in_send;
	char log[4096];
};

/* Test-wide TLS material: a self-signed "mx.test" certificate. */
static char tmpdir[] = "/tmp/postern-client-XXXXXX";
static char cert_path[256], key_path[256];
static struct tls_ctx *srv_tls, *cli_tls, *cli_tls_trusting;

static void hlog(struct harness *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void hlog(struct harness *h, const char *fmt, ...)
{
	size_t len = strlen(h->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->log + len, sizeof(h->log) - len, fmt, ap);
	va_end(ap);
}

static void show(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "%s: \"", what);
	for (size_t i = 0; i < len && i < 400; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r')
			fputs("\\r", stderr);
		else if (ch == '\n')
			fputs("\\n", stderr);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
	fputs("\"\n", stderr);
}

static void harness_check_done(struct harness *h)
{
	if (h->client_closed && h->srv == NULL)
		event_base_loopexit(h->base, NULL);
}

/* One EXPECT step against what arrived. Returns false to wait. */
static bool srv_expect(struct harness *h, const struct step *s)
{
	size_t avail, n;
	const char *in = conn_input(h->srv, &avail);

	n = s->len - h->pos < avail ? s->len - h->pos : avail;
	if (n == 0)
		return false;
	if (memcmp(in, s->data + h->pos, n) != 0) {
		fprintf(stderr, "step %zu, offset %zu:\n", h->step, h->pos);
		show("want", s->data + h->pos, s->len - h->pos);
		show("got ", in, avail);
		h->mismatch = true;
		event_base_loopexit(h->base, NULL);
		return false;
	}
	conn_input_consume(h->srv, n);
	h->pos += n;
	if (h->pos < s->len)
		return false;
	h->pos = 0;
	return true;
}

static void srv_run(struct harness *h)
{
	size_t avail;

	for (;;) {
		const struct step *s = &h->steps[h->step];

		switch (s->kind) {
		case STEP_SEND:
			conn_write(h->srv, s->data, s->len);
			break;
		case STEP_EXPECT:
			if (!srv_expect(h, s))
				return;
			break;
		case STEP_TLS:
			h->step++;
			conn_start_tls(h->srv, h->srv_tls, NULL);
			return; /* on with CONN_EV_TLS_DONE */
		case STEP_CLOSE:
			h->step++;
			conn_close(h->srv);
			return;
		case STEP_ANY:
			conn_input(h->srv, &avail);
			if (avail == 0)
				return;
			conn_input_consume(h->srv, avail);
			conn_write(h->srv, s->data, s->len);
			break;
		case STEP_HOLD:
			conn_input(h->srv, &avail);
			conn_input_consume(h->srv, avail);
			return;
		case STEP_END:
			conn_input(h->srv, &avail);
			if (avail > 0 && !h->mismatch) {
				fprintf(stderr, "after the script:\n");
				show("got ", conn_input(h->srv, &avail), avail);
				h->mismatch = true;
			}
			return;
		}
		h->step++;
	}
}

static void srv_cb(struct conn *conn, enum conn_event ev, void *arg)
{
	struct harness *h = arg;

	(void)conn;
	switch (ev) {
	case CONN_EV_DATA:
	case CONN_EV_TLS_DONE:
		srv_run(h);
		break;
	case CONN_EV_CLOSED:
		conn_free(&h->srv);
		harness_check_done(h);
		break;
	default:
		break;
	}
}

static void next_or_quit(struct harness *h, struct smtp_client *c)
{
	if (h->next_msg < h->nmsgs) {
		h->in_send = true;
		assert_int_equal(smtp_client_send(c, h->msgs[h->next_msg++]),
				 0);
		h->in_send = false;
		/* Not idle while a message is in flight. */
		assert_int_equal(smtp_client_send(c, h->msgs[0]), -1);
	} else if (!h->no_quit) {
		smtp_client_quit(c);
	}
}

static void cb_ready(struct smtp_client *c, void *arg)
{
	struct harness *h = arg;
	const struct conn *conn = smtp_client_conn(c);

	assert_false(h->in_send);
	hlog(h, "ready%s%s%s;", conn_is_tls(conn) ? ":tls" : "",
	     conn_tls_verified(conn) ? ":verified" : "",
	     smtp_client_authenticated(c) ? ":auth" : "");
	next_or_quit(h, c);
}

static void cb_sent(struct smtp_client *c, struct smtp_client_msg *m,
		    const struct smtp_client_result *r, void *arg)
{
	struct harness *h = arg;

	assert_false(h->in_send); /* never from inside smtp_client_send() */
	assert_true(r->permanent == (r->status[0] == '5'));
	hlog(h, "sent:%d:%s", r->code, r->status);
	for (size_t i = 0; i < m->nrcpts; i++)
		hlog(h, ":%d/%s", m->rcpts[i].result.code,
		     m->rcpts[i].result.status);
	hlog(h, ";");
	next_or_quit(h, c);
}

static void cb_failed(struct smtp_client *c, const struct smtp_client_result *r,
		      void *arg)
{
	struct harness *h = arg;

	(void)c;
	hlog(h, "failed:%s:%d:%s;", smtp_client_stage_name(r->stage), r->code,
	     r->status);
}

static void cb_closed(struct smtp_client *c, void *arg)
{
	struct harness *h = arg;

	assert_ptr_equal(c, h->client);
	assert_null(smtp_client_conn(c));
	hlog(h, "closed;");
	smtp_client_free(&h->client);
	h->client_closed = true;
	harness_check_done(h);
}

static const struct smtp_client_cb callbacks = {
	.ready = cb_ready,
	.sent = cb_sent,
	.failed = cb_failed,
	.closed = cb_closed,
};

static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct harness *h = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "harness timeout at step %zu, log %s\n", h->step,
		h->log);
	h->mismatch = true;
	event_base_loopexit(h->base, NULL);
}

/* Run the client with params against steps; compare the log. */
static void run(const struct smtp_client_params *params,
		const struct step *steps, struct smtp_client_msg **msgs,
		size_t nmsgs, const char *want_log, bool no_quit)
{
	struct harness h = {0};
	struct timeval tv = {5, 0};
	int sv[2];
	struct conn *cli;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	h.base = event_base_new();
	assert_non_null(h.base);
	h.guard = evtimer_new(h.base, guard_cb, &h);
	evtimer_add(h.guard, &tv);
	h.steps = steps;
	h.msgs = msgs;
	h.nmsgs = nmsgs;
	h.no_quit = no_quit;
	h.srv_tls = srv_tls;
	h.srv = conn_new(h.base, sv[1], NULL, 4096);
	conn_set_callback(h.srv, srv_cb, &h);
	cli = conn_new(h.base, sv[0], NULL, 512);
	h.client = smtp_client_new(h.base, cli, params, &callbacks, &h);
	srv_run(&h);
	event_base_dispatch(h.base);

	smtp_client_free(&h.client);
	conn_free(&h.srv);
	event_free(h.guard);
	event_base_free(h.base);
	assert_false(h.mismatch);
	if (h.steps[h.step].kind != STEP_END &&
	    h.steps[h.step].kind != STEP_HOLD)
		fail_msg("script stopped at step %zu", h.step);
	if (strcmp(h.log, want_log) != 0)
		fail_msg("log\n  got  %s\n  want %s", h.log, want_log);
}

/* A message: body in a memory file, up to 4 recipients. */
struct tmsg {
	struct smtp_client_msg m;
	struct smtp_client_rcpt r[4];
};

static void tmsg_init(struct tmsg *t, const char *body, size_t len,
		      const char *r1, const char *r2)
{
	memset(t, 0, sizeof(*t));
	t->m.sender = "a@x.test";
	t->m.size = len;
	t->m.rcpts = t->r;
	t->r[0].address = r1;
	t->r[1].address = r2;
	t->m.nrcpts = r2 != NULL ? 2 : 1;
	t->m.fd = memfd_create("msg", MFD_CLOEXEC);
	assert_true(t->m.fd >= 0);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(t->m.fd, body + off, len - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
	/* The client must not depend on the file offset. */
	assert_int_equal(lseek(t->m.fd, 0, SEEK_END), (off_t)len);
}

static void tmsg_fini(struct tmsg *t)
{
	close(t->m.fd);
}

#define BODY "Subject: t\r\n\r\nhi\r\n"
#define BODY_WIRE BODY ".\r\n"

static const struct smtp_client_params plain = {
	.helo = "client.test",
	.tls_mode = SMTP_TLS_NONE,
	.minute_ms = 1000,
};

static void run1(const struct smtp_client_params *p, const struct step *steps,
		 struct tmsg *t, const char *want)
{
	struct smtp_client_msg *m = &t->m;

	run(p, steps, &m, 1, want, false);
}

static void test_pipelining(void **state)
{
	static const struct step steps[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n"
		  "250 8BITMIME\r\n"),
		/* One group: no reply is awaited before DATA. */
		C("MAIL FROM:<a@x.test> SIZE=18\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n"),
		C(BODY_WIRE),
		S("250 2.0.0 queued\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	/* DSN parameters only go to a server that offers DSN. */
	t.r[0].notify = SMTP_NOTIFY_SUCCESS;
	t.r[0].orcpt = "rfc822;b@y.test";
	t.m.ret = SMTP_RET_HDRS;
	t.m.envid = "X1";
	run1(&plain, steps, &t,
	     "ready;sent:250:2.0.0:250/2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
}

static void test_one_by_one(void **state)
{
	static const struct step steps[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 SIZE\r\n"),
		C("MAIL FROM:<a@x.test> SIZE=18\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<c@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C(BODY_WIRE),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	run1(&plain, steps, &t,
	     "ready;sent:250:2.0.0:250/2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
}

static void test_helo_fallback(void **state)
{
	static const struct step steps[] = {
		GREET,
		EHLO,
		S("502 5.5.1 what?\r\n"),
		C("HELO client.test\r\n"),
		S("250 mx.test\r\n"),
		/* No extension after HELO: no SIZE, no BODY. */
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C(BODY_WIRE),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	static const struct step refused[] = {
		GREET,
		EHLO,
		S("500 no\r\n"),
		C("HELO client.test\r\n"),
		S("550 5.7.1 go away\r\n"),
		C("QUIT\r\n"),
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", NULL);
	t.m.body_8bit = true;
	run1(&plain, steps, &t, "ready;sent:250:2.0.0:250/2.0.0;closed;");
	run(&plain, refused, NULL, 0, "failed:EHLO:550:5.7.1;closed;", false);
	tmsg_fini(&t);
}

static void test_rcpt_refused(void **state)
{
	static const struct step one[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n550-5.1.1 no such\r\n550 5.1.1 user\r\n"
		  "250 ok\r\n354 go\r\n"),
		C(BODY_WIRE),
		S("250 2.0.0 queued\r\n"),
		QUIT,
		END,
	};
	/* Not pipelined: no DATA when nobody is left. */
	static const struct step all[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("550 5.1.1 no\r\n"),
		C("RCPT TO:<c@y.test>\r\n"),
		S("450 4.2.0 later\r\n"),
		QUIT,
		END,
	};
	/* Pipelined: DATA went anyway and is refused. */
	static const struct step all_pipe[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n550 5.1.1 no\r\n551 5.1.6 moved\r\n"
		  "554 5.5.1 no valid recipients\r\n"),
		QUIT,
		END,
	};
	/* RFC 2920 3.1: DATA accepted anyway: a lone dot ends it. */
	static const struct step all_354[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n550 5.1.1 no\r\n551 5.1.6 moved\r\n354 go\r\n"),
		C(".\r\n"),
		S("554 5.5.1 no recipients\r\n"),
		QUIT,
		END,
	};
	/* MAIL refused: the RCPT replies say nothing about recipients. */
	static const struct step mail_pipe[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("553 5.1.8 bad sender\r\n503 5.5.1 no\r\n503 5.5.1 no\r\n"
		  "503 5.5.1 no\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	run1(&plain, one, &t,
	     "ready;sent:250:2.0.0:550/5.1.1:250/2.0.0;closed;");
	run1(&plain, all, &t,
	     "ready;sent:450:4.2.0:550/5.1.1:450/4.2.0;closed;");
	run1(&plain, all_pipe, &t,
	     "ready;sent:551:5.1.6:550/5.1.1:551/5.1.6;closed;");
	run1(&plain, all_354, &t,
	     "ready;sent:551:5.1.6:550/5.1.1:551/5.1.6;closed;");
	run1(&plain, mail_pipe, &t,
	     "ready;sent:553:5.1.8:553/5.1.8:553/5.1.8;closed;");
	tmsg_fini(&t);
}

static void test_dsn(void **state)
{
	static const struct step steps[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250-PIPELINING\r\n250 DSN\r\n"),
		C("MAIL FROM:<a@x.test> RET=HDRS ENVID=QQ+2B1\r\n"
		  "RCPT TO:<b@y.test> NOTIFY=SUCCESS,FAILURE "
		  "ORCPT=rfc822;b@y.test\r\n"
		  "RCPT TO:<c@y.test> NOTIFY=NEVER\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		C(BODY_WIRE),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	t.m.ret = SMTP_RET_HDRS;
	t.m.envid = "QQ+2B1";
	t.r[0].notify = SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE;
	t.r[0].orcpt = "rfc822;b@y.test";
	t.r[1].notify = SMTP_NOTIFY_NEVER;
	run1(&plain, steps, &t,
	     "ready;sent:250:2.0.0:250/2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
}

static void test_size_limit(void **state)
{
	/* RFC 1870 6.1: over the fixed limit, nothing is sent. */
	static const struct step steps[] = {
		GREET, EHLO, S("250-mx.test\r\n250 SIZE 17\r\n"), QUIT, END,
	};
	static const struct step ok[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 SIZE 18\r\n"),
		C("MAIL FROM:<a@x.test> SIZE=18\r\n"),
		S("552 5.3.4 too big after all\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	run1(&plain, steps, &t, "ready;sent:0:5.3.4:0/5.3.4:0/5.3.4;closed;");
	run1(&plain, ok, &t,
	     "ready;sent:552:5.3.4:552/5.3.4:552/5.3.4;closed;");
	tmsg_fini(&t);
}

static void test_smtputf8(void **state)
{
	static const struct step without[] = {
		GREET, EHLO, S("250-mx.test\r\n250 8BITMIME\r\n"), QUIT, END,
	};
	static const struct step with[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"),
		C("MAIL FROM:<a@x.test> BODY=8BITMIME SMTPUTF8\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<j\xc3\xb6@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C(BODY_WIRE),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", NULL);
	t.m.smtputf8 = true;
	run1(&plain, without, &t, "ready;sent:0:5.6.7:0/5.6.7;closed;");
	/* A UTF-8 address needs it even when the flag was forgotten. */
	t.m.smtputf8 = false;
	t.r[0].address = "j\xc3\xb6@y.test";
	run1(&plain, without, &t, "ready;sent:0:5.6.7:0/5.6.7;closed;");
	run1(&plain, with, &t, "ready;sent:250:2.0.0:250/2.0.0;closed;");
	/* A CRLF in the envelope is refused, not written. */
	t.r[0].address = "b@y.test>\r\nRCPT TO:<evil@z.test";
	run1(&plain, without, &t, "ready;sent:0:5.5.2:0/5.5.2;closed;");
	tmsg_fini(&t);
}

static void test_dot_stuffing(void **state)
{
	static const char body[] = ".hello\r\n..x\r\nmid.dot\r\n.\r\n"
				   "bare\nlf\rcr\r\n\r.\n.end";
	static const struct step steps[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("..hello\r\n...x\r\nmid.dot\r\n..\r\nbare\r\nlf\r\ncr\r\n"
		  "\r\n..\r\n..end\r\n.\r\n"),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	static const struct step empty[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C(".\r\n"),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	static const struct step cr_end[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("x\r\n.\r\n"),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, body, sizeof(body) - 1, "b@y.test", NULL);
	t.m.size = 0; /* unknown: no SIZE= */
	run1(&plain, steps, &t, "ready;sent:250:2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
	tmsg_init(&t, "", 0, "b@y.test", NULL);
	run1(&plain, empty, &t, "ready;sent:250:2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
	tmsg_init(&t, "x\r", 2, "b@y.test", NULL);
	run1(&plain, cr_end, &t, "ready;sent:250:2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
}

static void test_two_messages(void **state)
{
	static const struct step steps[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C(BODY_WIRE),
		S("250 2.0.0 one\r\n"),
		/* The first ended: no RSET. */
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("second\r\n.\r\n"),
		S("250 2.0.0 two\r\n"),
		QUIT,
		END,
	};
	/* DATA refused: the transaction is open, RSET leads the next. */
	static const struct step rset[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n451 4.3.0 not now\r\n"),
		C("RSET\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@y.test>\r\n"
		  "DATA\r\n"),
		S("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		C("second\r\n.\r\n"),
		S("250 2.0.0 two\r\n"),
		QUIT,
		END,
	};
	/* Not pipelined, every RCPT refused: RSET, its reply, then MAIL. */
	static const struct step rset1[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("550 5.1.1 no\r\n"),
		C("RSET\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<c@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("second\r\n.\r\n"),
		S("250 2.0.0 two\r\n"),
		QUIT,
		END,
	};
	struct tmsg t1, t2;
	struct smtp_client_msg *msgs[2] = {&t1.m, &t2.m};

	(void)state;
	tmsg_init(&t1, BODY, strlen(BODY), "b@y.test", NULL);
	tmsg_init(&t2, "second", 6, "c@y.test", NULL);
	t1.m.size = t2.m.size = 0;
	run(&plain, steps, msgs, 2,
	    "ready;sent:250:2.0.0:250/2.0.0;sent:250:2.0.0:250/2.0.0;closed;",
	    false);
	run(&plain, rset, msgs, 2,
	    "ready;sent:451:4.3.0:451/4.3.0;sent:250:2.0.0:250/2.0.0;closed;",
	    false);
	run(&plain, rset1, msgs, 2,
	    "ready;sent:550:5.1.1:550/5.1.1;sent:250:2.0.0:250/2.0.0;closed;",
	    false);
	tmsg_fini(&t1);
	tmsg_fini(&t2);
}

static void test_greeting(void **state)
{
	/* RFC 5321 3.8: after 421 the server closes; no QUIT. */
	static const struct step busy[] = {
		S("421 4.3.2 busy\r\n"),
		END,
	};
	/* RFC 5321 3.1: after 554 the client says QUIT. */
	static const struct step no[] = {
		S("554 5.7.1 no service\r\n"),
		C("QUIT\r\n"),
		END,
	};
	static const struct step multi[] = {
		S("220-mx.test hello\r\n220 more\r\n"),
		EHLO,
		S("250 mx.test\r\n"),
		QUIT,
		END,
	};
	static const struct step junk[] = {
		S("hello\r\n"),
		END,
	};

	(void)state;
	run(&plain, busy, NULL, 0, "failed:greeting:421:4.3.2;closed;", false);
	run(&plain, no, NULL, 0, "failed:greeting:554:5.7.1;closed;", false);
	run(&plain, multi, NULL, 0, "ready;closed;", false);
	run(&plain, junk, NULL, 0, "failed:greeting:0:4.5.0;closed;", false);
}

static long elapsed_ms(const struct timeval *t0)
{
	struct timeval t1;

	gettimeofday(&t1, NULL);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_usec - t0->tv_usec) / 1000;
}

static void test_timeouts(void **state)
{
	/* RFC 5321 4.5.3.2.1: 5 "minutes" of 20 ms for the greeting. */
	static const struct step greeting[] = {HOLD};
	/* 4.5.3.2.6: 10 minutes after the final dot. */
	static const struct step dot[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C(BODY_WIRE),
		HOLD,
	};
	struct smtp_client_params p = plain;
	struct timeval t0;
	struct tmsg t;
	long ms;

	(void)state;
	p.minute_ms = 20;
	gettimeofday(&t0, NULL);
	run(&p, greeting, NULL, 0, "failed:greeting:0:4.4.2;closed;", false);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 95 && ms < 2000);
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", NULL);
	t.m.size = 0;
	gettimeofday(&t0, NULL);
	run1(&p, dot, &t,
	     "ready;sent:0:4.4.2:0/4.4.2;failed:end of data:0:4.4.2;closed;");
	ms = elapsed_ms(&t0);
	assert_true(ms >= 195 && ms < 3000);
	tmsg_fini(&t);
}

static void test_lost(void **state)
{
	static const struct step rcpt[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		C("MAIL FROM:<a@x.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<c@y.test>\r\n"),
		CLOSE,
		END,
	};
	/* A server that ends an idle session is no failure. */
	static const struct step idle[] = {
		GREET, EHLO, S("250 mx.test\r\n421 4.4.2 idle too long\r\n"),
		CLOSE, END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	t.m.size = 0;
	run1(&plain, rcpt, &t,
	     "ready;sent:0:4.4.2:0/4.4.2:0/4.4.2;failed:RCPT:0:4.4.2;"
	     "closed;");
	run(&plain, idle, NULL, 0, "ready;closed;", true);
	tmsg_fini(&t);
}

/* Reference dot-stuffing of a CRLF-only text, for the large test. */
static size_t stuff_ref(const char *in, size_t len, char *out)
{
	size_t o = 0;
	bool start = true;

	for (size_t i = 0; i < len; i++) {
		if (start && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		start = in[i] == '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static void test_large(void **state)
{
	/* Larger than the output high mark: the body waits for FLUSHED. */
	size_t max = 3 * 1024 * 1024, len = 0, wire_len;
	char *body = xmalloc(max), *wire = xmalloc(2 * max + 3);
	struct tmsg t;

	(void)state;
	for (unsigned line = 0; max - len > 64; line++)
		len += (size_t)snprintf(body + len, max - len,
					"%sline %u of the body\r\n",
					line % 7 == 0 ? "." : "", line);
	wire_len = stuff_ref(body, len, wire);
	{
		const struct step steps[] = {
			GREET,
			EHLO,
			S("250 mx.test\r\n"),
			C("MAIL FROM:<a@x.test>\r\n"),
			S("250 ok\r\n"),
			C("RCPT TO:<b@y.test>\r\n"),
			S("250 ok\r\n"),
			C("DATA\r\n"),
			S("354 go\r\n"),
			{STEP_EXPECT, wire, wire_len},
			S("250 queued\r\n"),
			QUIT,
			END,
		};

		tmsg_init(&t, body, len, "b@y.test", NULL);
		t.m.size = 0;
		run1(&plain, steps, &t,
		     "ready;sent:250:2.0.0:250/2.0.0;closed;");
	}
	tmsg_fini(&t);
	free(body);
	free(wire);
}

static void test_starttls(void **state)
{
	static const struct step may[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		/* Pipelined after the 220 in plaintext: must be dropped. */
		S("220 2.0.0 go ahead\r\n250 injected\r\n"),
		TLS,
		EHLO,
		S("250-mx.test\r\n250 SIZE 100\r\n"),
		C("MAIL FROM:<a@x.test> SIZE=18\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C(BODY_WIRE),
		S("250 2.0.0 queued\r\n"),
		QUIT,
		END,
	};
	static const struct step short_[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("220 go\r\n"),
		TLS,
		EHLO,
		S("250 mx.test\r\n"),
		QUIT,
		END,
	};
	static const struct step untrusted[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("220 go\r\n"),
		TLS,
		C("QUIT\r\n"),
		END,
	};
	struct smtp_client_params p = plain;
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", NULL);
	p.tls_mode = SMTP_TLS_MAY;
	p.tls = cli_tls;
	p.servername = "mx.test";
	run1(&p, may, &t, "ready:tls;sent:250:2.0.0:250/2.0.0;closed;");
	/* Trusted and the right name: verified. */
	p.tls = cli_tls_trusting;
	p.tls_verify = true;
	run(&p, short_, NULL, 0, "ready:tls:verified;closed;", false);
	/* Trusted but another name; then not trusted at all. */
	p.servername = "other.test";
	run(&p, untrusted, NULL, 0, "failed:TLS:0:4.7.5;closed;", false);
	p.servername = "mx.test";
	p.tls = cli_tls;
	run(&p, untrusted, NULL, 0, "failed:TLS:0:4.7.5;closed;", false);
	tmsg_fini(&t);
}

static void test_starttls_policy(void **state)
{
	static const struct step missing[] = {
		GREET, EHLO, S("250 mx.test\r\n"), C("QUIT\r\n"), END,
	};
	static const struct step missing_may[] = {
		GREET, EHLO, S("250 mx.test\r\n"), QUIT, END,
	};
	static const struct step refused[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("454 4.7.0 TLS not available\r\n"),
		QUIT,
		END,
	};
	static const struct step refused_enc[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("454 4.7.0 TLS not available\r\n"),
		C("QUIT\r\n"),
		END,
	};
	static const struct step offered[] = {
		GREET, EHLO, S("250-mx.test\r\n250 STARTTLS\r\n"), QUIT, END,
	};
	/* No TLS handshake after 220: the client gives up. */
	static const struct step broken[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("220 go\r\n"),
		ANY("this is not TLS\r\n"),
		HOLD,
	};
	struct smtp_client_params p = plain;

	(void)state;
	p.tls = cli_tls;
	p.servername = "mx.test";
	p.tls_mode = SMTP_TLS_ENCRYPT;
	run(&p, missing, NULL, 0, "failed:STARTTLS:0:4.7.5;closed;", false);
	run(&p, refused_enc, NULL, 0, "failed:STARTTLS:454:4.7.0;closed;",
	    false);
	p.tls_mode = SMTP_TLS_MAY;
	run(&p, missing_may, NULL, 0, "ready;closed;", false);
	run(&p, refused, NULL, 0, "ready;closed;", false);
	run(&p, broken, NULL, 0, "failed:TLS:0:4.7.5;closed;", false);
	/* NONE never asks. */
	p.tls_mode = SMTP_TLS_NONE;
	run(&p, offered, NULL, 0, "ready;closed;", false);
}

static void test_auth(void **state)
{
	/* RFC 8314: TLS from the first byte, then PLAIN (RFC 4616). */
	static const struct step plain_[] = {
		TLS,
		GREET,
		EHLO,
		S("250-mx.test\r\n250 AUTH LOGIN PLAIN\r\n"),
		C("AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
		S("235 2.7.0 ok\r\n"),
		QUIT,
		END,
	};
	static const struct step login[] = {
		TLS,
		GREET,
		EHLO,
		S("250-mx.test\r\n250 AUTH=LOGIN\r\n"),
		C("AUTH LOGIN\r\n"),
		S("334 VXNlcm5hbWU6\r\n"),
		C("dXNlcg==\r\n"),
		S("334 UGFzc3dvcmQ6\r\n"),
		C("c2VjcmV0\r\n"),
		S("235 2.7.0 ok\r\n"),
		QUIT,
		END,
	};
	static const struct step bad[] = {
		TLS,
		GREET,
		EHLO,
		S("250-mx.test\r\n250 AUTH PLAIN\r\n"),
		C("AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
		S("535 5.7.8 credentials invalid\r\n"),
		C("QUIT\r\n"),
		END,
	};
	static const struct step none[] = {
		TLS,	       GREET,
		EHLO,	       S("250-mx.test\r\n250 AUTH CRAM-MD5\r\n"),
		C("QUIT\r\n"), END,
	};
	/* Credentials make TLS required: never AUTH in plaintext. */
	static const struct step clear[] = {
		GREET,	       EHLO, S("250-mx.test\r\n250 AUTH PLAIN\r\n"),
		C("QUIT\r\n"), END,
	};
	struct smtp_client_params p = plain;

	(void)state;
	p.tls = cli_tls;
	p.servername = "mx.test";
	p.tls_mode = SMTP_TLS_IMPLICIT;
	p.auth_user = "user";
	p.auth_password = "secret";
	run(&p, plain_, NULL, 0, "ready:tls:auth;closed;", false);
	run(&p, login, NULL, 0, "ready:tls:auth;closed;", false);
	run(&p, bad, NULL, 0, "failed:AUTH:535:5.7.8;closed;", false);
	run(&p, none, NULL, 0, "failed:AUTH:0:4.7.0;closed;", false);
	p.tls_mode = SMTP_TLS_MAY;
	run(&p, clear, NULL, 0, "failed:STARTTLS:0:4.7.5;closed;", false);
}

static int setup(void **state)
{
	struct tls_server_params sp = {0};
	const char *error = NULL;

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* as postern's main() does */
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmpdir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", tmpdir);
	if (tls_selfsigned_write(cert_path, key_path, "mx.test", 2, &error) <
	    0) {
		fprintf(stderr, "%s\n", error);
		return -1;
	}
	sp.cert = cert_path;
	sp.key = key_path;
	sp.min_version = 12;
	srv_tls = tls_ctx_server_new(&sp, &error);
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	cli_tls = tls_ctx_client_new(&error);
	/* The system trust store, as read from the environment. */
	setenv("SSL_CERT_FILE", cert_path, 1);
	setenv("SSL_CERT_DIR", tmpdir, 1);
	cli_tls_trusting = tls_ctx_client_new(&error);
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	return srv_tls && cli_tls && cli_tls_trusting ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tls_ctx_free(&srv_tls);
	tls_ctx_free(&cli_tls);
	tls_ctx_free(&cli_tls_trusting);
	unlink(cert_path);
	unlink(key_path);
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_one_by_one),
		cmocka_unit_test(test_helo_fallback),
		cmocka_unit_test(test_rcpt_refused),
		cmocka_unit_test(test_dsn),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_smtputf8),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_two_messages),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_policy),
		cmocka_unit_test(test_auth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
