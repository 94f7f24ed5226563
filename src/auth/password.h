/*
 * Password hashing: new hashes are yescrypt ($y$, libcrypt). Stored hashes
 * may also be the formats Dovecot and the system passwd files produce:
 *
 *   $y$...                    yescrypt             (libcrypt)
 *   $2b$... $2y$...           bcrypt               (libcrypt)
 *   $6$...                    SHA-512-crypt        (libcrypt)
 *   $argon2id$v=19$m=,t=,p=$  Argon2id             (libargon2)
 *
 * each optionally behind a Dovecot scheme prefix (case-insensitive) that
 * must agree with it: {SHA512-CRYPT}$6$, {BLF-CRYPT}$2y$ / $2b$,
 * {ARGON2ID}$argon2id$, and {CRYPT} before any of the libcrypt formats.
 * Other formats (DES, MD5-crypt, plain text, {PLAIN}, {SSHA}...) never
 * match.
 *
 * SECURITY: the plaintext and libcrypt's work area are wiped after use;
 * the final comparison does not stop at the first differing byte. Argon2
 * costs above PASSWORD_ARGON2_* are refused, so a mistyped stored hash
 * cannot make a worker allocate gigabytes.
 */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>

/*
 * Longest password accepted, in octets: libcrypt refuses longer ones
 * (CRYPT_MAX_PASSPHRASE_SIZE is 512 with the NUL).
 */
#define PASSWORD_MAX 511

/* Largest Argon2id costs verified: memory (KiB), passes, lanes. */
#define PASSWORD_ARGON2_M_MAX (1024UL * 1024) /* 1 GiB */
#define PASSWORD_ARGON2_T_MAX 32
#define PASSWORD_ARGON2_P_MAX 16

/*
 * Hash password (1..PASSWORD_MAX octets) with yescrypt and a fresh random
 * salt. Returns 0 with *hash_r a string the caller frees, or -1 with
 * *error_r a static message (empty or too long password, libcrypt failure).
 */
int password_hash(const char *password, char **hash_r, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * True when password matches hash (any format above). A NULL, empty,
 * locked ("!..."), disabled ("*...") or unknown-format hash never matches
 * (and costs a password_verify_dummy), nor does an empty or over-long
 * password (which returns at once, whatever the hash).
 */
bool password_verify(const char *password, const char *hash)
	__attribute__((warn_unused_result));

/*
 * Spend the time of one password_verify() against a hash made by
 * password_hash() (the default format and cost), matching nothing: for a
 * login name that has no hash, so an unknown user answers as slowly as a
 * wrong password (no user enumeration by timing).
 */
void password_verify_dummy(const char *password);

/*
 * Check that hash is a complete hash in one of the formats above, for
 * hashes an operator gives (`postern user add --hash`). Returns 0, or -1
 * with *error_r a static message.
 */
int password_hash_check(const char *hash, const char **error_r)
	__attribute__((warn_unused_result));

#endif
