/*
 * smtp/client in plaintext: exact bytes on the wire for EHLO/HELO,
 * MAIL/RCPT/DATA with and without PIPELINING, DSN, SIZE, SMTPUTF8,
 * dot-stuffing, several messages, failures and timeouts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>

#include "lib/mem.h"
#include "net/conn.h"
#include "smtp/client.h"

#include "client_harness.h"

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
		TXN1,
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
	/* RFC 6152 3: after HELO there is no 8BITMIME, so a message
	 * declared 8-bit is refused before MAIL, not sent as is. */
	static const struct step eight[] = {
		GREET,
		EHLO,
		S("502 5.5.1 what?\r\n"),
		C("HELO client.test\r\n"),
		S("250 mx.test\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", NULL);
	run1(&plain, steps, &t, "ready;sent:250:2.0.0:250/2.0.0;closed;");
	t.m.body_8bit = true;
	run1(&plain, eight, &t, "ready;sent:0:5.6.3:0/5.6.3;closed;");
	run(&plain, refused, NULL, 0, "failed:EHLO:550:5.7.1;closed;", false);
	tmsg_fini(&t);
}

/* RFC 6152 3: 8-bit data, declared or not, needs the server's 8BITMIME. */
static void test_8bitmime(void **state)
{
	static const char body8[] = "Subject: t\r\n\r\nd\xc3\xa9j\xc3\xa0\r\n";
	static const struct step without[] = {
		GREET, EHLO, S("250-mx.test\r\n250 PIPELINING\r\n"), QUIT, END,
	};
	/* The same server, a 7-bit body: it goes as is. */
	static const struct step seven[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		C(BODY_WIRE),
		S("250 2.0.0 queued\r\n"),
		QUIT,
		END,
	};
	static const struct step with[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 8BITMIME\r\n"),
		C("MAIL FROM:<a@x.test> BODY=8BITMIME\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.test>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<c@y.test>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("Subject: t\r\n\r\nd\xc3\xa9j\xc3\xa0\r\n.\r\n"),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	struct tmsg t;

	(void)state;
	/* Not declared, but found in the file: refused for both. */
	tmsg_init(&t, body8, strlen(body8), "b@y.test", "c@y.test");
	run1(&plain, without, &t, "ready;sent:0:5.6.3:0/5.6.3:0/5.6.3;closed;");
	t.m.body_8bit = true;
	run1(&plain, without, &t, "ready;sent:0:5.6.3:0/5.6.3:0/5.6.3;closed;");
	run1(&plain, with, &t,
	     "ready;sent:250:2.0.0:250/2.0.0:250/2.0.0;closed;");
	tmsg_fini(&t);
	tmsg_init(&t, BODY, strlen(BODY), "b@y.test", "c@y.test");
	run1(&plain, seven, &t,
	     "ready;sent:250:2.0.0:250/2.0.0:250/2.0.0;closed;");
	t.m.body_8bit = true; /* declared: refused though the body is 7-bit */
	run1(&plain, without, &t, "ready;sent:0:5.6.3:0/5.6.3:0/5.6.3;closed;");
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
		TXN1,
		C("..hello\r\n...x\r\nmid.dot\r\n..\r\nbare\r\nlf\r\ncr\r\n"
		  "\r\n..\r\n..end\r\n.\r\n"),
		S("250 queued\r\n"),
		QUIT,
		END,
	};
	static const struct step empty[] = {
		GREET, EHLO,	   S("250 mx.test\r\n"),
		TXN1,  C(".\r\n"), S("250 queued\r\n"),
		QUIT,  END,
	};
	static const struct step cr_end[] = {
		GREET,
		EHLO,
		S("250 mx.test\r\n"),
		TXN1,
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
	static const struct step cached[] = {
		GREET,
		EHLO,
		S("250-mx.test\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C(BODY_WIRE),
		S("250 2.0.0 one\r\n"),
		C("RSET\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@y.test>\r\n"
		  "DATA\r\n"),
		S("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
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
	/* A cached session: RSET before the second although the first
	 * ended (pipelined with the rest). */
	harness_rset_next = true;
	run(&plain, cached, msgs, 2,
	    "ready;sent:250:2.0.0:250/2.0.0;sent:250:2.0.0:250/2.0.0;closed;",
	    false);
	harness_rset_next = false;
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
		GREET, EHLO, S("250 mx.test\r\n"), TXN1, C(BODY_WIRE), HOLD,
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
			TXN1,
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
		cmocka_unit_test(test_8bitmime),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_two_messages),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
