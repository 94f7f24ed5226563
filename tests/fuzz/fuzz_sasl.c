/*
 * libFuzzer target for the SASL decoders (auth/sasl.h) and SCRAM-SHA-256
 * (auth/scram.h), without a database.
 *
 * Input: byte 0 picks the mode (low 3 bits) and, for the base64 framing,
 * whether the response is the initial one (bit 3); the rest is:
 *   0  a base64 response: decoded, then split as PLAIN
 *   1  a decoded PLAIN message
 *   2  a client-first-message
 *   3  a client-final-message
 *   4  a SCRAM exchange: messages separated by '\n', fed in turn to a
 *      server that knows "user" (password "pencil", RFC 7677 3) and
 *      makes up credentials for anyone else
 *   5  a PLAIN (bit 3 clear) or LOGIN exchange: base64 lines separated
 *      by '\n', the first the initial response, fed to sasl_server_step
 *      against a user database holding "u@example.org" (password "pw",
 *      a cheap bcrypt hash). A password check (SASL_PENDING) runs
 *      inline, without a pool, for that user; for anyone else the
 *      exchange is freed with its check pending (a dummy yescrypt per
 *      input would slow fuzzing down to a crawl)
 * Every result must keep its promises: fields inside the input, strings
 * NUL-terminated within their arrays, server messages bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>
#include <unistd.h>

#include "auth/sasl.h"
#include "auth/scram.h"
#include "auth/userdb.h"
#include "fuzz.h"

static void check_plain(const unsigned char *msg, size_t len)
{
	struct sasl_plain p;

	if (sasl_plain_parse(msg, len, &p) < 0)
		return;
	CHECK(p.authzid == (const char *)msg);
	CHECK(p.authzid_len + p.authcid_len + p.passwd_len + 2 == len);
	CHECK(p.authcid == (const char *)msg + p.authzid_len + 1);
	CHECK(p.passwd == p.authcid + p.authcid_len + 1);
	CHECK(p.authcid_len > 0 && p.passwd_len > 0);
	CHECK(memchr(p.authcid, '\0', p.authcid_len) == NULL);
	CHECK(memchr(p.passwd, '\0', p.passwd_len) == NULL);
}

static void check_base64(const char *in, size_t len, int initial)
{
	unsigned char buf[SASL_DECODED_MAX];
	size_t n = 0;
	int rc = sasl_response_decode(in, len, initial, buf, sizeof(buf), &n);

	CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc != 0)
		return;
	CHECK(n <= sizeof(buf));
	check_plain(buf, n);
}

static void check_first(const unsigned char *msg, size_t len)
{
	struct scram_client_first cf;
	const char *error = NULL;
	int rc = scram_parse_client_first(msg, len, &cf, &error);

	CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc != 0) {
		CHECK(error != NULL);
		return;
	}
	CHECK(cf.cbind_flag == 'n' || cf.cbind_flag == 'y');
	CHECK(memchr(cf.username, '\0', sizeof(cf.username)) != NULL);
	CHECK(memchr(cf.authzid, '\0', sizeof(cf.authzid)) != NULL);
	CHECK(cf.username[0] != '\0');
	CHECK(cf.gs2_len >= 3 && cf.gs2_len < len);
	CHECK(cf.nonce_len >= 1 && cf.nonce_len <= SCRAM_CNONCE_MAX);
	CHECK(cf.nonce_off + cf.nonce_len <= len);
	CHECK(memchr(msg + cf.nonce_off, ',', cf.nonce_len) == NULL);
}

static void check_final(const unsigned char *msg, size_t len)
{
	struct scram_client_final cf;
	const char *error = NULL;

	if (scram_parse_client_final(msg, len, &cf, &error) < 0) {
		CHECK(error != NULL);
		return;
	}
	CHECK(cf.without_proof_len < len);
	CHECK(cf.cbind_off + cf.cbind_len <= cf.without_proof_len);
	CHECK(cf.nonce_off + cf.nonce_len <= cf.without_proof_len);
	CHECK(cf.nonce_len >= 1);
	CHECK(msg[cf.without_proof_len] == ',');
}

/* RFC 7677 3: "user", "pencil"; precomputed, no PBKDF2 per input. */
static int fuzz_lookup(void *ctx, const char *username,
		       struct userdb_scram *cred_r, const char **error_r)
{
	static const struct userdb_scram vector = {
		"W22ZaJ0SNY7soEsUEjb6gQ==",
		4096,
		"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
		"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	};

	(void)ctx;
	if (strcmp(username, "error") == 0) {
		*error_r = "simulated database error";
		return -1;
	}
	if (strcmp(username, "user") != 0)
		return 1;
	*cred_r = vector;
	return 0;
}

static void check_exchange(const unsigned char *in, size_t len)
{
	struct scram_server *s = scram_server_new(fuzz_lookup, NULL);
	char out[SCRAM_SERVER_MSG_MAX];
	enum sasl_result r = SASL_CONTINUE;
	size_t pos = 0;

	scram_server_set_nonce(s, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
	while (r == SASL_CONTINUE && pos <= len) {
		const unsigned char *nl = memchr(in + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t n = 99;

		r = scram_server_step(s, in + pos, end - pos, out, sizeof(out),
				      &n);
		CHECK(n < sizeof(out) && out[n] == '\0' && strlen(out) == n);
		CHECK(r == SASL_CONTINUE || n == 0);
		CHECK((r == SASL_OK) == (scram_server_user(s) != NULL));
		pos = end + 1;
	}
	scram_server_free(&s);
	CHECK(s == NULL);
}

#define FUZZ_USER "u@example.org"

/* The database of mode 5, made once, in a directory removed at exit. */
static char fuzz_dir[64];

static void fuzz_cleanup(void)
{
	static const char *const files[] = {USERDB_FILE, USERDB_FILE "-wal",
					    USERDB_FILE "-shm"};
	char path[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, files[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

static struct userdb *fuzz_userdb(void)
{
	static struct userdb *db;
	const char *error = NULL;
	char path[128], *setting, *hash;
	void *work = NULL;
	int size = 0;

	if (db != NULL)
		return db;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/postern-fuzz-sasl-XXXXXX");
	CHECK(mkdtemp(fuzz_dir) != NULL);
	atexit(fuzz_cleanup);
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, USERDB_FILE);
	db = userdb_open(path, true, &error);
	CHECK(db != NULL);
	CHECK(userdb_domain_add(db, "example.org", &error) == 0);
	setting = crypt_gensalt_ra("$2b$", 4, NULL, 0);
	CHECK(setting != NULL);
	hash = crypt_ra("pw", setting, &work, &size);
	CHECK(hash != NULL);
	CHECK(userdb_user_add(db, FUZZ_USER, hash, NULL, 0, &error) == 0);
	free(work);
	free(setting);
	return db;
}

static void check_password_exchange(const unsigned char *in, size_t len,
				    bool login)
{
	struct sasl_server *s = sasl_server_new(
		login ? SASL_MECH_LOGIN : SASL_MECH_PLAIN, fuzz_userdb());
	char out[SASL_CHALLENGE_MAX];
	enum sasl_result r = SASL_CONTINUE;
	size_t pos = 0;

	while (r == SASL_CONTINUE && pos <= len) {
		const unsigned char *nl = memchr(in + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t n = 99;

		r = sasl_server_step(s, (const char *)in + pos, end - pos, true,
				     out, sizeof(out), &n);
		CHECK(n < sizeof(out) && out[n] == '\0' && strlen(out) == n);
		CHECK(r == SASL_CONTINUE || n == 0);
		CHECK(sasl_server_user(s) == NULL);
		pos = end + 1;
	}
	if (r == SASL_PENDING && sasl_server_authcid(s) != NULL &&
	    strcmp(sasl_server_authcid(s), FUZZ_USER) == 0) {
		CHECK(!sasl_server_verify(s, NULL, NULL, NULL));
		r = sasl_server_finish(s);
		CHECK(r == SASL_OK || r == SASL_FAIL);
		CHECK((r == SASL_OK) == (sasl_server_user(s) != NULL));
	}
	sasl_server_free(&s); /* a check still pending is dropped */
	CHECK(s == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *rest = data + 1;
	size_t len = size - 1;

	if (size < 1)
		return 0;
	switch (data[0] & 7) {
	case 0:
		check_base64((const char *)rest, len, (data[0] & 8) != 0);
		break;
	case 1:
		check_plain(rest, len);
		break;
	case 2:
		check_first(rest, len);
		break;
	case 3:
		check_final(rest, len);
		break;
	case 4:
		check_exchange(rest, len);
		break;
	case 5:
		check_password_exchange(rest, len, (data[0] & 8) != 0);
		break;
	default:
		break;
	}
	return 0;
}
