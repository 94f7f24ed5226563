/*
 * Crypto primitives on OpenSSL 3 (see net/crypto.h).
 */
#include "net/crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/log.h"

void crypto_sha256(const void *data, size_t len,
		   unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != CRYPTO_SHA256_LEN)
		fatal("OpenSSL: SHA-256 failed");
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
			size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (key_len > INT_MAX ||
	    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) == NULL ||
	    n != CRYPTO_SHA256_LEN)
		fatal("OpenSSL: HMAC-SHA-256 failed");
}

int crypto_pbkdf2_sha256(const void *password, size_t password_len,
			 const void *salt, size_t salt_len, unsigned iterations,
			 void *out, size_t out_len)
{
	if (password_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX ||
	    iterations == 0 || iterations > INT_MAX)
		return -1;
	return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt,
				 (int)salt_len, (int)iterations, EVP_sha256(),
				 (int)out_len, out) == 1
		       ? 0
		       : -1;
}

int crypto_random(void *buf, size_t len)
{
	if (len > INT_MAX)
		return -1;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
