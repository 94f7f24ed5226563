/*
 * Selecting a mailbox and leaving it: SELECT, EXAMINE (RFC 3501 6.3.1-2,
 * with RFC 7162 CONDSTORE and QRESYNC parameters), CLOSE (6.4.2),
 * UNSELECT (RFC 3691), CHECK (6.4.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* RFC 7162 3.2.5: the QRESYNC parameter of SELECT. */
struct qresync {
	bool given;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset known; /* n == 0: not given */
};

static int select_params(struct imap_session *s, struct imap_args *a,
			 bool *condstore, struct qresync *q)
{
	if (imap_args_at_end(a))
		return 0;
	if (imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		const char *name;

		if (imap_args_atom(a, &name) < 0)
			return -1;
		if (strcasecmp(name, "CONDSTORE") == 0) {
			*condstore = true;
			continue;
		}
		if (strcasecmp(name, "QRESYNC") != 0) {
			a->error = "Unknown SELECT parameter";
			return -1;
		}
		/* RFC 7162 3.2.5: only after ENABLE QRESYNC. */
		if (!(s->enabled & IMAP_ENABLED_QRESYNC)) {
			a->error = "QRESYNC is not enabled";
			return -1;
		}
		q->given = true;
		if (imap_args_list_open(a) < 0 ||
		    imap_args_nz_number(a, &q->uidvalidity) < 0 ||
		    imap_args_number64(a, &q->modseq) < 0)
			return -1;
		if (!imap_args_at_end(a) && !imap_args_is_list(a) &&
		    imap_args_seqset(a, &q->known) < 0)
			return -1;
		if (q->known.saved) {
			a->error = "\"$\" is not a set of known UIDs";
			return -1;
		}
		/* The sequence match data only narrows; skip it. */
		if (imap_args_is_list(a) && imap_args_skip(a) < 0)
			return -1;
		if (imap_args_list_close(a) < 0)
			return -1;
	}
	return imap_args_list_close(a);
}

/* VANISHED (EARLIER) for known UIDs expunged since the client's modseq
 * (RFC 7162 3.2.5.1). */
static void qresync_vanished(struct imap_session *s, struct qresync *q)
{
	uint32_t *uids = NULL;
	size_t n = 0, used = 0, cap = 4096;
	const char *error;
	char *line;

	if (store_mailbox_vanished(s->mailbox, q->modseq, &uids, &n, &error) <
	    0) {
		log_warn(conn_sid(s->conn), "qresync: vanished list failed",
			 "error=%s", error);
		return;
	}
	line = xmalloc(cap);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		if (q->known.n > 0 &&
		    !imap_seqset_contains(&q->known, uids[i], UINT32_MAX)) {
			i++;
			continue;
		}
		while (j + 1 < n && uids[j + 1] == uids[j] + 1 &&
		       (q->known.n == 0 ||
			imap_seqset_contains(&q->known, uids[j + 1],
					     UINT32_MAX)))
			j++;
		if (cap - used < 32) {
			cap *= 2;
			line = xrealloc(line, cap);
		}
		used += (size_t)snprintf(line + used, cap - used,
					 i == j ? "%s%u" : "%s%u:%u",
					 used > 0 ? "," : "", uids[i], uids[j]);
		i = j + 1;
	}
	if (used > 0)
		conn_printf(s->conn, "* VANISHED (EARLIER) %.*s\r\n", (int)used,
			    line);
	free(line);
	free(uids);
}

/* FETCH for messages changed since the client's modseq (3.2.5), only the
 * known UIDs when the client gave them (3.2.5.1). */
static void qresync_changed(struct imap_session *s, const struct qresync *q)
{
	const struct store_msg *msgs;
	size_t n;

	store_mailbox_messages(s->mailbox, &msgs, &n);
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].modseq <= q->modseq)
			continue;
		if (q->known.n > 0 &&
		    !imap_seqset_contains(&q->known, msgs[i].uid, UINT32_MAX))
			continue;
		conn_printf(s->conn, "* %zu FETCH (UID %u FLAGS ", i + 1,
			    msgs[i].uid);
		imap_write_flags(s, msgs[i].flags, msgs[i].keywords,
				 msgs[i].recent);
		conn_printf(s->conn, " MODSEQ (%llu))\r\n",
			    (unsigned long long)msgs[i].modseq);
	}
}

static void select_responses(struct imap_session *s)
{
	const struct store_msg *msgs;
	size_t n, unseen = 0;
	const char *kw = store_mailbox_keywords(s->mailbox);
	const char *sep = kw[0] != '\0' ? " " : "";

	store_mailbox_messages(s->mailbox, &msgs, &n);
	for (size_t i = 0; i < n && unseen == 0; i++)
		if (!(msgs[i].flags & STORE_F_SEEN))
			unseen = i + 1;
	/* RFC 3501 6.3.1: FLAGS, EXISTS, RECENT, and the OK codes. */
	imap_untagged(
		s, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s%s)",
		sep, kw);
	if (s->readonly)
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox");
	else
		imap_untagged(s,
			      "OK [PERMANENTFLAGS (\\Answered \\Flagged "
			      "\\Deleted \\Seen \\Draft%s%s \\*)] Flags "
			      "permitted",
			      sep, kw);
	imap_untagged(s, "%zu EXISTS", s->view.n);
	imap_untagged(s, "%u RECENT", s->view.recent);
	if (unseen != 0)
		imap_untagged(s, "OK [UNSEEN %zu] First unseen", unseen);
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid",
		      store_mailbox_uidvalidity(s->mailbox));
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID",
		      store_mailbox_uidnext(s->mailbox));
	/* RFC 7162 3.1.2.1 */
	imap_untagged(
		s, "OK [HIGHESTMODSEQ %llu] Highest",
		(unsigned long long)store_mailbox_highestmodseq(s->mailbox));
}

static enum imap_cmd_result do_select(struct imap_session *s, const char *tag,
				      struct imap_args *a, bool readonly)
{
	const char *name, *error = NULL;
	bool condstore = false;
	struct qresync q = {.given = false};
	enum store_err err = STORE_OK;
	struct store_mailbox *mb;

	if (imap_args_mailbox(a, &name) < 0 ||
	    select_params(s, a, &condstore, &q) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	/* RFC 7162 3.2.11 / RFC 9051 6.3.1: leaving the old one. */
	if (s->state == IMAP_STATE_SELECTED) {
		imap_session_unselect(s);
		imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	mb = store_mailbox_open(s->store_user, name, readonly, &err, &error);
	if (mb == NULL) {
		imap_no_store(s, tag, err, error, false);
		return IMAP_CMD_DONE;
	}
	s->mailbox = mb;
	s->mailbox_name = xstrdup(name);
	s->readonly = readonly;
	imap_view_load(s);
	imap_session_set_state(s, IMAP_STATE_SELECTED);
	if (condstore)
		s->enabled |= IMAP_ENABLED_CONDSTORE;
	select_responses(s);
	if (q.given && q.uidvalidity == store_mailbox_uidvalidity(s->mailbox)) {
		qresync_vanished(s, &q);
		qresync_changed(s, &q);
	}
	imap_ok(s, tag, "[%s] %s completed",
		readonly ? "READ-ONLY" : "READ-WRITE",
		readonly ? "EXAMINE" : "SELECT");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_select(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	return do_select(s, tag, a, false);
}

enum imap_cmd_result imap_cmd_examine(struct imap_session *s, const char *tag,
				      struct imap_args *a)
{
	return do_select(s, tag, a, true);
}

enum imap_cmd_result imap_cmd_close(struct imap_session *s, const char *tag,
				    struct imap_args *a)
{
	const struct store_msg *msgs;
	size_t n, k = 0;
	uint32_t *uids;
	const char *error;

	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	/* RFC 3501 6.4.2: expunge \Deleted silently, unless read-only. */
	if (!s->readonly) {
		store_mailbox_messages(s->mailbox, &msgs, &n);
		uids = xmalloc((n > 0 ? n : 1) * sizeof(*uids));
		for (size_t i = 0; i < n; i++)
			if (msgs[i].flags & STORE_F_DELETED)
				uids[k++] = msgs[i].uid;
		if (k > 0 && store_expunge(s->mailbox, uids, k, &error) < 0)
			log_warn(conn_sid(s->conn), "close: expunge failed",
				 "error=%s", error);
		free(uids);
	}
	imap_session_unselect(s);
	imap_ok(s, tag, "CLOSE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_unselect(struct imap_session *s, const char *tag,
				       struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	imap_session_unselect(s);
	imap_ok(s, tag, "UNSELECT completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_check(struct imap_session *s, const char *tag,
				    struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	/* Every change is durable when made; imap_ok sends the updates. */
	imap_ok(s, tag, "CHECK completed");
	return IMAP_CMD_DONE;
}
