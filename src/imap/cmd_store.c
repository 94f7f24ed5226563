/*
 * STORE and UID STORE (RFC 3501 6.4.6, 6.4.8) with the UNCHANGEDSINCE
 * modifier (RFC 7162 3.1.3).
 *
 * Each message is changed in its own store transaction; the FETCH that
 * reports it is written right after, with UID for UID STORE (RFC 3501
 * 6.4.8) or under QRESYNC (RFC 7162 3.2.4), and MODSEQ once CONDSTORE is
 * on (3.1.4.1). A large set is worked through in parts while the output
 * queue drains (imap_resume_fn).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/msgset.h"
#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

struct store_op {
	uint32_t *uids;
	size_t n, pos;
	enum store_flag_mode mode;
	unsigned flags;
	char *keywords;
	bool silent;
	bool uid;
	bool conditional; /* UNCHANGEDSINCE given */
	uint64_t unchangedsince;
	uint32_t *modified; /* numbers (STORE) or UIDs that failed the test */
	size_t n_modified;
	int err; /* a store failure that stopped the command */
	const char *error;
	char tag[IMAP_TAG_MAX + 1];
};

static void op_free(void *ctx)
{
	struct store_op *op = ctx;

	free(op->uids);
	free(op->keywords);
	free(op->modified);
	free(op);
}

/* "+FLAGS.SILENT" and friends (RFC 3501 9 store-att-flags). */
static int parse_item(struct imap_args *a, struct store_op *op)
{
	const char *item, *name;

	if (imap_args_atom(a, &item) < 0)
		return -1;
	name = item;
	op->mode = STORE_FLAGS_SET;
	if (*name == '+' || *name == '-')
		op->mode =
			*name++ == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
	if (strncasecmp(name, "FLAGS", 5) != 0) {
		a->error = "Unknown STORE data item";
		return -1;
	}
	name += 5;
	if (strcasecmp(name, ".SILENT") == 0)
		op->silent = true;
	else if (*name != '\0') {
		a->error = "Unknown STORE data item";
		return -1;
	}
	return 0;
}

/* RFC 7162 3.1.3 / RFC 4466 2.5: "(" store-modifier *(SP ...) ")". */
static int parse_modifiers(struct imap_args *a, struct store_op *op)
{
	const char *name;

	if (!imap_args_is_list(a))
		return 0;
	if (imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		if (imap_args_atom(a, &name) < 0)
			return -1;
		if (strcasecmp(name, "UNCHANGEDSINCE") != 0 ||
		    op->conditional) {
			a->error = "Unknown STORE modifier";
			return -1;
		}
		if (imap_args_number64(a, &op->unchangedsince) < 0)
			return -1;
		op->conditional = true;
	}
	return imap_args_list_close(a);
}

static void write_fetch(struct imap_session *s, struct store_op *op,
			const struct store_msg *m, bool with_flags)
{
	uint32_t seq = imap_view_seq(s, m->uid);
	const char *sep = "";

	if (seq == 0)
		return;
	imap_printf(s, "* %u FETCH (", seq);
	if (op->uid || (s->enabled & IMAP_ENABLED_QRESYNC)) {
		imap_printf(s, "UID %u", m->uid);
		sep = " ";
	}
	if (with_flags) {
		imap_printf(s, "%sFLAGS ", sep);
		imap_write_flags(s, m->flags, m->keywords, m->recent);
		sep = " ";
	}
	if (s->enabled & IMAP_ENABLED_CONDSTORE)
		imap_printf(s, "%sMODSEQ (%llu)", sep,
			    (unsigned long long)m->modseq);
	imap_write(s, ")\r\n", 3);
	/* The next sync need not repeat what was just said (or, for
	 * .SILENT, what the client set itself). */
	imap_view_seen_modseq(s, m->uid, m->modseq);
}

static void add_modified(struct imap_session *s, struct store_op *op,
			 const struct store_msg *m)
{
	op->modified[op->n_modified++] =
		op->uid ? m->uid : imap_view_seq(s, m->uid);
	/* RFC 7162 3.1.3 (Example 10): show why, so the client need not
	 * poll before retrying. */
	write_fetch(s, op, m, true);
}

/* One message. Returns 0, or -1 when the store failed (op->err). */
static int store_one(struct imap_session *s, struct store_op *op, uint32_t uid)
{
	const struct store_msg *m = store_mailbox_find(s->mailbox, uid);
	const char *error = NULL;
	int r;

	/* Expunged by another session: RFC 2180 4.2.1 lets us skip it. */
	if (m == NULL)
		return 0;
	/* RFC 7162 3.1.3: UNCHANGEDSINCE 0 always fails (system flags
	 * always exist); the store reads 0 as "no condition". */
	if (op->conditional && op->unchangedsince == 0) {
		add_modified(s, op, m);
		return 0;
	}
	r = store_msg_set_flags(
		s->mailbox, uid, op->mode, op->flags, op->keywords,
		op->conditional ? op->unchangedsince : 0, &error);
	m = store_mailbox_find(s->mailbox, uid);
	if (r == STORE_ERR_MODIFIED && m != NULL) {
		add_modified(s, op, m);
		return 0;
	}
	if (r == STORE_ERR_EXPUNGED || (r == 0 && m == NULL))
		return 0;
	if (r < 0) {
		op->err = r;
		op->error = error;
		return -1;
	}
	/* RFC 7162 3.1.3: with UNCHANGEDSINCE a FETCH with MODSEQ even when
	 * .SILENT; a CONDSTORE client also learns the new MODSEQ. */
	if (!op->silent)
		write_fetch(s, op, m, true);
	else if (op->conditional || (s->enabled & IMAP_ENABLED_CONDSTORE))
		write_fetch(s, op, m, false);
	else
		imap_view_seen_modseq(s, uid, m->modseq);
	return 0;
}

static void finish(struct imap_session *s, struct store_op *op)
{
	char *set, *text;

	if (op->err < 0) {
		imap_no_store(s, op->tag, op->err, op->error, false);
		return;
	}
	if (op->n_modified == 0) {
		imap_ok(s, op->tag, "%s completed",
			op->uid ? "UID STORE" : "STORE");
		return;
	}
	/* RFC 7162 3.1.3: the failures, as numbers or UIDs (ascending
	 * either way: the view is in UID order). */
	set = imap_msgset_format(op->modified, op->n_modified);
	text = xasprintf("[MODIFIED %s] Conditional STORE failed", set);
	imap_ok(s, op->tag, "%s", text);
	free(text);
	free(set);
}

static enum imap_cmd_result store_more(struct imap_session *s)
{
	struct store_op *op = s->resume_ctx;

	while (op->pos < op->n) {
		if (store_one(s, op, op->uids[op->pos++]) < 0)
			break;
		if (op->pos < op->n && conn_output_blocked(s->conn))
			return IMAP_CMD_ASYNC;
	}
	finish(s, op);
	return IMAP_CMD_DONE;
}

static int parse(struct imap_session *s, struct imap_args *a,
		 struct store_op *op, struct imap_seqset *set)
{
	const char *kw = NULL;

	if (imap_args_seqset(a, set) < 0 || parse_modifiers(a, op) < 0 ||
	    parse_item(a, op) < 0 ||
	    imap_args_flags(a, true, &op->flags, &kw) < 0 ||
	    imap_args_finish(a) < 0)
		return -1;
	op->keywords = kw != NULL ? xstrdup(kw) : NULL;
	return 0;
}

static enum imap_cmd_result do_store(struct imap_session *s, const char *tag,
				     struct imap_args *a, bool uid)
{
	struct store_op *op = xcalloc(1, sizeof(*op));
	struct imap_seqset set;
	const char *error;

	op->uid = uid;
	strlcpy_p(op->tag, tag, sizeof(op->tag));
	if (parse(s, a, op, &set) < 0) {
		op_free(op);
		return IMAP_CMD_BAD;
	}
	if (imap_view_resolve(s, &set, uid, &op->uids, &op->n, &error) < 0) {
		a->error = error;
		op_free(op);
		return IMAP_CMD_BAD;
	}
	if (s->readonly) {
		op_free(op);
		imap_no(s, tag, "[CANNOT] Mailbox is read-only (EXAMINE)");
		return IMAP_CMD_DONE;
	}
	/* RFC 7162 3.1: UNCHANGEDSINCE turns CONDSTORE on. */
	if (op->conditional)
		imap_condstore_enable(s);
	/* Fresh flags, so a no-op STORE reports what is really set. */
	if (store_mailbox_sync(s->mailbox, &error) < 0)
		log_warn(conn_sid(s->conn), "store: sync failed", "error=%s",
			 error);
	op->modified = xmalloc((op->n > 0 ? op->n : 1) * sizeof(uint32_t));
	s->resume_ctx = op;
	s->resume_free = op_free;
	if (store_more(s) == IMAP_CMD_ASYNC) {
		s->resume = store_more;
		return IMAP_CMD_ASYNC;
	}
	s->resume_ctx = NULL;
	s->resume_free = NULL;
	op_free(op);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_store(struct imap_session *s, const char *tag,
				    struct imap_args *a)
{
	return do_store(s, tag, a, false);
}

enum imap_cmd_result imap_cmd_uid_store(struct imap_session *s, const char *tag,
					struct imap_args *a)
{
	return do_store(s, tag, a, true);
}
