/*
 * Test harness for smtp/client: the client runs in an event loop against
 * a scripted server on the other end of a socketpair, in the same
 * process and loop. The script says exactly which bytes the client must
 * send and what the server answers (TLS included); the callbacks write a
 * log that run() compares at the end.
 */
#ifndef TEST_CLIENT_HARNESS_H
#define TEST_CLIENT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

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

/* One transaction, one recipient, one command at a time, up to 354. */
#define TXN1                                                                   \
	C("MAIL FROM:<a@x.test>\r\n"), S("250 ok\r\n"),                        \
		C("RCPT TO:<b@y.test>\r\n"), S("250 ok\r\n"), C("DATA\r\n"),   \
		S("354 go\r\n")

#define GREET S("220 mx.test ESMTP\r\n")
#define EHLO C("EHLO client.test\r\n")
#define QUIT C("QUIT\r\n"), S("221 2.0.0 bye\r\n"), CLOSE

/* A message: body in a memory file, up to 4 recipients. */
struct tmsg {
	struct smtp_client_msg m;
	struct smtp_client_rcpt r[4];
};

/* Sender a@x.test, size len, recipients r1 and r2 (may be NULL). */
void tmsg_init(struct tmsg *t, const char *body, size_t len, const char *r1,
	       const char *r2);
void tmsg_fini(struct tmsg *t);

#define BODY "Subject: t\r\n\r\nhi\r\n"
#define BODY_WIRE BODY ".\r\n"

/* helo client.test, no TLS, 1 s "minutes". */
extern const struct smtp_client_params plain;

/*
 * Run the client with params against steps, sending msgs in turn from
 * ready() and sent(), then QUIT unless no_quit; fail unless the log is
 * want_log and the whole script ran.
 */
void run(const struct smtp_client_params *params, const struct step *steps,
	 struct smtp_client_msg **msgs, size_t nmsgs, const char *want_log,
	 bool no_quit);
/* When true, run() asks for RSET before every message after the first
 * (smtp_client_rset_next), as a connection cache does. */
extern bool harness_rset_next;
/* run() with one message. */
void run1(const struct smtp_client_params *p, const struct step *steps,
	  struct tmsg *t, const char *want);

/* TLS: a self-signed "mx.test" certificate in a temporary folder. */
extern struct tls_ctx *srv_tls;		 /* server side, that certificate */
extern struct tls_ctx *cli_tls;		 /* client, system trust store */
extern struct tls_ctx *cli_tls_trusting; /* client trusting it */
/* cmocka group setup and teardown: SIGPIPE ignored, TLS made/freed. */
int harness_setup(void **state);
int harness_teardown(void **state);

#endif
