/*
 * store: the handles of one mailbox in one process share its message list
 * (store_int.h, struct store_mbshare). The second handle's open reads no
 * list from the index, each handle sees the others' changes after its own
 * sync and not before (its view is its own until then), \Recent stays per
 * handle (RFC 3501 2.3.2), and a handle freed while another keeps the list
 * leaves that list intact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store_int.h"
#include "test_store_util.h"

#define MSG "From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"

static const struct store_msg *msgs_of(const struct store_mailbox *mb,
				       size_t *n_r)
{
	const struct store_msg *msgs;

	store_mailbox_messages(mb, &msgs, n_r);
	return msgs;
}

static void test_share_sync(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *a, *b, *e;
	const struct store_msg *old, *m;
	const char *error;
	uint32_t u1, u2, u3;
	size_t n;

	u1 = append(f, "INBOX", MSG, 0, NULL);
	u2 = append(f, "INBOX", MSG, STORE_F_SEEN, NULL);
	/* a SELECTs first and takes \Recent; b and EXAMINE's e share a's
	 * list without their own copy of it. */
	a = open_mb(f, "INBOX", false);
	b = open_mb(f, "INBOX", false);
	e = open_mb(f, "INBOX", true);
	assert_ptr_equal(a->share, b->share);
	assert_ptr_equal(a->list, b->list);
	assert_ptr_equal(a->list, e->list);
	assert_int_equal(a->share->handles, 3);
	assert_true(store_mailbox_find(a, u1)->recent);
	assert_false(store_mailbox_find(b, u1)->recent);
	assert_false(store_mailbox_find(e, u2)->recent);
	assert_ptr_equal(msgs_of(b, &n), a->list->msgs);
	assert_int_equal(n, 2);

	/* A delivery: a's sync refreshes the list once, b takes it. */
	u3 = append(f, "INBOX", MSG, 0, NULL);
	old = msgs_of(b, &n);
	assert_int_equal(sync_mb(a), 1);
	assert_int_equal(n_msgs(a), 3);
	assert_true(store_mailbox_find(a, u3)->recent);
	/* b has not synced: its view and pointers are as they were. */
	assert_ptr_equal(msgs_of(b, &n), old);
	assert_int_equal(n, 2);
	assert_int_equal(old[1].uid, u2);
	assert_int_equal(sync_mb(b), 1);
	assert_ptr_equal(a->list, b->list);
	assert_int_equal(n_msgs(b), 3);
	assert_false(store_mailbox_find(b, u3)->recent);
	assert_int_equal(sync_mb(e), 1);
	assert_ptr_equal(a->list, e->list);

	/* b's STORE: b shows it at once, a after its sync. */
	assert_int_equal(store_msg_set_flags(b, u1, STORE_FLAGS_ADD,
					     STORE_F_FLAGGED, "work", 0,
					     &error),
			 0);
	m = store_mailbox_find(b, u1);
	assert_int_equal(m->flags, STORE_F_FLAGGED);
	assert_string_equal(m->keywords, "work");
	assert_int_equal(sync_mb(a), 1);
	m = store_mailbox_find(a, u1);
	assert_int_equal(m->flags, STORE_F_FLAGGED);
	assert_string_equal(m->keywords, "work");
	assert_true(m->recent);
	assert_int_equal(store_mailbox_highestmodseq(a), m->modseq);
	assert_int_equal(sync_mb(b), 1);
	assert_ptr_equal(a->list, b->list);
	assert_string_equal(store_mailbox_keywords(b), "work");

	/* a's EXPUNGE: b still has the message until it syncs. */
	assert_int_equal(store_expunge(a, &u2, 1, &error), 0);
	assert_null(store_mailbox_find(a, u2));
	assert_non_null(store_mailbox_find(b, u2));
	assert_int_equal(sync_mb(b), 1);
	assert_null(store_mailbox_find(b, u2));
	assert_int_equal(n_msgs(b), 2);
	assert_int_equal(sync_mb(e), 1);
	assert_null(store_mailbox_find(e, u2));

	/* A file put into new/ by another tool shows in all three. */
	put_file(mpath(f, "new/9.z.host"), MSG, 0);
	assert_int_equal(sync_mb(e), 1);
	assert_int_equal(sync_mb(b), 1);
	assert_int_equal(sync_mb(a), 1);
	assert_int_equal(n_msgs(a), 3);
	assert_ptr_equal(a->list, b->list);
	assert_ptr_equal(a->list, e->list);
	/* e synced first and saw it recent; b claimed it; a did not. */
	assert_true(store_mailbox_find(e, u3 + 1)->recent);
	assert_true(store_mailbox_find(b, u3 + 1)->recent);
	assert_false(store_mailbox_find(a, u3 + 1)->recent);
	assert_int_equal(sync_mb(a), 0);
	assert_int_equal(sync_mb(b), 0);
	assert_int_equal(sync_mb(e), 0);
	/* a's recent messages expunged: a reads the shared list again. */
	assert_non_null(a->own);
	{
		uint32_t gone[] = {u1, u3};

		assert_int_equal(store_expunge(a, gone, 2, &error), 0);
	}
	assert_int_equal(sync_mb(a), 1);
	assert_null(a->own);
	assert_ptr_equal(msgs_of(a, &n), a->list->msgs);
	assert_int_equal(n, 1);
	assert_false(store_mailbox_find(a, u3 + 1)->recent);
	assert_int_equal(sync_mb(b), 1);
	assert_true(store_mailbox_find(b, u3 + 1)->recent);

	store_mailbox_free(&e);
	store_mailbox_free(&b);
	store_mailbox_free(&a);
	assert_null(f->u->shares);
}

static void test_share_free(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *a, *b, *c;
	struct store_mblist *l;
	const char *error;
	uint32_t u1, u2;

	u1 = append(f, "INBOX", MSG, 0, "x");
	a = open_mb(f, "INBOX", false);
	b = open_mb(f, "INBOX", true);
	l = b->list;
	assert_ptr_equal(a->list, l);
	assert_int_equal(l->refs, 3);
	/* a leaves; b keeps the list and still reads it. */
	store_mailbox_free(&a);
	assert_ptr_equal(b->list, l);
	assert_int_equal(l->refs, 2);
	assert_int_equal(b->share->handles, 1);
	assert_string_equal(store_mailbox_find(b, u1)->keywords, "x");
	/* b, alone on it, sees a new message. */
	u2 = append(f, "INBOX", MSG, 0, NULL);
	assert_int_equal(sync_mb(b), 1);
	assert_int_equal(n_msgs(b), 2);
	/* A new handle takes b's list as it is. */
	c = open_mb(f, "INBOX", false);
	assert_ptr_equal(c->list, b->list);
	assert_int_equal(n_msgs(c), 2);
	/* c freed after a change while b still holds the older list. */
	assert_int_equal(store_msg_set_flags(c, u2, STORE_FLAGS_ADD,
					     STORE_F_SEEN, NULL, 0, &error),
			 0);
	assert_int_equal(sync_mb(c), 1);
	store_mailbox_free(&c);
	assert_int_equal(store_mailbox_find(b, u2)->uid, u2);
	assert_true(store_mailbox_find(b, u2)->recent);
	assert_int_equal(sync_mb(b), 1);
	assert_int_equal(store_mailbox_find(b, u2)->flags, STORE_F_SEEN);
	assert_string_equal(store_mailbox_find(b, u1)->keywords, "x");
	store_mailbox_free(&b);
	assert_null(f->u->shares);
	/* Everything freed: the next open loads the list again. */
	a = open_mb(f, "INBOX", false);
	assert_int_equal(n_msgs(a), 2);
	assert_int_equal(a->list->refs, 2);
	store_mailbox_free(&a);
}

/* Another user's mailbox of the same name is not shared. */
static void test_share_per_user(void **state)
{
	struct fx *f = *state;
	const char *error = NULL;
	struct store_user *bob =
		store_user_open(f->dir, "example.org", "bob", &error);
	enum store_err err;
	struct store_mailbox *a, *b;

	assert_non_null(bob);
	append(f, "INBOX", MSG, 0, NULL);
	a = open_mb(f, "INBOX", false);
	b = store_mailbox_open(bob, "INBOX", false, &err, &error);
	assert_non_null(b);
	assert_ptr_not_equal(a->list, b->list);
	assert_int_equal(n_msgs(a), 1);
	assert_int_equal(n_msgs(b), 0);
	store_mailbox_free(&b);
	store_mailbox_free(&a);
	store_user_free(&bob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_share_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_share_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_share_per_user, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
