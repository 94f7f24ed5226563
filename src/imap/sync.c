/*
 * The session's view of the selected mailbox and the untagged updates
 * that keep the client's copy of it right (RFC 3501 5.2, 7.3.1, 7.4.1;
 * RFC 7162 3.1.11, 3.2.10).
 *
 * The view is the list of UIDs the client knows, in sequence number
 * order, with the modseq of the flags it was last told. A sync compares
 * it with the store's list: messages gone are reported (EXPUNGE, or
 * VANISHED under QRESYNC) unless the command forbids it, flags that moved
 * are reported as FETCH, new messages as EXISTS.
 */
#include <stdlib.h>
#include <string.h>

#include "imap/session_int.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* Longest VANISHED line we build before sending it and starting another. */
#define IMAP_VANISHED_LINE 4000

void imap_view_clear(struct imap_view *v)
{
	free(v->msgs);
	free(v->told);
	free(v->saved);
	memset(v, 0, sizeof(*v));
}

static void view_reserve(struct imap_view *v, size_t n)
{
	if (n <= v->cap)
		return;
	v->cap = n < 16 ? 16 : n + n / 4;
	v->msgs = xrealloc(v->msgs, v->cap * sizeof(*v->msgs));
}

static uint32_t count_recent(const struct store_msg *msgs, size_t n)
{
	uint32_t r = 0;

	for (size_t i = 0; i < n; i++)
		r += msgs[i].recent;
	return r;
}

void imap_view_load(struct imap_session *s)
{
	const struct store_msg *msgs;
	size_t n;

	imap_view_clear(&s->view);
	store_mailbox_messages(s->mailbox, &msgs, &n);
	view_reserve(&s->view, n);
	for (size_t i = 0; i < n; i++)
		s->view.msgs[i].uid = msgs[i].uid;
	s->view.n = n;
	s->view.recent = count_recent(msgs, n);
	s->view.highestmodseq = store_mailbox_highestmodseq(s->mailbox);
	s->view.uidnext = store_mailbox_uidnext(s->mailbox);
	s->view.uidvalidity = store_mailbox_uidvalidity(s->mailbox);
}

uint32_t imap_view_uid(const struct imap_session *s, uint32_t seq)
{
	if (seq == 0 || seq > s->view.n)
		return 0;
	return s->view.msgs[seq - 1].uid;
}

uint32_t imap_view_seq(const struct imap_session *s, uint32_t uid)
{
	size_t lo = 0, hi = s->view.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->view.msgs[mid].uid == uid)
			return (uint32_t)mid + 1;
		if (s->view.msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void imap_view_seen_modseq(struct imap_session *s, uint32_t uid,
			   uint64_t modseq)
{
	struct imap_view *v = &s->view;

	if (modseq <= v->highestmodseq || imap_view_seq(s, uid) == 0)
		return; /* the next sync would not report it anyway */
	if (v->n_told == v->cap_told) {
		v->cap_told = v->cap_told < 16 ? 16 : v->cap_told * 2;
		v->told = xrealloc(v->told, v->cap_told * sizeof(*v->told));
	}
	v->told[v->n_told].uid = uid;
	v->told[v->n_told].modseq = modseq;
	v->n_told++;
}

/* Everything told is now covered by highestmodseq. */
static void told_clear(struct imap_view *v)
{
	v->n_told = 0;
	/* A FETCH 1:* FLAGS grew it: give the memory back. */
	if (v->cap_told > 256) {
		xfree(&v->told);
		v->cap_told = 0;
	}
}

static int told_cmp(const void *x, const void *y)
{
	const struct imap_view_told *a = x, *b = y;

	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	return a->modseq < b->modseq ? 1 : a->modseq > b->modseq ? -1 : 0;
}

/* The newest modseq the client was told for uid since the last sync, or
 * 0; told[] is sorted by uid, newest first within a uid. */
static uint64_t told_modseq(const struct imap_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n_told;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->told[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n_told && v->told[lo].uid == uid ? v->told[lo].modseq
							: 0;
}

void imap_view_save(struct imap_session *s, uint32_t *uids, size_t n)
{
	struct imap_view *v = &s->view;

	free(v->saved);
	v->saved = uids;
	v->n_saved = n;
}

/* The saved UIDs still in the view: both lists ascend. */
static int saved_resolve(const struct imap_view *v, uint32_t **uids_r,
			 size_t *n_r)
{
	uint32_t *uids;
	size_t n = 0, j = 0;

	if (v->n_saved == 0 || v->n == 0)
		return 0;
	uids = xmalloc(v->n_saved * sizeof(*uids));
	for (size_t i = 0; i < v->n_saved; i++) {
		while (j < v->n && v->msgs[j].uid < v->saved[i])
			j++;
		if (j < v->n && v->msgs[j].uid == v->saved[i])
			uids[n++] = v->saved[i];
	}
	if (n == 0)
		xfree(&uids);
	*uids_r = uids;
	*n_r = n;
	return 0;
}

int imap_view_resolve(const struct imap_session *s, struct imap_seqset *set,
		      bool uid, uint32_t **uids_r, size_t *n_r,
		      const char **error_r)
{
	const struct imap_view *v = &s->view;
	uint32_t *uids;
	size_t n = 0, r = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (set->saved)
		return saved_resolve(v, uids_r, n_r);
	if (!uid) {
		/* RFC 3501 9: a number above the count is invalid ("*" is
		 * the count, never above it). */
		for (size_t i = 0; i < set->n; i++) {
			if (set->ranges[i].lo > v->n ||
			    set->ranges[i].hi > v->n) {
				*error_r = "Invalid message sequence number";
				return -1;
			}
		}
		imap_seqset_resolve(set, (uint32_t)v->n);
		for (size_t i = 0; i < set->n; i++)
			n += set->ranges[i].hi - set->ranges[i].lo + 1;
		if (n == 0)
			return 0;
		uids = xmalloc(n * sizeof(*uids));
		n = 0;
		for (size_t i = 0; i < set->n; i++)
			for (uint32_t q = set->ranges[i].lo;
			     q <= set->ranges[i].hi; q++)
				uids[n++] = v->msgs[q - 1].uid;
		*uids_r = uids;
		*n_r = n;
		return 0;
	}
	/* RFC 3501 6.4.8: "*" is the highest UID; absent UIDs are skipped. */
	imap_seqset_resolve(set, v->n > 0 ? v->msgs[v->n - 1].uid : 0);
	if (v->n == 0 || set->n == 0)
		return 0;
	uids = xmalloc(v->n * sizeof(*uids));
	for (size_t i = 0; i < v->n && r < set->n; i++) {
		uint32_t u = v->msgs[i].uid;

		while (r < set->n && set->ranges[r].hi < u)
			r++;
		if (r < set->n && set->ranges[r].lo <= u)
			uids[n++] = u;
	}
	if (n == 0)
		xfree(&uids);
	*uids_r = uids;
	*n_r = n;
	return 0;
}

/* ---- Updates ---- */

/* Collects expunged UIDs as a uid-set for VANISHED (RFC 7162 3.2.10). */
struct vanished {
	struct buf line;
	uint32_t lo, hi; /* the open range; lo == 0: none */
};

static void vanished_flush_range(struct imap_session *s, struct vanished *vn)
{
	if (vn->lo == 0)
		return;
	if (buf_len(&vn->line) > IMAP_VANISHED_LINE) {
		conn_printf(s->conn, "* VANISHED %.*s\r\n",
			    (int)buf_len(&vn->line), buf_data(&vn->line));
		buf_reset(&vn->line);
	}
	if (buf_printf(&vn->line, buf_len(&vn->line) > 0 ? ",%u" : "%u",
		       vn->lo) < 0 ||
	    (vn->hi != vn->lo && buf_printf(&vn->line, ":%u", vn->hi) < 0))
		panic("VANISHED line overflow");
	vn->lo = 0;
}

static void vanished_add(struct imap_session *s, struct vanished *vn,
			 uint32_t uid)
{
	if (vn->lo != 0 && uid == vn->hi + 1) {
		vn->hi = uid;
		return;
	}
	vanished_flush_range(s, vn);
	vn->lo = vn->hi = uid;
}

/* Drop messages the store no longer has from the view, reporting them. */
static void sync_expunges(struct imap_session *s, const struct store_msg *msgs,
			  size_t n)
{
	struct imap_view *v = &s->view;
	bool qresync = s->enabled & IMAP_ENABLED_QRESYNC;
	struct vanished vn = {.lo = 0};
	size_t j = 0, k = 0;

	buf_init(&vn.line, IMAP_VANISHED_LINE + 64);
	for (size_t i = 0; i < v->n; i++) {
		uint32_t uid = v->msgs[i].uid;

		while (j < n && msgs[j].uid < uid)
			j++;
		if (j < n && msgs[j].uid == uid) {
			v->msgs[k++].uid = uid;
			continue;
		}
		/* RFC 3501 7.4.1: numbers shift down at once. */
		if (qresync)
			vanished_add(s, &vn, uid);
		else
			conn_printf(s->conn, "* %zu EXPUNGE\r\n", k + 1);
	}
	v->n = k;
	vanished_flush_range(s, &vn);
	if (buf_len(&vn.line) > 0)
		conn_printf(s->conn, "* VANISHED %.*s\r\n",
			    (int)buf_len(&vn.line), buf_data(&vn.line));
	buf_fini(&vn.line);
}

/* FETCH for each known message whose flags moved (RFC 3501 7.4.2). */
static void sync_flags(struct imap_session *s, const struct store_msg *msgs,
		       size_t n)
{
	struct imap_view *v = &s->view;
	size_t j = 0;

	if (v->n_told > 1)
		qsort(v->told, v->n_told, sizeof(*v->told), told_cmp);
	for (size_t i = 0; i < v->n; i++) {
		const struct store_msg *m;

		while (j < n && msgs[j].uid < v->msgs[i].uid)
			j++;
		if (j >= n)
			break;
		m = &msgs[j];
		if (m->uid != v->msgs[i].uid || m->modseq <= v->highestmodseq ||
		    m->modseq <= told_modseq(v, m->uid))
			continue;
		conn_printf(s->conn, "* %zu FETCH (", i + 1);
		/* RFC 7162 3.2.4: with QRESYNC the UID comes along. */
		if (s->enabled & IMAP_ENABLED_QRESYNC)
			conn_printf(s->conn, "UID %u ", m->uid);
		conn_printf(s->conn, "FLAGS ");
		imap_write_flags(s, m->flags, m->keywords, m->recent);
		/* RFC 7162 3.1.4.1 */
		if (s->enabled & IMAP_ENABLED_CONDSTORE)
			conn_printf(s->conn, " MODSEQ (%llu)",
				    (unsigned long long)m->modseq);
		conn_printf(s->conn, ")\r\n");
	}
}

/* Append messages newer than the view's last one; EXISTS, RECENT. */
static void sync_new(struct imap_session *s, const struct store_msg *msgs,
		     size_t n)
{
	struct imap_view *v = &s->view;
	uint32_t last = v->n > 0 ? v->msgs[v->n - 1].uid : 0;
	size_t j = n, before = v->n;
	uint32_t recent;

	while (j > 0 && msgs[j - 1].uid > last)
		j--;
	view_reserve(v, v->n + (n - j));
	for (; j < n; j++)
		v->msgs[v->n++].uid = msgs[j].uid;
	if (v->n != before)
		conn_printf(s->conn, "* %zu EXISTS\r\n", v->n);
	recent = count_recent(msgs, n);
	if (recent != v->recent || v->n != before) {
		v->recent = recent;
		conn_printf(s->conn, "* %u RECENT\r\n", recent);
	}
}

/*
 * The client's view cannot be mended (RFC 3501 2.3.1.1: a new
 * UIDVALIDITY; or the mailbox is gone): end the session, as Dovecot
 * does, rather than let the client act on wrong numbers.
 */
static void view_lost(struct imap_session *s, const char *why)
{
	log_info(conn_sid(s->conn), "selected mailbox lost", "reason=%s", why);
	conn_printf(s->conn, "* BYE [UNAVAILABLE] %s\r\n", why);
	/* The mailbox handle stays until the session ends: the command
	 * running now may still hold on to it. */
	imap_session_set_state(s, IMAP_STATE_LOGOUT);
	conn_close(s->conn);
}

int imap_session_sync(struct imap_session *s, unsigned opts,
		      const char **error_r)
{
	const struct store_msg *msgs;
	size_t n;
	uint64_t hms;
	struct imap_view *v = &s->view;

	int r;

	if (s->state != IMAP_STATE_SELECTED || s->mailbox == NULL)
		return 0;
	r = store_mailbox_sync(s->mailbox, error_r);
	if (r == STORE_ERR_NONEXISTENT) {
		view_lost(s, "Selected mailbox was deleted");
		return 0;
	}
	if (r < 0)
		return -1;
	/* An index rebuilt under us: every UID the client holds is void. */
	if (store_mailbox_uidvalidity(s->mailbox) != v->uidvalidity) {
		view_lost(s, "Mailbox UIDVALIDITY changed");
		return 0;
	}
	store_mailbox_messages(s->mailbox, &msgs, &n);
	hms = store_mailbox_highestmodseq(s->mailbox);
	/*
	 * Same count and same last UID means nothing came or went: a new
	 * message has a UID above all others, so an expunge hidden by an
	 * arrival would change the last UID.
	 */
	if (n == v->n && hms == v->highestmodseq &&
	    (n == 0 || msgs[n - 1].uid == v->msgs[n - 1].uid) &&
	    count_recent(msgs, n) == v->recent)
		return 0;
	if (!(opts & IMAP_SYNC_NO_EXPUNGE))
		sync_expunges(s, msgs, n);
	sync_flags(s, msgs, n);
	sync_new(s, msgs, n);
	v->highestmodseq = hms;
	v->uidnext = store_mailbox_uidnext(s->mailbox);
	told_clear(v);
	return 0;
}

void imap_condstore_enable(struct imap_session *s)
{
	if (s->enabled & IMAP_ENABLED_CONDSTORE)
		return;
	s->enabled |= IMAP_ENABLED_CONDSTORE;
	/* RFC 7162 3.1.2.1: tell the client where it stands. */
	if (s->state == IMAP_STATE_SELECTED && s->mailbox != NULL)
		conn_printf(s->conn, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
			    (unsigned long long)store_mailbox_highestmodseq(
				    s->mailbox));
}
