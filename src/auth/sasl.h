/*
 * SASL server mechanisms (RFC 4422), protocol-agnostic: SMTP AUTH (RFC
 * 4954), IMAP AUTHENTICATE (RFC 3501 6.2.2) and POP3 AUTH (RFC 5034) all
 * drive one struct sasl_server with the client's base64 lines.
 *
 * Mechanisms: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login) and
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding. Offer them
 * only over TLS (DESIGN.md 7).
 *
 * An exchange, as SMTP sees it:
 *
 *   AUTH <mech> [initial]  sasl_server_step(s, initial, len, have_input)
 *   SASL_CONTINUE       -> "334 " + out (out may be empty: "334 ")
 *   client line         -> sasl_server_step(s, line, len, true), again
 *   SASL_PENDING        -> a password to check (PLAIN, LOGIN): read no
 *                          more input; sasl_server_verify(s, pool, done,
 *                          arg) runs the hash off the event loop, and in
 *                          done (or at once when verify returned false)
 *                          sasl_server_finish(s) gives one of:
 *   SASL_OK             -> 235; sasl_server_user(s) is the user
 *   SASL_FAIL           -> 535 5.7.8 (wrong credentials)
 *   SASL_MALFORMED      -> 501 5.5.2 (bad base64 or syntax; "*" cancels)
 *   SASL_TEMPFAIL       -> 454 4.7.0 (the user database failed, or the
 *                          check queue is full)
 *
 * SCRAM-SHA-256 takes three steps after its initial one: client-first
 * (-> server-first as a 334), client-final (-> server-final "v=..." as a
 * 334, not as additional data with 235: RFC 4954 4 allows both, and the
 * 334 form works for IMAP and POP3 as well), then the client's empty
 * line (-> SASL_OK). A failed proof is SASL_FAIL directly; no "e="
 * server-final is sent. SCRAM hashes nothing (the keys are stored), so
 * it never returns SASL_PENDING.
 *
 * SECURITY: a user name with no password hash costs a dummy verification
 * (password_verify_dummy), run the same way as a real one (SASL_PENDING,
 * then on the pool), and an unknown SCRAM user gets a made-up salt
 * that is the same on every try, so neither timing nor replies tell which
 * users exist. Decoded input holding passwords is wiped after use. Brute
 * force limits (auth/throttle.h) are the protocol layer's job.
 */
#ifndef AUTH_SASL_H
#define AUTH_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/userdb.h"

struct offload;

/* Largest decoded client response, in octets; longer is SASL_MALFORMED. */
#define SASL_DECODED_MAX 1024
/* out_size sasl_server_step needs: the longest challenge, base64, NUL. */
#define SASL_CHALLENGE_MAX 1024

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_SCRAM_SHA_256,
};

enum sasl_result {
	SASL_CONTINUE,	/* send out as a challenge, feed the next line */
	SASL_OK,	/* authenticated as sasl_server_user() */
	SASL_FAIL,	/* wrong credentials, unknown user: 535 */
	SASL_MALFORMED, /* bad base64, syntax, over-long, cancelled: 501 */
	SASL_TEMPFAIL,	/* the user database failed: 454 */
	SASL_PENDING,	/* a password to check: sasl_server_verify() */
};

/*
 * The mechanism called name[0..len) (case-insensitive, RFC 4422 3.1).
 * Returns 0 with *mech_r set, or -1 for a mechanism we do not offer.
 */
int sasl_mech_parse(const char *name, size_t len, enum sasl_mech *mech_r)
	__attribute__((warn_unused_result));

/* The canonical name of mech ("PLAIN", ...): a static string. */
const char *sasl_mech_name(enum sasl_mech mech);

/* All mechanisms, space-separated for EHLO/CAPABILITY: a static string,
 * "PLAIN LOGIN SCRAM-SHA-256". */
const char *sasl_mech_list(void);

struct sasl_server;

/*
 * A new exchange for mech, verifying against db (borrowed: it must outlive
 * the exchange). The caller frees it with sasl_server_free(), which
 * also cancels a check in flight (its done is then never called).
 */
struct sasl_server *sasl_server_new(enum sasl_mech mech, struct userdb *db);

/* Free s, wiping what it held; accepts NULL, sets *sp to NULL. */
void sasl_server_free(struct sasl_server **sp);

/*
 * One step of the exchange. in[0..in_len) is the client's base64 text
 * without CRLF. On the first call it is the initial response: have_input
 * false means none was given, and "=" means an empty one (RFC 4954 4);
 * on later calls it is the client's line (empty for an empty response)
 * and have_input is ignored.
 *
 * out[0..out_size) receives, for SASL_CONTINUE, the challenge as base64
 * text, NUL-terminated, its length in *out_len_r (0 for an empty
 * challenge); for every other result out is "" and *out_len_r 0.
 * out_size must be at least SASL_CHALLENGE_MAX.
 *
 * Any result but SASL_CONTINUE ends the steps: calling again is a bug
 * (panic). SASL_PENDING means the hash of the claimed user was looked up
 * (in db, on the calling thread) and the password copied: call
 * sasl_server_verify(). After SASL_OK, sasl_server_user() names the
 * user; after the others, sasl_server_error() says why, for the log.
 */
enum sasl_result sasl_server_step(struct sasl_server *s, const char *in,
				  size_t in_len, bool have_input, char *out,
				  size_t out_size, size_t *out_len_r)
	__attribute__((warn_unused_result));

typedef void sasl_done_fn(void *arg);

/*
 * Run the password check of an exchange that returned SASL_PENDING:
 * once per exchange (else panic). With a pool, it is submitted there
 * (the password and hash are copied into the job and wiped after it)
 * and true is returned: done(arg) comes later from the pool's event
 * loop, never from inside this call; call sasl_server_finish() there.
 * False: call sasl_server_finish() now: pool is NULL and the check ran
 * here, inline (tests, fuzzing), or the pool's queue is full and the
 * result is SASL_TEMPFAIL. sasl_server_free() before done cancels the
 * check safely.
 */
bool sasl_server_verify(struct sasl_server *s, struct offload *pool,
			sasl_done_fn *done, void *arg)
	__attribute__((warn_unused_result));

/*
 * The result of the check, once it is over (sasl_server_verify() returned
 * false, or its done was called; else panic): SASL_OK, SASL_FAIL or
 * SASL_TEMPFAIL, as sasl_server_step() would have said. The exchange is
 * then over.
 */
enum sasl_result sasl_server_finish(struct sasl_server *s)
	__attribute__((warn_unused_result));

/*
 * The authenticated address, lowercase, owned by s; NULL until the
 * exchange ended with SASL_OK.
 */
const char *sasl_server_user(const struct sasl_server *s);

/*
 * The user name the client claimed, authenticated or not (for throttling
 * and logs of failures); NULL when none was parsed yet. For SCRAM it is
 * known only once the exchange finished.
 */
const char *sasl_server_authcid(const struct sasl_server *s);

/*
 * Why the exchange failed, for the log only (it may name the database
 * error; never send it to the client): a string owned by s or static,
 * "" while none.
 */
const char *sasl_server_error(const struct sasl_server *s);

/* ---- Pure decoders (no database, no state), for tests and fuzzing ---- */

/*
 * Decode the client's base64 response in[0..in_len) into buf[0..size);
 * with initial, "=" is the empty response. Returns 0 with *len_r set, -1
 * when it is not base64 (RFC 4648 4, strict), -2 when it decodes to more
 * than size octets.
 */
int sasl_response_decode(const char *in, size_t in_len, bool initial,
			 unsigned char *buf, size_t size, size_t *len_r)
	__attribute__((warn_unused_result));

/* RFC 4616 2: message = [authzid] NUL authcid NUL passwd. */
struct sasl_plain {
	const char *authzid; /* pointers into the message, not terminated */
	size_t authzid_len;  /* 0: none */
	const char *authcid;
	size_t authcid_len;
	const char *passwd;
	size_t passwd_len;
};

/*
 * Split a decoded PLAIN message msg[0..len). Returns 0 with *r pointing
 * into msg; -1 when it does not hold exactly two NULs, authcid or passwd
 * is empty, or authzid or authcid is not UTF-8.
 */
int sasl_plain_parse(const unsigned char *msg, size_t len, struct sasl_plain *r)
	__attribute__((warn_unused_result));

#endif
