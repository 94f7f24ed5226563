/*
 * Password hashing: a thin layer over libcrypt's crypt_ra().
 */
#include "auth/password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

_Static_assert(PASSWORD_MAX < CRYPT_MAX_PASSPHRASE_SIZE,
	       "libcrypt must take every password we accept");

/* Formats password_verify() accepts: libcrypt names, see crypt(5). */
static const char *const password_prefixes[] = {
	"$y$",	/* yescrypt */
	"$2b$", /* bcrypt */
	"$2y$", /* bcrypt as written by PHP and Dovecot's BLF-CRYPT */
	"$6$",	/* SHA-512-crypt */
};

#define PASSWORD_NPREFIXES                                                     \
	(sizeof(password_prefixes) / sizeof(password_prefixes[0]))

static bool password_known_format(const char *hash)
{
	for (size_t i = 0; i < PASSWORD_NPREFIXES; i++) {
		const char *p = password_prefixes[i];

		if (strncmp(hash, p, strlen(p)) == 0)
			return true;
	}
	return false;
}

static bool password_length_ok(const char *password)
{
	size_t len = strnlen(password, PASSWORD_MAX + 1);

	return len > 0 && len <= PASSWORD_MAX;
}

/*
 * crypt_ra() into a work area that is wiped and freed here. Returns a copy
 * of the result, or NULL when libcrypt refused (it then gives "*0"/"*1"
 * or NULL, depending on how it was built).
 */
static char *password_crypt(const char *password, const char *setting)
{
	void *data = NULL;
	int size = 0;
	char *out = crypt_ra(password, setting, &data, &size);
	char *copy = NULL;

	if (out != NULL && out[0] != '*')
		copy = xstrdup(out);
	if (data != NULL) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	return copy;
}

int password_hash(const char *password, char **hash_r, const char **error_r)
{
	char *setting;

	*hash_r = NULL;
	if (!password_length_ok(password)) {
		*error_r = password[0] == '\0' ? "empty password"
					       : "password too long";
		return -1;
	}
	/* count 0: libcrypt's default cost; NULL: random bytes from the OS */
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL) {
		*error_r = "cannot generate a salt (libcrypt)";
		return -1;
	}
	*hash_r = password_crypt(password, setting);
	free(setting);
	if (*hash_r == NULL) {
		*error_r = "cannot hash the password (libcrypt)";
		return -1;
	}
	return 0;
}

/* Equal lengths are public (the hash format fixes them); bytes are not. */
static bool password_equal(const char *a, const char *b)
{
	size_t len = strlen(a);
	unsigned char diff = 0;

	if (len != strlen(b))
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

bool password_verify(const char *password, const char *hash)
{
	char *computed;
	bool ok;

	if (password == NULL || hash == NULL || !password_length_ok(password))
		return false;
	if (!password_known_format(hash))
		return false; /* "", "*", "!..." and foreign formats */
	computed = password_crypt(password, hash);
	if (computed == NULL)
		return false;
	ok = password_equal(computed, hash);
	explicit_bzero(computed, strlen(computed));
	free(computed);
	return ok;
}
