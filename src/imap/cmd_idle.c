/*
 * IDLE (RFC 2177): the client waits for updates until it sends DONE.
 *
 * The selected mailbox is watched (store_mailbox_watch: inotify on its
 * directories and the user's index), so a delivery or a change made by a
 * session in any worker process shows within milliseconds: a
 * notification arms a poll IMAP_IDLE_NOTIFY_MS later, which gathers a
 * burst of events into one sync. A poll a second after any activity lets
 * the store close the user's idle index connection, and a slow poll
 * catches whatever a watch could miss. Without a watch (no inotify, out
 * of watches) the mailbox is polled twice a second, so a change still
 * shows within a second; store_mailbox_sync is cheap when nothing
 * changed. Input keeps flowing so DONE is answered at once.
 */
#include <stdlib.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

#define IMAP_IDLE_POLL_MS 500	 /* without a watch */
#define IMAP_IDLE_NOTIFY_MS 20	 /* after a notification */
#define IMAP_IDLE_SETTLE_MS 1100 /* after activity: past the store's 1 s */
#define IMAP_IDLE_SLOW_MS 30000	 /* with a watch, when all is quiet */

static void idle_notify(void *ctx)
{
	struct imap_session *s = ctx;

	if (s->idle_notified)
		return;
	s->idle_notified = true;
	conn_wake_after(s->conn, IMAP_IDLE_NOTIFY_MS);
}

enum imap_cmd_result imap_cmd_idle(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	free(s->async_tag);
	s->async_tag = xstrdup(tag);
	s->mode = IMAP_INPUT_IDLE;
	s->idle_notified = false;
	s->idle_watched = s->mailbox != NULL &&
			  store_mailbox_watch(s->mailbox, s->srv->watch,
					      idle_notify, s) == 0;
	conn_printf(s->conn, "+ idling\r\n");
	conn_wake_after(s->conn, s->idle_watched ? IMAP_IDLE_SETTLE_MS
						 : IMAP_IDLE_POLL_MS);
	return IMAP_CMD_ASYNC;
}

void imap_idle_poll(struct imap_session *s)
{
	bool notified = s->idle_notified;
	const char *error;
	int next;

	s->idle_notified = false;
	if (imap_session_sync(s, 0, &error) < 0)
		log_warn(conn_sid(s->conn), "idle: mailbox sync failed",
			 "error=%s", error);
	if (!s->idle_watched)
		next = IMAP_IDLE_POLL_MS;
	else if (notified)
		next = IMAP_IDLE_SETTLE_MS;
	else
		next = IMAP_IDLE_SLOW_MS;
	conn_wake_after(s->conn, next);
}

void imap_idle_input(struct imap_session *s, const char *line, size_t len)
{
	char *tag = s->async_tag;

	s->async_tag = NULL;
	s->mode = IMAP_INPUT_COMMAND;
	if (s->idle_watched)
		store_mailbox_unwatch(s->mailbox);
	s->idle_watched = s->idle_notified = false;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_ok(s, tag, "IDLE terminated");
	else
		imap_bad(s, tag, "Expected DONE");
	free(tag);
	imap_session_cmd_done(s);
}
