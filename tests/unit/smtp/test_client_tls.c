/*
 * smtp/client with TLS: STARTTLS (and the plaintext it must drop), the
 * certificate check, the TLS policies, implicit TLS and AUTH.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_policy),
		cmocka_unit_test(test_auth),
	};

	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
