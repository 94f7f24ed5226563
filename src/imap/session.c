/*
 * IMAP session: input (command lines and literals), the dispatcher, and
 * the connection's life (greeting, STARTTLS, autologout, shutdown).
 *
 * SECURITY: reads hostile input before login. A command and its literals
 * are collected into one bounded buffer (IMAP_COMMAND_MAX_PREAUTH before
 * login, then IMAP_COMMAND_MAX, or max_message_size for APPEND); a
 * literal over its cap is refused before any of it is read
 * (synchronizing) or read and dropped without being kept (LITERAL+).
 * STARTTLS discards what was buffered in plaintext.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/sasl.h"
#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

static const char *const state_names[] = {
	[IMAP_STATE_NOT_AUTH] = "not-authenticated",
	[IMAP_STATE_AUTH] = "authenticated",
	[IMAP_STATE_SELECTED] = "selected",
	[IMAP_STATE_LOGOUT] = "logout",
};

void imap_session_set_state(struct imap_session *s, enum imap_state state)
{
	log_debug(conn_sid(s->conn), "imap state", "from=%s to=%s",
		  state_names[s->state], state_names[state]);
	s->state = state;
	/* RFC 9051 5.4: after login the autologout is at least 30 min. */
	if (state == IMAP_STATE_AUTH && s->srv->idle_timeout > 0 &&
	    s->srv->idle_timeout < IMAP_AUTOLOGOUT_MIN)
		conn_set_timeout(s->conn, IMAP_AUTOLOGOUT_MIN);
}

void imap_session_unselect(struct imap_session *s)
{
	store_mailbox_free(&s->mailbox);
	xfree(&s->mailbox_name);
	imap_view_clear(&s->view);
	s->readonly = false;
	if (s->state == IMAP_STATE_SELECTED)
		imap_session_set_state(s, IMAP_STATE_AUTH);
}

static void resume_release(struct imap_session *s);

static void imap_session_free(struct imap_session **sp)
{
	struct imap_session *s = *sp;

	if (s == NULL)
		return;
	imap_session_unselect(s);
	store_user_free(&s->store_user);
	sasl_server_free(&s->sasl);
	buf_fini(&s->cmdbuf);
	free(s->async_tag);
	resume_release(s);
	conn_free(&s->conn);
	free(s);
	*sp = NULL;
}

static void resume_release(struct imap_session *s)
{
	if (s->resume_ctx != NULL) {
		if (s->resume_free != NULL)
			s->resume_free(s->resume_ctx);
		else
			resume_release(s);
	}
	s->resume_ctx = NULL;
	s->resume_free = NULL;
	s->resume = NULL;
}

void imap_session_cmd_done(struct imap_session *s)
{
	s->mode = IMAP_INPUT_COMMAND;
	resume_release(s);
	s->cmd = NULL;
	conn_resume(s->conn);
}

/* ---- Collecting a command ---- */

/* Forget the command being collected; free a large buffer. */
static void cmd_reset(struct imap_session *s)
{
	buf_fini(&s->cmdbuf);
	buf_init(&s->cmdbuf, s->state == IMAP_STATE_NOT_AUTH
				     ? IMAP_COMMAND_MAX_PREAUTH
				     : IMAP_COMMAND_MAX);
	s->literal_left = 0;
	s->discard_left = 0;
	s->discarding = false;
	s->discard_reply = NULL;
	s->tag[0] = '\0';
}

/* The command is refused; its remaining lines and literals are dropped. */
static void cmd_refuse(struct imap_session *s, const char *reply)
{
	if (!s->discarding) {
		s->discarding = true;
		s->discard_reply = reply;
	}
}

/* Answer a refused command once all of it was read. */
static void cmd_refused(struct imap_session *s)
{
	const char *tag = s->tag[0] != '\0' ? s->tag : "*";

	if (strncmp(s->discard_reply, "NO ", 3) == 0)
		imap_no(s, tag, "%s", s->discard_reply + 3);
	else
		imap_bad(s, tag, "%s", s->discard_reply);
	cmd_reset(s);
}

static bool is_big(const char *name)
{
	const struct imap_command *c = imap_command_find(name);

	return c != NULL && (c->flags & IMAP_CMD_F_BIG_LITERAL);
}

/*
 * The line ends in a literal announcement: check it against the caps,
 * then ask for it ("+") or start dropping it. Returns false when the
 * command ends here (a synchronizing literal refused).
 */
static bool cmd_literal(struct imap_session *s, uint64_t size, bool nonsync,
			bool big)
{
	uint64_t cap = big ? s->srv->max_message_size
		       : s->state == IMAP_STATE_NOT_AUTH
			       ? IMAP_LITERAL_MAX_PREAUTH
			       : IMAP_LITERAL_MAX;

	if (!s->discarding && size > cap)
		cmd_refuse(s, big ? "NO [TOOBIG] Message too large"
				  : "Literal too large");
	if (!s->discarding && size > buf_room(&s->cmdbuf))
		cmd_refuse(s, big ? "NO [TOOBIG] Command too large"
				  : "Command too large");
	if (s->discarding) {
		if (!nonsync) {
			/* RFC 3501 7.5: no "+", so the client sends nothing. */
			cmd_refused(s);
			return false;
		}
		s->discard_left = size;
		return true;
	}
	/* RFC 7888 3: LITERAL+ sends without waiting. */
	if (!nonsync)
		conn_printf(s->conn, "+ Ready for literal data\r\n");
	s->literal_left = size;
	return true;
}

static void dispatch(struct imap_session *s);

/* One line of a command. */
static void cmd_line(struct imap_session *s, const char *line, size_t len)
{
	char name[IMAP_NAME_MAX + 1];
	uint64_t size = 0;
	bool nonsync = false,
	     first = buf_len(&s->cmdbuf) == 0 && !s->discarding;
	int ann;

	if (first) {
		imap_peek_command(line, len, s->tag, name);
		/* Nobody may send a message-sized literal before login. */
		s->cmd_big = is_big(name) && s->state != IMAP_STATE_NOT_AUTH;
		if (s->cmd_big) {
			buf_fini(&s->cmdbuf);
			buf_init(&s->cmdbuf,
				 s->srv->max_message_size + IMAP_COMMAND_MAX);
		}
	}
	if (!s->discarding && buf_append(&s->cmdbuf, line, len) < 0)
		cmd_refuse(s, "Command too long");
	ann = imap_literal_announce(line, len, &size, &nonsync);
	if (ann < 0) {
		cmd_refuse(s, "Literal too large");
		ann = 0;
	}
	if (ann == 1) {
		/* The CRLF after the announcement is part of the literal. */
		if (!s->discarding && buf_append(&s->cmdbuf, "\r\n", 2) < 0)
			cmd_refuse(s, "Command too long");
		(void)cmd_literal(s, size, nonsync, s->cmd_big);
		return;
	}
	if (s->discarding)
		cmd_refused(s);
	else
		dispatch(s);
}

/* Literal octets into the command (or dropped). */
static void cmd_literal_input(struct imap_session *s)
{
	size_t len, take;
	const char *data = conn_input(s->conn, &len);
	uint64_t *left =
		s->literal_left > 0 ? &s->literal_left : &s->discard_left;

	take = len < *left ? len : (size_t)*left;
	if (left == &s->literal_left && buf_append(&s->cmdbuf, data, take) < 0)
		panic("literal over the room checked before");
	conn_input_consume(s->conn, take);
	*left -= take;
}

/* ---- Dispatch ---- */

/* Run the busy command's resume while output is not held back. */
static void imap_resume_now(struct imap_session *s)
{
	while (s->mode == IMAP_INPUT_BUSY && s->resume != NULL &&
	       !conn_output_blocked(s->conn)) {
		if (s->resume(s) != IMAP_CMD_ASYNC)
			imap_session_cmd_done(s);
	}
}

static void dispatch(struct imap_session *s)
{
	struct imap_args args;
	const char *tag, *name, *sub;
	char full[IMAP_NAME_MAX * 2 + 2];
	const struct imap_command *c;
	enum imap_cmd_result r;

	imap_args_init(&args, buf_data(&s->cmdbuf), buf_len(&s->cmdbuf));
	if (imap_args_command(&args, &tag, &name) < 0) {
		imap_bad(s, tag, "%s", imap_args_error(&args));
		goto out;
	}
	strlcpy_p(s->tag, tag, sizeof(s->tag));
	strlcpy_p(full, name, sizeof(full));
	if (strcmp(name, "UID") == 0) {
		if (imap_args_atom(&args, &sub) < 0 ||
		    strlen(sub) > IMAP_NAME_MAX) {
			imap_bad(s, tag, "UID needs a command");
			goto out;
		}
		strlcpy_p(full + 3, " ", sizeof(full) - 3);
		strlcpy_p(full + 4, sub, sizeof(full) - 4);
		for (char *p = full + 4; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	}
	c = imap_command_find(full);
	if (c == NULL) {
		imap_bad(s, tag, "Unknown command %s", full);
		goto out;
	}
	if (!(c->states & s->state)) {
		imap_bad(s, tag, "%s not allowed %s", full,
			 s->state == IMAP_STATE_NOT_AUTH ? "before login"
			 : s->state == IMAP_STATE_SELECTED
				 ? "with a mailbox selected"
			 : s->state == IMAP_STATE_AUTH ? "without a mailbox"
						       : "now");
		goto out;
	}
	s->cmd = c;
	r = c->handler(s, s->tag, &args);
	if (r == IMAP_CMD_BAD)
		imap_bad(s, s->tag, "%s", imap_args_error(&args));
	if (r == IMAP_CMD_ASYNC) {
		if (s->mode == IMAP_INPUT_COMMAND) {
			s->mode = IMAP_INPUT_BUSY;
			conn_pause(s->conn);
			/* FLUSHED comes only after the queue went over the
			 * high mark: resume now if it did not. */
			imap_resume_now(s);
		}
	} else {
		s->cmd = NULL;
	}
out:
	imap_args_fini(&args);
	cmd_reset(s);
}

/* ---- Input ---- */

static void input_line_error(struct imap_session *s, enum linereader_result r,
			     const char *line, size_t len)
{
	char name[IMAP_NAME_MAX + 1];

	if (s->mode == IMAP_INPUT_COMMAND && buf_len(&s->cmdbuf) == 0 &&
	    !s->discarding)
		imap_peek_command(line, len, s->tag, name);
	/* A broken line ends the command it belonged to. */
	if (r == LINE_TOO_LONG)
		imap_bad(s, s->tag[0] != '\0' ? s->tag : "*", "Line too long");
	else
		imap_bad(s, s->tag[0] != '\0' ? s->tag : "*",
			 "Lines end in CRLF and hold no NUL");
	cmd_reset(s);
	if (s->mode == IMAP_INPUT_AUTH)
		imap_auth_abort(s);
	else if (s->mode == IMAP_INPUT_IDLE)
		imap_idle_input(s, "", 0);
}

static void imap_input(struct imap_session *s)
{
	const char *line;
	size_t len;
	unsigned flags;

	while (s->state != IMAP_STATE_LOGOUT && !s->tls_pending &&
	       s->mode != IMAP_INPUT_BUSY && !s->auth_failed_pending) {
		enum linereader_result r;

		if (s->literal_left > 0 || s->discard_left > 0) {
			size_t avail;

			(void)conn_input(s->conn, &avail);
			if (avail == 0)
				return;
			cmd_literal_input(s);
			continue;
		}
		r = conn_read_line(s->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		/* A bare LF is taken as a line end: nothing hides behind it
		 * in IMAP, unlike SMTP DATA. */
		if ((r != LINE_OK && r != LINE_BARE_LF) ||
		    (flags & LINE_F_NUL)) {
			input_line_error(s, r, line, len);
			continue;
		}
		switch (s->mode) {
		case IMAP_INPUT_COMMAND:
			cmd_line(s, line, len);
			break;
		case IMAP_INPUT_AUTH:
			imap_auth_input(s, line, len);
			break;
		case IMAP_INPUT_IDLE:
			imap_idle_input(s, line, len);
			break;
		case IMAP_INPUT_BUSY:
			break;
		}
	}
}

static void imap_on_conn(struct conn *conn, enum conn_event ev, void *arg)
{
	struct imap_session *s = arg;

	switch (ev) {
	case CONN_EV_DATA:
		imap_input(s);
		break;
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(conn), "starttls", "version=%s cipher=%s",
			 conn_tls_version(conn), conn_tls_cipher(conn));
		s->tls_pending = false;
		imap_input(s);
		break;
	case CONN_EV_TIMEOUT:
		conn_printf(conn, "* BYE Autologout; idle for too long\r\n");
		imap_session_set_state(s, IMAP_STATE_LOGOUT);
		conn_close(conn);
		break;
	case CONN_EV_SHUTDOWN:
		conn_printf(conn,
			    "* BYE [UNAVAILABLE] Server shutting down\r\n");
		imap_session_set_state(s, IMAP_STATE_LOGOUT);
		conn_close(conn);
		break;
	case CONN_EV_FLUSHED:
		imap_resume_now(s);
		break;
	case CONN_EV_WAKE:
		if (s->auth_failed_pending)
			imap_auth_wake(s);
		else if (s->mode == IMAP_INPUT_IDLE)
			imap_idle_poll(s);
		imap_input(s);
		break;
	case CONN_EV_CLOSED:
		log_info(conn_sid(conn), "disconnect", "peer=%s user=%s",
			 conn_peer_ip(conn), s->user);
		imap_session_free(&s);
		break;
	}
}

static struct imap_session *imap_session_new(struct conn *conn,
					     const struct imap_server *srv)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->srv = srv;
	s->state = IMAP_STATE_NOT_AUTH;
	buf_init(&s->cmdbuf, IMAP_COMMAND_MAX_PREAUTH);
	conn_set_max_line(conn, IMAP_LINE_MAX);
	conn_set_timeout(conn, srv->idle_timeout);
	conn_set_callback(conn, imap_on_conn, s);
	return s;
}

void imap_session_start(struct conn *conn, const struct imap_server *srv)
{
	struct imap_session *s = imap_session_new(conn, srv);

	log_info(conn_sid(conn), "imap connect", "peer=%s tls=%s",
		 conn_peer_ip(conn), conn_is_tls(conn) ? "yes" : "no");
	/* RFC 9051 7.1.1: the greeting carries the capabilities. */
	conn_printf(conn, "* OK [CAPABILITY %s] %s postern ready\r\n",
		    imap_capabilities(s), srv->hostname);
}

void imap_session_refuse(struct conn *conn, const struct imap_server *srv,
			 const char *why)
{
	struct imap_session *s = imap_session_new(conn, srv);

	imap_session_set_state(s, IMAP_STATE_LOGOUT);
	conn_printf(conn, "* BYE [UNAVAILABLE] %s, try again later\r\n", why);
	conn_close(conn);
}
