/*
 * SCRAM-SHA-256 server (RFC 5802, RFC 7677): credentials, the parsers of
 * the client's messages (section 7 grammar) and the exchange.
 *
 * SECURITY: every field of the client's messages is checked against the
 * grammar and bounded before it is copied; the proof is compared in
 * constant time; the keys held during an exchange are wiped on free.
 */
#include "auth/scram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/password.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "net/crypto.h"

_Static_assert(SCRAM_KEY_LEN == CRYPTO_SHA256_LEN, "SCRAM-SHA-256 keys");
_Static_assert(SCRAM_KEY_LEN == USERDB_SCRAM_KEY_LEN, "stored key size");
_Static_assert(SCRAM_SALT_LEN <= USERDB_SCRAM_SALT_MAX, "stored salt size");
/* "r=" nonce ",s=" salt ",i=" count, NUL */
_Static_assert(2 + SCRAM_CNONCE_MAX + SCRAM_SNONCE_MAX + 3 +
			       USERDB_SCRAM_B64_MAX + 3 + 10 + 1 <=
		       SCRAM_SERVER_MSG_MAX,
	       "server-first-message fits");

enum scram_state {
	SCRAM_STATE_FIRST, /* waiting for client-first-message */
	SCRAM_STATE_FINAL, /* sent server-first, waiting for client-final */
	SCRAM_STATE_ACK,   /* sent server-final, waiting for "" */
	SCRAM_STATE_DONE,
};

struct scram_server {
	scram_lookup_fn *lookup;
	void *ctx;
	enum scram_state state;
	bool fake; /* made-up credentials: the proof never verifies */
	bool authenticated;
	char snonce[SCRAM_SNONCE_MAX + 1]; /* forced by a test, or "" */
	char nonce[SCRAM_CNONCE_MAX + SCRAM_SNONCE_MAX + 1];
	size_t nonce_len;
	unsigned char *gs2; /* the client's gs2-header, for "c=" */
	size_t gs2_len;
	/* client-first-message-bare "," server-first-message "," */
	char *auth_prefix;
	size_t auth_prefix_len;
	unsigned char stored_key[SCRAM_KEY_LEN];
	unsigned char server_key[SCRAM_KEY_LEN];
	char user[USERDB_ADDRESS_MAX + 1];
	char error[256];
};

/* ---- Credentials ---- */

int scram_credentials_derive(const char *password, const void *salt,
			     size_t salt_len, unsigned iterations,
			     struct userdb_scram *cred_r, const char **error_r)
{
	size_t plen = strnlen(password, PASSWORD_MAX + 1);
	unsigned char salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
	unsigned char key[SCRAM_KEY_LEN];

	memset(cred_r, 0, sizeof(*cred_r));
	if (plen == 0 || plen > PASSWORD_MAX) {
		*error_r = plen == 0 ? "empty password" : "password too long";
		return -1;
	}
	if (salt_len == 0 || salt_len > USERDB_SCRAM_SALT_MAX ||
	    iterations < USERDB_SCRAM_ITERATIONS_MIN ||
	    iterations > USERDB_SCRAM_ITERATIONS_MAX) {
		*error_r = "SCRAM salt or iteration count out of range";
		return -1;
	}
	/* RFC 5802 3: SaltedPassword := Hi(password, salt, i) */
	if (crypto_pbkdf2_sha256(password, plen, salt, salt_len, iterations,
				 salted, sizeof(salted)) < 0) {
		*error_r = "cannot derive the SCRAM keys (OpenSSL)";
		return -1;
	}
	crypto_hmac_sha256(salted, sizeof(salted), "Client Key", 10,
			   client_key);
	crypto_sha256(client_key, sizeof(client_key), key);
	base64_encode(key, sizeof(key), cred_r->stored_key);
	crypto_hmac_sha256(salted, sizeof(salted), "Server Key", 10, key);
	base64_encode(key, sizeof(key), cred_r->server_key);
	base64_encode(salt, salt_len, cred_r->salt);
	cred_r->iterations = iterations;
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	explicit_bzero(key, sizeof(key));
	return 0;
}

int scram_credentials_make(const char *password, struct userdb_scram *cred_r,
			   const char **error_r)
{
	unsigned char salt[SCRAM_SALT_LEN];

	if (crypto_random(salt, sizeof(salt)) < 0) {
		memset(cred_r, 0, sizeof(*cred_r));
		*error_r = "cannot make a random salt (OpenSSL)";
		return -1;
	}
	return scram_credentials_derive(password, salt, sizeof(salt),
					SCRAM_ITERATIONS, cred_r, error_r);
}

/* ---- Parsers ---- */

/* Index of the ',' ending the field at p, or len. */
static size_t scram_field_end(const unsigned char *msg, size_t len, size_t p)
{
	const unsigned char *comma = memchr(msg + p, ',', len - p);

	return comma != NULL ? (size_t)(comma - msg) : len;
}

/* msg[p..len) starts with the two octets of attr ("n=", "r=", ...). */
static bool scram_attr(const unsigned char *msg, size_t len, size_t p,
		       const char *attr)
{
	return len - p >= 2 && msg[p] == (unsigned char)attr[0] &&
	       msg[p + 1] == (unsigned char)attr[1];
}

/*
 * saslname s[0..n) (RFC 5802 7: UTF-8 but NUL, ',' and '=' unless as
 * "=2C" or "=3D") unescaped into dst[0..size), NUL-terminated. -1 when
 * empty, malformed or too long.
 */
static int scram_unescape(const unsigned char *s, size_t n, char *dst,
			  size_t size)
{
	size_t o = 0, i = 0;

	if (n == 0)
		return -1;
	while (i < n) {
		size_t seq = 1;

		if (s[i] == '=') {
			if (n - i < 3 ||
			    !((s[i + 1] == '2' && s[i + 2] == 'C') ||
			      (s[i + 1] == '3' && s[i + 2] == 'D')))
				return -1;
			if (o + 1 >= size)
				return -1;
			dst[o++] = s[i + 1] == '2' ? ',' : '=';
			i += 3;
			continue;
		}
		if (s[i] >= 0x80 && (seq = utf8_seq(s + i, n - i)) == 0)
			return -1;
		if (o + seq >= size)
			return -1;
		memcpy(dst + o, s + i, seq);
		o += seq;
		i += seq;
	}
	dst[o] = '\0';
	return 0;
}

/* printable (RFC 5802 7): %x21-2B / %x2D-7E, at least one. */
static bool scram_printable(const unsigned char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
			return false;
	}
	return true;
}

/* extensions from p to len: *("," ALPHA "=" 1*value-char). */
static bool scram_extensions(const unsigned char *msg, size_t len, size_t p)
{
	while (p < len) {
		size_t end;

		if (msg[p] != ',' || len - p < 4)
			return false;
		p++;
		end = scram_field_end(msg, len, p);
		if (!((msg[p] | 0x20) >= 'a' && (msg[p] | 0x20) <= 'z') ||
		    msg[p + 1] != '=' || end - p < 3)
			return false;
		for (size_t i = p + 2; i < end;) {
			size_t seq =
				msg[i] < 0x80 ? 1 : utf8_seq(msg + i, end - i);

			if (seq == 0)
				return false;
			i += seq;
		}
		p = end;
	}
	return true;
}

/* gs2-header (RFC 5802 7) at the start of msg; sets r, returns its end. */
static int scram_parse_gs2(const unsigned char *msg, size_t len,
			   struct scram_client_first *r, const char **error_r)
{
	size_t p = 2, end;

	if (msg[0] == 'p' && len > 1 && msg[1] == '=') {
		*error_r = "channel binding is not supported";
		return -2; /* RFC 5802 6: "p" we cannot honour fails */
	}
	if ((msg[0] != 'n' && msg[0] != 'y') || len < 3 || msg[1] != ',') {
		*error_r = "malformed GS2 header";
		return -1;
	}
	r->cbind_flag = (char)msg[0];
	if (msg[p] == 'a') {
		end = scram_field_end(msg, len, p);
		if (!scram_attr(msg, len, p, "a=") ||
		    scram_unescape(msg + p + 2, end - p - 2, r->authzid,
				   sizeof(r->authzid)) < 0) {
			*error_r = "malformed authorization identity";
			return -1;
		}
		p = end;
	}
	if (p >= len || msg[p] != ',') {
		*error_r = "malformed GS2 header";
		return -1;
	}
	r->gs2_len = p + 1;
	return 0;
}

int scram_parse_client_first(const unsigned char *msg, size_t len,
			     struct scram_client_first *r, const char **error_r)
{
	size_t p, end;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len == 0 || memchr(msg, '\0', len) != NULL) {
		*error_r = len == 0 ? "empty client-first-message"
				    : "NUL in client-first-message";
		return -1;
	}
	if ((rc = scram_parse_gs2(msg, len, r, error_r)) < 0)
		return rc;
	p = r->gs2_len;
	if (scram_attr(msg, len, p, "m=")) {
		*error_r = "mandatory extensions are not supported";
		return -2;
	}
	end = scram_field_end(msg, len, p);
	if (!scram_attr(msg, len, p, "n=") ||
	    scram_unescape(msg + p + 2, end - p - 2, r->username,
			   sizeof(r->username)) < 0) {
		*error_r = "malformed or over-long user name";
		return -1;
	}
	p = end + 1;
	if (end >= len || !scram_attr(msg, len, p, "r=")) {
		*error_r = "no nonce";
		return -1;
	}
	end = scram_field_end(msg, len, p);
	r->nonce_off = p + 2;
	r->nonce_len = end - r->nonce_off;
	if (r->nonce_len > SCRAM_CNONCE_MAX ||
	    !scram_printable(msg + r->nonce_off, r->nonce_len) ||
	    !scram_extensions(msg, len, end)) {
		*error_r = "malformed nonce or extension";
		return -1;
	}
	return 0;
}

/* The proof after the last ',': "p=" base64 of SCRAM_KEY_LEN octets. */
static int scram_parse_proof(const unsigned char *msg, size_t len,
			     struct scram_client_final *r)
{
	const unsigned char *comma = msg + len;
	size_t n;

	while (comma > msg && comma[-1] != ',')
		comma--;
	if (comma == msg)
		return -1;
	r->without_proof_len = (size_t)(comma - msg) - 1;
	n = len - (size_t)(comma - msg);
	if (!scram_attr(comma, n, 0, "p=") ||
	    base64_decode((const char *)comma + 2, n - 2, r->proof,
			  sizeof(r->proof), &n) < 0 ||
	    n != SCRAM_KEY_LEN)
		return -1;
	return 0;
}

int scram_parse_client_final(const unsigned char *msg, size_t len,
			     struct scram_client_final *r, const char **error_r)
{
	unsigned char cbind[SASL_DECODED_MAX];
	size_t w, end, n;

	memset(r, 0, sizeof(*r));
	*error_r = "malformed client-final-message";
	if (len == 0 || memchr(msg, '\0', len) != NULL ||
	    scram_parse_proof(msg, len, r) < 0)
		return -1;
	w = r->without_proof_len;
	end = scram_field_end(msg, w, 0);
	if (!scram_attr(msg, w, 0, "c=") ||
	    base64_decode((const char *)msg + 2, end - 2, cbind, sizeof(cbind),
			  &n) < 0 ||
	    end >= w)
		return -1;
	r->cbind_off = 2;
	r->cbind_len = end - 2;
	if (!scram_attr(msg, w, end + 1, "r="))
		return -1;
	r->nonce_off = end + 3;
	end = scram_field_end(msg, w, r->nonce_off);
	r->nonce_len = end - r->nonce_off;
	if (!scram_printable(msg + r->nonce_off, r->nonce_len) ||
	    !scram_extensions(msg, w, end))
		return -1;
	return 0;
}

/* ---- The exchange ---- */

/* Key of the made-up credentials of unknown users; random per process. */
static unsigned char scram_fake_key[SCRAM_KEY_LEN];
static bool scram_fake_key_ready;

int scram_init(const char **error_r)
{
	if (scram_fake_key_ready)
		return 0;
	if (crypto_random(scram_fake_key, sizeof(scram_fake_key)) < 0) {
		*error_r = "cannot make a random key (OpenSSL)";
		return -1;
	}
	scram_fake_key_ready = true;
	return 0;
}

struct scram_server *scram_server_new(scram_lookup_fn *lookup, void *ctx)
{
	struct scram_server *s = xcalloc(1, sizeof(*s));

	s->lookup = lookup;
	s->ctx = ctx;
	return s;
}

void scram_server_free(struct scram_server **sp)
{
	struct scram_server *s = *sp;

	if (s == NULL)
		return;
	free(s->gs2);
	if (s->auth_prefix != NULL)
		explicit_bzero(s->auth_prefix, s->auth_prefix_len);
	free(s->auth_prefix);
	explicit_bzero(s, sizeof(*s));
	free(s);
	*sp = NULL;
}

void scram_server_set_nonce(struct scram_server *s, const char *nonce)
{
	size_t n = strlen(nonce);

	if (s->state != SCRAM_STATE_FIRST || n > SCRAM_SNONCE_MAX ||
	    !scram_printable((const unsigned char *)nonce, n))
		panic("scram_server_set_nonce: bad nonce or too late");
	memcpy(s->snonce, nonce, n + 1);
}

const char *scram_server_user(const struct scram_server *s)
{
	return s->authenticated ? s->user : NULL;
}

const char *scram_server_error(const struct scram_server *s)
{
	return s->error;
}

/* End the exchange with result, why in the log. */
static enum sasl_result scram_end(struct scram_server *s,
				  enum sasl_result result, const char *why)
{
	s->state = SCRAM_STATE_DONE;
	strlcpy_p(s->error, why, sizeof(s->error));
	return result;
}

/* Credentials for a user who has none: same shape, never verifying. */
static int scram_fake(struct scram_server *s, struct userdb_scram *cred)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	const char *error;

	if (scram_init(&error) < 0)
		return -1;
	/* the same salt on every try, so a retry does not give it away */
	crypto_hmac_sha256(scram_fake_key, sizeof(scram_fake_key), s->user,
			   strlen(s->user), mac);
	base64_encode(mac, SCRAM_SALT_LEN, cred->salt);
	cred->iterations = SCRAM_ITERATIONS;
	memcpy(s->stored_key, mac, sizeof(s->stored_key));
	memcpy(s->server_key, mac, sizeof(s->server_key));
	explicit_bzero(mac, sizeof(mac));
	s->fake = true;
	return 0;
}

/* Decode the stored keys of cred into s; -1 when they are not keys. */
static int scram_load(struct scram_server *s, const struct userdb_scram *cred)
{
	size_t n1, n2;

	if (base64_decode(cred->stored_key, strlen(cred->stored_key),
			  s->stored_key, sizeof(s->stored_key), &n1) < 0 ||
	    base64_decode(cred->server_key, strlen(cred->server_key),
			  s->server_key, sizeof(s->server_key), &n2) < 0 ||
	    n1 != SCRAM_KEY_LEN || n2 != SCRAM_KEY_LEN)
		return -1;
	return 0;
}

/* The credentials of s->user into *cred, made up when it has none. */
static enum sasl_result scram_credentials(struct scram_server *s,
					  struct userdb_scram *cred)
{
	const char *error = "";
	int rc = s->lookup(s->ctx, s->user, cred, &error);

	if (rc < 0)
		return scram_end(s, SASL_TEMPFAIL, error);
	if ((rc > 0 || scram_load(s, cred) < 0) && scram_fake(s, cred) < 0)
		return scram_end(s, SASL_TEMPFAIL, "no random bytes (OpenSSL)");
	return SASL_CONTINUE;
}

/* s->nonce = c-nonce + s-nonce (a fresh one unless forced). */
static int scram_make_nonce(struct scram_server *s, const unsigned char *cn,
			    size_t cn_len)
{
	unsigned char raw[SCRAM_SNONCE_LEN / 4 * 3];

	if (s->snonce[0] == '\0') {
		if (crypto_random(raw, sizeof(raw)) < 0)
			return -1;
		base64_encode(raw, sizeof(raw), s->snonce);
	}
	memcpy(s->nonce, cn, cn_len);
	s->nonce_len = cn_len + strlen(s->snonce);
	memcpy(s->nonce + cn_len, s->snonce, strlen(s->snonce) + 1);
	return 0;
}

/* Keep what the final step needs: gs2-header and the AuthMessage start. */
static void scram_keep(struct scram_server *s, const unsigned char *in,
		       size_t in_len, size_t gs2_len, const char *server_first,
		       size_t sf_len)
{
	size_t bare_len = in_len - gs2_len;

	s->gs2 = xmalloc(gs2_len);
	memcpy(s->gs2, in, gs2_len);
	s->gs2_len = gs2_len;
	/* RFC 5802 3: client-first-message-bare "," server-first "," ... */
	s->auth_prefix_len = bare_len + 1 + sf_len + 1;
	s->auth_prefix = xmalloc(s->auth_prefix_len);
	memcpy(s->auth_prefix, in + gs2_len, bare_len);
	s->auth_prefix[bare_len] = ',';
	memcpy(s->auth_prefix + bare_len + 1, server_first, sf_len);
	s->auth_prefix[s->auth_prefix_len - 1] = ',';
}

static void scram_lower(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
	}
}

/* client-first-message -> server-first-message (RFC 5802 5.1). */
static enum sasl_result scram_step_first(struct scram_server *s,
					 const unsigned char *in, size_t in_len,
					 char *out, size_t out_size,
					 size_t *out_len_r)
{
	struct scram_client_first cf;
	struct userdb_scram cred;
	const char *error;
	enum sasl_result result;
	int rc = scram_parse_client_first(in, in_len, &cf, &error);

	if (rc < 0)
		return scram_end(s, rc == -2 ? SASL_FAIL : SASL_MALFORMED,
				 error);
	/* RFC 5802 5.1 "a=": nobody may act as another user here */
	if (cf.authzid[0] != '\0' && strcasecmp(cf.authzid, cf.username) != 0)
		return scram_end(s, SASL_FAIL,
				 "authorization identity is not the user");
	memcpy(s->user, cf.username, sizeof(s->user));
	scram_lower(s->user);
	result = scram_credentials(s, &cred);
	if (result != SASL_CONTINUE)
		return result;
	if (scram_make_nonce(s, in + cf.nonce_off, cf.nonce_len) < 0) {
		explicit_bzero(&cred, sizeof(cred));
		return scram_end(s, SASL_TEMPFAIL, "no random bytes (OpenSSL)");
	}
	rc = snprintf(out, out_size, "r=%s,s=%s,i=%u", s->nonce, cred.salt,
		      cred.iterations);
	explicit_bzero(&cred, sizeof(cred));
	if (rc < 0 || (size_t)rc >= out_size)
		panic("scram: server-first-message does not fit %zu", out_size);
	*out_len_r = (size_t)rc;
	scram_keep(s, in, in_len, cf.gs2_len, out, *out_len_r);
	s->state = SCRAM_STATE_FINAL;
	return SASL_CONTINUE;
}

/* Check the proof of the client-final-message; ServerSignature in sig_r. */
static bool scram_verify(struct scram_server *s, const unsigned char *in,
			 const struct scram_client_final *cf,
			 unsigned char sig_r[SCRAM_KEY_LEN])
{
	size_t n = s->auth_prefix_len + cf->without_proof_len;
	unsigned char *auth = xmalloc(n);
	unsigned char sig[SCRAM_KEY_LEN], key[SCRAM_KEY_LEN];
	bool ok;

	memcpy(auth, s->auth_prefix, s->auth_prefix_len);
	memcpy(auth + s->auth_prefix_len, in, cf->without_proof_len);
	/* RFC 5802 3: ClientKey = ClientProof XOR HMAC(StoredKey, Auth) */
	crypto_hmac_sha256(s->stored_key, sizeof(s->stored_key), auth, n, sig);
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		key[i] = cf->proof[i] ^ sig[i];
	crypto_sha256(key, sizeof(key), sig);
	ok = crypto_equal(sig, s->stored_key, SCRAM_KEY_LEN) && !s->fake;
	crypto_hmac_sha256(s->server_key, sizeof(s->server_key), auth, n,
			   sig_r);
	explicit_bzero(auth, n);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(sig, sizeof(sig));
	free(auth);
	return ok;
}

/* client-final-message -> server-final-message (RFC 5802 5.1). */
static enum sasl_result scram_step_final(struct scram_server *s,
					 const unsigned char *in, size_t in_len,
					 char *out, size_t *out_len_r)
{
	struct scram_client_final cf;
	unsigned char cbind[SASL_DECODED_MAX];
	unsigned char sig[SCRAM_KEY_LEN];
	const char *error;
	size_t n;

	if (scram_parse_client_final(in, in_len, &cf, &error) < 0)
		return scram_end(s, SASL_MALFORMED, error);
	/* RFC 5802 6: c= must be the gs2-header, as we have no cbind-data */
	if (base64_decode((const char *)in + cf.cbind_off, cf.cbind_len, cbind,
			  sizeof(cbind), &n) < 0 ||
	    n != s->gs2_len || memcmp(cbind, s->gs2, n) != 0)
		return scram_end(s, SASL_FAIL, "channel binding data differ");
	if (cf.nonce_len != s->nonce_len ||
	    memcmp(in + cf.nonce_off, s->nonce, s->nonce_len) != 0)
		return scram_end(s, SASL_FAIL, "nonce differs");
	if (!scram_verify(s, in, &cf, sig)) {
		explicit_bzero(sig, sizeof(sig));
		return scram_end(s, SASL_FAIL, "invalid proof");
	}
	out[0] = 'v';
	out[1] = '=';
	*out_len_r = 2 + base64_encode(sig, sizeof(sig), out + 2);
	explicit_bzero(sig, sizeof(sig));
	s->state = SCRAM_STATE_ACK;
	return SASL_CONTINUE;
}

enum sasl_result scram_server_step(struct scram_server *s,
				   const unsigned char *in, size_t in_len,
				   char *out, size_t out_size,
				   size_t *out_len_r)
{
	if (out_size < SCRAM_SERVER_MSG_MAX)
		panic("scram_server_step: out_size %zu", out_size);
	out[0] = '\0';
	*out_len_r = 0;
	if (in_len > SASL_DECODED_MAX &&
	    (s->state == SCRAM_STATE_FIRST || s->state == SCRAM_STATE_FINAL))
		return scram_end(s, SASL_MALFORMED, "message too long");
	switch (s->state) {
	case SCRAM_STATE_FIRST:
		return scram_step_first(s, in, in_len, out, out_size,
					out_len_r);
	case SCRAM_STATE_FINAL:
		return scram_step_final(s, in, in_len, out, out_len_r);
	case SCRAM_STATE_ACK:
		/* RFC 4954 4: the client answers server-final with "" */
		if (in_len != 0)
			return scram_end(s, SASL_MALFORMED,
					 "response to server-final not empty");
		s->authenticated = true;
		s->state = SCRAM_STATE_DONE;
		return SASL_OK;
	case SCRAM_STATE_DONE:
		break;
	}
	panic("scram_server_step after the exchange ended");
}
