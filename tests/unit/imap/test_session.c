/*
 * imap/session: the input path (command lines, synchronizing and LITERAL+
 * literals, caps, broken lines) driven over a socketpair in one event
 * loop, each exchange fed whole and then one byte at a time, comparing
 * the exact bytes the server writes. Only what works before login (and
 * without TLS) is reachable here; the rest is in
 * tests/integration/test_imap.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "imap/session.h"
#include "net/conn.h"

struct harness {
	struct event_base *base;
	int peer;
	struct imap_server srv;
	char out[65536];
	size_t out_len;
	bool eof;
};

/* Run the loop until the server has nothing more to do for now. */
static void settle(struct harness *h)
{
	for (int i = 0; i < 20; i++) {
		char buf[8192];
		ssize_t n;

		event_base_loop(h->base, EVLOOP_NONBLOCK);
		while ((n = read(h->peer, buf, sizeof(buf))) > 0) {
			assert_true(h->out_len + (size_t)n < sizeof(h->out));
			memcpy(h->out + h->out_len, buf, (size_t)n);
			h->out_len += (size_t)n;
			i = 0; /* progress: keep going */
		}
		if (n == 0)
			h->eof = true;
	}
}

static void start(struct harness *h)
{
	int sv[2];
	struct conn *c;

	memset(h, 0, sizeof(*h));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	h->peer = sv[1];
	h->base = event_base_new();
	assert_non_null(h->base);
	h->srv.hostname = "mail.test";
	h->srv.data_dir = "/nonexistent";
	h->srv.max_message_size = 1000;
	c = conn_new(h->base, sv[0], NULL, 1024);
	imap_session_start(c, &h->srv);
	settle(h);
}

static void finish(struct harness *h)
{
	close(h->peer);
	settle(h); /* the session sees EOF and frees itself */
	event_base_free(h->base);
}

/* What the server wrote since the last call, as a C string. */
static const char *output(struct harness *h, char *buf, size_t size)
{
	size_t n = h->out_len < size - 1 ? h->out_len : size - 1;

	memcpy(buf, h->out, n);
	buf[n] = '\0';
	h->out_len = 0;
	return buf;
}

static void feed(struct harness *h, const char *in, size_t len, bool bytewise)
{
	if (!bytewise) {
		assert_int_equal(write(h->peer, in, len), (ssize_t)len);
		settle(h);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(write(h->peer, in + i, 1), 1);
		event_base_loop(h->base, EVLOOP_NONBLOCK);
	}
	settle(h);
}

struct exchange {
	const char *in;
	size_t in_len;
	const char *out; /* exact bytes expected */
};

#define X(in, out)                                                             \
	{                                                                      \
		in, sizeof(in) - 1, out                                        \
	}

static const struct exchange exchanges[] = {
	X("a NOOP\r\n", "a OK NOOP completed\r\n"),
	X("a noop\n", "a OK NOOP completed\r\n"), /* bare LF taken */
	/* Synchronizing literals: a "+" for each, then the command. */
	X("b LOGIN {5}\r\n", "+ Ready for literal data\r\n"),
	X("alice {3}\r\n", "+ Ready for literal data\r\n"),
	X("pwd\r\n", "b NO [PRIVACYREQUIRED] Use STARTTLS first; credentials "
		     "travel only over TLS\r\n"),
	/* LITERAL+: no "+" at all. */
	X("c LOGIN {5+}\r\nalice {3+}\r\npwd\r\n",
	  "c NO [PRIVACYREQUIRED] Use STARTTLS first; credentials travel "
	  "only over TLS\r\n"),
	/* An empty literal and a literal holding CRLF and a quote. */
	X("d ID (\"k\" {0+}\r\n \"v\" {4+}\r\n\"\r\nx)\r\n",
	  "* ID (\"name\" \"postern\" \"vendor\" \"postern\")\r\n"
	  "d OK ID completed\r\n"),
	/* Over the cap before login: refused without "+"... */
	X("e LOGIN {5000}\r\n", "e BAD Literal too large\r\n"),
	/* Not allowed before login, literal and all. */
	X("g APPEND INBOX {3+}\r\nabc\r\n",
	  "g BAD APPEND not allowed before login\r\n"),
	X("h SELECT INBOX\r\n", "h BAD SELECT not allowed before login\r\n"),
	X("i FROB\r\n", "i BAD Unknown command FROB\r\n"),
	X(")\r\n", "* BAD Missing tag\r\n"),
	X("+ NOOP\r\n", "* BAD Missing tag\r\n"),
	X("j\r\n", "j BAD Missing command\r\n"),
	X("k NOOP x\r\n", "k BAD Unexpected extra arguments\r\n"),
	X("l NOOP\0\r\n", "l BAD Lines end in CRLF and hold no NUL\r\n"),
	X("m ID (\"a\"\r\n", "m BAD Bad ID parameters\r\n"),
	X("n UID\r\n", "n BAD UID needs a command\r\n"),
	X("o uid frob 1\r\n", "o BAD Unknown command UID FROB\r\n"),
	X("p STARTTLS\r\n", "p BAD STARTTLS not available\r\n"),
	X("q CAPABILITY\r\n",
	  "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID IDLE NAMESPACE ENABLE "
	  "UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE "
	  "COMPRESS=DEFLATE UIDPLUS MOVE CONDSTORE QRESYNC ESEARCH SEARCHRES "
	  "BINARY LOGINDISABLED\r\n"
	  "q OK CAPABILITY completed\r\n"),
};

static void run_exchanges(bool bytewise)
{
	struct harness h;
	char buf[8192];
	char big[4200];

	start(&h);
	assert_true(strncmp(output(&h, buf, sizeof(buf)),
			    "* OK [CAPABILITY IMAP4rev1 ", 27) == 0);
	for (size_t i = 0; i < sizeof(exchanges) / sizeof(exchanges[0]); i++) {
		const struct exchange *x = &exchanges[i];

		feed(&h, x->in, x->in_len, bytewise);
		if (strcmp(output(&h, buf, sizeof(buf)), x->out) != 0)
			fail_msg("exchange %zu (%s): got \"%s\"", i, x->in,
				 buf);
	}
	/* Over the cap with LITERAL+: read and dropped, then answered. */
	feed(&h, "f LOGIN x {4097+}\r\n", 19, bytewise);
	assert_string_equal(output(&h, buf, sizeof(buf)), "");
	memset(big, 'x', 4097);
	memcpy(big + 4097, "\r\n", 2);
	feed(&h, big, 4099, bytewise);
	assert_string_equal(output(&h, buf, sizeof(buf)),
			    "f BAD Literal too large\r\n");
	/* A line over the limit ends its command; the next one works. */
	{
		size_t n = 40000;
		char *line = malloc(n + 32);

		assert_non_null(line);
		memcpy(line, "r NOOP ", 7);
		memset(line + 7, 'y', n);
		memcpy(line + 7 + n, "\r\ns NOOP\r\n", 10);
		feed(&h, line, n + 17, false);
		assert_string_equal(
			output(&h, buf, sizeof(buf)),
			"r BAD Line too long\r\ns OK NOOP completed\r\n");
		free(line);
	}
	feed(&h, "t LOGOUT\r\n", 10, bytewise);
	assert_string_equal(output(&h, buf, sizeof(buf)),
			    "* BYE Logging out\r\nt OK LOGOUT completed\r\n");
	assert_true(h.eof);
	finish(&h);
}

static void test_whole(void **state)
{
	(void)state;
	run_exchanges(false);
}

static void test_bytewise(void **state)
{
	(void)state;
	run_exchanges(true);
}

/* Commands pipelined in one write are answered in order. */
static void test_pipelined(void **state)
{
	struct harness h;
	char buf[4096];
	static const char in[] = "a NOOP\r\nb LOGIN {1+}\r\nx y\r\nc NOOP\r\n";

	(void)state;
	start(&h);
	output(&h, buf, sizeof(buf));
	feed(&h, in, sizeof(in) - 1, false);
	assert_string_equal(output(&h, buf, sizeof(buf)),
			    "a OK NOOP completed\r\n"
			    "b NO [PRIVACYREQUIRED] Use STARTTLS first; "
			    "credentials travel only over TLS\r\n"
			    "c OK NOOP completed\r\n");
	finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_pipelined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
