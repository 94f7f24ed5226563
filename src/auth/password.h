/*
 * Password hashing with libcrypt: new hashes are yescrypt ($y$); stored
 * hashes may also be bcrypt ($2b$, $2y$) or SHA-512-crypt ($6$), the
 * formats Dovecot and the system passwd files produce.
 *
 * SECURITY: the plaintext and libcrypt's work area are wiped after use;
 * the final comparison does not stop at the first differing byte.
 */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>

/*
 * Longest password accepted, in octets: libcrypt refuses longer ones
 * (CRYPT_MAX_PASSPHRASE_SIZE is 512 with the NUL).
 */
#define PASSWORD_MAX 511

/*
 * Hash password (1..PASSWORD_MAX octets) with yescrypt and a fresh random
 * salt. Returns 0 with *hash_r a string the caller frees, or -1 with
 * *error_r a static message (empty or too long password, libcrypt failure).
 */
int password_hash(const char *password, char **hash_r, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * True when password matches hash. A NULL, empty, locked ("!..."),
 * disabled ("*...") or unknown-format hash never matches, nor does an empty
 * or over-long password.
 */
bool password_verify(const char *password, const char *hash)
	__attribute__((warn_unused_result));

#endif
