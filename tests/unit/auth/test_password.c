/*
 * Password hashing: round trips through password_hash(), known-good hashes
 * of every accepted format (published test vectors, hashes made by
 * libcrypt and libargon2, with and without Dovecot {SCHEME} prefixes), the
 * hashes that must never match, and the format check behind --hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <argon2.h>
#include <crypt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "lib/mem.h"

static void test_hash_then_verify(void **state)
{
	const char *error = NULL;
	char *h1, *h2;

	(void)state;
	assert_int_equal(password_hash("s3cret pass", &h1, &error), 0);
	assert_int_equal(password_hash("s3cret pass", &h2, &error), 0);
	assert_true(strncmp(h1, "$y$", 3) == 0);
	assert_string_not_equal(h1, h2); /* a fresh salt each time */
	assert_true(password_verify("s3cret pass", h1));
	assert_true(password_verify("s3cret pass", h2));
	assert_false(password_verify("s3cret pasS", h1));
	assert_false(password_verify("s3cret pass ", h1));
	assert_false(password_verify("s3cret", h1));
	free(h1);
	free(h2);
}

static void test_hash_refuses(void **state)
{
	char *long_pw = xmalloc(PASSWORD_MAX + 2);
	const char *error = NULL;
	char *hash = (char *)"x";

	(void)state;
	assert_int_equal(password_hash("", &hash, &error), -1);
	assert_null(hash);
	assert_string_equal(error, "empty password");
	memset(long_pw, 'a', PASSWORD_MAX + 1);
	long_pw[PASSWORD_MAX + 1] = '\0';
	assert_int_equal(password_hash(long_pw, &hash, &error), -1);
	assert_string_equal(error, "password too long");
	long_pw[PASSWORD_MAX] = '\0'; /* exactly the maximum is fine */
	assert_int_equal(password_hash(long_pw, &hash, &error), 0);
	assert_true(password_verify(long_pw, hash));
	free(hash);
	free(long_pw);
}

/* Hashes made elsewhere: each must verify with its password only. */
static const struct {
	const char *password;
	const char *hash;
} known[] = {
	/* Drepper's SHA-crypt specification, test vector 1 */
	{"Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
			 "O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	/* Openwall crypt_blowfish test vector, as $2b$ and $2y$ */
	{"U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
	{"U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
	/* made with libxcrypt 4.4 (python3 crypt.crypt) */
	{"correct horse",
	 "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./"
	 "tK5KU79"},
	{"correct horse",
	 "$2b$04$eIWNtkli.KLAdudhjulOIed5ta/dBdDCx7R/1i7lcxhxqjffq3r52"},
	{"correct horse",
	 "$6$to0HN86wADnMSQgG$jj7uIqbXyTB7z7e7A3uBS7XZUDRsSUpMVxwLiUWFF8yusc"
	 "J8fG2K2c7yzBONVintGfTWkpU.AMfOlK5K0Owun0"},
};

static void test_known_hashes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		print_message("  %s\n", known[i].hash);
		assert_true(password_verify(known[i].password, known[i].hash));
		assert_false(password_verify("wrong", known[i].hash));
		assert_false(password_verify("", known[i].hash));
	}
}

/* Each format, salted by libcrypt itself, verifies through the module. */
static void test_libcrypt_formats(void **state)
{
	static const char *const prefixes[] = {"$y$", "$2b$", "$6$"};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *setting = crypt_gensalt_ra(prefixes[i], 0, NULL, 0);
		void *data = NULL;
		int size = 0;
		char *hash;

		assert_non_null(setting);
		hash = crypt_ra("tr0ub4dor&3", setting, &data, &size);
		assert_non_null(hash);
		assert_true(strncmp(hash, prefixes[i], strlen(prefixes[i])) ==
			    0);
		assert_true(password_verify("tr0ub4dor&3", hash));
		assert_false(password_verify("tr0ub4dor&4", hash));
		free(data);
		free(setting);
	}
}

/* A libcrypt hash of password with prefix (e.g. "$2y$"), caller frees. */
static char *make_crypt(const char *prefix, const char *password)
{
	char *setting = crypt_gensalt_ra(prefix, 0, NULL, 0);
	void *data = NULL;
	int size = 0;
	char *hash;

	assert_non_null(setting);
	hash = crypt_ra(password, setting, &data, &size);
	assert_non_null(hash);
	hash = xstrdup(hash);
	free(data);
	free(setting);
	return hash;
}

/* An Argon2id hash made by libargon2 (as Dovecot's ARGON2ID writes). */
static char *make_argon2id(const char *password, uint32_t t, uint32_t m)
{
	static const unsigned char salt[16] = "0123456789abcdef";
	size_t len = argon2_encodedlen(t, m, 1, sizeof(salt), 32, Argon2_id);
	char *encoded = xmalloc(len);

	assert_int_equal(argon2id_hash_encoded(t, m, 1, password,
					       strlen(password), salt,
					       sizeof(salt), 32, encoded, len),
			 ARGON2_OK);
	return encoded;
}

/* Each format with and without its Dovecot prefix; the prefix must fit. */
static void test_dovecot_formats(void **state)
{
	char *sha512 = make_crypt("$6$", "h\xc3\xa4user");
	char *blf = make_crypt("$2y$", "h\xc3\xa4user");
	char *yes = make_crypt("$y$", "h\xc3\xa4user");
	char *argon = make_argon2id("h\xc3\xa4user", 2, 1024);
	struct {
		const char *prefix, *hash;
		bool ok;
	} rows[] = {
		{"", sha512, true},
		{"{SHA512-CRYPT}", sha512, true},
		{"{sha512-crypt}", sha512, true},
		{"{CRYPT}", sha512, true},
		{"", blf, true},
		{"{BLF-CRYPT}", blf, true},
		{"{CRYPT}", blf, true},
		{"{CRYPT}", yes, true},
		{"", argon, true},
		{"{ARGON2ID}", argon, true},
		{"{Argon2id}", argon, true},
		/* scheme and hash disagree, or scheme unknown */
		{"{SHA512-CRYPT}", blf, false},
		{"{BLF-CRYPT}", sha512, false},
		{"{ARGON2ID}", sha512, false},
		{"{CRYPT}", argon, false},
		{"{SHA256-CRYPT}", sha512, false},
		{"{PLAIN}", "h\xc3\xa4user", false},
		{"{SHA512-CRYPT", sha512, false},
		{"{}", sha512, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *h = xasprintf("%s%s", rows[i].prefix, rows[i].hash);
		const char *error = NULL;

		print_message("  %s\n", h);
		assert_int_equal(password_verify("h\xc3\xa4user", h),
				 rows[i].ok);
		assert_false(password_verify("hauser", h));
		assert_int_equal(password_hash_check(h, &error),
				 rows[i].ok ? 0 : -1);
		free(h);
	}
	free(sha512);
	free(blf);
	free(yes);
	free(argon);
}

/* Argon2id costs beyond the limits are refused, not computed. */
static void test_argon2_limits(void **state)
{
	char *ok = make_argon2id("pw", 1, 8);
	char *many = make_argon2id("pw", PASSWORD_ARGON2_T_MAX + 1, 8);
	const char *error;
	char *big, *p;

	(void)state;
	assert_true(password_verify("pw", ok));
	assert_int_equal(password_hash_check(ok, &error), 0);
	assert_false(password_verify("pw", many));
	assert_int_equal(password_hash_check(many, &error), -1);
	/* m= rewritten past the limit: the hash is not even decoded */
	p = strstr(ok, "m=8,");
	assert_non_null(p);
	big = xasprintf("%.*sm=%lu,%s", (int)(p - ok), ok,
			PASSWORD_ARGON2_M_MAX + 1, p + 4);
	assert_false(password_verify("pw", big));
	assert_int_equal(password_hash_check(big, &error), -1);
	free(big);
	/* leading zeros, a missing version, the wrong variant */
	big = xasprintf("%.*sm=08,%s", (int)(p - ok), ok, p + 4);
	assert_false(password_verify("pw", big));
	free(big);
	assert_false(password_verify(
		"pw", "$argon2id$m=8,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
		      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(password_verify(
		"pw", "$argon2i$v=19$m=8,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
		      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	free(ok);
	free(many);
}

/* What `postern user add --hash` accepts. */
static void test_hash_check(void **state)
{
	static const char *const bad[] = {
		"",
		"*",
		"!",
		"plaintext",
		"$6$saltstring$",
		"$6$saltstring",
		"$y$",
		"$2b$05$CCCCCCCCCCCCCCCCCCCCC.",
		"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
		"$argon2id$v=19$m=8,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$",
		"$argon2id$v=19$m=8,t=1,p=1$!!!$AAAA",
		"{CRYPT}",
		"{ARGON2ID}",
	};
	const char *error = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_int_equal(password_hash_check(known[i].hash, &error), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("  '%s'\n", bad[i]);
		error = NULL;
		assert_int_equal(password_hash_check(bad[i], &error), -1);
		assert_non_null(error);
	}
	/* the dummy verification runs and matches nothing */
	password_verify_dummy("anything");
	password_verify_dummy("");
	password_verify_dummy(NULL);
}

/* Disabled, locked, empty, truncated and foreign hashes never match. */
static void test_never_matches(void **state)
{
	static const char *const hashes[] = {
		"*",
		"",
		"!",
		"!!",
		"*0",
		"*LK*",
		("!$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
		 "O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
		"$6$saltstring$",
		"$6$saltstring",
		"$y$",
		"$2b$05$CCCCCCCCCCCCCCCCCCCCC.",
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", /* MD5-crypt: too weak */
		"Hello world!",			      /* plaintext */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		print_message("  '%s'\n", hashes[i]);
		assert_false(password_verify("Hello world!", hashes[i]));
		assert_false(password_verify("", hashes[i]));
		assert_false(password_verify("*", hashes[i]));
	}
	assert_false(password_verify("Hello world!", NULL));
	assert_false(password_verify(NULL, known[0].hash));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_then_verify),
		cmocka_unit_test(test_hash_refuses),
		cmocka_unit_test(test_known_hashes),
		cmocka_unit_test(test_libcrypt_formats),
		cmocka_unit_test(test_never_matches),
		cmocka_unit_test(test_dovecot_formats),
		cmocka_unit_test(test_argon2_limits),
		cmocka_unit_test(test_hash_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
