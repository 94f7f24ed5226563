/*
 * SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, no channel binding:
 * the credentials stored for a user, the pure parsers of the client's two
 * messages, and the server's exchange over decoded (not base64) messages.
 * auth/sasl.c wraps the exchange as the mechanism SCRAM-SHA-256.
 *
 * Passwords and user names are used as their UTF-8 octets: SASLprep (RFC
 * 4013) is not applied, which is the identity for ASCII passwords; a
 * client that normalizes a non-ASCII password differently fails.
 *
 * SECURITY: the server never sees the password, only a proof; it keeps
 * StoredKey and ServerKey (auth/userdb.h). Unknown users, and users
 * without SCRAM credentials, get a salt derived from their name with a
 * key random per process, and fail at the proof: the server-first message
 * does not tell them apart from real ones. Keys are wiped on free.
 */
#ifndef AUTH_SCRAM_H
#define AUTH_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/sasl.h"
#include "auth/userdb.h"

/* New credentials: RFC 7677 4 asks for at least 4096 iterations. */
#define SCRAM_ITERATIONS 4096
#define SCRAM_SALT_LEN 16
#define SCRAM_KEY_LEN 32 /* SHA-256 */
/* Client nonce octets accepted; the server adds SCRAM_SNONCE_LEN. */
#define SCRAM_CNONCE_MAX 256
#define SCRAM_SNONCE_LEN 24 /* base64 of 18 random octets */
#define SCRAM_SNONCE_MAX 64 /* a nonce forced by scram_server_set_nonce */
/* Largest server message, NUL included. */
#define SCRAM_SERVER_MSG_MAX 512

/* ---- Credentials ---- */

/*
 * Derive the credentials of password (1..PASSWORD_MAX octets) with
 * salt[0..salt_len) (1..USERDB_SCRAM_SALT_MAX) and iterations
 * (USERDB_SCRAM_ITERATIONS_MIN..MAX): SaltedPassword, then StoredKey and
 * ServerKey (RFC 5802 3). Returns 0 with *cred_r filled (the caller wipes
 * it), or -1 with *error_r a static message.
 */
int scram_credentials_derive(const char *password, const void *salt,
			     size_t salt_len, unsigned iterations,
			     struct userdb_scram *cred_r, const char **error_r)
	__attribute__((warn_unused_result));

/* As above with a fresh random SCRAM_SALT_LEN salt and SCRAM_ITERATIONS. */
int scram_credentials_make(const char *password, struct userdb_scram *cred_r,
			   const char **error_r)
	__attribute__((warn_unused_result));

/* ---- Parsers: pure functions over decoded messages (RFC 5802 7) ---- */

struct scram_client_first {
	char cbind_flag; /* 'n' or 'y' ("p=" is refused) */
	/* unescaped ("=2C" -> ',', "=3D" -> '='), NUL-terminated */
	char authzid[USERDB_ADDRESS_MAX + 1]; /* "" when none */
	char username[USERDB_ADDRESS_MAX + 1];
	size_t gs2_len;	  /* gs2-header = msg[0..gs2_len) */
	size_t nonce_off; /* c-nonce = msg[nonce_off..+nonce_len) */
	size_t nonce_len;
};

/*
 * Parse client-first-message msg[0..len). Returns 0 with *r set; -1 when
 * malformed (NUL, bad escape, not UTF-8, empty or over-long fields:
 * names over USERDB_ADDRESS_MAX, nonces over SCRAM_CNONCE_MAX); -2 when
 * well-formed but refused: channel binding required ("p=") or a mandatory
 * extension ("m="). *error_r is a static message either way.
 */
int scram_parse_client_first(const unsigned char *msg, size_t len,
			     struct scram_client_first *r, const char **error_r)
	__attribute__((warn_unused_result));

struct scram_client_final {
	size_t cbind_off; /* base64 after "c=": msg[cbind_off..+cbind_len) */
	size_t cbind_len;
	size_t nonce_off; /* after "r=" */
	size_t nonce_len;
	size_t without_proof_len; /* msg[0..) without ",p=..." */
	unsigned char proof[SCRAM_KEY_LEN];
};

/*
 * Parse client-final-message msg[0..len): "c=" base64 "," "r=" nonce
 * *("," ext) "," "p=" base64 of SCRAM_KEY_LEN octets. Returns 0 with *r
 * set, or -1 with *error_r a static message.
 */
int scram_parse_client_final(const unsigned char *msg, size_t len,
			     struct scram_client_final *r, const char **error_r)
	__attribute__((warn_unused_result));

/* ---- The server's exchange ---- */

/*
 * Make the key behind the made-up credentials of unknown users now. Call
 * it in the master before forking workers, so every worker makes up the
 * same salt for the same name; without it each process makes its own key
 * on first use (and a client reaching two workers could tell a made-up
 * salt from a stored one). Returns 0, or -1 with *error_r a static
 * message.
 */
int scram_init(const char **error_r) __attribute__((warn_unused_result));

/*
 * Where the credentials of username come from (auth/sasl.c: the userdb).
 * Returns 0 with *cred_r filled, 1 when the user has none (or does not
 * exist), -1 on a database error with *error_r set (valid until the next
 * lookup).
 */
typedef int scram_lookup_fn(void *ctx, const char *username,
			    struct userdb_scram *cred_r, const char **error_r);

struct scram_server;

/* A new exchange looking users up with lookup(ctx, ...); caller frees. */
struct scram_server *scram_server_new(scram_lookup_fn *lookup, void *ctx);
/* Free s, wiping its keys; accepts NULL, sets *sp to NULL. */
void scram_server_free(struct scram_server **sp);

/*
 * For tests (RFC 7677 3 test vector): use nonce (1..SCRAM_SNONCE_MAX
 * printable characters, no ',') as the server nonce instead of a random
 * one. Call before the first step; anything else panics.
 */
void scram_server_set_nonce(struct scram_server *s, const char *nonce);

/*
 * Feed the next decoded client message in[0..in_len): client-first, then
 * client-final, then the empty response to server-final. For
 * SASL_CONTINUE, out[0..out_size) (out_size >= SCRAM_SERVER_MSG_MAX)
 * receives the server message, NUL-terminated, its length in *out_len_r;
 * otherwise out is "". Results and their meaning as in auth/sasl.h;
 * after any but SASL_CONTINUE the exchange is over (calling again
 * panics).
 */
enum sasl_result
scram_server_step(struct scram_server *s, const unsigned char *in,
		  size_t in_len, char *out, size_t out_size, size_t *out_len_r)
	__attribute__((warn_unused_result));

/* The user, lowercase, after SASL_OK; else NULL. Owned by s. */
const char *scram_server_user(const struct scram_server *s);

/* Why the exchange failed, for the log; "" while none. Owned by s. */
const char *scram_server_error(const struct scram_server *s);

#endif
