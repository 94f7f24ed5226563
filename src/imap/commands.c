/*
 * The IMAP command table: the single source of truth for which command
 * runs in which state (STYLE.md "Protocols"). session.c's dispatcher
 * enforces it; handlers never re-check.
 */
#include <string.h>

#include "imap/session_int.h"

#define ANY IMAP_STATES_ANY
#define AUTHED IMAP_STATES_AUTHED
#define NOTAUTH IMAP_STATE_NOT_AUTH
#define SEL IMAP_STATE_SELECTED
#define NOEXP IMAP_CMD_F_NO_EXPUNGE

/* One line per command; keep sorted by family as in session_int.h. */
static const struct imap_command imap_commands[] = {
	{"CAPABILITY", ANY, 0, imap_cmd_capability},
	{"NOOP", ANY, 0, imap_cmd_noop},
	{"LOGOUT", ANY, 0, imap_cmd_logout},
	{"ID", ANY, 0, imap_cmd_id},
	{"ENABLE", AUTHED, 0, imap_cmd_enable},
	{"NAMESPACE", AUTHED, 0, imap_cmd_namespace},
	{"STARTTLS", NOTAUTH, 0, imap_cmd_starttls},
	{"AUTHENTICATE", NOTAUTH, 0, imap_cmd_authenticate},
	{"LOGIN", NOTAUTH, 0, imap_cmd_login},
	{"SELECT", AUTHED, 0, imap_cmd_select},
	{"EXAMINE", AUTHED, 0, imap_cmd_examine},
	{"CLOSE", SEL, 0, imap_cmd_close},
	{"UNSELECT", SEL, 0, imap_cmd_unselect},
	{"CHECK", SEL, 0, imap_cmd_check},
	{"CREATE", AUTHED, 0, imap_cmd_create},
	{"DELETE", AUTHED, 0, imap_cmd_delete},
	{"RENAME", AUTHED, 0, imap_cmd_rename},
	{"SUBSCRIBE", AUTHED, 0, imap_cmd_subscribe},
	{"UNSUBSCRIBE", AUTHED, 0, imap_cmd_unsubscribe},
	{"STATUS", AUTHED, 0, imap_cmd_status},
	{"LIST", AUTHED, 0, imap_cmd_list},
	{"LSUB", AUTHED, 0, imap_cmd_lsub},
	{"APPEND", AUTHED, IMAP_CMD_F_BIG_LITERAL, imap_cmd_append},
	{"IDLE", AUTHED, 0, imap_cmd_idle},
	{"COMPRESS", AUTHED, 0, imap_cmd_compress},
	/* The message commands: uncomment a line when its file lands. */
	{"FETCH", SEL, NOEXP, imap_cmd_fetch},
	{"UID FETCH", SEL, 0, imap_cmd_uid_fetch},
	{"STORE", SEL, NOEXP, imap_cmd_store},
	{"UID STORE", SEL, 0, imap_cmd_uid_store},
	{"SEARCH", SEL, NOEXP, imap_cmd_search},
	{"UID SEARCH", SEL, 0, imap_cmd_uid_search},
	{"COPY", SEL, 0, imap_cmd_copy},
	{"UID COPY", SEL, 0, imap_cmd_uid_copy},
	{"MOVE", SEL, 0, imap_cmd_move},
	{"UID MOVE", SEL, 0, imap_cmd_uid_move},
	{"EXPUNGE", SEL, 0, imap_cmd_expunge},
	{"UID EXPUNGE", SEL, 0, imap_cmd_uid_expunge},
};

const struct imap_command *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]);
	     i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}
