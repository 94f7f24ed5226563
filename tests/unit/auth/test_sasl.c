/*
 * SASL mechanisms: names, the base64 framing, PLAIN and LOGIN against a
 * temporary user database (decoding tables, authzid, unknown users and
 * their timing), SCRAM-SHA-256 with the RFC 7677 3 test vector byte for
 * byte, its parsers' tables, and a full exchange driven by a client
 * written here from RFC 5802 3. The password check off the event loop:
 * through a real offload pool, cancelled by freeing the exchange, and
 * refused by a full queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/sasl.h"
#include "auth/scram.h"
#include "auth/userdb.h"
#include "lib/base64.h"
#include "lib/mem.h"
#include "net/crypto.h"
#include "net/offload.h"

#define ALICE "alice@example.org"
#define ALICE_PW "s3cret pass"
#define HASHONLY "hashonly@example.org" /* added with --hash: no SCRAM */

struct fixture {
	char dir[64];
	char *path;
	struct userdb *db;
};

static struct fixture fx;

/* example.org with alice (yescrypt + SCRAM) and hashonly (bcrypt). */
static int group_setup(void **state)
{
	struct userdb_scram scram;
	const char *error = NULL;
	char *hash, *setting;
	void *data = NULL;
	int size = 0;

	(void)state;
	strlcpy_p(fx.dir, "/tmp/postern-sasl-XXXXXX", sizeof(fx.dir));
	assert_non_null(mkdtemp(fx.dir));
	fx.path = xasprintf("%s/%s", fx.dir, USERDB_FILE);
	fx.db = userdb_open(fx.path, true, &error);
	assert_non_null(fx.db);
	assert_int_equal(userdb_domain_add(fx.db, "example.org", &error), 0);
	assert_int_equal(password_hash(ALICE_PW, &hash, &error), 0);
	assert_int_equal(scram_credentials_make(ALICE_PW, &scram, &error), 0);
	assert_int_equal(userdb_user_add(fx.db, ALICE, hash, &scram, 0, &error),
			 0);
	free(hash);
	setting = crypt_gensalt_ra("$2b$", 4, NULL, 0);
	hash = crypt_ra(ALICE_PW, setting, &data, &size);
	assert_int_equal(
		userdb_user_add(fx.db, HASHONLY, hash, NULL, 0, &error), 0);
	free(data);
	free(setting);
	return 0;
}

static int group_teardown(void **state)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	(void)state;
	userdb_free(&fx.db);
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", fx.path, suffixes[i]);

		unlink(p);
		free(p);
	}
	rmdir(fx.dir);
	free(fx.path);
	return 0;
}

/* base64 of raw[0..n) into a fresh string. */
static char *b64(const void *raw, size_t n)
{
	char *s = xmalloc(base64_encoded_len(n) + 1);

	base64_encode(raw, n, s);
	return s;
}

/*
 * One step with in (NULL: no input); checks out and *out_len agree. A
 * password check (SASL_PENDING) is run inline, as without a pool, and
 * its result returned.
 */
static enum sasl_result step(struct sasl_server *s, const char *in, char *out)
{
	size_t n = 99;
	enum sasl_result r = sasl_server_step(
		s, in != NULL ? in : "", in != NULL ? strlen(in) : 0,
		in != NULL, out, SASL_CHALLENGE_MAX, &n);

	assert_int_equal(n, strlen(out));
	if (r != SASL_CONTINUE)
		assert_int_equal(n, 0);
	if (r == SASL_PENDING) {
		assert_null(sasl_server_user(s));
		assert_false(sasl_server_verify(s, NULL, NULL, NULL));
		r = sasl_server_finish(s);
		assert_true(r == SASL_OK || r == SASL_FAIL);
	}
	return r;
}

/* ---- names ---- */

static void test_mech_names(void **state)
{
	enum sasl_mech m;

	(void)state;
	assert_string_equal(sasl_mech_list(), "PLAIN LOGIN SCRAM-SHA-256");
	assert_int_equal(sasl_mech_parse("plain", 5, &m), 0);
	assert_int_equal(m, SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("Login", 5, &m), 0);
	assert_int_equal(m, SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_parse("scram-sha-256", 13, &m), 0);
	assert_int_equal(m, SASL_MECH_SCRAM_SHA_256);
	assert_int_equal(sasl_mech_parse("PLAINX", 5, &m), 0); /* by length */
	assert_int_equal(sasl_mech_parse("PLAINX", 6, &m), -1);
	assert_int_equal(sasl_mech_parse("PLAI", 4, &m), -1);
	assert_int_equal(sasl_mech_parse("SCRAM-SHA-256-PLUS", 18, &m), -1);
	assert_int_equal(sasl_mech_parse("SCRAM-SHA-1", 11, &m), -1);
	assert_int_equal(sasl_mech_parse("", 0, &m), -1);
	assert_string_equal(sasl_mech_name(SASL_MECH_SCRAM_SHA_256),
			    "SCRAM-SHA-256");
}

/* ---- base64 framing ---- */

static const struct {
	const char *in;
	bool initial;
	int rc;
	size_t len;
} decode_rows[] = {
	{"=", true, 0, 0},   /* RFC 4954 4: empty initial response */
	{"=", false, -1, 0}, /* only as the initial response */
	{"", false, 0, 0},   /* empty line: empty response */
	{"", true, 0, 0},    /* (a caller with have_input) */
	{"AGEAYg==", true, 0, 4},
	{"AGEAYg=", true, -1, 0},   /* length not a multiple of 4 */
	{"AGEA Yg==", true, -1, 0}, /* no whitespace */
	{"AGE*Yg==", true, -1, 0},
	{"AGEAYg==AAAA", true, -1, 0}, /* padding only at the end */
	{"*", false, -1, 0},	       /* the cancel is not base64 */
};

static void test_response_decode(void **state)
{
	unsigned char buf[SASL_DECODED_MAX];
	char *big;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(decode_rows) / sizeof(decode_rows[0]);
	     i++) {
		len = 99;
		print_message("  '%s'\n", decode_rows[i].in);
		assert_int_equal(sasl_response_decode(decode_rows[i].in,
						      strlen(decode_rows[i].in),
						      decode_rows[i].initial,
						      buf, sizeof(buf), &len),
				 decode_rows[i].rc);
		if (decode_rows[i].rc == 0)
			assert_int_equal(len, decode_rows[i].len);
	}
	/* exactly the maximum decodes; one more octet is over-long */
	memset(buf, 'x', sizeof(buf));
	big = b64(buf, sizeof(buf));
	assert_int_equal(sasl_response_decode(big, strlen(big), true, buf,
					      sizeof(buf), &len),
			 0);
	assert_int_equal(len, SASL_DECODED_MAX);
	assert_int_equal(sasl_response_decode(big, strlen(big), true, buf,
					      sizeof(buf) - 1, &len),
			 -2);
	free(big);
}

/* ---- PLAIN ---- */

#define M(s) s, sizeof(s) - 1

static const struct {
	const char *msg;
	size_t len;
	int rc;
	const char *authzid, *authcid, *passwd;
} plain_rows[] = {
	{M("\0alice\0pw"), 0, "", "alice", "pw"},
	{M("alice\0alice\0pw"), 0, "alice", "alice", "pw"},
	{M("\0alice\0p\xc3\xa4ss w"), 0, "", "alice", "p\xc3\xa4ss w"},
	{M("\0j\xc3\xb6rg\0pw"), 0, "", "j\xc3\xb6rg", "pw"},
	{M(""), -1, NULL, NULL, NULL},
	{M("alice"), -1, NULL, NULL, NULL},	    /* no NUL */
	{M("\0alicepw"), -1, NULL, NULL, NULL},	    /* one NUL */
	{M("\0alice\0pw\0"), -1, NULL, NULL, NULL}, /* three */
	{M("\0\0pw"), -1, NULL, NULL, NULL},	    /* empty authcid */
	{M("\0alice\0"), -1, NULL, NULL, NULL},	    /* empty passwd */
	{M("\0\0"), -1, NULL, NULL, NULL},
	{M("\0al\xc3ice\0pw"), -1, NULL, NULL, NULL},	  /* bad UTF-8 */
	{M("\xff\0alice\0pw"), -1, NULL, NULL, NULL},	  /* bad authzid */
	{M("\0al\xc0\xafice\0pw"), -1, NULL, NULL, NULL}, /* overlong */
};

static void test_plain_parse(void **state)
{
	struct sasl_plain p;

	(void)state;
	for (size_t i = 0; i < sizeof(plain_rows) / sizeof(plain_rows[0]);
	     i++) {
		const unsigned char *msg =
			(const unsigned char *)plain_rows[i].msg;
		size_t len = plain_rows[i].len;

		print_message("  row %zu\n", i);
		assert_int_equal(sasl_plain_parse(msg, len, &p),
				 plain_rows[i].rc);
		if (plain_rows[i].rc != 0)
			continue;
		assert_int_equal(p.authzid_len, strlen(plain_rows[i].authzid));
		assert_memory_equal(p.authzid, plain_rows[i].authzid,
				    p.authzid_len);
		assert_int_equal(p.authcid_len, strlen(plain_rows[i].authcid));
		assert_memory_equal(p.authcid, plain_rows[i].authcid,
				    p.authcid_len);
		assert_int_equal(p.passwd_len, strlen(plain_rows[i].passwd));
		assert_memory_equal(p.passwd, plain_rows[i].passwd,
				    p.passwd_len);
		/* no proper prefix of a good message is one */
		for (size_t k = 0; k < len; k++) {
			if (sasl_plain_parse(msg, k, &p) == 0)
				assert_true(memchr(msg + k, '\0', len - k) ==
					    NULL);
		}
	}
}

static const struct {
	const char *msg; /* decoded; NULL: use b64 as is */
	size_t len;
	const char *b64;
	enum sasl_result result;
	const char *user; /* after SASL_OK */
} plain_exchange_rows[] = {
	{M("\0" ALICE "\0" ALICE_PW), NULL, SASL_OK, ALICE},
	{M("\0Alice@EXAMPLE.org\0" ALICE_PW), NULL, SASL_OK, ALICE},
	{M(ALICE "\0" ALICE "\0" ALICE_PW), NULL, SASL_OK, ALICE},
	{M("ALICE@example.org\0" ALICE "\0" ALICE_PW), NULL, SASL_OK, ALICE},
	{M("bob@example.org\0" ALICE "\0" ALICE_PW), NULL, SASL_FAIL, NULL},
	{M("\0" ALICE "\0" ALICE_PW "x"), NULL, SASL_FAIL, NULL},
	{M("\0" ALICE "\0s3cret"), NULL, SASL_FAIL, NULL},
	{M("\0zed@example.org\0" ALICE_PW), NULL, SASL_FAIL, NULL},
	{M("\0" HASHONLY "\0" ALICE_PW), NULL, SASL_OK, HASHONLY}, /* $2b$ */
	{M("\0" ALICE ALICE_PW), NULL, SASL_MALFORMED, NULL},
	{M(ALICE ALICE_PW), NULL, SASL_MALFORMED, NULL},
	{M("\0\0" ALICE_PW), NULL, SASL_MALFORMED, NULL},
	{NULL, 0, "=", SASL_MALFORMED, NULL},	     /* empty */
	{NULL, 0, "AGFsaWNl", SASL_MALFORMED, NULL}, /* "\0alice": one NUL */
	{NULL, 0, "AGFsaWNlAHB3!===", SASL_MALFORMED, NULL},
	{NULL, 0, "AGFsaWNlAHB3", SASL_FAIL,
	 NULL}, /* \0alice\0pw: no such user */
	{NULL, 0, "*", SASL_MALFORMED, NULL},
};

static void test_plain_exchange(void **state)
{
	char out[SASL_CHALLENGE_MAX];

	(void)state;
	for (size_t i = 0;
	     i < sizeof(plain_exchange_rows) / sizeof(plain_exchange_rows[0]);
	     i++) {
		struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN, fx.db);
		char *in = plain_exchange_rows[i].msg != NULL
				   ? b64(plain_exchange_rows[i].msg,
					 plain_exchange_rows[i].len)
				   : xstrdup(plain_exchange_rows[i].b64);
		enum sasl_result r = step(s, in, out);

		print_message("  row %zu: %s -> %d %s\n", i, in, r,
			      sasl_server_error(s));
		assert_int_equal(r, plain_exchange_rows[i].result);
		if (r == SASL_OK)
			assert_string_equal(sasl_server_user(s),
					    plain_exchange_rows[i].user);
		else
			assert_null(sasl_server_user(s));
		sasl_server_free(&s);
		assert_null(s);
		free(in);
	}
}

/* No initial response: an empty challenge, then the message. */
static void test_plain_no_initial(void **state)
{
	char out[SASL_CHALLENGE_MAX];
	char *in = b64("\0" ALICE "\0" ALICE_PW, sizeof(ALICE ALICE_PW) + 1);
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN, fx.db);

	(void)state;
	assert_int_equal(step(s, NULL, out), SASL_CONTINUE);
	assert_string_equal(out, "");
	assert_int_equal(step(s, in, out), SASL_OK);
	assert_string_equal(sasl_server_user(s), ALICE);
	sasl_server_free(&s);
	s = sasl_server_new(SASL_MECH_PLAIN, fx.db);
	assert_int_equal(step(s, NULL, out), SASL_CONTINUE);
	/* "=" is an empty initial response only; here it is not base64 */
	assert_int_equal(step(s, "=", out), SASL_MALFORMED);
	assert_string_equal(sasl_server_error(s), "response is not base64");
	sasl_server_free(&s);
	sasl_server_free(&s); /* NULL is fine */
	free(in);
}

/* Over-long: a message of more than SASL_DECODED_MAX octets. */
static void test_plain_overlong(void **state)
{
	char out[SASL_CHALLENGE_MAX];
	size_t n = SASL_DECODED_MAX + 1;
	char *msg = xmalloc(n), *in;
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN, fx.db);

	(void)state;
	memset(msg, 'a', n);
	msg[0] = '\0';
	msg[10] = '\0';
	in = b64(msg, n);
	assert_int_equal(step(s, in, out), SASL_MALFORMED);
	assert_string_equal(sasl_server_error(s), "response too long");
	sasl_server_free(&s);
	/* a long password (over PASSWORD_MAX) but a short message: FAIL */
	free(in);
	in = b64(msg, PASSWORD_MAX + 20);
	s = sasl_server_new(SASL_MECH_PLAIN, fx.db);
	assert_int_equal(step(s, in, out), SASL_FAIL);
	sasl_server_free(&s);
	free(in);
	free(msg);
}

/* ---- LOGIN ---- */

static void test_login(void **state)
{
	char out[SASL_CHALLENGE_MAX];
	char *user = b64(ALICE, strlen(ALICE));
	char *pw = b64(ALICE_PW, strlen(ALICE_PW));
	char *bad = b64("wrong", 5);
	struct sasl_server *s = sasl_server_new(SASL_MECH_LOGIN, fx.db);

	(void)state;
	assert_int_equal(step(s, NULL, out), SASL_CONTINUE);
	assert_string_equal(out, "VXNlcm5hbWU6"); /* "Username:" */
	assert_int_equal(step(s, user, out), SASL_CONTINUE);
	assert_string_equal(out, "UGFzc3dvcmQ6"); /* "Password:" */
	assert_null(sasl_server_user(s));
	assert_int_equal(step(s, pw, out), SASL_OK);
	assert_string_equal(sasl_server_user(s), ALICE);
	sasl_server_free(&s);
	/* the user name as initial response */
	s = sasl_server_new(SASL_MECH_LOGIN, fx.db);
	assert_int_equal(step(s, user, out), SASL_CONTINUE);
	assert_string_equal(out, "UGFzc3dvcmQ6");
	assert_int_equal(step(s, bad, out), SASL_FAIL);
	assert_string_equal(sasl_server_error(s), "wrong password");
	sasl_server_free(&s);
	/* empty user name, empty password, bad base64, cancel */
	s = sasl_server_new(SASL_MECH_LOGIN, fx.db);
	assert_int_equal(step(s, "=", out), SASL_MALFORMED);
	sasl_server_free(&s);
	s = sasl_server_new(SASL_MECH_LOGIN, fx.db);
	assert_int_equal(step(s, user, out), SASL_CONTINUE);
	assert_int_equal(step(s, "", out), SASL_FAIL);
	sasl_server_free(&s);
	s = sasl_server_new(SASL_MECH_LOGIN, fx.db);
	assert_int_equal(step(s, NULL, out), SASL_CONTINUE);
	assert_int_equal(step(s, "dXNlcg=", out), SASL_MALFORMED);
	sasl_server_free(&s);
	s = sasl_server_new(SASL_MECH_LOGIN, fx.db);
	assert_int_equal(step(s, user, out), SASL_CONTINUE);
	assert_int_equal(step(s, "*", out), SASL_MALFORMED);
	assert_string_equal(sasl_server_error(s), "cancelled by the client");
	sasl_server_free(&s);
	/* NUL inside a LOGIN response */
	s = sasl_server_new(SASL_MECH_LOGIN, fx.db);
	assert_int_equal(step(s, "YQBi", out), SASL_MALFORMED);
	sasl_server_free(&s);
	free(user);
	free(pw);
	free(bad);
}

/* ---- no user enumeration by timing ---- */

static double plain_seconds(const char *msg, size_t len)
{
	char out[SASL_CHALLENGE_MAX];
	char *in = b64(msg, len);
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN, fx.db);
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(step(s, in, out), SASL_FAIL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sasl_server_free(&s);
	free(in);
	return (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void test_unknown_user_timing(void **state)
{
	double wrong = 1e9, unknown = 1e9;

	(void)state;
	/* the fastest of a few, to shed scheduling noise */
	for (int i = 0; i < 3; i++) {
		double w = plain_seconds(M("\0" ALICE "\0wrong password"));
		double u = plain_seconds(M("\0nobody@example.org\0wrong pw"));

		wrong = w < wrong ? w : wrong;
		unknown = u < unknown ? u : unknown;
	}
	print_message("  wrong password %.4fs, unknown user %.4fs\n", wrong,
		      unknown);
	/* both run one yescrypt at the default cost */
	assert_true(unknown > wrong / 3);
	assert_true(unknown < wrong * 3);
}

/* ---- the check on a pool, off the loop ---- */

struct pending {
	struct sasl_server *s;
	pthread_t loop;
	int calls;
	enum sasl_result r;
};

static void pending_done(void *arg)
{
	struct pending *p = arg;

	assert_true(pthread_equal(pthread_self(), p->loop));
	p->calls++;
	p->r = sasl_server_finish(p->s);
}

/* Run base until the pool has nothing left; fail after 10 s. */
static void drain(struct event_base *base, struct offload *o)
{
	for (int i = 0; i < 1000 && offload_count(o) > 0; i++) {
		struct timeval tv = {0, 10000};

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(offload_count(o), 0);
}

/* Start an exchange of mech with in (one step, or two for LOGIN). */
static void pending_start(struct pending *p, enum sasl_mech mech,
			  const char *first, const char *second)
{
	char out[SASL_CHALLENGE_MAX];
	size_t n;

	memset(p, 0, sizeof(*p));
	p->loop = pthread_self();
	p->s = sasl_server_new(mech, fx.db);
	if (second != NULL) {
		assert_int_equal(sasl_server_step(p->s, first, strlen(first),
						  true, out, sizeof(out), &n),
				 SASL_CONTINUE);
		first = second;
	}
	assert_int_equal(sasl_server_step(p->s, first, strlen(first), true, out,
					  sizeof(out), &n),
			 SASL_PENDING);
	assert_string_equal(out, "");
}

static void test_pending_pool(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 2, 8);
	char *good = b64(M("\0" ALICE "\0" ALICE_PW));
	char *bad = b64(M("\0" ALICE "\0wrong"));
	char *nobody = b64(M("\0nobody@example.org\0" ALICE_PW));
	char *user = b64(ALICE, strlen(ALICE));
	char *pw = b64(ALICE_PW, strlen(ALICE_PW));
	struct pending p[4];

	(void)state;
	pending_start(&p[0], SASL_MECH_PLAIN, good, NULL);
	pending_start(&p[1], SASL_MECH_PLAIN, bad, NULL);
	pending_start(&p[2], SASL_MECH_PLAIN, nobody, NULL);
	pending_start(&p[3], SASL_MECH_LOGIN, user, pw);
	for (int i = 0; i < 4; i++)
		assert_true(sasl_server_verify(p[i].s, o, pending_done, &p[i]));
	/* never from inside verify */
	for (int i = 0; i < 4; i++)
		assert_int_equal(p[i].calls, 0);
	drain(base, o);
	for (int i = 0; i < 4; i++)
		assert_int_equal(p[i].calls, 1);
	assert_int_equal(p[0].r, SASL_OK);
	assert_string_equal(sasl_server_user(p[0].s), ALICE);
	assert_int_equal(p[1].r, SASL_FAIL);
	assert_string_equal(sasl_server_error(p[1].s), "wrong password");
	assert_null(sasl_server_user(p[1].s));
	assert_int_equal(p[2].r, SASL_FAIL);
	assert_string_equal(sasl_server_error(p[2].s), "unknown user");
	assert_int_equal(p[3].r, SASL_OK);
	assert_string_equal(sasl_server_user(p[3].s), ALICE);
	for (int i = 0; i < 4; i++)
		sasl_server_free(&p[i].s);
	offload_free(&o);
	event_base_free(base);
	free(good);
	free(bad);
	free(nobody);
	free(user);
	free(pw);
}

/* The session ends while its check runs or waits: done never comes, and
 * the check's memory is freed once its thread is done (ASan watches). */
static void test_pending_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 8);
	char *good = b64(M("\0" ALICE "\0" ALICE_PW));
	char *nobody = b64(M("\0nobody@example.org\0x"));
	struct pending p[3];

	(void)state;
	pending_start(&p[0], SASL_MECH_PLAIN, good, NULL);
	pending_start(&p[1], SASL_MECH_PLAIN, nobody, NULL);
	pending_start(&p[2], SASL_MECH_PLAIN, good, NULL);
	for (int i = 0; i < 3; i++)
		assert_true(sasl_server_verify(p[i].s, o, pending_done, &p[i]));
	usleep(5000); /* the first one is most likely running */
	sasl_server_free(&p[0].s);
	sasl_server_free(&p[1].s);
	assert_null(p[0].s);
	drain(base, o);
	assert_int_equal(p[0].calls, 0);
	assert_int_equal(p[1].calls, 0);
	assert_int_equal(p[2].calls, 1);
	assert_int_equal(p[2].r, SASL_OK);
	sasl_server_free(&p[2].s);
	/* and after the check completed, before the loop ran its done */
	pending_start(&p[0], SASL_MECH_PLAIN, good, NULL);
	assert_true(sasl_server_verify(p[0].s, o, pending_done, &p[0]));
	usleep(300000); /* yescrypt is ~30 ms */
	sasl_server_free(&p[0].s);
	drain(base, o);
	assert_int_equal(p[0].calls, 0);
	offload_free(&o);
	event_base_free(base);
	free(good);
	free(nobody);
}

/* A full queue: the check is refused at once with SASL_TEMPFAIL. */
static void test_pending_queue_full(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 1);
	char *good = b64(M("\0" ALICE "\0" ALICE_PW));
	struct pending p[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		pending_start(&p[i], SASL_MECH_PLAIN, good, NULL);
	assert_true(sasl_server_verify(p[0].s, o, pending_done, &p[0]));
	/* one runs or waits; with one thread and room for one waiting job,
	 * the third is refused whatever the thread is doing */
	if (!sasl_server_verify(p[1].s, o, pending_done, &p[1]))
		assert_int_equal(sasl_server_finish(p[1].s), SASL_TEMPFAIL);
	assert_false(sasl_server_verify(p[2].s, o, pending_done, &p[2]));
	assert_int_equal(sasl_server_finish(p[2].s), SASL_TEMPFAIL);
	assert_string_equal(sasl_server_error(p[2].s),
			    "password check queue is full");
	assert_null(sasl_server_user(p[2].s));
	drain(base, o);
	assert_int_equal(p[0].calls, 1);
	assert_int_equal(p[0].r, SASL_OK);
	assert_int_equal(p[2].calls, 0);
	for (int i = 0; i < 3; i++)
		sasl_server_free(&p[i].s);
	offload_free(&o);
	event_base_free(base);
	free(good);
}

/* ---- SCRAM-SHA-256: RFC 7677 3 ---- */

#define V_CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_SFIRST                                                               \
	"r=rOprNGfwEbeRWgbNEkqO" V_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CFINAL_NP "c=biws,r=rOprNGfwEbeRWgbNEkqO" V_SNONCE
#define V_PROOF "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define V_STORED "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
#define V_SERVER "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

/* The vector's user: "user", password "pencil"; others have none. */
static int vector_lookup(void *ctx, const char *username,
			 struct userdb_scram *cred_r, const char **error_r)
{
	unsigned char salt[16];
	size_t n;

	(void)ctx;
	if (strcmp(username, "user") != 0)
		return 1;
	assert_int_equal(base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt,
				       sizeof(salt), &n),
			 0);
	assert_int_equal(scram_credentials_derive("pencil", salt, n, 4096,
						  cred_r, error_r),
			 0);
	return 0;
}

/* Feed msg to s; the result, out holding the server message. */
static enum sasl_result sfeed(struct scram_server *s, const char *msg,
			      char *out)
{
	size_t n = 99;
	enum sasl_result r =
		scram_server_step(s, (const unsigned char *)msg, strlen(msg),
				  out, SCRAM_SERVER_MSG_MAX, &n);

	assert_int_equal(n, strlen(out));
	return r;
}

static struct scram_server *vector_server(void)
{
	struct scram_server *s = scram_server_new(vector_lookup, NULL);

	scram_server_set_nonce(s, V_SNONCE);
	return s;
}

static void test_scram_credentials(void **state)
{
	struct userdb_scram c1, c2;
	const char *error;

	(void)state;
	assert_int_equal(vector_lookup(NULL, "user", &c1, &error), 0);
	assert_string_equal(c1.salt, "W22ZaJ0SNY7soEsUEjb6gQ==");
	assert_int_equal(c1.iterations, 4096);
	assert_string_equal(c1.stored_key, V_STORED);
	assert_string_equal(c1.server_key, V_SERVER);
	assert_int_equal(userdb_scram_check(&c1, &error), 0);
	assert_int_equal(scram_credentials_make("pencil", &c1, &error), 0);
	assert_int_equal(scram_credentials_make("pencil", &c2, &error), 0);
	assert_int_equal(c1.iterations, SCRAM_ITERATIONS);
	assert_int_equal(strlen(c1.salt), 24); /* 16 octets */
	assert_string_not_equal(c1.salt, c2.salt);
	assert_string_not_equal(c1.stored_key, c2.stored_key);
	assert_int_equal(scram_credentials_make("", &c1, &error), -1);
	assert_int_equal(scram_credentials_derive("pencil", "salt", 4, 4095,
						  &c1, &error),
			 -1);
	assert_int_equal(
		scram_credentials_derive("pencil", "", 0, 4096, &c1, &error),
		-1);
}

static void test_scram_vector(void **state)
{
	char out[SCRAM_SERVER_MSG_MAX];
	struct scram_server *s = vector_server();

	(void)state;
	assert_int_equal(sfeed(s, V_CFIRST, out), SASL_CONTINUE);
	assert_string_equal(out, V_SFIRST);
	assert_null(scram_server_user(s));
	assert_int_equal(sfeed(s, V_CFINAL_NP "," V_PROOF, out), SASL_CONTINUE);
	assert_string_equal(out, V_SFINAL);
	assert_null(scram_server_user(s));
	assert_int_equal(sfeed(s, "", out), SASL_OK);
	assert_string_equal(out, "");
	assert_string_equal(scram_server_user(s), "user");
	scram_server_free(&s);
	assert_null(s);
}

/* Client-final messages after the vector's client-first that fail. */
static const struct {
	const char *final;
	enum sasl_result result;
} final_rows[] = {
	/* one bit of the proof changed */
	{V_CFINAL_NP ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=",
	 SASL_FAIL},
	/* the nonce without the server's part, or changed */
	{"c=biws,r=rOprNGfwEbeRWgbNEkqO," V_PROOF, SASL_FAIL},
	{"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1," V_PROOF,
	 SASL_FAIL},
	{"c=biws,r=rOprNGfwEbeRWgbNEkqP" V_SNONCE "," V_PROOF, SASL_FAIL},
	/* channel binding data not our gs2-header */
	{"c=eSws,r=rOprNGfwEbeRWgbNEkqO" V_SNONCE "," V_PROOF, SASL_FAIL},
	/* malformed */
	{V_CFINAL_NP, SASL_MALFORMED},
	{V_CFINAL_NP ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
	 SASL_MALFORMED},
	{V_CFINAL_NP ",p=AAAA", SASL_MALFORMED},
	{"r=rOprNGfwEbeRWgbNEkqO" V_SNONCE ",c=biws," V_PROOF, SASL_MALFORMED},
	{"c=biws," V_PROOF, SASL_MALFORMED},
	{"c=bi!s,r=rOprNGfwEbeRWgbNEkqO" V_SNONCE "," V_PROOF, SASL_MALFORMED},
	{"", SASL_MALFORMED},
};

static void test_scram_bad_final(void **state)
{
	char out[SCRAM_SERVER_MSG_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(final_rows) / sizeof(final_rows[0]);
	     i++) {
		struct scram_server *s = vector_server();

		print_message("  %s\n", final_rows[i].final);
		assert_int_equal(sfeed(s, V_CFIRST, out), SASL_CONTINUE);
		assert_int_equal(sfeed(s, final_rows[i].final, out),
				 final_rows[i].result);
		assert_string_equal(out, "");
		assert_null(scram_server_user(s));
		assert_true(scram_server_error(s)[0] != '\0');
		scram_server_free(&s);
	}
}

/* After server-final, only an empty response authenticates. */
static void test_scram_ack(void **state)
{
	char out[SCRAM_SERVER_MSG_MAX];
	struct scram_server *s = vector_server();

	(void)state;
	assert_int_equal(sfeed(s, V_CFIRST, out), SASL_CONTINUE);
	assert_int_equal(sfeed(s, V_CFINAL_NP "," V_PROOF, out), SASL_CONTINUE);
	assert_int_equal(sfeed(s, "x", out), SASL_MALFORMED);
	assert_null(scram_server_user(s));
	scram_server_free(&s);
}

/* gs2 flags: "y" is fine (we offer no -PLUS), "p=" and "m=" fail. */
static void test_scram_gs2(void **state)
{
	char out[SCRAM_SERVER_MSG_MAX];
	struct scram_server *s = vector_server();

	(void)state;
	assert_int_equal(sfeed(s, "y,,n=user,r=rOprNGfwEbeRWgbNEkqO", out),
			 SASL_CONTINUE);
	assert_string_equal(out, V_SFIRST);
	/* "c=biws" is "n,,": the client must echo its own header */
	assert_int_equal(sfeed(s, V_CFINAL_NP "," V_PROOF, out), SASL_FAIL);
	scram_server_free(&s);
	s = vector_server();
	assert_int_equal(sfeed(s, "p=tls-unique,,n=user,r=abc", out),
			 SASL_FAIL);
	scram_server_free(&s);
	s = vector_server();
	assert_int_equal(sfeed(s, "n,,m=x,n=user,r=abc", out), SASL_FAIL);
	scram_server_free(&s);
	/* authzid: the user itself only */
	s = vector_server();
	assert_int_equal(
		sfeed(s, "n,a=user,n=user,r=rOprNGfwEbeRWgbNEkqO", out),
		SASL_CONTINUE);
	scram_server_free(&s);
	s = vector_server();
	assert_int_equal(sfeed(s, "n,a=admin,n=user,r=abc", out), SASL_FAIL);
	scram_server_free(&s);
}

static const struct {
	const char *msg;
	const char *username, *authzid, *nonce;
	int rc;
	char flag;
} first_rows[] = {
	{"n,,n=user,r=abc", "user", "", "abc", 0, 'n'},
	{"y,,n=user,r=abc", "user", "", "abc", 0, 'y'},
	{"n,a=bob,n=user,r=abc", "user", "bob", "abc", 0, 'n'},
	{"n,,n=a=2Cb=3Dc,r=abc", "a,b=c", "", "abc", 0, 'n'},
	{"n,,n=j\xc3\xb6rg,r=abc,x=1,y=a=b", "j\xc3\xb6rg", "", "abc", 0, 'n'},
	{"n,,n=user,r=!#~", "user", "", "!#~", 0, 'n'},
	{"p=tls-unique,,n=user,r=abc", NULL, NULL, NULL, -2, 0},
	{"n,,m=x,n=user,r=abc", NULL, NULL, NULL, -2, 0},
	{"", NULL, NULL, NULL, -1, 0},
	{"x,,n=user,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,n=user,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,,", NULL, NULL, NULL, -1, 0},
	{"n", NULL, NULL, NULL, -1, 0},
	{"p", NULL, NULL, NULL, -1, 0},
	{"n,a=,n=user,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,b=x,n=user,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,,n=,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,,n=user", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,r=", NULL, NULL, NULL, -1, 0},
	{"n,,r=abc,n=user", NULL, NULL, NULL, -1, 0},
	{"n,,n=a=2cb,r=abc", NULL, NULL, NULL, -1, 0}, /* lowercase escape */
	{"n,,n=a=41,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,,n=a=2,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,,n=a\xc3,r=abc", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,r=a b", NULL, NULL, NULL, -1, 0}, /* not printable */
	{"n,,n=user,r=a\x7f", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,r=abc,", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,r=abc,1=x", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,r=abc,x=", NULL, NULL, NULL, -1, 0},
	{"n,,n=user,r=abc,xy", NULL, NULL, NULL, -1, 0},
};

static void test_scram_parse_first(void **state)
{
	struct scram_client_first cf;
	const char *error;
	char nonce[USERDB_ADDRESS_MAX + SCRAM_CNONCE_MAX];
	char *msg;

	(void)state;
	for (size_t i = 0; i < sizeof(first_rows) / sizeof(first_rows[0]);
	     i++) {
		const char *m = first_rows[i].msg;

		print_message("  '%s'\n", m);
		assert_int_equal(
			scram_parse_client_first((const unsigned char *)m,
						 strlen(m), &cf, &error),
			first_rows[i].rc);
		if (first_rows[i].rc != 0)
			continue;
		assert_int_equal(cf.cbind_flag, first_rows[i].flag);
		assert_string_equal(cf.username, first_rows[i].username);
		assert_string_equal(cf.authzid, first_rows[i].authzid);
		assert_int_equal(cf.nonce_len, strlen(first_rows[i].nonce));
		assert_memory_equal(m + cf.nonce_off, first_rows[i].nonce,
				    cf.nonce_len);
		assert_true(cf.gs2_len >= 3 && m[cf.gs2_len - 1] == ',');
	}
	/* NUL inside; nonce and user name limits */
	assert_int_equal(scram_parse_client_first(
				 (const unsigned char *)"n,,n=u\0x,r=abc", 15,
				 &cf, &error),
			 -1);
	memset(nonce, 'x', sizeof(nonce) - 1);
	nonce[SCRAM_CNONCE_MAX] = '\0';
	msg = xasprintf("n,,n=u,r=%s", nonce);
	assert_int_equal(scram_parse_client_first((const unsigned char *)msg,
						  strlen(msg), &cf, &error),
			 0);
	free(msg);
	nonce[SCRAM_CNONCE_MAX] = 'x';
	nonce[SCRAM_CNONCE_MAX + 1] = '\0';
	msg = xasprintf("n,,n=u,r=%s", nonce);
	assert_int_equal(scram_parse_client_first((const unsigned char *)msg,
						  strlen(msg), &cf, &error),
			 -1);
	free(msg);
	memset(nonce, 'u', USERDB_ADDRESS_MAX + 1);
	nonce[USERDB_ADDRESS_MAX + 1] = '\0';
	msg = xasprintf("n,,n=%s,r=abc", nonce);
	assert_int_equal(scram_parse_client_first((const unsigned char *)msg,
						  strlen(msg), &cf, &error),
			 -1);
	free(msg);
}

static void test_scram_parse_final(void **state)
{
	static const char *const bad[] = {
		"",
		"p=AAAA",
		"c=biws,r=abc",
		"c=biws,r=abc,p=",
		"c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
		"c=biws,r=abc,p=AAAA",
		"c=biws,r=," V_PROOF,
		"c=biws," V_PROOF,
		"r=abc,c=biws," V_PROOF,
		"c=biw,r=abc," V_PROOF,
		"c=biws,r=abc,1=x," V_PROOF,
		"c=biws,r=a c," V_PROOF,
	};
	const char *good = "c=biws,r=abc,x=y=z," V_PROOF;
	struct scram_client_final cf;
	const char *error;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("  '%s'\n", bad[i]);
		assert_int_equal(
			scram_parse_client_final((const unsigned char *)bad[i],
						 strlen(bad[i]), &cf, &error),
			-1);
	}
	assert_int_equal(scram_parse_client_final((const unsigned char *)good,
						  strlen(good), &cf, &error),
			 0);
	assert_int_equal(cf.cbind_len, 4);
	assert_memory_equal(good + cf.cbind_off, "biws", 4);
	assert_int_equal(cf.nonce_len, 3);
	assert_memory_equal(good + cf.nonce_off, "abc", 3);
	assert_int_equal(cf.without_proof_len, strlen("c=biws,r=abc,x=y=z"));
	assert_int_equal(cf.proof[0], 0x74); /* 't' of "dHzb..." decoded */
}

/* ---- SCRAM-SHA-256 through sasl_server_step, against the userdb ---- */

/* "r=...,s=...,i=..." (decoded server-first) into its parts. */
static void split_server_first(const char *sf, char *nonce, char *salt,
			       unsigned *iterations)
{
	const char *s = strstr(sf, ",s="), *i = strstr(sf, ",i=");

	if (strncmp(sf, "r=", 2) != 0 || s == NULL || i == NULL || i < s) {
		fail_msg("bad server-first-message '%s'", sf);
		return;
	}
	memcpy(nonce, sf + 2, (size_t)(s - sf - 2));
	nonce[s - sf - 2] = '\0';
	memcpy(salt, s + 3, (size_t)(i - s - 3));
	salt[i - s - 3] = '\0';
	*iterations = (unsigned)strtoul(i + 3, NULL, 10);
}

/* Decode the base64 challenge out into a string. */
static char *unb64(const char *out)
{
	char *raw = xmalloc(strlen(out) + 1);
	size_t n;

	assert_int_equal(base64_decode(out, strlen(out), raw, strlen(out), &n),
			 0);
	raw[n] = '\0';
	return raw;
}

/*
 * The client's side (RFC 5802 3) for user/password, through s up to the
 * result of the client-final step; *sig_ok_r tells whether server-final
 * carried the right ServerSignature. The salt seen is copied to salt_r.
 */
static enum sasl_result scram_client(struct sasl_server *s, const char *user,
				     const char *password, char *salt_r,
				     bool *sig_ok_r)
{
	char out[SASL_CHALLENGE_MAX], nonce[512] = "", salt64[128] = "";
	char *cfirst = xasprintf("n,,n=%s,r=fyko+d2lbbFgONRv9qkxdawL", user);
	char *in = b64(cfirst, strlen(cfirst)), *sfirst, *np, *auth, *sfinal;
	unsigned char salt[64], sp[32], ck[32], sk[32], sig[32], srv[32];
	unsigned iterations = 0;
	size_t salt_len;
	enum sasl_result r;

	assert_int_equal(step(s, in, out), SASL_CONTINUE);
	free(in);
	sfirst = unb64(out);
	split_server_first(sfirst, nonce, salt64, &iterations);
	strlcpy_p(salt_r, salt64, 128);
	assert_true(strncmp(nonce, "fyko+d2lbbFgONRv9qkxdawL", 24) == 0);
	assert_int_equal(strlen(nonce), 24 + SCRAM_SNONCE_LEN);
	assert_int_equal(iterations, 4096);
	assert_int_equal(base64_decode(salt64, strlen(salt64), salt,
				       sizeof(salt), &salt_len),
			 0);
	assert_int_equal(crypto_pbkdf2_sha256(password, strlen(password), salt,
					      salt_len, iterations, sp, 32),
			 0);
	crypto_hmac_sha256(sp, 32, "Client Key", 10, ck);
	crypto_sha256(ck, 32, sk);
	np = xasprintf("c=biws,r=%s", nonce);
	auth = xasprintf("%s,%s,%s", cfirst + 3, sfirst, np);
	crypto_hmac_sha256(sk, 32, auth, strlen(auth), sig);
	for (int k = 0; k < 32; k++)
		ck[k] ^= sig[k]; /* ClientProof */
	in = b64(ck, 32);
	free(cfirst);
	cfirst = xasprintf("%s,p=%s", np, in);
	free(in);
	in = b64(cfirst, strlen(cfirst));
	r = step(s, in, out);
	crypto_hmac_sha256(sp, 32, "Server Key", 10, srv);
	crypto_hmac_sha256(srv, 32, auth, strlen(auth), sig);
	free(in);
	in = b64(sig, 32);
	sfinal = unb64(out);
	*sig_ok_r =
		strncmp(sfinal, "v=", 2) == 0 && strcmp(sfinal + 2, in) == 0;
	free(sfinal);
	free(in);
	free(cfirst);
	free(np);
	free(auth);
	free(sfirst);
	return r;
}

static void test_scram_sasl(void **state)
{
	char out[SASL_CHALLENGE_MAX], salt1[128], salt2[128];
	struct sasl_server *s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	bool sig_ok;

	(void)state;
	/* no initial response: an empty challenge first */
	assert_int_equal(step(s, NULL, out), SASL_CONTINUE);
	assert_string_equal(out, "");
	assert_int_equal(
		scram_client(s, "Alice@Example.ORG", ALICE_PW, salt1, &sig_ok),
		SASL_CONTINUE);
	assert_true(sig_ok);
	assert_null(sasl_server_user(s));
	assert_int_equal(step(s, "", out), SASL_OK);
	assert_string_equal(sasl_server_user(s), ALICE);
	sasl_server_free(&s);
	/* the wrong password */
	s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	assert_int_equal(scram_client(s, ALICE, "s3cret pasS", salt1, &sig_ok),
			 SASL_FAIL);
	assert_string_equal(sasl_server_error(s), "invalid proof");
	sasl_server_free(&s);
	/* a user added with --hash has no SCRAM keys: FAIL, not a crash */
	s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	assert_int_equal(scram_client(s, HASHONLY, ALICE_PW, salt1, &sig_ok),
			 SASL_FAIL);
	sasl_server_free(&s);
	/* unknown users get a salt too, the same one each time */
	s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	assert_int_equal(
		scram_client(s, "nobody@example.org", "x", salt1, &sig_ok),
		SASL_FAIL);
	sasl_server_free(&s);
	s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	assert_int_equal(
		scram_client(s, "NOBODY@example.org", "y", salt2, &sig_ok),
		SASL_FAIL);
	sasl_server_free(&s);
	assert_string_equal(salt1, salt2);
	assert_int_equal(strlen(salt1), 24);
	/* malformed framing */
	s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	assert_int_equal(step(s, "=", out), SASL_MALFORMED);
	sasl_server_free(&s);
	s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, fx.db);
	assert_int_equal(step(s, "biws", out), SASL_MALFORMED); /* "n,," */
	sasl_server_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_names),
		cmocka_unit_test(test_response_decode),
		cmocka_unit_test(test_plain_parse),
		cmocka_unit_test(test_plain_exchange),
		cmocka_unit_test(test_plain_no_initial),
		cmocka_unit_test(test_plain_overlong),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_unknown_user_timing),
		cmocka_unit_test(test_pending_pool),
		cmocka_unit_test(test_pending_cancel),
		cmocka_unit_test(test_pending_queue_full),
		cmocka_unit_test(test_scram_credentials),
		cmocka_unit_test(test_scram_vector),
		cmocka_unit_test(test_scram_bad_final),
		cmocka_unit_test(test_scram_ack),
		cmocka_unit_test(test_scram_gs2),
		cmocka_unit_test(test_scram_parse_first),
		cmocka_unit_test(test_scram_parse_final),
		cmocka_unit_test(test_scram_sasl),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
