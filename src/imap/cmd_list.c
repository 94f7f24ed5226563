/*
 * LIST (RFC 3501 6.3.8 with the LIST-EXTENDED grammar of RFC 9051 6.3.9:
 * selection options SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE (RFC 6154),
 * return options SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS (RFC 5819))
 * and LSUB (6.3.9).
 *
 * The store lists every mailbox and subscription; the patterns are
 * matched here (imap_list_match, parse.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* Most patterns in one command. */
#define IMAP_PATTERNS_MAX 32

enum list_opt {
	LO_SEL_SUBSCRIBED = 0x01,
	LO_SEL_RECURSIVE = 0x02,
	LO_SEL_SPECIAL = 0x04,
	LO_RET_SUBSCRIBED = 0x10,
	LO_RET_CHILDREN = 0x20,
	LO_RET_SPECIAL = 0x40,
	LO_RET_STATUS = 0x80,
	LO_LSUB = 0x100,
};

struct list_req {
	unsigned opts;
	unsigned status_items;
	const char *patterns[IMAP_PATTERNS_MAX];
	size_t npatterns;
};

static bool match_any(const struct list_req *req, const char *name)
{
	for (size_t i = 0; i < req->npatterns; i++)
		if (imap_list_match(req->patterns[i], name))
			return true;
	return false;
}

static int list_options(struct imap_args *a, struct list_req *req, bool ret)
{
	unsigned *opts = &req->opts;

	if (imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		const char *o;

		if (imap_args_atom(a, &o) < 0)
			return -1;
		if (strcasecmp(o, "SUBSCRIBED") == 0)
			*opts |= ret ? LO_RET_SUBSCRIBED : LO_SEL_SUBSCRIBED;
		else if (strcasecmp(o, "SPECIAL-USE") == 0)
			*opts |= ret ? LO_RET_SPECIAL : LO_SEL_SPECIAL;
		else if (!ret && strcasecmp(o, "RECURSIVEMATCH") == 0)
			*opts |= LO_SEL_RECURSIVE;
		else if (!ret && strcasecmp(o, "REMOTE") == 0)
			; /* RFC 5258 3.1: no remote mailboxes here */
		else if (ret && strcasecmp(o, "CHILDREN") == 0)
			*opts |= LO_RET_CHILDREN;
		else if (ret && strcasecmp(o, "STATUS") == 0) {
			/* RFC 5819 */
			if (imap_status_items(a, &req->status_items) < 0)
				return -1;
			*opts |= LO_RET_STATUS;
		} else {
			a->error = "Unknown LIST option";
			return -1;
		}
	}
	return imap_args_list_close(a);
}

/* Reference and pattern joined (RFC 3501 6.3.8). */
static const char *list_pattern(struct imap_args *a, const char *ref,
				const char *pat)
{
	size_t rl = strlen(ref), pl = strlen(pat);

	if (rl + pl > IMAP_PATTERN_MAX) {
		a->error = "Pattern too long";
		return NULL;
	}
	if (rl == 0)
		return pat;
	return imap_args_concat(a, ref, pat);
}

static int list_args(struct imap_args *a, struct list_req *req)
{
	const char *ref, *pat;

	if (!(req->opts & LO_LSUB) && imap_args_is_list(a) &&
	    list_options(a, req, false) < 0)
		return -1;
	if (imap_args_mailbox(a, &ref) < 0)
		return -1;
	if (imap_args_is_list(a)) {
		if (imap_args_list_open(a) < 0)
			return -1;
		do {
			if (req->npatterns == IMAP_PATTERNS_MAX) {
				a->error = "Too many patterns";
				return -1;
			}
			if (imap_args_list_mailbox(a, &pat) < 0 ||
			    (pat = list_pattern(a, ref, pat)) == NULL)
				return -1;
			req->patterns[req->npatterns++] = pat;
		} while (!imap_args_at_end(a));
		if (imap_args_list_close(a) < 0)
			return -1;
	} else {
		if (imap_args_list_mailbox(a, &pat) < 0 ||
		    (pat = list_pattern(a, ref, pat)) == NULL)
			return -1;
		req->patterns[req->npatterns++] = pat;
	}
	if (!(req->opts & LO_LSUB) && !imap_args_at_end(a)) {
		const char *kw;

		if (imap_args_atom(a, &kw) < 0 ||
		    strcasecmp(kw, "RETURN") != 0) {
			a->error = "Expected RETURN";
			return -1;
		}
		if (list_options(a, req, true) < 0)
			return -1;
	}
	if (imap_args_finish(a) < 0)
		return -1;
	/* RFC 5258 3.1: RECURSIVEMATCH needs another selection option. */
	if ((req->opts & LO_SEL_RECURSIVE) &&
	    !(req->opts & (LO_SEL_SUBSCRIBED | LO_SEL_SPECIAL))) {
		a->error = "RECURSIVEMATCH alone";
		return -1;
	}
	return 0;
}

static void list_attr(struct imap_session *s, const char **sep,
		      const char *attr)
{
	imap_printf(s, "%s%s", *sep, attr);
	*sep = " ";
}

static void list_reply(struct imap_session *s, const struct list_req *req,
		       const struct store_mailbox_info *mb, bool childinfo)
{
	static const struct {
		unsigned bit;
		const char *name;
	} su[] = {
		{STORE_SU_DRAFTS, "\\Drafts"},	 {STORE_SU_SENT, "\\Sent"},
		{STORE_SU_TRASH, "\\Trash"},	 {STORE_SU_JUNK, "\\Junk"},
		{STORE_SU_ARCHIVE, "\\Archive"},
	};
	const char *sep = "";
	bool lsub = req->opts & LO_LSUB;

	imap_printf(s, "* %s (", lsub ? "LSUB" : "LIST");
	/* RFC 3501 6.3.9: an unsubscribed parent of a subscribed child that
	 * "%" hides "MUST be flagged with the \Noselect attribute". */
	if (lsub && childinfo)
		list_attr(s, &sep, "\\Noselect");
	else if (!mb->exists)
		list_attr(s, &sep, lsub ? "\\Noselect" : "\\NonExistent");
	else if (mb->noselect)
		list_attr(s, &sep, "\\Noselect");
	if (mb->exists && !lsub)
		list_attr(s, &sep,
			  mb->has_children ? "\\HasChildren"
					   : "\\HasNoChildren");
	if (!lsub && mb->subscribed &&
	    (req->opts & (LO_SEL_SUBSCRIBED | LO_RET_SUBSCRIBED)))
		list_attr(s, &sep, "\\Subscribed");
	/* RFC 6154 2: the attributes come with every LIST. */
	for (size_t i = 0; !lsub && i < sizeof(su) / sizeof(su[0]); i++)
		if (mb->special & su[i].bit)
			list_attr(s, &sep, su[i].name);
	imap_printf(s, ") \"/\" ");
	imap_write_string(s, mb->name, strlen(mb->name));
	/* RFC 5258 3.5 */
	if (childinfo && !lsub)
		imap_printf(s, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	imap_printf(s, "\r\n");
	if ((req->opts & LO_RET_STATUS) && mb->exists && !mb->noselect) {
		const char *error;
		int err;

		/* RFC 5819 2: a mailbox STATUS fails for is just left out. */
		(void)imap_status_send(s, mb->name, req->status_items, &err,
				       &error);
	}
}

/* A subscribed descendant of list[i] that the patterns do not match. */
static bool
has_unmatched_subscribed_child(const struct list_req *req,
			       const struct store_mailbox_info *list, size_t n,
			       size_t i)
{
	size_t len = strlen(list[i].name);

	for (size_t k = 0; k < n; k++)
		if (k != i && list[k].subscribed &&
		    strncmp(list[k].name, list[i].name, len) == 0 &&
		    list[k].name[len] == '/' && !match_any(req, list[k].name))
			return true;
	return false;
}

static void list_run(struct imap_session *s, const struct list_req *req,
		     const struct store_mailbox_info *list, size_t n)
{
	bool sub = req->opts & (LO_SEL_SUBSCRIBED | LO_LSUB);

	for (size_t i = 0; i < n; i++) {
		const struct store_mailbox_info *mb = &list[i];
		bool childinfo = false;

		if (!match_any(req, mb->name))
			continue;
		if ((req->opts & LO_SEL_SPECIAL) && mb->special == 0)
			continue;
		if (sub && !mb->subscribed) {
			if (!(req->opts & (LO_SEL_RECURSIVE | LO_LSUB)) ||
			    !has_unmatched_subscribed_child(req, list, n, i))
				continue;
			childinfo = true;
		}
		if (!sub && !mb->exists)
			continue;
		list_reply(s, req, mb, childinfo);
	}
}

static enum imap_cmd_result list_cmd(struct imap_session *s, const char *tag,
				     struct imap_args *a, unsigned opts)
{
	struct list_req req = {.opts = opts};
	struct store_mailbox_info *list;
	size_t n;
	const char *error = NULL;
	int r;

	if (list_args(a, &req) < 0)
		return IMAP_CMD_BAD;
	/* RFC 3501 6.3.8: an empty pattern asks for the separator. */
	if (req.npatterns == 1 && req.patterns[0][0] == '\0') {
		imap_untagged(s, "%s (\\Noselect) \"/\" \"\"",
			      opts & LO_LSUB ? "LSUB" : "LIST");
		imap_ok(s, tag, "%s completed",
			opts & LO_LSUB ? "LSUB" : "LIST");
		return IMAP_CMD_DONE;
	}
	r = store_mailbox_list(s->store_user, &list, &n, &error);
	if (r < 0) {
		imap_no_store(s, tag, r, error, false);
		return IMAP_CMD_DONE;
	}
	list_run(s, &req, list, n);
	store_mailbox_list_free(&list, n);
	imap_ok(s, tag, "%s completed", opts & LO_LSUB ? "LSUB" : "LIST");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_list(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	return list_cmd(s, tag, a, 0);
}

enum imap_cmd_result imap_cmd_lsub(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	return list_cmd(s, tag, a, LO_LSUB);
}
