/*
 * SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8, 7.2.5), with the MODSEQ
 * key and result (RFC 7162 3.1.5-3.1.6), ESEARCH result options (RFC
 * 9051 6.4.4 / RFC 4731: RETURN (MIN MAX ALL COUNT)) and SAVE with the
 * "$" it sets (RFC 9051 6.4.4.1).
 *
 * The program is parsed and matched by imap/search.c; this file walks the
 * session's view, hands each message's metadata over, loads the bytes
 * only when a key asks, and writes the answer. A long "* SEARCH" line is
 * written in parts when the output queue fills (imap_resume_fn).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/msgset.h"
#include "imap/search.h"
#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* Numbers written between two looks at the output queue. */
#define SEARCH_WRITE_CHUNK 512

/* The answer being written. */
struct search_reply {
	uint32_t *nums;
	size_t n, pos;
	uint64_t modseq; /* highest of the matches; 0: no MODSEQ key */
	bool uid;
	bool no_expunge; /* UID SEARCH with message numbers */
	char tag[IMAP_TAG_MAX + 1];
};

static void reply_free(void *ctx)
{
	struct search_reply *r = ctx;

	free(r->nums);
	free(r);
}

static int load_msg(void *ctx, const struct search_msg *m,
		    enum search_need need, char **data_r, size_t *len_r)
{
	struct imap_session *s = ctx;
	struct store_mailbox *mb = s->mailbox;
	const char *error;
	int r;

	if (need == SEARCH_NEED_FIELDS)
		r = store_msg_load_fields(mb, m->uid, data_r, len_r, &error);
	else if (need == SEARCH_NEED_HEADER)
		r = store_msg_load_header(mb, m->uid, data_r, len_r, &error);
	else
		r = store_msg_load(mb, m->uid, data_r, len_r, &error);

	if (r < 0) {
		/* Expunged by another session meanwhile, or unreadable:
		 * it matches no content key. */
		log_debug(conn_sid(s->conn), "search: message not loaded",
			  "uid=%u error=%s", m->uid, error);
		return -1;
	}
	return 0;
}

/* The matching messages of the view: numbers or UIDs, ascending. */
static void run(struct imap_session *s, const struct search_program *prog,
		struct search_reply *r)
{
	const struct imap_view *v = &s->view;
	/* One read transaction for the whole loop: a key that reads the
	 * message looks its file up in the index, and a transaction per
	 * message cost its own locks (fcntl on the WAL index). */
	bool rtx = prog->needs_content && store_read_begin(s->store_user) == 0;

	r->nums = xmalloc((v->n > 0 ? v->n : 1) * sizeof(*r->nums));
	for (size_t i = 0; i < v->n; i++) {
		const struct store_msg *sm =
			store_mailbox_find(s->mailbox, v->msgs[i].uid);
		struct search_msg m;

		/* Expunged elsewhere, still numbered in the view: its data
		 * is gone, so it matches nothing. */
		if (sm == NULL)
			continue;
		m = (struct search_msg){
			.seq = (uint32_t)i + 1,
			.uid = sm->uid,
			.flags = sm->flags,
			.keywords = sm->keywords,
			.recent = sm->recent,
			.modseq = sm->modseq,
			.internaldate = sm->internaldate,
			.size = sm->size,
		};
		if (search_match(prog, &m, load_msg, s) != 1)
			continue;
		r->nums[r->n++] = r->uid ? m.uid : m.seq;
		if (prog->uses_modseq && m.modseq > r->modseq)
			r->modseq = m.modseq;
	}
	if (rtx)
		store_read_end(s->store_user);
}

static void finish(struct imap_session *s, struct search_reply *r)
{
	/* RFC 7162 3.2.10.2: no VANISHED/EXPUNGE during a UID SEARCH
	 * whose criteria hold message numbers; answer as SEARCH does. */
	if (r->no_expunge)
		s->cmd = imap_command_find("SEARCH");
	imap_ok(s, r->tag, "%s completed", r->uid ? "UID SEARCH" : "SEARCH");
}

/* "* SEARCH n n n ... [(MODSEQ m)]", in parts while output blocks. */
static enum imap_cmd_result write_more(struct imap_session *s)
{
	struct search_reply *r = s->resume_ctx;

	while (r->pos < r->n) {
		char chunk[SEARCH_WRITE_CHUNK * 11];
		size_t used = 0, end = r->pos + SEARCH_WRITE_CHUNK;

		if (end > r->n)
			end = r->n;
		for (; r->pos < end; r->pos++)
			used += (size_t)snprintf(chunk + used,
						 sizeof(chunk) - used, " %u",
						 r->nums[r->pos]);
		imap_write(s, chunk, used);
		if (r->pos < r->n && conn_output_blocked(s->conn))
			return IMAP_CMD_ASYNC;
	}
	if (r->modseq != 0 && r->n > 0)
		imap_printf(s, " (MODSEQ %llu)", (unsigned long long)r->modseq);
	imap_write(s, "\r\n", 2);
	finish(s, r);
	return IMAP_CMD_DONE;
}

/*
 * RETURN (SAVE): "$" becomes what was found, or with MIN and/or MAX but
 * neither ALL nor COUNT only those (RFC 9051 6.4.4.1, table 4). Kept as
 * UIDs, so it means the same messages to FETCH and to UID FETCH.
 */
static void save_result(struct imap_session *s,
			const struct search_program *prog,
			const struct search_reply *r)
{
	unsigned ret = prog->ret;
	uint32_t *uids = NULL;
	size_t n = 0;

	if (r->n > 0 && (ret & (SEARCH_RET_MIN | SEARCH_RET_MAX)) &&
	    !(ret & (SEARCH_RET_ALL | SEARCH_RET_COUNT))) {
		uids = xmalloc(2 * sizeof(*uids));
		if (ret & SEARCH_RET_MIN)
			uids[n++] = r->nums[0];
		if ((ret & SEARCH_RET_MAX) && (n == 0 || r->n > 1))
			uids[n++] = r->nums[r->n - 1];
	} else if (r->n > 0) {
		uids = xmalloc(r->n * sizeof(*uids));
		memcpy(uids, r->nums, r->n * sizeof(*uids));
		n = r->n;
	}
	for (size_t i = 0; !r->uid && i < n; i++)
		uids[i] = imap_view_uid(s, uids[i]);
	imap_view_save(s, uids, n);
}

/* RFC 9051 7.3.4 / RFC 4731 3: one ESEARCH response. */
static void write_esearch(struct imap_session *s,
			  const struct search_program *prog,
			  const struct search_reply *r)
{
	imap_printf(s, "* ESEARCH (TAG \"%s\")%s", r->tag,
		    r->uid ? " UID" : "");
	if ((prog->ret & SEARCH_RET_MIN) && r->n > 0)
		imap_printf(s, " MIN %u", r->nums[0]);
	if ((prog->ret & SEARCH_RET_MAX) && r->n > 0)
		imap_printf(s, " MAX %u", r->nums[r->n - 1]);
	if (prog->ret & SEARCH_RET_COUNT)
		imap_printf(s, " COUNT %zu", r->n);
	if ((prog->ret & SEARCH_RET_ALL) && r->n > 0) {
		char *set = imap_msgset_format(r->nums, r->n);

		imap_write(s, " ALL ", 5);
		imap_write(s, set, strlen(set));
		free(set);
	}
	/* RFC 7162 3.1.10 */
	if (r->modseq != 0 && r->n > 0)
		imap_printf(s, " MODSEQ %llu", (unsigned long long)r->modseq);
	imap_write(s, "\r\n", 2);
}

static enum imap_cmd_result do_search(struct imap_session *s, const char *tag,
				      struct imap_args *a, bool uid)
{
	struct search_program *prog = NULL;
	struct search_reply *r;
	const struct imap_view *v = &s->view;
	int ret = search_parse(a, &prog);

	if (ret == SEARCH_ERR_CHARSET) {
		/* RFC 3501 6.4.4: NO, not BAD, listing what we take. */
		imap_no(s, tag,
			"[BADCHARSET (UTF-8 US-ASCII)] Unsupported "
			"charset");
		return IMAP_CMD_DONE;
	}
	if (ret < 0)
		return IMAP_CMD_BAD;
	if (imap_args_finish(a) < 0) {
		search_program_free(&prog);
		return IMAP_CMD_BAD;
	}
	/* RFC 7162 3.1: a MODSEQ key turns CONDSTORE on. */
	if (prog->uses_modseq)
		imap_condstore_enable(s);
	search_prepare(prog, (uint32_t)v->n,
		       v->n > 0 ? v->msgs[v->n - 1].uid : 0, v->saved,
		       v->n_saved);
	search_use_fields(prog, store_field_cached);
	r = xcalloc(1, sizeof(*r));
	r->uid = uid;
	r->no_expunge = uid && prog->uses_seq;
	strlcpy_p(r->tag, tag, sizeof(r->tag));
	run(s, prog, r);
	if (prog->ret & SEARCH_RET_SAVE)
		save_result(s, prog, r);
	if (prog->esearch) {
		/* SAVE alone answers with no ESEARCH (6.4.4) */
		if (prog->ret != SEARCH_RET_SAVE)
			write_esearch(s, prog, r);
		search_program_free(&prog);
		finish(s, r);
		reply_free(r);
		return IMAP_CMD_DONE;
	}
	search_program_free(&prog);
	imap_write(s, "* SEARCH", 8);
	s->resume_ctx = r;
	s->resume_free = reply_free;
	if (write_more(s) == IMAP_CMD_ASYNC) {
		s->resume = write_more;
		return IMAP_CMD_ASYNC;
	}
	/* Done at once: the session frees resume_ctx only for ASYNC. */
	s->resume_ctx = NULL;
	s->resume_free = NULL;
	reply_free(r);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_search(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	return do_search(s, tag, a, false);
}

enum imap_cmd_result imap_cmd_uid_search(struct imap_session *s,
					 const char *tag, struct imap_args *a)
{
	return do_search(s, tag, a, true);
}
