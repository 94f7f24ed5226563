/*
 * Password hashing: a thin layer over libcrypt's crypt_ra() and
 * libargon2, with Dovecot's {SCHEME} prefixes understood.
 */
#include "auth/password.h"

#include <argon2.h>
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"

_Static_assert(PASSWORD_MAX < CRYPT_MAX_PASSPHRASE_SIZE,
	       "libcrypt must take every password we accept");

/* Formats crypt_ra() is trusted with: libcrypt names, see crypt(5). */
static const char *const password_prefixes[] = {
	"$y$",	/* yescrypt */
	"$2b$", /* bcrypt */
	"$2y$", /* bcrypt as written by PHP and Dovecot's BLF-CRYPT */
	"$6$",	/* SHA-512-crypt */
};

#define PASSWORD_NPREFIXES                                                     \
	(sizeof(password_prefixes) / sizeof(password_prefixes[0]))

#define PASSWORD_ARGON2ID "$argon2id$"

/*
 * A yescrypt hash at libcrypt's default cost, of a password nobody knows:
 * what password_verify_dummy() checks against.
 */
#define PASSWORD_DUMMY                                                         \
	"$y$j9T$i5LrNVUj6HVKm5PlcYCWP/$NUKXz4kzMEKDtCu2XIM.PU21Chj/d/"         \
	"S8HFQ.fMHvih6"

enum password_kind {
	PASSWORD_UNKNOWN,
	PASSWORD_CRYPT,
	PASSWORD_ARGON2,
};

/* Dovecot password schemes (doc: "Password Schemes"): name, what the
 * hash after "{name}" must start with, and which code checks it. */
static const struct {
	const char *name;
	const char *body;
	enum password_kind kind;
} password_schemes[] = {
	{"SHA512-CRYPT", "$6$", PASSWORD_CRYPT},
	{"BLF-CRYPT", "$2", PASSWORD_CRYPT},
	{"ARGON2ID", PASSWORD_ARGON2ID, PASSWORD_ARGON2},
	{"CRYPT", "$", PASSWORD_CRYPT},
};

static bool password_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum password_kind password_kind_of(const char *body)
{
	if (password_starts(body, PASSWORD_ARGON2ID))
		return PASSWORD_ARGON2;
	for (size_t i = 0; i < PASSWORD_NPREFIXES; i++) {
		if (password_starts(body, password_prefixes[i]))
			return PASSWORD_CRYPT;
	}
	return PASSWORD_UNKNOWN; /* "", "*", "!..." and foreign formats */
}

/*
 * The hash behind an optional {SCHEME} prefix, in *body_r, and the code
 * that checks it. PASSWORD_UNKNOWN when the scheme or format is not one
 * we take, or they disagree.
 */
static enum password_kind password_unwrap(const char *hash, const char **body_r)
{
	const char *end;
	enum password_kind kind;

	*body_r = hash;
	if (hash[0] != '{')
		return password_kind_of(hash);
	end = strchr(hash, '}');
	if (end == NULL)
		return PASSWORD_UNKNOWN;
	*body_r = end + 1;
	kind = password_kind_of(end + 1);
	for (size_t i = 0;
	     i < sizeof(password_schemes) / sizeof(password_schemes[0]); i++) {
		const char *name = password_schemes[i].name;

		if ((size_t)(end - hash - 1) == strlen(name) &&
		    strncasecmp(hash + 1, name, strlen(name)) == 0)
			return kind == password_schemes[i].kind &&
					       password_starts(
						       end + 1,
						       password_schemes[i].body)
				       ? kind
				       : PASSWORD_UNKNOWN;
	}
	return PASSWORD_UNKNOWN;
}

/* "name=N" at *p, N decimal without leading zeros, <= max; moves *p. */
static bool password_param(const char **p, const char *name, unsigned long max)
{
	const char *s = *p;
	unsigned long n = 0;

	if (!password_starts(s, name))
		return false;
	s += strlen(name);
	if (*s < '1' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return false;
	}
	*p = s;
	return true;
}

/* An Argon2id hash of version 1.3 with costs within our limits. */
static bool password_argon2_params_ok(const char *body)
{
	const char *p = body + strlen(PASSWORD_ARGON2ID);

	if (!password_starts(p, "v=19$"))
		return false;
	p += strlen("v=19$");
	return password_param(&p, "m=", PASSWORD_ARGON2_M_MAX) && *p++ == ',' &&
	       password_param(&p, "t=", PASSWORD_ARGON2_T_MAX) && *p++ == ',' &&
	       password_param(&p, "p=", PASSWORD_ARGON2_P_MAX) && *p == '$';
}

/* argon2id_verify() on a hash already found within limits. */
static int password_argon2(const char *password, const char *body)
{
	if (!password_argon2_params_ok(body))
		return ARGON2_DECODING_FAIL;
	return argon2id_verify(body, password, strlen(password));
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

static bool password_crypt_verify(const char *password, const char *hash)
{
	char *computed = password_crypt(password, hash);
	bool ok;

	if (computed == NULL)
		return false;
	ok = password_equal(computed, hash);
	explicit_bzero(computed, strlen(computed));
	free(computed);
	return ok;
}

bool password_verify(const char *password, const char *hash)
{
	const char *body;

	if (password == NULL || hash == NULL || !password_length_ok(password))
		return false;
	switch (password_unwrap(hash, &body)) {
	case PASSWORD_CRYPT:
		return password_crypt_verify(password, body);
	case PASSWORD_ARGON2:
		return password_argon2(password, body) == ARGON2_OK;
	case PASSWORD_UNKNOWN:
		break;
	}
	/* a locked or foreign hash takes as long as a real one, so timing
	 * does not tell such an account from an unknown user */
	password_verify_dummy(password);
	return false;
}

void password_verify_dummy(const char *password)
{
	/* an empty or over-long password would return early: use another */
	const char *p = password != NULL && password_length_ok(password)
				? password
				: "-";

	(void)password_crypt_verify(p, PASSWORD_DUMMY);
}

int password_hash_check(const char *hash, const char **error_r)
{
	const char *body;
	char *computed;
	bool ok;
	int rc;

	switch (password_unwrap(hash, &body)) {
	case PASSWORD_ARGON2:
		/* a well-formed hash gives "mismatch" for a wrong password */
		rc = password_argon2("x", body);
		if (rc != ARGON2_OK && rc != ARGON2_VERIFY_MISMATCH) {
			*error_r =
				"malformed Argon2id hash (or costs above the "
				"limits)";
			return -1;
		}
		return 0;
	case PASSWORD_CRYPT:
		/* a complete hash gives a result of its own length back */
		computed = password_crypt("x", body);
		ok = computed != NULL && strlen(computed) == strlen(body);
		free(computed);
		if (!ok) {
			*error_r = "malformed or incomplete crypt hash";
			return -1;
		}
		return 0;
	case PASSWORD_UNKNOWN:
		break;
	}
	*error_r = "unknown hash format (want $y$, $2b$, $2y$, $6$, "
		   "$argon2id$, optionally after a Dovecot {SCHEME})";
	return -1;
}
