/*
 * IDLE (RFC 2177): the client waits for updates until it sends DONE.
 *
 * The mailbox is polled once a second (store_mailbox_sync is cheap when
 * nothing changed), so a delivery or a change made by a session in
 * another worker process shows within a second. Input keeps flowing so
 * DONE is answered at once.
 */
#include <stdlib.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"

#define IMAP_IDLE_POLL_MS 1000

enum imap_cmd_result imap_cmd_idle(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	free(s->async_tag);
	s->async_tag = xstrdup(tag);
	s->mode = IMAP_INPUT_IDLE;
	conn_printf(s->conn, "+ idling\r\n");
	conn_wake_after(s->conn, IMAP_IDLE_POLL_MS);
	return IMAP_CMD_ASYNC;
}

void imap_idle_poll(struct imap_session *s)
{
	const char *error;

	if (imap_session_sync(s, 0, &error) < 0)
		log_warn(conn_sid(s->conn), "idle: mailbox sync failed",
			 "error=%s", error);
	conn_wake_after(s->conn, IMAP_IDLE_POLL_MS);
}

void imap_idle_input(struct imap_session *s, const char *line, size_t len)
{
	char *tag = s->async_tag;

	s->async_tag = NULL;
	s->mode = IMAP_INPUT_COMMAND;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_ok(s, tag, "IDLE terminated");
	else
		imap_bad(s, tag, "Expected DONE");
	free(tag);
	imap_session_cmd_done(s);
}
