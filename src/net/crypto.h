/*
 * The few cryptographic primitives above net/ needs (SCRAM in auth/):
 * SHA-256, HMAC-SHA-256, PBKDF2-HMAC-SHA-256, random bytes and a
 * constant-time comparison, on OpenSSL 3. net/ is the only folder that
 * includes OpenSSL headers; this is the door for the layers above.
 *
 * SECURITY: outputs go to caller buffers only; nothing is kept here.
 * Callers wipe their keys.
 */
#ifndef NET_CRYPTO_H
#define NET_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_SHA256_LEN 32

/* out = SHA-256(data[0..len)). An OpenSSL failure is fatal(). */
void crypto_sha256(const void *data, size_t len,
		   unsigned char out[CRYPTO_SHA256_LEN]);

/* out = HMAC-SHA-256(key, data[0..len)). An OpenSSL failure is fatal(). */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
			size_t len, unsigned char out[CRYPTO_SHA256_LEN]);

/*
 * PBKDF2-HMAC-SHA-256 (RFC 8018 5.2; SCRAM's Hi(), RFC 5802 2.2) of
 * password[0..password_len) with salt and iterations (>= 1) into
 * out[0..out_len). Returns 0, or -1 when OpenSSL refuses.
 */
int crypto_pbkdf2_sha256(const void *password, size_t password_len,
			 const void *salt, size_t salt_len, unsigned iterations,
			 void *out, size_t out_len)
	__attribute__((warn_unused_result));

/* len bytes from OpenSSL's CSPRNG. Returns 0, or -1 when it failed. */
int crypto_random(void *buf, size_t len) __attribute__((warn_unused_result));

/* a[0..len) == b[0..len), in time that depends on len only. */
bool crypto_equal(const void *a, const void *b, size_t len)
	__attribute__((warn_unused_result));

#endif
