/* The scripted server and the callbacks of the smtp/client tests. */
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

#include "client_harness.h"

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
struct tls_ctx *srv_tls, *cli_tls, *cli_tls_trusting;

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

bool harness_rset_next;

static void next_or_quit(struct harness *h, struct smtp_client *c)
{
	if (h->next_msg < h->nmsgs) {
		if (h->next_msg > 0 && harness_rset_next)
			smtp_client_rset_next(c);
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

void run(const struct smtp_client_params *params, const struct step *steps,
	 struct smtp_client_msg **msgs, size_t nmsgs, const char *want_log,
	 bool no_quit)
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
void tmsg_init(struct tmsg *t, const char *body, size_t len, const char *r1,
	       const char *r2)
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

void tmsg_fini(struct tmsg *t)
{
	close(t->m.fd);
}

const struct smtp_client_params plain = {
	.helo = "client.test",
	.tls_mode = SMTP_TLS_NONE,
	.minute_ms = 1000,
};

void run1(const struct smtp_client_params *p, const struct step *steps,
	  struct tmsg *t, const char *want)
{
	struct smtp_client_msg *m = &t->m;

	run(p, steps, &m, 1, want, false);
}

int harness_setup(void **state)
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

int harness_teardown(void **state)
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
