/*
 * store: UIDs and the Maildir. Files put into new/ and cur/ by hand get
 * UIDs in arrival order, vanished files are expunged, flags travel
 * between the index and the ":2," file names, sizes count CRLF, STORE
 * honours UNCHANGEDSINCE, APPEND/COPY/MOVE/EXPUNGE keep UIDs straight,
 * two handles on one user see each other's changes, and a lost index is
 * rebuilt with a new UIDVALIDITY and the flags kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <sys/wait.h>

#include "store/maildir.h"
#include "store/store_int.h"
#include "test_store_util.h"

#define STRESS_OPS 80
#define MSG "From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"

static void test_uid_order(void **state)
{
	struct fx *f = *state;
	time_t now = time(NULL);
	const struct store_msg *msgs;
	struct store_mailbox *mb;
	char name[256];
	size_t n;

	/* Indexed two per transaction: the order holds across batches. */
	f->u->index_batch = 2;
	/* Arrival order is the mtime, not the name. */
	put_file(mpath(f, "new/300.a.host"), "Subject: 1\n\nx\n", now - 30);
	put_file(mpath(f, "new/100.b.host"), "Subject: 2\n\nx\n", now - 20);
	put_file(mpath(f, "new/200.c.host"), "Subject: 3\n\nx\n", now - 10);
	mb = open_mb(f, "INBOX", false);
	store_mailbox_messages(mb, &msgs, &n);
	assert_int_equal(n, 3);
	assert_int_equal(msgs[0].uid, 1);
	assert_int_equal(msgs[1].uid, 2);
	assert_int_equal(msgs[2].uid, 3);
	assert_int_equal(msgs[0].internaldate, now - 30);
	assert_int_equal(msgs[2].internaldate, now - 10);
	assert_true(msgs[0].recent);
	assert_int_equal(store_mailbox_uidnext(mb), 4);
	/* Moved to cur/, base name kept, info added. */
	assert_int_equal(count_dir(mpath(f, "new")), 0);
	assert_true(find_file(mpath(f, "cur"), "300.a.host:2,", name,
			      sizeof(name)));
	assert_string_equal(name, "300.a.host:2,");

	put_file(mpath(f, "new/050.d.host"), "Subject: 4\n\nx\n", now - 100);
	put_file(mpath(f, "cur/060.e.host:2,"), "Subject: 5\n\nx\n", now - 90);
	assert_int_equal(sync_mb(mb), 1);
	store_mailbox_messages(mb, &msgs, &n);
	assert_int_equal(n, 5);
	/* Older mtimes still get higher UIDs: UIDs never go backwards. */
	assert_int_equal(msgs[3].uid, 4);
	assert_int_equal(msgs[3].internaldate, now - 100);
	assert_int_equal(msgs[4].uid, 5);
	assert_int_equal(store_mailbox_uidnext(mb), 6);
	assert_int_equal(sync_mb(mb), 0);
	assert_non_null(store_mailbox_find(mb, 4));
	assert_null(store_mailbox_find(mb, 6));
	store_mailbox_free(&mb);
}

static void test_vanished(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	char name[256];
	uint64_t hms;

	put_file(mpath(f, "new/1.a.host"), MSG, 0);
	put_file(mpath(f, "new/2.b.host"), MSG, 0);
	mb = open_mb(f, "INBOX", false);
	assert_int_equal(n_msgs(mb), 2);
	hms = store_mailbox_highestmodseq(mb);
	assert_true(find_file(mpath(f, "cur"), "1.a.host", name, sizeof(name)));
	assert_int_equal(unlink(mpath(f, "cur/%s", name)), 0);
	/* A scan also clears tmp/ of what crashed writers left (36 h). */
	put_file(mpath(f, "tmp/old"), MSG, time(NULL) - 37 * 3600);
	put_file(mpath(f, "tmp/young"), MSG, time(NULL) - 35 * 3600);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(access(mpath(f, "tmp/old"), F_OK), -1);
	assert_int_equal(access(mpath(f, "tmp/young"), F_OK), 0);
	assert_int_equal(n_msgs(mb), 1);
	assert_null(store_mailbox_find(mb, 1));
	assert_non_null(store_mailbox_find(mb, 2));
	assert_int_equal(store_mailbox_uidnext(mb), 3);
	assert_true(store_mailbox_highestmodseq(mb) > hms);
	store_mailbox_free(&mb);
}

static void test_flags_from_names(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	const struct store_msg *m;
	char name[256];
	uint64_t modseq;
	const char *error;

	put_file(mpath(f, "new/1.a.host:2,FS"), MSG, 0);
	put_file(mpath(f, "cur/2.b.host:2,T"), MSG, 0);
	mb = open_mb(f, "INBOX", false);
	m = store_mailbox_find(mb, 1);
	assert_non_null(m);
	assert_int_equal(m->flags, STORE_F_FLAGGED | STORE_F_SEEN);
	assert_int_equal(store_mailbox_find(mb, 2)->flags, STORE_F_DELETED);

	/* STORE renames the file so mutt and Dovecot see the flags. */
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_ANSWERED, NULL, 0, &error),
			 0);
	assert_true(find_file(mpath(f, "cur"), "1.a.host", name, sizeof(name)));
	assert_string_equal(name, "1.a.host:2,FRS");
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_REMOVE,
					     STORE_F_FLAGGED | STORE_F_SEEN,
					     NULL, 0, &error),
			 0);
	assert_true(find_file(mpath(f, "cur"), "1.a.host", name, sizeof(name)));
	assert_string_equal(name, "1.a.host:2,R");
	m = store_mailbox_find(mb, 1);
	assert_int_equal(m->flags, STORE_F_ANSWERED);
	modseq = m->modseq;

	/* Another tool changes the letters: the index follows. */
	assert_int_equal(rename(mpath(f, "cur/1.a.host:2,R"),
				mpath(f, "cur/1.a.host:2,DS")),
			 0);
	assert_int_equal(sync_mb(mb), 1);
	m = store_mailbox_find(mb, 1);
	assert_int_equal(m->flags, STORE_F_DRAFT | STORE_F_SEEN);
	assert_true(m->modseq > modseq);

	/* Letters we do not know stay. */
	assert_int_equal(rename(mpath(f, "cur/1.a.host:2,DS"),
				mpath(f, "cur/1.a.host:2,DPSa")),
			 0);
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_SET,
					     STORE_F_FLAGGED, NULL, 0, &error),
			 0);
	assert_true(find_file(mpath(f, "cur"), "1.a.host", name, sizeof(name)));
	assert_string_equal(name, "1.a.host:2,FPa");
	store_mailbox_free(&mb);
}

static void test_unchangedsince(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	const char *error;
	uint64_t m1, m2;

	append(f, "INBOX", MSG, 0, NULL);
	append(f, "INBOX", MSG, 0, NULL);
	mb = open_mb(f, "INBOX", false);
	m1 = store_mailbox_find(mb, 1)->modseq;
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_SEEN, NULL, m1, &error),
			 0);
	m2 = store_mailbox_find(mb, 1)->modseq;
	assert_true(m2 > m1);
	/* RFC 7162 3.1.3: changed since m1, so the STORE fails. */
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_FLAGGED, NULL, m1, &error),
			 STORE_ERR_MODIFIED);
	assert_int_equal(store_mailbox_find(mb, 1)->flags, STORE_F_SEEN);
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_FLAGGED, NULL, m2, &error),
			 0);
	/* No change: modseq stays. */
	m1 = store_mailbox_find(mb, 2)->modseq;
	assert_int_equal(store_msg_set_flags(mb, 2, STORE_FLAGS_REMOVE,
					     STORE_F_SEEN, NULL, 0, &error),
			 0);
	assert_int_equal(store_mailbox_find(mb, 2)->modseq, m1);
	assert_int_equal(store_msg_set_flags(mb, 9, STORE_FLAGS_ADD,
					     STORE_F_SEEN, NULL, 0, &error),
			 STORE_ERR_EXPUNGED);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(store_mailbox_highestmodseq(mb),
			 store_mailbox_find(mb, 1)->modseq);
	store_mailbox_free(&mb);
}

static void test_keywords(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	const char *error;

	append(f, "INBOX", MSG, 0, "$Forwarded Work");
	mb = open_mb(f, "INBOX", false);
	assert_string_equal(store_mailbox_find(mb, 1)->keywords,
			    "$Forwarded Work");
	assert_string_equal(store_mailbox_keywords(mb), "$Forwarded Work");
	/* Case-insensitive: spelled as the mailbox first saw it. */
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_REMOVE, 0,
					     "work", 0, &error),
			 0);
	assert_string_equal(store_mailbox_find(mb, 1)->keywords, "$Forwarded");
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD, 0,
					     "WORK later", 0, &error),
			 0);
	assert_string_equal(store_mailbox_find(mb, 1)->keywords,
			    "$Forwarded Work later");
	assert_int_equal(
		store_msg_set_flags(mb, 1, STORE_FLAGS_SET, 0, NULL, 0, &error),
		0);
	assert_null(store_mailbox_find(mb, 1)->keywords);
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD, 0,
					     "bad(kw", 0, &error),
			 STORE_ERR_NAME);
	assert_int_equal(sync_mb(mb), 1);
	assert_string_equal(store_mailbox_keywords(mb),
			    "$Forwarded Work later");
	store_mailbox_free(&mb);
}

static void test_size_crlf(void **state)
{
	struct fx *f = *state;
	static const char lf[] = "Subject: bare\n\nline one\nline two\n";
	static const char crlf[] =
		"Subject: bare\r\n\r\nline one\r\nline two\r\n";
	struct store_mailbox *mb;
	const char *error, *env, *body;
	char *data;
	size_t len;

	put_file(mpath(f, "new/1.lf.host"), lf, 0);
	mb = open_mb(f, "INBOX", false);
	assert_int_equal(store_mailbox_find(mb, 1)->size, strlen(crlf));
	assert_int_equal(store_msg_load(mb, 1, &data, &len, &error), 0);
	assert_int_equal(len, strlen(crlf));
	assert_memory_equal(data, crlf, len);
	free(data);
	assert_int_equal(store_msg_envelope(mb, 1, &env, &error), 0);
	assert_non_null(strstr(env, "\"bare\""));
	assert_int_equal(store_msg_bodystructure(mb, 1, false, &body, &error),
			 0);
	assert_non_null(strstr(body, "\"text\" \"plain\""));
	assert_int_equal(store_msg_load(mb, 7, &data, &len, &error),
			 STORE_ERR_EXPUNGED);
	store_mailbox_free(&mb);
}

/* The header block alone, whatever the line ends and wherever a read
 * step ends. */
static void test_load_header(void **state)
{
	static const struct {
		const char *head, *body, *want;
	} rows[] = {
		{"Subject: a\r\n\r\n", "body\r\n", "Subject: a\r\n\r\n"},
		{"Subject: a\n\n", "body\n", "Subject: a\r\n\r\n"},
		{"Subject: a\r\n", "", "Subject: a\r\n"},
		{"Subject: no newline", "", "Subject: no newline"},
		{"\r\n", "only body\r\n", "\r\n"},
		{"A: 1\r\nB: 2\r\n\r\n", "\r\n\r\nmore\r\n",
		 "A: 1\r\nB: 2\r\n\r\n"},
	};
	struct fx *f = *state;
	struct store_mailbox *mb;
	const char *error;
	char *data, *big;
	size_t len, hlen;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[64], *msg;

		snprintf(name, sizeof(name), "new/%zu.h.host", i);
		msg = xasprintf("%s%s", rows[i].head, rows[i].body);
		put_file(mpath(f, "%s", name), msg,
			 time(NULL) - 100 + (time_t)i);
		free(msg);
	}
	/* The empty line straddles the first 8 KiB read, then a big body. */
	hlen = 8192 - 3;
	big = xmalloc(hlen + 4 + 100000 + 1);
	memcpy(big, "X: ", 3);
	memset(big + 3, 'a', hlen - 3);
	memcpy(big + hlen, "\r\n\r\n", 4);
	memset(big + hlen + 4, 'b', 100000);
	big[hlen + 4 + 100000] = '\0';
	put_file(mpath(f, "new/9.big.host"), big, time(NULL));
	mb = open_mb(f, "INBOX", false);
	assert_int_equal(n_msgs(mb), 7);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(store_msg_load_header(mb, (uint32_t)i + 1,
						       &data, &len, &error),
				 0);
		assert_int_equal(len, strlen(rows[i].want));
		assert_memory_equal(data, rows[i].want, len);
		free(data);
	}
	assert_int_equal(store_msg_load_header(mb, 7, &data, &len, &error), 0);
	assert_int_equal(len, hlen + 4);
	assert_memory_equal(data, big, len);
	free(data);
	free(big);
	assert_int_equal(store_msg_load_header(mb, 8, &data, &len, &error),
			 STORE_ERR_EXPUNGED);
	store_mailbox_free(&mb);
}

/* One index row instead of the file: the fields SEARCH and clients'
 * HEADER.FIELDS read, kept as the message has them, then its blank line. */
static void test_cached_fields(void **state)
{
	static const char msg[] = "Received: from relay.example\r\n"
				  "From: Bob <bob@example.org>\r\n"
				  "X-Other: not kept\r\n"
				  "Subject: a long\r\n"
				  "\tfolded subject\r\n"
				  "to: alice@example.org\r\n"
				  "\r\n"
				  "body\r\n";
	static const char want[] = "From: Bob <bob@example.org>\r\n"
				   "Subject: a long\r\n"
				   "\tfolded subject\r\n"
				   "to: alice@example.org\r\n"
				   "\r\n";
	struct fx *f = *state;
	struct store_mailbox *mb;
	uint32_t uid = 1, copy_uid = 0, uidv = 0;
	const char *error;
	char name[256], *data;
	size_t len;

	assert_true(store_field_cached("SUBJECT"));
	assert_true(store_field_cached("message-id"));
	assert_false(store_field_cached("Received"));
	append(f, "INBOX", msg, 0, NULL);
	mb = open_mb(f, "INBOX", false);
	assert_int_equal(store_copy(mb, &uid, 1, "Trash", false, &uidv,
				    &copy_uid, &error),
			 0);
	/* The file is gone: only the index can answer. */
	assert_true(find_file(mpath(f, "cur"), "", name, sizeof(name)));
	assert_int_equal(unlink(mpath(f, "cur/%s", name)), 0);
	assert_int_equal(store_msg_load_fields(mb, 1, &data, &len, &error), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	free(data);
	store_mailbox_free(&mb);
	mb = open_mb(f, "Trash", false);
	assert_int_equal(
		store_msg_load_fields(mb, copy_uid, &data, &len, &error), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	free(data);
	store_mailbox_free(&mb);
}

static int64_t sql_int(struct store_user *u, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(u->db, sql, -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#define UPGRADE_MSG "Subject: x\r\nX-Y: z\r\n\r\nb\r\n"
#define UPGRADE_FIELDS "Subject: x\r\n\r\n"

/* Message uid's fields block is (cached) or is not (the file's header)
 * in the index. */
static void check_fields(struct store_mailbox *mb, uint32_t uid, bool cached)
{
	const char *want =
		cached ? UPGRADE_FIELDS : "Subject: x\r\nX-Y: z\r\n\r\n";
	const char *error;
	char *data;
	size_t len;

	assert_int_equal(store_msg_load_fields(mb, uid, &data, &len, &error),
			 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	free(data);
}

/*
 * A version 1 index is upgraded in place. Its messages have no cached
 * fields at first (their header comes from the file); syncs fill them
 * in, a batch at a time, highest UIDs first, until none is left.
 */
static void test_upgrade_v1(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;

	for (int i = 0; i < 150; i++)
		append(f, "INBOX", UPGRADE_MSG, 0, NULL);
	assert_int_equal(sqlite3_exec(f->u->db,
				      "ALTER TABLE cache DROP COLUMN fields;"
				      "PRAGMA user_version = 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	store_user_free(&f->u);
	f->u = open_user(f);
	assert_int_equal(sql_int(f->u, "PRAGMA user_version"),
			 STORE_INDEX_VERSION);
	assert_int_equal(
		sql_int(f->u,
			"SELECT count(*) FROM cache WHERE fields IS NULL"),
		150);
	mb = open_mb(f, "INBOX", false); /* its first sync: one batch */
	assert_int_equal(n_msgs(mb), 150);
	assert_int_equal(
		sql_int(f->u,
			"SELECT count(*) FROM cache WHERE fields IS NULL"),
		50);
	check_fields(mb, 1, false);
	check_fields(mb, 150, true);
	/* That batch was a change: the next sync looks and does the rest. */
	sync_mb(mb);
	assert_int_equal(
		sql_int(f->u,
			"SELECT count(*) FROM cache WHERE fields IS NULL"),
		0);
	/* INBOX's mark is gone; the folders not synced yet keep theirs. */
	assert_int_equal(sql_int(f->u, "SELECT count(*) FROM meta WHERE key = "
				       "'fields_todo:' || (SELECT id FROM "
				       "mailboxes WHERE name = 'INBOX')"),
			 0);
	assert_int_equal(sql_int(f->u, "SELECT count(*) FROM meta WHERE key "
				       "LIKE 'fields_todo:%'"),
			 5);
	check_fields(mb, 1, true);
	store_mailbox_free(&mb);
	/* Messages indexed after the upgrade have them at once. */
	append(f, "INBOX", UPGRADE_MSG, 0, NULL);
	mb = open_mb(f, "INBOX", false);
	check_fields(mb, 151, true);
	store_mailbox_free(&mb);
}

static void test_append_copy_move_expunge(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb, *arch;
	struct store_status st;
	uint32_t uids[3] = {1, 2, 3}, new_uids[3], uidv = 0, *gone;
	const char *error;
	char name[256];
	char *data;
	size_t len, n;
	uint64_t hms;

	assert_int_equal(append(f, "INBOX", MSG, STORE_F_SEEN, "k1"), 1);
	assert_int_equal(append(f, "INBOX", MSG, 0, NULL), 2);
	assert_int_equal(append(f, "INBOX", MSG, STORE_F_DELETED, NULL), 3);
	assert_true(find_file(mpath(f, "cur"), "", name, sizeof(name)));
	assert_int_equal(count_dir(mpath(f, "tmp")), 0);
	mb = open_mb(f, "INBOX", false);
	assert_int_equal(n_msgs(mb), 3);
	assert_int_equal(store_mailbox_find(mb, 1)->flags, STORE_F_SEEN);
	assert_int_equal(store_msg_load(mb, 1, &data, &len, &error), 0);
	assert_int_equal(len, strlen(MSG));
	free(data);

	/* COPY: new UIDs in the destination, flags and keywords kept. */
	assert_int_equal(store_copy(mb, uids, 2, "Trash", false, &uidv,
				    new_uids, &error),
			 0);
	assert_int_equal(new_uids[0], 1);
	assert_int_equal(new_uids[1], 2);
	assert_int_equal(count_dir(mpath(f, ".Trash/cur")), 2);
	assert_int_equal(store_mailbox_status(f->u, "Trash", &st, &error), 0);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.unseen, 1);
	assert_int_equal(st.uidvalidity, uidv);
	assert_int_equal(st.uidnext, 3);
	assert_int_equal(st.deleted, 0);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.deleted, 1);
	/* Hard links: each INBOX source now has two names. */
	{
		struct stat sb;

		assert_true(find_file(mpath(f, ".Trash/cur"), "", name,
				      sizeof(name)));
		assert_int_equal(stat(mpath(f, ".Trash/cur/%s", name), &sb), 0);
		assert_int_equal(sb.st_nlink, 2);
	}
	hms = store_mailbox_highestmodseq(mb);

	/* MOVE: gone from INBOX, in Archive; an expunged UID gets 0. */
	uids[0] = 2;
	uids[1] = 99;
	assert_int_equal(store_copy(mb, uids, 2, "Archive", true, &uidv,
				    new_uids, &error),
			 0);
	assert_int_equal(new_uids[0], 1);
	assert_int_equal(new_uids[1], 0);
	assert_null(store_mailbox_find(mb, 2));
	assert_int_equal(n_msgs(mb), 2);
	assert_int_equal(sync_mb(mb), 1); /* the change is reported */
	arch = open_mb(f, "Archive", false);
	assert_int_equal(n_msgs(arch), 1);
	assert_int_equal(store_mailbox_uidvalidity(arch), uidv);
	store_mailbox_free(&arch);

	/* EXPUNGE: file unlinked, row gone, UIDNEXT unchanged. */
	uids[0] = 3;
	assert_int_equal(count_dir(mpath(f, "cur")), 2);
	assert_int_equal(store_expunge(mb, uids, 1, &error), 0);
	assert_int_equal(count_dir(mpath(f, "cur")), 1);
	assert_int_equal(n_msgs(mb), 1);
	assert_int_equal(store_mailbox_uidnext(mb), 4);
	assert_int_equal(append(f, "INBOX", MSG, 0, NULL), 4);
	/* QRESYNC: what vanished since the COPY. */
	assert_int_equal(store_mailbox_vanished(mb, hms, &gone, &n, &error), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gone[0], 2);
	assert_int_equal(gone[1], 3);
	free(gone);
	assert_int_equal(store_mailbox_vanished(mb,
						store_mailbox_highestmodseq(mb),
						&gone, &n, &error),
			 0);
	assert_int_equal(n, 0);
	assert_null(gone);
	assert_int_equal(
		store_copy(mb, uids, 1, "Nope", false, &uidv, new_uids, &error),
		STORE_ERR_NONEXISTENT);
	store_mailbox_free(&mb);
}

static void test_readonly(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	const char *error;
	uint32_t uid = 1, nu, uidv;

	append(f, "INBOX", MSG, 0, NULL);
	mb = open_mb(f, "INBOX", true);
	assert_true(store_mailbox_find(mb, 1)->recent);
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_SEEN, NULL, 0, &error),
			 STORE_ERR_NOPERM);
	assert_int_equal(store_expunge(mb, &uid, 1, &error), STORE_ERR_NOPERM);
	assert_int_equal(
		store_copy(mb, &uid, 1, "Trash", true, &uidv, &nu, &error),
		STORE_ERR_NOPERM);
	store_mailbox_free(&mb);
	/* EXAMINE did not take \Recent; the first SELECT does. */
	mb = open_mb(f, "INBOX", false);
	assert_true(store_mailbox_find(mb, 1)->recent);
	store_mailbox_free(&mb);
	mb = open_mb(f, "INBOX", false);
	assert_false(store_mailbox_find(mb, 1)->recent);
	store_mailbox_free(&mb);
}

static void test_two_handles(void **state)
{
	struct fx *f = *state;
	/* In one process the handles are shared (store.h); the counting must
	 * still let each session free its own. */
	struct store_user *u2 = open_user(f);
	enum store_err err;
	const char *error;
	struct store_mailbox *a = open_mb(f, "INBOX", false);
	struct store_mailbox *b =
		store_mailbox_open(u2, "INBOX", false, &err, &error);
	uint32_t uid, uidv;

	assert_non_null(b);
	assert_int_equal(sync_mb(b), 0);
	/* A delivery by another handle (another process in real life). */
	assert_int_equal(store_append(u2, "INBOX", MSG, strlen(MSG), 0, NULL, 0,
				      &uidv, &uid, &error),
			 0);
	assert_int_equal(sync_mb(a), 1);
	assert_int_equal(n_msgs(a), 1);
	assert_int_equal(sync_mb(b), 1);
	/* b's STORE shows in a. */
	assert_int_equal(store_msg_set_flags(b, uid, STORE_FLAGS_ADD,
					     STORE_F_FLAGGED, "x", 0, &error),
			 0);
	assert_int_equal(sync_mb(a), 1);
	assert_int_equal(store_mailbox_find(a, uid)->flags, STORE_F_FLAGGED);
	assert_string_equal(store_mailbox_find(a, uid)->keywords, "x");
	assert_int_equal(store_mailbox_highestmodseq(a),
			 store_mailbox_find(a, uid)->modseq);
	/* a's EXPUNGE shows in b; a file in new/ shows in both. */
	assert_int_equal(store_expunge(a, &uid, 1, &error), 0);
	put_file(mpath(f, "new/9.z.host"), MSG, 0);
	assert_int_equal(sync_mb(b), 1);
	assert_null(store_mailbox_find(b, uid));
	assert_int_equal(n_msgs(b), 1);
	assert_int_equal(sync_mb(a), 1);
	assert_int_equal(n_msgs(a), 1);
	assert_int_equal(store_mailbox_find(a, uid + 1)->uid,
			 store_mailbox_find(b, uid + 1)->uid);
	store_mailbox_free(&b);
	store_mailbox_free(&a);
	store_user_free(&u2);
}

/* Run fn in a child process with its own store handle; its exit code. */
static int in_child(struct fx *f, int (*fn)(struct store_user *u))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		const char *error;
		struct store_user *u =
			store_user_open(f->dir, "example.org", "alice", &error);

		_exit(u == NULL ? 100 : fn(u));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int child_append(struct store_user *u)
{
	uint32_t uidv, uid;
	const char *error;

	return store_append(u, "INBOX", MSG, strlen(MSG), STORE_F_DRAFT, NULL,
			    0, &uidv, &uid, &error) == 0 &&
			       uid == 1
		       ? 0
		       : 1;
}

static int child_check_flags(struct store_user *u)
{
	enum store_err err;
	const char *error;
	struct store_mailbox *mb =
		store_mailbox_open(u, "INBOX", false, &err, &error);
	const struct store_msg *m =
		mb != NULL ? store_mailbox_find(mb, 1) : NULL;

	if (m == NULL)
		return 1;
	return m->flags == (STORE_F_DRAFT | STORE_F_SEEN) ? 0 : 2;
}

/* Another process (another worker) sees changes through the index. */
static void test_other_process(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb = open_mb(f, "INBOX", false);
	const char *error;

	assert_int_equal(sync_mb(mb), 0);
	assert_int_equal(in_child(f, child_append), 0);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(n_msgs(mb), 1);
	assert_int_equal(store_mailbox_find(mb, 1)->flags, STORE_F_DRAFT);
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_SEEN, NULL, 0, &error),
			 0);
	assert_int_equal(in_child(f, child_check_flags), 0);
	store_mailbox_free(&mb);
}

/* INBOX with a message, open, its directory times old enough to be
 * trusted (so a sync that finds nothing new is the cheap one). */
static struct store_mailbox *settled_inbox(struct fx *f)
{
	append(f, "INBOX", MSG, 0, NULL);
	set_mtime(mpath(f, "new"), time(NULL) - 20);
	set_mtime(mpath(f, "cur"), time(NULL) - 20);
	return open_mb(f, "INBOX", false);
}

/* The master's counters, inherited by in_child()'s children. */
static struct store_counters *test_counters;

/* A keyword: a change only the index holds (no file is renamed). */
static int child_keyword(struct store_user *u)
{
	enum store_err err;
	const char *error;
	struct store_mailbox *mb;
	int rc;

	store_user_use_counters(u, test_counters);
	mb = store_mailbox_open(u, "INBOX", false, &err, &error);
	if (mb == NULL)
		return 1;
	rc = store_msg_set_flags(mb, 1, STORE_FLAGS_ADD, 0, "work", 0, &error);
	store_mailbox_free(&mb);
	return rc == 0 ? 0 : 2;
}

/*
 * With the shared counters a quiet handle closes its connection, checks
 * without opening it, and still sees another process's index-only change.
 */
static void test_counters_close(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb, *other;
	struct timespec pause = {1, 200000000};

	test_counters = store_counters_new();
	store_user_use_counters(f->u, test_counters);
	mb = settled_inbox(f);
	sync_mb(mb);
	nanosleep(&pause, NULL);
	assert_int_equal(sync_mb(mb), 0);
	assert_null(f->u->db);
	assert_int_equal(sync_mb(mb), 0);
	assert_null(f->u->db); /* a check that finds nothing opens nothing */
	assert_int_equal(in_child(f, child_keyword), 0);
	assert_int_equal(sync_mb(mb), 1);
	assert_non_null(f->u->db);
	assert_string_equal(store_mailbox_find(mb, 1)->keywords, "work");
	/* Its own changes too, after another quiet spell. */
	nanosleep(&pause, NULL);
	assert_int_equal(sync_mb(mb), 0);
	assert_null(f->u->db);
	append(f, "INBOX", MSG, 0, NULL);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(n_msgs(mb), 2);
	/* Opened again by a session's command, not by a sync: closed
	 * again all the same once quiet. */
	nanosleep(&pause, NULL);
	assert_int_equal(sync_mb(mb), 0);
	assert_null(f->u->db);
	other = open_mb(f, "INBOX", false);
	assert_non_null(f->u->db);
	nanosleep(&pause, NULL);
	assert_int_equal(sync_mb(mb), 0);
	assert_null(f->u->db);
	store_mailbox_free(&other);
	store_mailbox_free(&mb);
	store_user_free(&f->u);
	store_counters_free(&test_counters);
}

static void count_notify(void *ctx)
{
	(*(int *)ctx)++;
}

/* Wait up to a second for the watch's events and hand them out. */
static void watch_wait(struct store_watch *w)
{
	struct pollfd pfd = {.fd = store_watch_fd(w), .events = POLLIN};

	if (poll(&pfd, 1, 1000) == 1)
		store_watch_read(w);
}

/*
 * A watched mailbox hears of a delivery into new/ and of another
 * process's commit (which writes the user's index.db-wal); two handles
 * on the same directories share the kernel's watches, and an unwatched
 * one hears nothing.
 */
static void test_watch(void **state)
{
	struct fx *f = *state;
	struct store_watch *w = store_watch_new();
	struct store_mailbox *a, *b;
	int na = 0, nb = 0;

	assert_non_null(w);
	append(f, "INBOX", MSG, 0, NULL);
	a = open_mb(f, "INBOX", false);
	b = open_mb(f, "INBOX", false);
	assert_int_equal(store_mailbox_watch(a, w, count_notify, &na), 0);
	assert_int_equal(store_mailbox_watch(b, w, count_notify, &nb), 0);
	put_file(mpath(f, "new/1.delivered.host"), MSG, 0);
	watch_wait(w);
	assert_true(na > 0 && nb > 0);
	store_mailbox_unwatch(b);
	na = nb = 0;
	assert_int_equal(in_child(f, child_keyword), 0);
	watch_wait(w);
	assert_true(na > 0);
	assert_int_equal(nb, 0);
	store_mailbox_free(&b);
	store_mailbox_free(&a); /* unwatches */
	na = 0;
	put_file(mpath(f, "new/2.delivered.host"), MSG, 0);
	watch_wait(w);
	assert_int_equal(na, 0);
	a = open_mb(f, "Sent", false);
	assert_int_equal(store_mailbox_watch(a, NULL, count_notify, &na), -1);
	store_mailbox_free(&a);
	store_watch_free(&w);
}

/* One worker of the stress test: appends, flag changes, expunges, and
 * files dropped into new/ as a delivery would, all on one INBOX. */
static int stress_worker(struct store_user *u, int seed)
{
	enum store_err err;
	const char *error;
	struct store_mailbox *mb =
		store_mailbox_open(u, "INBOX", false, &err, &error);
	char path[PATH_MAX];
	unsigned r = (unsigned)seed * 2654435761u;

	if (mb == NULL)
		return 1;
	for (int i = 0; i < STRESS_OPS; i++) {
		const struct store_msg *msgs;
		uint32_t uidv, uid;
		size_t n;
		int rc = 0;

		r = r * 1103515245u + 12345u;
		if (store_mailbox_sync(mb, &error) < 0)
			return 2;
		store_mailbox_messages(mb, &msgs, &n);
		uid = n > 0 ? msgs[(r >> 8) % n].uid : 0;
		switch ((r >> 4) % 4) {
		case 0:
			rc = store_append(u, "INBOX", MSG, strlen(MSG), 0, NULL,
					  0, &uidv, &uid, &error);
			break;
		case 1:
			snprintf(path, sizeof(path), "%s/new/%d.%d.stress",
				 u->root, seed, i);
			put_file(path, MSG, 0);
			break;
		case 2:
			if (uid != 0)
				rc = store_msg_set_flags(
					mb, uid, STORE_FLAGS_ADD, 1u << (r % 5),
					"k", 0, &error);
			break;
		default:
			if (uid != 0)
				rc = store_expunge(mb, &uid, 1, &error);
			break;
		}
		/* Another worker may have expunged it first. */
		if (rc < 0 && rc != STORE_ERR_EXPUNGED)
			return 3;
	}
	store_mailbox_free(&mb);
	return 0;
}

static int stress_1(struct store_user *u)
{
	return stress_worker(u, 1);
}

static int stress_2(struct store_user *u)
{
	return stress_worker(u, 2);
}

static int stress_3(struct store_user *u)
{
	return stress_worker(u, 3);
}

/* Three processes at once; afterwards one consistent view: every file
 * in cur/ indexed once, nothing left in new/, UIDs ascending. */
static void test_stress(void **state)
{
	int (*fns[])(struct store_user *) = {stress_1, stress_2, stress_3};
	struct fx *f = *state;
	pid_t pids[3];
	struct store_mailbox *mb;
	const struct store_msg *msgs;
	size_t n;

	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			const char *error;
			struct store_user *u = store_user_open(
				f->dir, "example.org", "alice", &error);

			_exit(u == NULL ? 100 : fns[i](u));
		}
	}
	for (int i = 0; i < 3; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	mb = open_mb(f, "INBOX", false);
	store_mailbox_messages(mb, &msgs, &n);
	assert_int_equal(count_dir(mpath(f, "new")), 0);
	assert_int_equal(count_dir(mpath(f, "cur")), (int)n);
	for (size_t i = 1; i < n; i++)
		assert_true(msgs[i - 1].uid < msgs[i].uid);
	for (size_t i = 0; i < n; i++) {
		char *data;
		size_t len;
		const char *error;

		assert_int_equal(
			store_msg_load(mb, msgs[i].uid, &data, &len, &error),
			0);
		assert_int_equal(len, strlen(MSG));
		free(data);
	}
	assert_true(store_mailbox_uidnext(mb) > msgs[n - 1].uid);
	store_mailbox_free(&mb);
}

/* The cheap path: with old mtimes and no commits, a sync does not scan;
 * postern's own change to cur/ does not make it scan either. */
static void test_sync_cheap(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	time_t t1 = time(NULL) - 20;
	const char *error;

	put_file(mpath(f, "new/1.a.host"), MSG, 0);
	mb = open_mb(f, "INBOX", false);
	set_mtime(mpath(f, "new"), t1);
	set_mtime(mpath(f, "cur"), t1);
	sync_mb(mb); /* stores the trusted mtimes */
	assert_int_equal(sync_mb(mb), 0);
	/* A file slipped in with the mtime put back is not seen... */
	put_file(mpath(f, "cur/2.b.host:2,"), MSG, 0);
	set_mtime(mpath(f, "cur"), t1);
	assert_int_equal(sync_mb(mb), 0);
	assert_int_equal(n_msgs(mb), 1);
	/* ...nor after a STORE renamed a file in cur/... */
	assert_int_equal(store_msg_set_flags(mb, 1, STORE_FLAGS_ADD,
					     STORE_F_SEEN, NULL, 0, &error),
			 0);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(n_msgs(mb), 1);
	/* ...until the directory changes by other hands. */
	set_mtime(mpath(f, "cur"), t1 + 5);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(n_msgs(mb), 2);
	store_mailbox_free(&mb);
}

static int cache_used(struct store_user *u)
{
	int cur = 0, hi = 0;

	assert_int_equal(sqlite3_db_status(u->db, SQLITE_DBSTATUS_CACHE_USED,
					   &cur, &hi, 0),
			 SQLITE_OK);
	return cur;
}

/* A session quiet for a second gives SQLite's page cache back. */
static void test_idle_release(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	struct timespec pause = {1, 200000000};
	int busy;

	mb = settled_inbox(f);
	sync_mb(mb); /* reads the index: the cache fills */
	busy = cache_used(f->u);
	assert_int_equal(sync_mb(mb), 0); /* busy a moment ago: kept */
	assert_int_equal(cache_used(f->u), busy);
	nanosleep(&pause, NULL);
	assert_int_equal(sync_mb(mb), 0);
	/* What is left is the one page SQLite keeps (the header). */
	assert_true(cache_used(f->u) <= busy / 2);
	store_mailbox_free(&mb);
}

static int64_t cache_size(struct store_user *u)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(
		sqlite3_prepare_v2(u->db, "PRAGMA cache_size", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * Released means released for the rest of the quiet time: the IDLE poll
 * that follows (one cheap sync a second) must not bring SQLite's memory
 * back. It did: pcache1 makes a ~90 KiB bulk allocation for the first
 * page fetched into an empty cache of 3 pages or more. Work afterwards
 * gets the full cache again.
 */
static void test_idle_release_stays(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	struct timespec pause = {1, 200000000};
	int cur = 0, hi = 0;
	int64_t quiet;

	mb = settled_inbox(f);
	sync_mb(mb);
	nanosleep(&pause, NULL);
	assert_int_equal(sync_mb(mb), 0); /* released here */
	quiet = sqlite3_memory_used();
	for (int i = 0; i < 3; i++)
		assert_int_equal(sync_mb(mb), 0); /* the polls */
	assert_true(sqlite3_memory_used() < quiet + 16 * 1024);
	/* The cached statements went too (the poll's one is left). */
	assert_int_equal(sqlite3_db_status(f->u->db, SQLITE_DBSTATUS_STMT_USED,
					   &cur, &hi, 0),
			 SQLITE_OK);
	assert_true(cur < 8 * 1024);
	assert_int_equal(cache_size(f->u), 2);
	/* A change: the sync does real work with the full cache. */
	append(f, "INBOX", MSG, 0, NULL);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(cache_size(f->u), STORE_CACHE_PAGES);
	store_mailbox_free(&mb);
}

/* A read transaction around many reads; not nested; ended cleanly. */
static void test_read_transaction(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	char *data = NULL;
	size_t len = 0;
	const char *error;
	uint32_t uid;

	append(f, "INBOX", MSG, 0, NULL);
	mb = open_mb(f, "INBOX", false);
	uid = store_mailbox_uidnext(mb) - 1;
	assert_int_equal(store_read_begin(f->u), 0);
	assert_false(sqlite3_get_autocommit(f->u->db));
	assert_int_equal(store_read_begin(f->u), -1); /* already in one */
	assert_int_equal(store_msg_load_header(mb, uid, &data, &len, &error),
			 0);
	assert_non_null(data);
	free(data);
	store_read_end(f->u);
	assert_true(sqlite3_get_autocommit(f->u->db));
	/* Writes work again afterwards. */
	append(f, "INBOX", MSG, 0, NULL);
	assert_int_equal(sync_mb(mb), 1);
	store_mailbox_free(&mb);
}

static void test_rebuild(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	struct store_status st;
	const char *error;
	uint32_t uidv_inbox, uidv_sent;

	append(f, "INBOX", MSG, STORE_F_SEEN | STORE_F_FLAGGED, "kw");
	append(f, "INBOX", MSG, 0, NULL);
	append(f, "Sent", MSG, STORE_F_SEEN, NULL);
	assert_int_equal(store_mailbox_create(f->u, "Work/2026", 0, &error), 0);
	append(f, "Work/2026", MSG, STORE_F_ANSWERED, NULL);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st, &error), 0);
	uidv_inbox = st.uidvalidity;
	assert_int_equal(store_mailbox_status(f->u, "Sent", &st, &error), 0);
	uidv_sent = st.uidvalidity;
	store_user_free(&f->u);
	assert_int_equal(unlink(mpath(f, "index.db")), 0);
	unlink(mpath(f, "index.db-wal"));
	unlink(mpath(f, "index.db-shm"));

	f->u = open_user(f);
	mb = open_mb(f, "INBOX", false);
	assert_true(store_mailbox_uidvalidity(mb) > uidv_inbox);
	assert_int_equal(n_msgs(mb), 2);
	/* Flags from the file names; keywords were only in the index. */
	assert_int_equal(store_mailbox_find(mb, 1)->flags +
				 store_mailbox_find(mb, 2)->flags,
			 STORE_F_SEEN | STORE_F_FLAGGED);
	store_mailbox_free(&mb);
	assert_int_equal(store_mailbox_status(f->u, "Sent", &st, &error), 0);
	assert_true(st.uidvalidity > uidv_sent);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.unseen, 0);
	assert_int_equal(store_mailbox_status(f->u, "Work/2026", &st, &error),
			 0);
	assert_int_equal(st.messages, 1);
}

static void test_corrupt_index(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;

	append(f, "INBOX", MSG, STORE_F_SEEN, NULL);
	store_user_free(&f->u);
	unlink(mpath(f, "index.db-wal"));
	unlink(mpath(f, "index.db-shm"));
	put_file(mpath(f, "index.db"),
		 "this is not an SQLite database, not at all, no........"
		 "................................................",
		 0);
	f->u = open_user(f);
	mb = open_mb(f, "INBOX", false);
	assert_int_equal(n_msgs(mb), 1);
	assert_int_equal(store_mailbox_find(mb, 1)->flags, STORE_F_SEEN);
	store_mailbox_free(&mb);
	assert_int_equal(access(mpath(f, "index.db.corrupt"), F_OK), 0);
}

static void test_quota(void **state)
{
	struct fx *f = *state;
	uint32_t uidv, uid;
	const char *error;

	store_user_set_quota(f->u, 100);
	assert_int_equal(store_append(f->u, "INBOX", MSG, strlen(MSG), 0, NULL,
				      0, &uidv, &uid, &error),
			 0);
	assert_int_equal(store_append(f->u, "INBOX", MSG, strlen(MSG), 0, NULL,
				      0, &uidv, &uid, &error),
			 0);
	assert_int_equal(store_append(f->u, "INBOX", MSG, strlen(MSG), 0, NULL,
				      0, &uidv, &uid, &error),
			 STORE_ERR_QUOTA);
	assert_int_equal(count_dir(mpath(f, "cur")), 2);
	assert_int_equal(count_dir(mpath(f, "tmp")), 0);
}

/* A message from postern's own delivery path (maildir.c) gets a UID. */
static void test_delivery(void **state)
{
	struct fx *f = *state;
	struct maildir_target t = {"example.org", "alice", 0};
	struct maildir_delivery *d;
	struct store_mailbox *mb;
	const char *error;
	char id[MAILDIR_ID_SIZE];
	char *data;
	size_t len;

	mb = open_mb(f, "INBOX", false);
	assert_int_equal(n_msgs(mb), 0);
	d = maildir_delivery_new(f->dir, "mx.example.org", &error);
	assert_non_null(d);
	assert_int_equal(maildir_delivery_write(d, MSG, strlen(MSG), &error),
			 0);
	assert_int_equal(
		maildir_delivery_commit(d, &t, 1, id, sizeof(id), &error), 0);
	maildir_delivery_free(&d);
	assert_int_equal(sync_mb(mb), 1);
	assert_int_equal(n_msgs(mb), 1);
	assert_int_equal(store_mailbox_find(mb, 1)->size, strlen(MSG));
	assert_int_equal(store_msg_load(mb, 1, &data, &len, &error), 0);
	assert_memory_equal(data, MSG, len);
	free(data);
	assert_int_equal(count_dir(mpath(f, "new")), 0);
	store_mailbox_free(&mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uid_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vanished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_from_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unchangedsince, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_crlf, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cached_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_append_copy_move_expunge,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_process, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_cheap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_release, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_release_stays, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
