/*
 * Password hashing: round trips through password_hash(), known-good hashes
 * of every accepted format (published test vectors and hashes made by
 * libcrypt), and the hashes that must never match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <crypt.h>
#include <stdbool.h>
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
		"!$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
		"O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
