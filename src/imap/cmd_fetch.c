/*
 * FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8, 7.4.2; RFC 9051 6.4.5;
 * RFC 7162 3.1.4 CHANGEDSINCE/MODSEQ and 3.2.6 VANISHED).
 *
 * One message is answered at a time: its bytes are loaded only when an
 * item needs them and freed after its response. Literals are written in
 * pieces while the connection's output is under its high-water mark; when
 * it is over, the command returns IMAP_CMD_ASYNC and the session calls
 * fetch_resume() once the queue drained, so FETCH 1:* BODY[] of a large
 * mailbox holds one message and a bounded output queue, never more.
 *
 * SECURITY: runs for an authenticated user on their own mailbox. The item
 * list is parsed by cmd_fetch_parse.c (bounded); message bytes are read
 * through mail/mime.h's bounded parser.
 */
#include <stdlib.h>
#include <string.h>

#include "imap/cmd_fetch.h"
#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/mime.h"
#include "net/conn.h"
#include "store/store.h"

/* Octets of a literal queued per write: small enough to stop soon after
 * the output passes its high mark. */
#define FETCH_CHUNK ((size_t)64 * 1024)

/* Items written after the asked ones when \Seen was set by this FETCH
 * (RFC 3501 6.4.5 FLAGS; RFC 7162 3.2.4 UID and MODSEQ under CONDSTORE). */
enum { EXTRA_UID, EXTRA_FLAGS, EXTRA_MODSEQ, EXTRA_N };

struct fetch_ctx {
	char tag[IMAP_TAG_MAX + 1]; /* the session's dies with the handler */
	struct imap_fetch_req req;
	bool uid_cmd;
	bool needs_mime;    /* some item names a part, not the whole text */
	bool header_only;   /* every text item is in the message's header */
	bool cached_fields; /* ... in the fields the index keeps */
	uint32_t *uids;
	size_t n, next;
	bool expunged;	  /* some message was gone: OK [EXPUNGEISSUED] */
	bool unknown_cte; /* BINARY of an unknown encoding: NO */
	bool failed;	  /* a store error: NO [SERVERBUG] */

	/* The message being answered. */
	bool in_msg;
	uint32_t uid;
	unsigned flags;
	bool recent;
	uint64_t modseq;
	time_t internaldate;
	uint64_t size;
	char *keywords;
	bool seen_set;
	char *data; /* store_msg_load's, NULL when not needed */
	size_t len;
	struct mime_part *mime;
	size_t item;	 /* next item: req.items, then EXTRA_* */
	bool sp;	 /* an item was written: SP before the next */
	const char *lit; /* literal octets still to write */
	size_t lit_left;
	char *lit_owned;
};

static void msg_end(struct fetch_ctx *c)
{
	xfree(&c->keywords);
	xfree(&c->data);
	xfree(&c->lit_owned);
	mime_free(&c->mime);
	c->lit_left = 0;
	c->in_msg = false;
}

static void fetch_ctx_free(void *p)
{
	struct fetch_ctx *c = p;

	msg_end(c);
	imap_fetch_req_free(&c->req);
	free(c->uids);
	free(c);
}

/* Write the literal in progress while output is not held back. Returns
 * true when it is all queued. */
static bool lit_flush(struct imap_session *s, struct fetch_ctx *c)
{
	while (c->lit_left > 0 && !conn_output_blocked(s->conn)) {
		size_t n =
			c->lit_left < FETCH_CHUNK ? c->lit_left : FETCH_CHUNK;

		imap_write(s, c->lit, n);
		c->lit += n;
		c->lit_left -= n;
	}
	if (c->lit_left > 0)
		return false;
	xfree(&c->lit_owned);
	return true;
}

static void item_sep(struct imap_session *s, struct fetch_ctx *c)
{
	if (c->sp)
		imap_write(s, " ", 1);
	c->sp = true;
}

static void write_flags(struct imap_session *s, struct fetch_ctx *c)
{
	imap_printf(s, "FLAGS ");
	imap_write_flags(s, c->flags, c->keywords, c->recent);
	/* The client now knows the flags as of this modseq: the next sync
	 * need not repeat them. */
	imap_view_seen_modseq(s, c->uid, c->modseq);
}

/* ENVELOPE, BODY, BODYSTRUCTURE from the store's cache. */
static void write_cached(struct imap_session *s, struct fetch_ctx *c,
			 enum imap_fetch_att att)
{
	const char *text, *error;
	int r;

	if (att == IMAP_FETCH_ENVELOPE)
		r = store_msg_envelope(s->mailbox, c->uid, &text, &error);
	else
		r = store_msg_bodystructure(s->mailbox, c->uid,
					    att == IMAP_FETCH_BODYSTRUCTURE,
					    &text, &error);
	if (r < 0) {
		/* Leave the item out: the response stays well-formed. */
		log_warn(conn_sid(s->conn), "fetch: cached structure failed",
			 "uid=%u error=%s", c->uid, error);
		c->failed = true;
		return;
	}
	item_sep(s, c);
	imap_printf(s, "%s %s",
		    att == IMAP_FETCH_ENVELOPE	      ? "ENVELOPE"
		    : att == IMAP_FETCH_BODYSTRUCTURE ? "BODYSTRUCTURE"
						      : "BODY",
		    text);
}

/* BODY[...]<n>, BINARY[...]<n>, BINARY.SIZE[...], RFC822*: the label,
 * then NIL or the literal, queued for lit_flush. */
static void write_section(struct imap_session *s, struct fetch_ctx *c,
			  const struct imap_fetch_item *it)
{
	const char *data;
	size_t len, off, n;
	char *owned;
	int r = imap_fetch_section(c->data, c->len, c->mime, it, &data, &len,
				   &owned);

	item_sep(s, c);
	if (it->att == IMAP_FETCH_BINARY_SIZE) {
		imap_printf(s, "%s %zu", it->label, r == 0 ? len : 0);
		free(owned);
		return;
	}
	if (it->partial)
		imap_printf(s, "%s<%u> ", it->label, it->start);
	else
		imap_printf(s, "%s ", it->label);
	if (r != 0) {
		/* No such part: an empty string, as Dovecot answers (RFC
		 * 3501 leaves it open; clients expect a string). */
		imap_write(s, "{0}\r\n", 5);
		free(owned);
		return;
	}
	off = 0;
	n = len;
	if (it->partial)
		imap_fetch_partial(len, it->start, it->count, &off, &n);
	/* RFC 9051 7.5.2: literal8 only when the decoded data holds NUL. */
	if (it->att == IMAP_FETCH_BINARY && memchr(data + off, '\0', n) != NULL)
		imap_printf(s, "~{%zu}\r\n", n);
	else
		imap_printf(s, "{%zu}\r\n", n);
	c->lit = data + off;
	c->lit_left = n;
	c->lit_owned = owned;
}

static void write_item(struct imap_session *s, struct fetch_ctx *c,
		       const struct imap_fetch_item *it)
{
	char date[IMAP_FETCH_DATE_LEN + 1];

	switch (it->att) {
	case IMAP_FETCH_ENVELOPE:
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		write_cached(s, c, it->att);
		return;
	case IMAP_FETCH_SECTION:
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
		write_section(s, c, it);
		return;
	default:
		break;
	}
	item_sep(s, c);
	switch (it->att) {
	case IMAP_FETCH_UID:
		imap_printf(s, "UID %u", c->uid);
		break;
	case IMAP_FETCH_FLAGS:
		write_flags(s, c);
		break;
	case IMAP_FETCH_INTERNALDATE:
		imap_fetch_date((int64_t)c->internaldate, date, sizeof(date));
		imap_printf(s, "INTERNALDATE %s", date);
		break;
	case IMAP_FETCH_RFC822_SIZE:
		imap_printf(s, "RFC822.SIZE %llu", (unsigned long long)c->size);
		break;
	case IMAP_FETCH_MODSEQ:
		/* RFC 7162 3.1.4.2 */
		imap_printf(s, "MODSEQ (%llu)", (unsigned long long)c->modseq);
		break;
	default:
		break;
	}
}

/* The items the client did not ask for but must see after this FETCH
 * set \Seen. */
static void write_extra(struct imap_session *s, struct fetch_ctx *c, int x)
{
	const struct imap_fetch_req *q = &c->req;

	if (!c->seen_set)
		return;
	/* RFC 7162 3.2.4: a QRESYNC server adds UID and MODSEQ once the
	 * client enabled CONDSTORE, even without ENABLE QRESYNC. */
	if (x == EXTRA_UID && !q->has_uid &&
	    (s->enabled & IMAP_ENABLED_CONDSTORE)) {
		item_sep(s, c);
		imap_printf(s, "UID %u", c->uid);
	} else if (x == EXTRA_FLAGS && !q->has_flags) {
		item_sep(s, c);
		write_flags(s, c);
	} else if (x == EXTRA_MODSEQ && !q->has_modseq &&
		   (s->enabled & IMAP_ENABLED_CONDSTORE)) {
		item_sep(s, c);
		imap_printf(s, "MODSEQ (%llu)", (unsigned long long)c->modseq);
	}
}

/* Go on with the message in progress. Returns true when its response is
 * complete, false when output is held back. */
static bool msg_continue(struct imap_session *s, struct fetch_ctx *c)
{
	size_t total = c->req.n + EXTRA_N;

	if (!lit_flush(s, c))
		return false;
	while (c->item < total) {
		if (conn_output_blocked(s->conn))
			return false;
		if (c->item < c->req.n)
			write_item(s, c, &c->req.items[c->item]);
		else
			write_extra(s, c, (int)(c->item - c->req.n));
		c->item++;
		if (!lit_flush(s, c))
			return false;
	}
	imap_write(s, ")\r\n", 3);
	msg_end(c);
	return true;
}

/* RFC 3501 6.4.5: \Seen is set by BODY[] (not PEEK), RFC822, RFC822.TEXT
 * and BINARY[] unless the mailbox is read-only. Updates *m. */
static void set_seen(struct imap_session *s, struct fetch_ctx *c,
		     const struct store_msg **m)
{
	const char *error;
	int r;

	if (!c->req.sets_seen || s->readonly || ((*m)->flags & STORE_F_SEEN))
		return;
	r = store_msg_set_flags(s->mailbox, c->uid, STORE_FLAGS_ADD,
				STORE_F_SEEN, NULL, 0, &error);
	if (r < 0) {
		log_warn(conn_sid(s->conn), "fetch: setting \\Seen failed",
			 "uid=%u error=%s", c->uid, error);
		return;
	}
	c->seen_set = true;
	*m = store_mailbox_find(s->mailbox, c->uid);
}

/* Load the bytes and the MIME tree the items need; check BINARY's
 * encodings before anything is written. false: skip this message. */
static bool msg_load(struct imap_session *s, struct fetch_ctx *c)
{
	const char *error;
	int r;

	if (!c->req.needs_text)
		return true;
	if (c->cached_fields)
		r = store_msg_load_fields(s->mailbox, c->uid, &c->data, &c->len,
					  &error);
	else if (c->header_only)
		r = store_msg_load_header(s->mailbox, c->uid, &c->data, &c->len,
					  &error);
	else
		r = store_msg_load(s->mailbox, c->uid, &c->data, &c->len,
				   &error);
	if (r == STORE_ERR_EXPUNGED || r == STORE_ERR_NONEXISTENT) {
		c->expunged = true;
		return false;
	}
	if (r < 0) {
		log_warn(conn_sid(s->conn), "fetch: loading failed",
			 "uid=%u error=%s", c->uid, error);
		c->failed = true;
		return false;
	}
	if (!c->needs_mime)
		return true;
	c->mime = mime_parse(c->data, c->len);
	for (size_t i = 0; i < c->req.n; i++) {
		const struct imap_fetch_item *it = &c->req.items[i];
		const char *d;
		size_t n;
		char *owned;

		if (it->att != IMAP_FETCH_BINARY &&
		    it->att != IMAP_FETCH_BINARY_SIZE)
			continue;
		r = imap_fetch_section(c->data, c->len, c->mime, it, &d, &n,
				       &owned);
		free(owned);
		if (r < 0) {
			c->unknown_cte = true;
			return false;
		}
	}
	return true;
}

/* Start the response for one message, or skip it. */
static void msg_start(struct imap_session *s, struct fetch_ctx *c, uint32_t uid)
{
	const struct store_msg *m = store_mailbox_find(s->mailbox, uid);

	if (m == NULL) {
		/* Expunged by another session, still in our view. */
		c->expunged = true;
		return;
	}
	/* RFC 7162 3.1.4.1 */
	if (c->req.changedsince_given && m->modseq <= c->req.changedsince)
		return;
	c->uid = uid;
	c->seen_set = false;
	/* Load first: a message that cannot be sent is not marked read. */
	if (!msg_load(s, c)) {
		msg_end(c);
		return;
	}
	set_seen(s, c, &m);
	if (m == NULL) {
		c->expunged = true;
		msg_end(c);
		return;
	}
	c->flags = m->flags;
	c->recent = m->recent;
	c->modseq = m->modseq;
	c->internaldate = m->internaldate;
	c->size = m->size;
	c->keywords = m->keywords != NULL ? xstrdup(m->keywords) : NULL;
	imap_printf(s, "* %u FETCH (", imap_view_seq(s, uid));
	c->in_msg = true;
	c->item = 0;
	c->sp = false;
}

static enum imap_cmd_result fetch_finish(struct imap_session *s,
					 struct fetch_ctx *c)
{
	const char *name = c->uid_cmd ? "UID FETCH" : "FETCH";

	if (c->unknown_cte)
		imap_no(s, c->tag, "[UNKNOWN-CTE] Cannot decode a section");
	else if (c->failed)
		imap_no(s, c->tag, "[SERVERBUG] %s partly failed; try again",
			name);
	else if (c->expunged)
		imap_ok(s, c->tag,
			"[EXPUNGEISSUED] Some messages were expunged");
	else
		imap_ok(s, c->tag, "%s completed", name);
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result fetch_resume(struct imap_session *s)
{
	struct fetch_ctx *c = s->resume_ctx;

	for (;;) {
		if (c->in_msg && !msg_continue(s, c))
			return IMAP_CMD_ASYNC;
		if (c->next >= c->n)
			return fetch_finish(s, c);
		if (conn_output_blocked(s->conn))
			return IMAP_CMD_ASYNC;
		msg_start(s, c, c->uids[c->next++]);
	}
}

/*
 * RFC 7162 3.2.6: VANISHED (EARLIER) for the UIDs of set expunged since
 * modseq, before any FETCH response. UIDs still in the view are not
 * reported: the client has not been told of their EXPUNGE yet.
 */
static void write_vanished(struct imap_session *s,
			   const struct imap_seqset *set, uint64_t modseq)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	const char *error;
	bool any = false;

	if (store_mailbox_vanished(s->mailbox, modseq, &uids, &n, &error) < 0) {
		log_warn(conn_sid(s->conn), "fetch: vanished list failed",
			 "error=%s", error);
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;

		if (!imap_seqset_contains(set, uids[i], UINT32_MAX) ||
		    imap_view_seq(s, uids[i]) != 0) {
			i++;
			continue;
		}
		while (j + 1 < n && uids[j + 1] == uids[j] + 1 &&
		       imap_seqset_contains(set, uids[j + 1], UINT32_MAX) &&
		       imap_view_seq(s, uids[j + 1]) == 0)
			j++;
		imap_printf(s, "%s%u", any ? "," : "* VANISHED (EARLIER) ",
			    uids[i]);
		if (j > i)
			imap_printf(s, ":%u", uids[j]);
		any = true;
		i = j + 1;
	}
	if (any)
		imap_write(s, "\r\n", 2);
	free(uids);
}

static bool items_need_mime(const struct imap_fetch_req *q)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct imap_fetch_item *it = &q->items[i];

		if ((it->att == IMAP_FETCH_SECTION ||
		     it->att == IMAP_FETCH_BINARY ||
		     it->att == IMAP_FETCH_BINARY_SIZE) &&
		    (it->part[0] != '\0' || it->text != IMAP_FETCH_TEXT_NONE))
			return true;
	}
	return false;
}

/* Only BODY[HEADER], BODY[HEADER.FIELDS...], RFC822.HEADER: the header
 * block is all that needs reading (clients list folders this way). */
static bool items_header_only(const struct imap_fetch_req *q)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct imap_fetch_item *it = &q->items[i];

		if (it->att == IMAP_FETCH_BINARY ||
		    it->att == IMAP_FETCH_BINARY_SIZE)
			return false;
		if (it->att == IMAP_FETCH_SECTION &&
		    (it->part[0] != '\0' ||
		     (it->text != IMAP_FETCH_TEXT_HEADER &&
		      it->text != IMAP_FETCH_TEXT_FIELDS &&
		      it->text != IMAP_FETCH_TEXT_FIELDS_NOT)))
			return false;
	}
	return true;
}

/* Every section is HEADER.FIELDS of fields the index keeps (a client
 * listing a folder): the cached block is all that needs reading. */
static bool items_cached_fields(const struct imap_fetch_req *q)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct imap_fetch_item *it = &q->items[i];

		if (it->att != IMAP_FETCH_SECTION)
			continue;
		if (it->part[0] != '\0' || it->text != IMAP_FETCH_TEXT_FIELDS)
			return false;
		for (size_t k = 0; k < it->n_fields; k++)
			if (!store_field_cached(it->fields[k]))
				return false;
	}
	return true;
}

static enum imap_cmd_result fetch(struct imap_session *s, const char *tag,
				  struct imap_args *args, bool uid)
{
	struct imap_seqset set;
	struct fetch_ctx *c;
	const char *error;

	if (imap_args_seqset(args, &set) < 0)
		return IMAP_CMD_BAD;
	c = xcalloc(1, sizeof(*c));
	strlcpy_p(c->tag, tag, sizeof(c->tag));
	c->uid_cmd = uid;
	if (imap_fetch_parse(args, uid, s->enabled & IMAP_ENABLED_QRESYNC,
			     &c->req) < 0) {
		fetch_ctx_free(c);
		return IMAP_CMD_BAD;
	}
	c->needs_mime = items_need_mime(&c->req);
	c->header_only = items_header_only(&c->req);
	c->cached_fields = c->header_only && items_cached_fields(&c->req);
	/* RFC 7162 3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE. */
	if (c->req.has_modseq)
		imap_condstore_enable(s);
	/* Fresh flags and new messages first; numbers must not shift while
	 * we answer, so no EXPUNGE here (RFC 3501 7.4.1). */
	if (imap_session_sync(s, IMAP_SYNC_NO_EXPUNGE, &error) < 0)
		log_warn(conn_sid(s->conn), "fetch: sync failed", "error=%s",
			 error);
	if (c->req.vanished)
		write_vanished(s, &set, c->req.changedsince);
	if (imap_view_resolve(s, &set, uid, &c->uids, &c->n, &error) < 0) {
		fetch_ctx_free(c);
		imap_bad(s, tag, "%s", error);
		return IMAP_CMD_DONE;
	}
	s->resume = fetch_resume;
	s->resume_ctx = c;
	s->resume_free = fetch_ctx_free;
	if (fetch_resume(s) == IMAP_CMD_ASYNC)
		return IMAP_CMD_ASYNC;
	/* Done at once: the session releases resume state only for
	 * commands that went asynchronous. */
	s->resume = NULL;
	s->resume_ctx = NULL;
	s->resume_free = NULL;
	fetch_ctx_free(c);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_fetch(struct imap_session *s, const char *tag,
				    struct imap_args *args)
{
	return fetch(s, tag, args, false);
}

enum imap_cmd_result imap_cmd_uid_fetch(struct imap_session *s, const char *tag,
					struct imap_args *args)
{
	return fetch(s, tag, args, true);
}
