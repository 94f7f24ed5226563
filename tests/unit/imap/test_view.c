/*
 * imap/sync.c's view: sequence number <-> UID mapping and the resolution
 * of sequence sets and UID sets against what the client was told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/session_int.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const uint32_t view_uids[] = {3, 5, 7, 9, 10};

static void fill(struct imap_session *s, const uint32_t *uids, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->view.msgs = calloc(n ? n : 1, sizeof(*s->view.msgs));
	assert_non_null(s->view.msgs);
	for (size_t i = 0; i < n; i++)
		s->view.msgs[i].uid = uids[i];
	s->view.n = s->view.cap = n;
}

static void test_lookup(void **state)
{
	struct imap_session s;

	(void)state;
	fill(&s, view_uids, NROWS(view_uids));
	assert_int_equal(imap_view_count(&s), 5);
	assert_int_equal(imap_view_uid(&s, 1), 3);
	assert_int_equal(imap_view_uid(&s, 5), 10);
	assert_int_equal(imap_view_uid(&s, 0), 0);
	assert_int_equal(imap_view_uid(&s, 6), 0);
	assert_int_equal(imap_view_seq(&s, 3), 1);
	assert_int_equal(imap_view_seq(&s, 9), 4);
	assert_int_equal(imap_view_seq(&s, 10), 5);
	assert_int_equal(imap_view_seq(&s, 4), 0);
	assert_int_equal(imap_view_seq(&s, 11), 0);
	/* What the client was told past the last sync is remembered... */
	s.view.highestmodseq = 40;
	imap_view_seen_modseq(&s, 7, 42);
	assert_int_equal(s.view.n_told, 1);
	assert_int_equal(s.view.told[0].uid, 7);
	assert_true(s.view.told[0].modseq == 42);
	/* ...but not what the sync covers already, nor unknown UIDs. */
	imap_view_seen_modseq(&s, 9, 40);
	imap_view_seen_modseq(&s, 4, 50);
	assert_int_equal(s.view.n_told, 1);
	imap_view_clear(&s.view);
	assert_int_equal(imap_view_count(&s), 0);
	assert_int_equal(imap_view_seq(&s, 3), 0);
}

struct resolve_row {
	const char *set;
	bool uid;
	int ret;
	size_t n;
	uint32_t uids[5];
};

static const struct resolve_row rows[] = {
	{"1", false, 0, 1, {3}},
	{"2:3", false, 0, 2, {5, 7}},
	{"3:2", false, 0, 2, {5, 7}},
	{"*", false, 0, 1, {10}},
	{"4:*", false, 0, 2, {9, 10}},
	{"1,1,1:2", false, 0, 2, {3, 5}},
	{"1:*", false, 0, 5, {3, 5, 7, 9, 10}},
	{"6", false, -1, 0, {0}},
	{"6:*", false, -1, 0, {0}},
	{"5:6", false, -1, 0, {0}},
	{"4:8", true, 0, 2, {5, 7}},
	{"1:4294967295", true, 0, 5, {3, 5, 7, 9, 10}},
	{"11:*", true, 0, 1, {10}}, /* RFC 3501 6.4.8: "*" is the last UID */
	{"20", true, 0, 0, {0}},
	{"4,6,8", true, 0, 0, {0}},
	{"*", true, 0, 1, {10}},
	{"10,3", true, 0, 2, {3, 10}},
};

static void test_resolve(void **state)
{
	struct imap_session s;

	(void)state;
	fill(&s, view_uids, NROWS(view_uids));
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct imap_args a;
		struct imap_seqset set;
		uint32_t *uids = (uint32_t *)1;
		size_t n = 99;
		const char *error = NULL;
		int ret;

		imap_args_init(&a, "", 0);
		assert_int_equal(imap_seqset_parse(&a, rows[i].set,
						   strlen(rows[i].set), &set),
				 0);
		ret = imap_view_resolve(&s, &set, rows[i].uid, &uids, &n,
					&error);
		if (ret != rows[i].ret)
			fail_msg("row %zu (%s): %d", i, rows[i].set, ret);
		if (ret < 0) {
			assert_non_null(error);
			assert_null(uids);
		} else {
			assert_int_equal(n, rows[i].n);
			for (size_t k = 0; k < n; k++)
				assert_int_equal(uids[k], rows[i].uids[k]);
			if (n == 0)
				assert_null(uids);
		}
		free(uids);
		imap_args_fini(&a);
	}
	imap_view_clear(&s.view);
}

static void test_resolve_empty(void **state)
{
	struct imap_session s;
	struct imap_args a;
	struct imap_seqset set;
	uint32_t *uids;
	size_t n;
	const char *error;

	(void)state;
	fill(&s, NULL, 0);
	imap_args_init(&a, "", 0);
	/* "*" in an empty mailbox names nothing (no error, RFC 9051 6.4.8). */
	assert_int_equal(imap_seqset_parse(&a, "1:*", 3, &set), 0);
	assert_int_equal(imap_view_resolve(&s, &set, true, &uids, &n, &error),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(imap_seqset_parse(&a, "1", 1, &set), 0);
	assert_int_equal(imap_view_resolve(&s, &set, false, &uids, &n, &error),
			 -1);
	/* "1:*" of no messages: an error too (1 is above the count). */
	assert_int_equal(imap_seqset_parse(&a, "1:*", 3, &set), 0);
	assert_int_equal(imap_view_resolve(&s, &set, false, &uids, &n, &error),
			 -1);
	assert_int_equal(imap_seqset_parse(&a, "*", 1, &set), 0);
	assert_int_equal(imap_view_resolve(&s, &set, false, &uids, &n, &error),
			 0);
	assert_int_equal(n, 0);
	imap_args_fini(&a);
	imap_view_clear(&s.view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_resolve_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
