/*
 * Change notification for IMAP IDLE (store.h, store_watch_new): one
 * inotify instance per process watching, for each watched mailbox, its
 * new/ and cur/ (deliveries, other tools, flag renames) and the user's
 * Maildir root, where every commit to index.db by any process writes
 * index.db-wal. Any event for a user calls the notify function of each
 * of that user's watched mailboxes; the session then runs its cheap sync,
 * which tells whether anything it shows changed. An event too many costs
 * a sync that finds nothing; an event missed is caught by the caller's
 * slow poll.
 *
 * The kernel gives one watch descriptor per directory and instance, so a
 * table counts the mailboxes using each (refs) and removes the watch with
 * the last.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/mem.h"

#define WATCH_DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
#define WATCH_ROOT_MASK (IN_MODIFY | IN_CREATE)

struct watch_entry {
	int wd;
	unsigned refs;
	struct store_user *u;
};

struct store_watch {
	int fd;
	struct watch_entry *e; /* sorted by wd */
	size_t n, cap;
};

struct store_watch *store_watch_new(void)
{
	struct store_watch *w;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	return w;
}

void store_watch_free(struct store_watch **wp)
{
	struct store_watch *w = *wp;

	if (w == NULL)
		return;
	close(w->fd);
	free(w->e);
	free(w);
	*wp = NULL;
}

int store_watch_fd(const struct store_watch *w)
{
	return w->fd;
}

/* The index of wd in the table, or where it would go. */
static size_t entry_pos(const struct store_watch *w, int wd)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->e[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct watch_entry *entry_find(struct store_watch *w, int wd)
{
	size_t i = entry_pos(w, wd);

	return i < w->n && w->e[i].wd == wd ? &w->e[i] : NULL;
}

/* Watch dir for u; the watch descriptor, or -1. */
static int watch_add(struct store_watch *w, struct store_user *u,
		     const char *dir, uint32_t mask)
{
	int wd = inotify_add_watch(w->fd, dir, mask | IN_ONLYDIR);
	struct watch_entry *e;
	size_t i;

	if (wd < 0)
		return -1;
	if ((e = entry_find(w, wd)) != NULL) {
		e->refs++;
		return wd;
	}
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 16 : w->cap * 2;
		w->e = xrealloc(w->e, w->cap * sizeof(*w->e));
	}
	i = entry_pos(w, wd);
	memmove(&w->e[i + 1], &w->e[i], (w->n - i) * sizeof(*w->e));
	w->e[i] = (struct watch_entry){.wd = wd, .refs = 1, .u = u};
	w->n++;
	return wd;
}

static void watch_drop(struct store_watch *w, int wd)
{
	struct watch_entry *e;
	size_t i;

	if (wd < 0 || (e = entry_find(w, wd)) == NULL || --e->refs > 0)
		return;
	inotify_rm_watch(w->fd, wd);
	i = (size_t)(e - w->e);
	memmove(&w->e[i], &w->e[i + 1], (w->n - i - 1) * sizeof(*w->e));
	w->n--;
}

int store_mailbox_watch(struct store_mailbox *mb, struct store_watch *w,
			store_notify_fn *fn, void *ctx)
{
	struct store_user *u = mb->u;
	char *dnew, *dcur;

	if (mb->watch != NULL)
		store_mailbox_unwatch(mb);
	if (w == NULL)
		return -1;
	dnew = xasprintf("%s/new", mb->dir);
	dcur = xasprintf("%s/cur", mb->dir);
	mb->wd[0] = watch_add(w, u, u->root, WATCH_ROOT_MASK);
	mb->wd[1] = watch_add(w, u, dnew, WATCH_DIR_MASK);
	mb->wd[2] = watch_add(w, u, dcur, WATCH_DIR_MASK);
	free(dnew);
	free(dcur);
	mb->watch = w;
	if (mb->wd[0] < 0 || mb->wd[1] < 0 || mb->wd[2] < 0) {
		/* Out of watches (fs.inotify.max_user_watches): poll. */
		store_mailbox_unwatch(mb);
		return -1;
	}
	mb->notify = fn;
	mb->notify_ctx = ctx;
	mb->watch_next = u->watchers;
	u->watchers = mb;
	return 0;
}

void store_mailbox_unwatch(struct store_mailbox *mb)
{
	struct store_user *u = mb->u;

	if (mb->watch == NULL)
		return;
	for (struct store_mailbox **p = &u->watchers; *p != NULL;
	     p = &(*p)->watch_next) {
		if (*p == mb) {
			*p = mb->watch_next;
			break;
		}
	}
	for (int i = 0; i < 3; i++) {
		watch_drop(mb->watch, mb->wd[i]);
		mb->wd[i] = -1;
	}
	mb->watch = NULL;
	mb->watch_next = NULL;
	mb->notify = NULL;
}

static void notify_user(struct store_user *u)
{
	struct store_mailbox *mb = u->watchers, *next;

	/* A notify function may unwatch its own mailbox, not others. */
	for (; mb != NULL; mb = next) {
		next = mb->watch_next;
		mb->notify(mb->notify_ctx);
	}
}

void store_watch_read(struct store_watch *w)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			struct watch_entry *e;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: everyone looks. */
				for (size_t i = 0; i < w->n; i++)
					notify_user(w->e[i].u);
				continue;
			}
			if ((e = entry_find(w, ev->wd)) != NULL)
				notify_user(e->u);
		}
	}
}
