/*
 * The header fields kept in the index with each message (cache.fields):
 * those SEARCH keys read (FROM, TO, CC, BCC, SUBJECT, SENT*) and those
 * mail clients ask for with BODY.PEEK[HEADER.FIELDS (...)] when they list
 * a folder (Thunderbird's list). A search or such a FETCH then reads one
 * index row instead of opening the message file, as Dovecot answers from
 * its cache file.
 *
 * The block is the fields' lines as the message has them (folded, in
 * order, CRLF) and then the message's blank line, so mail/mime.h parses it
 * as it parses the header, and HEADER.FIELDS of it gives the same octets
 * as of the file. Past STORE_FIELDS_MAX (a huge To: list) nothing is kept
 * and the file is read.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "mail/mime.h"

#define STORE_FIELDS_MAX 8192
/* Messages of an upgraded index given their fields per sync. */
#define STORE_BACKFILL_BATCH 100

/* clang-format off */
static char *const store_fields[] = {
	"Bcc", "Cc", "Content-Type", "Date", "From", "In-Reply-To",
	"List-Id", "Message-ID", "Newsgroups", "Priority", "References",
	"Reply-To", "Sender", "Subject", "To", "X-Priority",
};
/* clang-format on */

#define STORE_N_FIELDS (sizeof(store_fields) / sizeof(store_fields[0]))

bool store_field_cached(const char *name)
{
	for (size_t i = 0; i < STORE_N_FIELDS; i++)
		if (strcasecmp(store_fields[i], name) == 0)
			return true;
	return false;
}

char *store_fields_extract(const char *data, size_t len,
			   const struct mime_part *root, size_t *len_r)
{
	size_t hdr_len = root->hdr_len, blank, o;
	char *out;

	/* The tree is the parser's: checked anyway, never trusted past len. */
	if (root->hdr_off > len || hdr_len > len - root->hdr_off ||
	    root->body_off < root->hdr_off + hdr_len || root->body_off > len)
		return NULL;
	blank = root->body_off - (root->hdr_off + hdr_len);
	out = xmalloc(hdr_len + blank + 1);
	mime_header_fields(data + root->hdr_off, hdr_len, store_fields,
			   STORE_N_FIELDS, false, out, &o);
	if (o + blank > STORE_FIELDS_MAX) {
		free(out);
		return NULL;
	}
	memcpy(out + o, data + root->hdr_off + hdr_len, blank);
	out[o + blank] = '\0';
	*len_r = o + blank;
	return out;
}

/* Keep the fields of a message from its file's header; 0 also when the
 * file cannot be read (the fallback tries again, or fails then). */
static int backfill_one(struct store_user *u, const struct store_mbrow *row,
			const char *dir, sqlite3_stmt *msg)
{
	struct mime_part *root;
	char *data, *fields;
	size_t len, flen;
	sqlite3_stmt *up;
	int rc = store_msg_file_read(
		u, dir, (const char *)sqlite3_column_text(msg, 1),
		(const char *)sqlite3_column_text(msg, 2), true, &data, &len);

	if (rc < 0)
		return 0;
	root = mime_parse(data, len);
	fields = store_fields_extract(data, len, root, &flen);
	mime_free(&root);
	free(data);
	if (fields == NULL)
		return 0;
	rc = STORE_ERR_IO;
	if ((up = store_stmt(u, SST_CACHE_SET_FIELDS)) != NULL) {
		sqlite3_bind_int64(up, 1, row->id);
		sqlite3_bind_int64(up, 2, sqlite3_column_int64(msg, 0));
		sqlite3_bind_text(up, 3, fields, (int)flen, SQLITE_STATIC);
		rc = store_run(u, up);
	}
	free(fields);
	return rc;
}

int store_fields_backfill(struct store_user *u, const struct store_mbrow *row,
			  const char *dir)
{
	char key[48];
	int64_t below, last = 0;
	sqlite3_stmt *st;
	int n = 0, rc;

	snprintf(key, sizeof(key), "fields_todo:%lld", (long long)row->id);
	if ((rc = store_meta_get(u, key, &below)) <= 0)
		return rc;
	if ((st = store_stmt(u, SST_MSG_BELOW)) == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, below);
	sqlite3_bind_int(st, 3, STORE_BACKFILL_BATCH);
	/* One query for the batch; each UPDATE is of the cache table, not
	 * the one being read. */
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		n++;
		last = sqlite3_column_int64(st, 0);
		if ((rc = backfill_one(u, row, dir, st)) < 0)
			break;
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (n < STORE_BACKFILL_BATCH)
		return store_meta_delete(u, key);
	return store_meta_set(u, key, last);
}
