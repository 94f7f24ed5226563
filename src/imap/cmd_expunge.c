/*
 * EXPUNGE (RFC 3501 6.4.3; RFC 7162 3.2.7) and UID EXPUNGE (RFC 4315
 * 2.1; RFC 7162 3.2.9).
 *
 * Only messages the client knows (in the session's view) are expunged,
 * so a message that arrived unseen with \Deleted is never reported
 * before it was announced (RFC 7162 3.2.10.2). The untagged EXPUNGE (or
 * VANISHED under QRESYNC) responses come from imap_session_sync(), which
 * numbers each EXPUNGE after the previous ones took effect (RFC 3501
 * 7.4.1), before the tagged OK.
 */
#include <stdlib.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* \Deleted messages of the view, among only (NULL: all), ascending. */
static uint32_t *deleted_uids(struct imap_session *s, const uint32_t *only,
			      size_t n_only, size_t *n_r)
{
	const struct imap_view *v = &s->view;
	uint32_t *uids = xmalloc((v->n > 0 ? v->n : 1) * sizeof(*uids));
	size_t k = 0, j = 0;

	for (size_t i = 0; i < v->n; i++) {
		uint32_t uid = v->msgs[i].uid;
		const struct store_msg *m;

		if (only != NULL) {
			while (j < n_only && only[j] < uid)
				j++;
			if (j == n_only || only[j] != uid)
				continue;
		}
		m = store_mailbox_find(s->mailbox, uid);
		if (m != NULL && (m->flags & STORE_F_DELETED))
			uids[k++] = uid;
	}
	*n_r = k;
	return uids;
}

static enum imap_cmd_result expunge(struct imap_session *s, const char *tag,
				    const uint32_t *only, size_t n_only,
				    const char *name)
{
	const char *error = NULL;
	uint32_t *uids;
	size_t n;
	int r;

	if (s->readonly) {
		imap_no(s, tag, "[CANNOT] Mailbox is read-only (EXAMINE)");
		return IMAP_CMD_DONE;
	}
	/* The flags as they are now, others' STOREs included. */
	if (store_mailbox_sync(s->mailbox, &error) < 0)
		log_warn(conn_sid(s->conn), "expunge: sync failed", "error=%s",
			 error);
	uids = deleted_uids(s, only, n_only, &n);
	r = n > 0 ? store_expunge(s->mailbox, uids, n, &error) : 0;
	free(uids);
	if (r < 0) {
		imap_no_store(s, tag, r, error, false);
		return IMAP_CMD_DONE;
	}
	if (imap_session_sync(s, 0, &error) < 0)
		log_warn(conn_sid(s->conn), "expunge: sync failed", "error=%s",
			 error);
	/* RFC 7162 3.2.7, 3.2.9: the new HIGHESTMODSEQ under QRESYNC. */
	if (n > 0 && (s->enabled & IMAP_ENABLED_QRESYNC))
		imap_ok(s, tag, "[HIGHESTMODSEQ %llu] %s completed",
			(unsigned long long)s->view.highestmodseq, name);
	else
		imap_ok(s, tag, "%s completed", name);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_expunge(struct imap_session *s, const char *tag,
				      struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	return expunge(s, tag, NULL, 0, "EXPUNGE");
}

enum imap_cmd_result imap_cmd_uid_expunge(struct imap_session *s,
					  const char *tag, struct imap_args *a)
{
	struct imap_seqset set;
	uint32_t *uids = NULL;
	size_t n = 0;
	const char *error = NULL;
	enum imap_cmd_result r;

	if (imap_args_seqset(a, &set) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (imap_view_resolve(s, &set, true, &uids, &n, &error) < 0) {
		a->error = error;
		return IMAP_CMD_BAD;
	}
	if (n == 0 && !s->readonly) {
		/* Nothing named is here: still a valid, empty expunge. */
		imap_ok(s, tag, "UID EXPUNGE completed");
		return IMAP_CMD_DONE;
	}
	r = expunge(s, tag, uids, n, "UID EXPUNGE");
	free(uids);
	return r;
}
