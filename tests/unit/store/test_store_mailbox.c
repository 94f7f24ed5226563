/*
 * store: the folder list. Default folders with SPECIAL-USE, name checks,
 * CREATE with parents, RENAME with children and INBOX's own semantics,
 * DELETE with and without children, subscriptions, STATUS counts, folders
 * made by other tools, and the POP3 lock across processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/wait.h>

#include "store/store_int.h"
#include "test_store_util.h"

#define MSG "Subject: hi\r\n\r\nbody\r\n"

/* The list entry called name, or NULL. */
static const struct store_mailbox_info *
find_info(const struct store_mailbox_info *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	}
	return NULL;
}

static void list(struct fx *f, struct store_mailbox_info **list_r, size_t *n_r)
{
	const char *error = NULL;

	if (store_mailbox_list(f->u, list_r, n_r, &error) != 0)
		fail_msg("store_mailbox_list: %s", error);
}

static void test_defaults(void **state)
{
	static const struct {
		const char *name;
		unsigned special;
		const char *dir;
	} want[] = {
		{"Drafts", STORE_SU_DRAFTS, ".Drafts/cur"},
		{"Sent", STORE_SU_SENT, ".Sent/cur"},
		{"Trash", STORE_SU_TRASH, ".Trash/cur"},
		{"Junk", STORE_SU_JUNK, ".Junk/cur"},
		{"Archive", STORE_SU_ARCHIVE, ".Archive/new"},
	};
	struct fx *f = *state;
	struct store_mailbox_info *l;
	const struct store_mailbox_info *i;
	size_t n;

	list(f, &l, &n);
	assert_int_equal(n, 6);
	assert_string_equal(l[0].name, "INBOX");
	assert_true(l[0].exists);
	assert_true(l[0].subscribed);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		i = find_info(l, n, want[k].name);
		assert_non_null(i);
		assert_int_equal(i->special, want[k].special);
		assert_true(i->subscribed);
		assert_true(i->exists);
		assert_false(i->has_children);
		assert_false(i->noselect);
		assert_int_equal(access(mpath(f, "%s", want[k].dir), F_OK), 0);
	}
	/* Sorted after INBOX. */
	for (size_t k = 2; k < n; k++)
		assert_true(strcmp(l[k - 1].name, l[k].name) < 0);
	store_mailbox_list_free(&l, n);
	assert_null(l);
	/* A second open does not add them again. */
	store_user_free(&f->u);
	f->u = open_user(f);
	list(f, &l, &n);
	assert_int_equal(n, 6);
	store_mailbox_list_free(&l, n);
}

static void test_names(void **state)
{
	static const char *const bad[] = {
		"",   "a.b",  "/a",    "a/", "a//b",
		"..", "a\tb", "a\x7f", "a*", "x%",
	};
	struct fx *f = *state;
	struct store_mailbox *mb;
	const char *error;
	enum store_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(store_mailbox_create(f->u, bad[i], 0, &error),
				 STORE_ERR_NAME);
	assert_int_equal(store_mailbox_create(f->u, "INBOX", 0, &error),
			 STORE_ERR_EXISTS);
	assert_int_equal(store_mailbox_create(f->u, "Sent", 0, &error),
			 STORE_ERR_EXISTS);
	/* INBOX in any case. */
	mb = open_mb(f, "iNbOx", false);
	store_mailbox_free(&mb);
	assert_null(store_mailbox_open(f->u, "Nope", false, &err, &error));
	assert_int_equal(err, STORE_ERR_NONEXISTENT);
	/* Modified UTF-7 and spaces are fine; "inbox/x" is INBOX's child. */
	assert_int_equal(store_mailbox_create(f->u, "Caf&AOk- x", 0, &error),
			 0);
	assert_int_equal(access(mpath(f, ".Caf&AOk- x/cur"), F_OK), 0);
	assert_int_equal(store_mailbox_create(f->u, "inbox/x", 0, &error), 0);
	assert_int_equal(access(mpath(f, ".INBOX.x/cur"), F_OK), 0);
}

static void test_create_parents(void **state)
{
	struct fx *f = *state;
	struct store_mailbox_info *l;
	const struct store_mailbox_info *i;
	const char *error;
	size_t n;

	assert_int_equal(
		store_mailbox_create(f->u, "A/B/C", STORE_SU_ARCHIVE, &error),
		0);
	assert_int_equal(access(mpath(f, ".A/cur"), F_OK), 0);
	assert_int_equal(access(mpath(f, ".A.B/cur"), F_OK), 0);
	assert_int_equal(access(mpath(f, ".A.B.C/cur"), F_OK), 0);
	assert_int_equal(store_mailbox_create(f->u, "A/B", 0, &error),
			 STORE_ERR_EXISTS);
	list(f, &l, &n);
	i = find_info(l, n, "A");
	assert_non_null(i);
	assert_true(i->has_children);
	assert_false(i->subscribed);
	i = find_info(l, n, "A/B/C");
	assert_non_null(i);
	assert_false(i->has_children);
	assert_int_equal(i->special, STORE_SU_ARCHIVE);
	store_mailbox_list_free(&l, n);
}

static void test_rename(void **state)
{
	struct fx *f = *state;
	struct store_status st;
	struct store_mailbox *mb;
	struct store_mailbox_info *l;
	const char *error;
	char name[256];
	uint32_t uidv;
	size_t n;

	assert_int_equal(store_mailbox_create(f->u, "A/B", 0, &error), 0);
	append(f, "A/B", MSG, STORE_F_SEEN, NULL);
	assert_int_equal(store_mailbox_status(f->u, "A/B", &st, &error), 0);
	uidv = st.uidvalidity;
	mb = open_mb(f, "A/B", false);

	assert_int_equal(store_mailbox_rename(f->u, "A", "X/Y", &error), 0);
	assert_int_equal(access(mpath(f, ".A"), F_OK), -1);
	assert_int_equal(access(mpath(f, ".X.Y/cur"), F_OK), 0);
	assert_int_equal(access(mpath(f, ".X.Y.B/cur"), F_OK), 0);
	assert_int_equal(access(mpath(f, ".X/cur"), F_OK), 0);
	/* Same UIDVALIDITY and UIDs under the new name. */
	assert_int_equal(store_mailbox_status(f->u, "X/Y/B", &st, &error), 0);
	assert_int_equal(st.uidvalidity, uidv);
	assert_int_equal(st.messages, 1);
	assert_int_equal(store_mailbox_status(f->u, "A/B", &st, &error),
			 STORE_ERR_NONEXISTENT);
	/* An open handle follows the rename, even before its next sync. */
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_FLAGGED, NULL, 0, &error),
			 0);
	assert_true(find_file(mpath(f, ".X.Y.B/cur"), "", name, sizeof(name)));
	assert_non_null(strstr(name, ":2,FS"));
	sync_mb(mb);
	assert_int_equal(n_msgs(mb), 1);
	assert_int_equal(store_mailbox_find(mb, 1)->flags,
			 STORE_F_SEEN | STORE_F_FLAGGED);
	store_mailbox_free(&mb);

	assert_int_equal(store_mailbox_rename(f->u, "Sent", "Trash", &error),
			 STORE_ERR_EXISTS);
	assert_int_equal(store_mailbox_rename(f->u, "Nope", "Z", &error),
			 STORE_ERR_NONEXISTENT);
	assert_int_equal(store_mailbox_rename(f->u, "X", "X/Y/Z", &error),
			 STORE_ERR_NOPERM);
	assert_int_equal(store_mailbox_rename(f->u, "X", "INBOX", &error),
			 STORE_ERR_EXISTS);
	/* Moving the last child out takes its \Noselect parent along. */
	assert_int_equal(store_mailbox_create(f->u, "N/M", 0, &error), 0);
	assert_int_equal(store_mailbox_delete(f->u, "N", &error), 0);
	assert_int_equal(store_mailbox_rename(f->u, "N/M", "M2", &error), 0);
	list(f, &l, &n);
	assert_null(find_info(l, n, "N"));
	assert_non_null(find_info(l, n, "M2"));
	store_mailbox_list_free(&l, n);
	/* A re-created old name gets a new UIDVALIDITY. */
	assert_int_equal(store_mailbox_create(f->u, "A/B", 0, &error), 0);
	assert_int_equal(store_mailbox_status(f->u, "A/B", &st, &error), 0);
	assert_true(st.uidvalidity > uidv);
}

static void test_rename_inbox(void **state)
{
	struct fx *f = *state;
	struct store_status st;
	struct store_mailbox *mb;
	const char *error;
	uint32_t uidv;

	append(f, "INBOX", MSG, 0, NULL);
	append(f, "INBOX", MSG, STORE_F_FLAGGED, "kw");
	put_file(mpath(f, "new/3.c.host"), MSG, 0); /* not synced yet */
	assert_int_equal(store_mailbox_create(f->u, "INBOX/child", 0, &error),
			 0);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	uidv = st.uidvalidity;

	assert_int_equal(store_mailbox_rename(f->u, "inbox", "Old", &error), 0);
	/* RFC 3501 6.3.5: INBOX stays, empty; its children stay too. */
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.uidvalidity, uidv);
	assert_int_equal(st.uidnext, 4);
	assert_int_equal(count_dir(mpath(f, "cur")), 0);
	assert_int_equal(access(mpath(f, ".INBOX.child/cur"), F_OK), 0);
	mb = open_mb(f, "Old", false);
	assert_int_equal(n_msgs(mb), 3);
	assert_int_equal(store_mailbox_find(mb, 2)->flags, STORE_F_FLAGGED);
	assert_string_equal(store_mailbox_find(mb, 2)->keywords, "kw");
	assert_int_equal(count_dir(mpath(f, ".Old/cur")), 3);
	store_mailbox_free(&mb);
	/* New mail to INBOX continues its UIDs. */
	assert_int_equal(append(f, "INBOX", MSG, 0, NULL), 4);
	assert_int_equal(store_mailbox_rename(f->u, "INBOX", "Old", &error),
			 STORE_ERR_EXISTS);
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	struct store_mailbox_info *l;
	const struct store_mailbox_info *i;
	struct store_status st;
	struct store_mailbox *mb;
	enum store_err err;
	const char *error;
	size_t n;

	assert_int_equal(store_mailbox_delete(f->u, "INBOX", &error),
			 STORE_ERR_NOPERM);
	assert_int_equal(store_mailbox_delete(f->u, "Nope", &error),
			 STORE_ERR_NONEXISTENT);
	assert_int_equal(store_mailbox_subscribe(f->u, "Junk", true, &error),
			 0);
	/* Something another tool keeps there does not block the DELETE. */
	assert_int_equal(mkdir(mpath(f, ".Junk/extra"), 0700), 0);
	append(f, "Junk", MSG, 0, NULL);
	assert_int_equal(store_mailbox_delete(f->u, "Junk", &error), 0);
	assert_int_equal(access(mpath(f, ".Junk"), F_OK), -1);

	/* With children: the messages go, the name stays \Noselect. */
	assert_int_equal(store_mailbox_create(f->u, "P/C", 0, &error), 0);
	append(f, "P", MSG, 0, NULL);
	append(f, "P/C", MSG, 0, NULL);
	assert_int_equal(store_mailbox_delete(f->u, "P", &error), 0);
	assert_int_equal(access(mpath(f, ".P"), F_OK), -1);
	assert_int_equal(access(mpath(f, ".P.C/cur"), F_OK), 0);
	assert_null(store_mailbox_open(f->u, "P", false, &err, &error));
	assert_int_equal(err, STORE_ERR_NONEXISTENT);
	assert_int_equal(store_mailbox_status(f->u, "P/C", &st, &error), 0);
	assert_int_equal(st.messages, 1);
	list(f, &l, &n);
	i = find_info(l, n, "P");
	assert_non_null(i);
	assert_true(i->noselect);
	assert_true(i->has_children);
	/* The subscription outlives the mailbox (RFC 3501 6.3.6). */
	i = find_info(l, n, "Junk");
	assert_non_null(i);
	assert_true(i->subscribed);
	assert_false(i->exists);
	store_mailbox_list_free(&l, n);
	assert_int_equal(store_mailbox_delete(f->u, "P", &error),
			 STORE_ERR_NOPERM);
	/* The last child takes the \Noselect parent with it. */
	mb = open_mb(f, "P/C", false);
	assert_int_equal(store_mailbox_delete(f->u, "P/C", &error), 0);
	assert_int_equal(store_mailbox_sync(mb, &error), STORE_ERR_NONEXISTENT);
	store_mailbox_free(&mb);
	list(f, &l, &n);
	assert_null(find_info(l, n, "P"));
	assert_null(find_info(l, n, "P/C"));
	store_mailbox_list_free(&l, n);
	/* CREATE after DELETE works and starts at UID 1. */
	assert_int_equal(store_mailbox_create(f->u, "P", 0, &error), 0);
	assert_int_equal(append(f, "P", MSG, 0, NULL), 1);
}

static void test_subscribe(void **state)
{
	struct fx *f = *state;
	struct store_mailbox_info *l;
	const struct store_mailbox_info *i;
	const char *error;
	size_t n;

	assert_int_equal(store_mailbox_subscribe(f->u, "Sent", false, &error),
			 0);
	assert_int_equal(store_mailbox_subscribe(f->u, "Later", true, &error),
			 0);
	assert_int_equal(store_mailbox_subscribe(f->u, "a.b", true, &error),
			 STORE_ERR_NAME);
	list(f, &l, &n);
	assert_false(find_info(l, n, "Sent")->subscribed);
	i = find_info(l, n, "Later");
	assert_non_null(i);
	assert_true(i->subscribed);
	assert_false(i->exists);
	store_mailbox_list_free(&l, n);
}

static void test_status(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	struct store_status st;
	const char *error;

	f->u->index_batch = 1; /* STATUS goes on until all are indexed */
	put_file(mpath(f, "new/0.z.host"), MSG, time(NULL) - 60);
	append(f, "INBOX", MSG, STORE_F_SEEN, NULL);
	put_file(mpath(f, "new/3.c.host"), "Subject: x\n\nbare\n", 0);
	/* STATUS sees new/ without a SELECT. */
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.unseen, 2);
	assert_int_equal(st.recent, 3);
	assert_int_equal(st.uidnext, 4);
	assert_true(st.uidvalidity > 0);
	assert_true(st.highestmodseq > 0);
	assert_int_equal(st.size,
			 2 * strlen(MSG) + strlen("Subject: x\n\nbare\n") + 3);
	mb = open_mb(f, "INBOX", false);
	store_mailbox_free(&mb);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	assert_int_equal(st.recent, 0);
	/* Settled folder: STATUS answers from the index without a scan... */
	set_mtime(mpath(f, "new"), time(NULL) - 20);
	set_mtime(mpath(f, "cur"), time(NULL) - 20);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	put_file(mpath(f, "new/4.d.host"), MSG, 0);
	set_mtime(mpath(f, "new"), time(NULL) - 20);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	assert_int_equal(st.messages, 3);
	/* ...and scans once new/ changed. */
	set_mtime(mpath(f, "new"), time(NULL) - 10);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	assert_int_equal(st.messages, 4);
	assert_int_equal(st.recent, 1);
	assert_int_equal(store_mailbox_status(f->u, "Nope", &st, &error),
			 STORE_ERR_NONEXISTENT);
}

/* Folders made and removed by other tools are picked up. */
static void test_foreign_folders(void **state)
{
	struct fx *f = *state;
	struct store_mailbox_info *l;
	struct store_status st;
	const char *error;
	size_t n;

	assert_int_equal(mkdir(mpath(f, ".Lists.dev"), 0700), 0);
	assert_int_equal(mkdir(mpath(f, ".Lists.dev/cur"), 0700), 0);
	assert_int_equal(mkdir(mpath(f, ".Lists.dev/new"), 0700), 0);
	assert_int_equal(mkdir(mpath(f, ".Lists.dev/tmp"), 0700), 0);
	put_file(mpath(f, ".Lists.dev/new/1.a.host"), MSG, 0);
	/* A symlinked folder is not followed out of the Maildir. */
	assert_int_equal(symlink(mpath(f, ".Sent"), mpath(f, ".Link")), 0);
	assert_int_equal(mkdir(mpath(f, ".not..valid"), 0700), 0);
	assert_int_equal(mkdir(mpath(f, ".not..valid/cur"), 0700), 0);
	assert_int_equal(
		nftw(mpath(f, ".Archive"), rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	list(f, &l, &n);
	assert_non_null(find_info(l, n, "Lists/dev"));
	assert_true(find_info(l, n, "Lists")->noselect);
	assert_false(find_info(l, n, "Archive")->exists);
	assert_null(find_info(l, n, "Link"));
	store_mailbox_list_free(&l, n);
	assert_int_equal(store_mailbox_status(f->u, "Lists/dev", &st, &error),
			 0);
	assert_int_equal(st.messages, 1);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	const char *error;
	int h, h2, status;
	pid_t pid;

	h = store_lock(f->u, "INBOX", &error);
	assert_true(h >= 0);
	/* Another session in this process. */
	assert_int_equal(store_lock(f->u, "INBOX", &error), STORE_ERR_LOCKED);
	/* Another mailbox is not locked. */
	h2 = store_lock(f->u, "Sent", &error);
	assert_true(h2 >= 0);
	store_unlock(f->u, h2);
	assert_int_equal(store_lock(f->u, "Nope", &error),
			 STORE_ERR_NONEXISTENT);

	/* Another process: its own handle, its own lock attempt. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_user *u = open_user(f);
		int rc = store_lock(u, "INBOX", &error);

		_exit(rc == STORE_ERR_LOCKED ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	store_unlock(f->u, h);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_user *u = open_user(f);
		int rc = store_lock(u, "INBOX", &error);

		_exit(rc >= 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The child's lock died with it. */
	h = store_lock(f->u, "INBOX", &error);
	assert_true(h >= 0);
	store_unlock(f->u, h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_parents, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_inbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_folders, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
