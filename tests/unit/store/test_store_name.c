/*
 * store: the small parsers, table-driven. Mailbox names from clients and
 * from Maildir++ directory names, the ":2," info of file names, keyword
 * lists, and the CRLF conversion behind RFC822.SIZE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "store/store_int.h"

static struct store_user *fake_user(void)
{
	struct store_user *u = xcalloc(1, sizeof(*u));

	u->root = xstrdup("/m");
	strlcpy_p(u->host, "host", sizeof(u->host));
	return u;
}

static void fake_free(struct store_user *u)
{
	free(u->root);
	free(u);
}

static void test_name_norm(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *out, *dir;
	} rows[] = {
		{"INBOX", 0, "INBOX", "/m"},
		{"inbox", 0, "INBOX", "/m"},
		{"InBoX/Sub", 0, "INBOX/Sub", "/m/.INBOX.Sub"},
		{"INBOXES", 0, "INBOXES", "/m/.INBOXES"},
		{"Sent", 0, "Sent", "/m/.Sent"},
		{"A/B/C", 0, "A/B/C", "/m/.A.B.C"},
		{"Caf&AOk-", 0, "Caf&AOk-", "/m/.Caf&AOk-"},
		{"with space", 0, "with space", "/m/.with space"},
		{"", STORE_ERR_NAME, NULL, NULL},
		{"a.b", STORE_ERR_NAME, NULL, NULL},
		{".hidden", STORE_ERR_NAME, NULL, NULL},
		{"..", STORE_ERR_NAME, NULL, NULL},
		{"/abs", STORE_ERR_NAME, NULL, NULL},
		{"trail/", STORE_ERR_NAME, NULL, NULL},
		{"a//b", STORE_ERR_NAME, NULL, NULL},
		{"tab\there", STORE_ERR_NAME, NULL, NULL},
		{"nl\n", STORE_ERR_NAME, NULL, NULL},
		{"del\x7f", STORE_ERR_NAME, NULL, NULL},
		{"star*", STORE_ERR_NAME, NULL, NULL},
		{"pct%", STORE_ERR_NAME, NULL, NULL},
		{"1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", 0, NULL, NULL},
		{"1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", STORE_ERR_NAME,
		 NULL, NULL},
	};
	struct store_user *u = fake_user();
	char out[STORE_NAME_MAX + 1], *dir;
	char *longname = xmalloc(300);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = store_name_norm(u, rows[i].in, out);

		if (rc != rows[i].rc)
			fail_msg("row %zu (%s): %d", i, rows[i].in, rc);
		if (rows[i].out != NULL)
			assert_string_equal(out, rows[i].out);
		if (rows[i].dir != NULL) {
			dir = store_folder_dir(u, out);
			assert_string_equal(dir, rows[i].dir);
			free(dir);
		}
	}
	/* ".<name>" must fit one directory entry (NAME_MAX). */
	memset(longname, 'x', 254);
	longname[254] = '\0';
	assert_int_equal(store_name_norm(u, longname, out), 0);
	longname[254] = 'x';
	longname[255] = '\0';
	assert_int_equal(store_name_norm(u, longname, out), STORE_ERR_NAME);
	assert_int_equal(store_name_norm(u, NULL, out), STORE_ERR_NAME);
	free(longname);
	fake_free(u);
}

static void test_name_from_dir(void **state)
{
	static const struct {
		const char *entry;
		const char *name; /* NULL: not a folder */
	} rows[] = {
		{".Sent", "Sent"},
		{".A.B", "A/B"},
		{".INBOX.x", "INBOX/x"},
		{".INBOX", NULL},
		{".inbox", NULL},
		{".inbox.x", NULL},
		{".", NULL},
		{"..", NULL},
		{"...", NULL},
		{".a..b", NULL},
		{".a.", NULL},
		{"cur", NULL},
		{".x\ty", NULL},
		{".Caf&AOk-", "Caf&AOk-"},
	};
	char out[STORE_NAME_MAX + 1];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool ok = store_name_from_dir(rows[i].entry, out);

		if (ok != (rows[i].name != NULL))
			fail_msg("row %zu (%s): %d", i, rows[i].entry, ok);
		if (ok)
			assert_string_equal(out, rows[i].name);
	}
}

static void test_info(void **state)
{
	static const struct {
		const char *name;
		size_t base_len;
		unsigned flags;
		unsigned set;	  /* flags to write */
		const char *made; /* store_info_make(info, set) */
	} rows[] = {
		{"1.a.host", 8, 0, STORE_F_SEEN, "2,S"},
		{"1.a.host:2,", 8, 0, 0, "2,"},
		{"1.a.host:2,S", 8, STORE_F_SEEN, 0, "2,"},
		{"1.a.host:2,DFRST", 8,
		 STORE_F_DRAFT | STORE_F_FLAGGED | STORE_F_ANSWERED |
			 STORE_F_SEEN | STORE_F_DELETED,
		 STORE_F_ANSWERED, "2,R"},
		{"1.a.host:2,SF", 8, STORE_F_SEEN | STORE_F_FLAGGED,
		 STORE_F_SEEN | STORE_F_FLAGGED, "2,FS"},
		/* Letters of other tools stay, sorted. */
		{"1.a.host:2,PSab", 8, STORE_F_SEEN, STORE_F_DELETED, "2,PTab"},
		/* Experimental info "1," is not flags. */
		{"1.a.host:1,S", 8, 0, STORE_F_SEEN, "2,S"},
		{"x,S=12:2,T", 6, STORE_F_DELETED, 0, "2,"},
		/* Not letters: dropped, never copied into a new name. */
		{"1.a.host:2,S:/,x", 8, STORE_F_SEEN, STORE_F_SEEN, "2,Sx"},
	};
	char made[64];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *info;
		size_t len = store_split_name(rows[i].name, &info);

		assert_int_equal(len, rows[i].base_len);
		if (store_info_flags(info) != rows[i].flags)
			fail_msg("row %zu (%s): flags %u", i, rows[i].name,
				 store_info_flags(info));
		store_info_make(info, rows[i].set, made, sizeof(made));
		assert_string_equal(made, rows[i].made);
	}
}

static void test_keywords(void **state)
{
	static const struct {
		const char *old;
		enum store_flag_mode mode;
		const char *list;
		const char *out; /* NULL: none left */
	} rows[] = {
		{NULL, STORE_FLAGS_ADD, "a b", "a b"},
		{"a b", STORE_FLAGS_ADD, "B c", "a b c"},
		{"a b", STORE_FLAGS_REMOVE, "A", "b"},
		{"a b", STORE_FLAGS_REMOVE, "a b", NULL},
		{"a b", STORE_FLAGS_SET, "c  c", "c"},
		{"a b", STORE_FLAGS_SET, NULL, NULL},
		{NULL, STORE_FLAGS_REMOVE, "x", NULL},
		{"  a   b ", STORE_FLAGS_ADD, "", "a b"},
	};
	static const struct {
		const char *list;
		int rc;
	} checks[] = {
		{NULL, 0},
		{"$Forwarded Junk NonJunk $label1", 0},
		{"a(b", STORE_ERR_NAME},
		{"\\Seen", STORE_ERR_NAME},
		{"quo\"te", STORE_ERR_NAME},
		{"brack]", STORE_ERR_NAME},
		{"caf\xc3\xa9", STORE_ERR_NAME},
		{"x*", STORE_ERR_NAME},
	};
	struct store_user *u = fake_user();
	char *mbkw = xstrdup("Work");
	char *out, *canon;
	char longkw[STORE_KEYWORD_LEN_MAX + 2];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		out = store_kw_apply(rows[i].old, rows[i].mode, rows[i].list);
		if (rows[i].out == NULL)
			assert_null(out);
		else
			assert_string_equal(out, rows[i].out);
		free(out);
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		assert_int_equal(store_kw_check(u, checks[i].list),
				 checks[i].rc);
	memset(longkw, 'k', sizeof(longkw) - 1);
	longkw[sizeof(longkw) - 1] = '\0';
	assert_int_equal(store_kw_check(u, longkw), STORE_ERR_NAME);
	longkw[sizeof(longkw) - 2] = '\0';
	assert_int_equal(store_kw_check(u, longkw), 0);

	/* The mailbox list: spelled as first seen, capped. */
	assert_int_equal(store_kw_merge(u, &mbkw, "work new", false), 1);
	assert_string_equal(mbkw, "Work new");
	assert_int_equal(store_kw_merge(u, &mbkw, "NEW", false), 0);
	canon = store_kw_canon(mbkw, "WORK other");
	assert_string_equal(canon, "Work other");
	free(canon);
	for (int i = 0; i < STORE_KEYWORDS_MAX - 2; i++) {
		char kw[16];

		snprintf(kw, sizeof(kw), "k%d", i);
		assert_int_equal(store_kw_merge(u, &mbkw, kw, false), 1);
	}
	assert_int_equal(store_kw_merge(u, &mbkw, "onemore", false),
			 STORE_ERR_NOPERM);
	assert_int_equal(store_kw_merge(u, &mbkw, "onemore", true), 1);
	free(mbkw);
	fake_free(u);
}

static void test_crlf(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{"", ""},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"\n", "\r\n"},
		{"a\r\nb\n", "a\r\nb\r\n"},
		{"a\rb", "a\rb"},
		{"\n\n", "\r\n\r\n"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len;
		char *out = store_crlf(rows[i].in, strlen(rows[i].in), &len);

		assert_int_equal(len, strlen(rows[i].out));
		assert_memory_equal(out, rows[i].out, len);
		if (out != rows[i].in)
			free(out);
		else
			assert_string_equal(rows[i].in, rows[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_norm),
		cmocka_unit_test(test_name_from_dir),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_crlf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
