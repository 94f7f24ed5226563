/*
 * The folder list: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE
 * (RFC 3501 6.3.3-6.3.7) and STATUS (6.3.10, RFC 7162 HIGHESTMODSEQ,
 * RFC 8438 SIZE). The store checks names and does the work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/session_int.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* RFC 3501 6.3.3: a trailing separator only says "will have children". */
static const char *strip_separator(struct imap_args *a, const char *name)
{
	size_t len = strlen(name);

	(void)a;
	if (len > 1 && name[len - 1] == '/')
		((char *)name)[len - 1] = '\0';
	return name;
}

/*
 * A name a new mailbox may take: no wildcards (RFC 3501 6.3.8 would make
 * it unlistable) and 7-bit (5.1.3: international names travel as
 * modified UTF-7). The store checks the rest.
 */
static bool new_name_ok(struct imap_session *s, const char *tag,
			const char *name)
{
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '*' || *p == '%' || (unsigned char)*p >= 0x80) {
			imap_no(s, tag,
				"[CANNOT] Mailbox names hold no wildcards and "
				"no 8-bit octets (modified UTF-7)");
			return false;
		}
	}
	return true;
}

enum imap_cmd_result imap_cmd_create(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	const char *name, *error = NULL;
	int r;

	if (imap_args_mailbox(a, &name) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	name = strip_separator(a, name);
	if (strcasecmp(name, "INBOX") == 0) {
		imap_no(s, tag, "[ALREADYEXISTS] INBOX always exists");
		return IMAP_CMD_DONE;
	}
	if (!new_name_ok(s, tag, name))
		return IMAP_CMD_DONE;
	r = store_mailbox_create(s->store_user, name, 0, &error);
	if (r < 0)
		imap_no_store(s, tag, r, error, false);
	else
		imap_ok(s, tag, "CREATE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_delete(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	const char *name, *error = NULL;
	int r;

	if (imap_args_mailbox(a, &name) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (strcmp(name, "INBOX") == 0) {
		imap_no(s, tag, "[CANNOT] INBOX cannot be deleted");
		return IMAP_CMD_DONE;
	}
	/* Deleting the selected mailbox: leave it first (RFC 9051 6.3.4). */
	if (s->state == IMAP_STATE_SELECTED &&
	    strcmp(s->mailbox_name, name) == 0) {
		imap_session_unselect(s);
		imap_untagged(s, "OK [CLOSED] Mailbox deleted");
	}
	r = store_mailbox_delete(s->store_user, name, &error);
	if (r < 0)
		imap_no_store(s, tag, r, error, false);
	else
		imap_ok(s, tag, "DELETE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_rename(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	const char *from, *to, *error = NULL;
	int r;

	if (imap_args_mailbox(a, &from) < 0 || imap_args_mailbox(a, &to) < 0 ||
	    imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	to = strip_separator(a, to);
	if (strcmp(to, "INBOX") == 0) {
		imap_no(s, tag, "[ALREADYEXISTS] INBOX always exists");
		return IMAP_CMD_DONE;
	}
	if (!new_name_ok(s, tag, to))
		return IMAP_CMD_DONE;
	r = store_mailbox_rename(s->store_user, from, to, &error);
	if (r < 0) {
		imap_no_store(s, tag, r, error, false);
		return IMAP_CMD_DONE;
	}
	/* The selected mailbox follows its new name. */
	if (s->state == IMAP_STATE_SELECTED &&
	    strcmp(s->mailbox_name, from) == 0 && strcmp(from, "INBOX") != 0) {
		free(s->mailbox_name);
		s->mailbox_name = xstrdup(to);
	}
	imap_ok(s, tag, "RENAME completed");
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result subscribe(struct imap_session *s, const char *tag,
				      struct imap_args *a, bool on)
{
	const char *name, *error = NULL;
	int r;

	if (imap_args_mailbox(a, &name) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	r = store_mailbox_subscribe(s->store_user, name, on, &error);
	if (r < 0)
		imap_no_store(s, tag, r, error, false);
	else
		imap_ok(s, tag, "%s completed",
			on ? "SUBSCRIBE" : "UNSUBSCRIBE");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_subscribe(struct imap_session *s, const char *tag,
					struct imap_args *a)
{
	return subscribe(s, tag, a, true);
}

enum imap_cmd_result imap_cmd_unsubscribe(struct imap_session *s,
					  const char *tag, struct imap_args *a)
{
	return subscribe(s, tag, a, false);
}

/* STATUS items, in the order RFC 3501 6.3.10 lists them. */
enum status_item {
	ST_MESSAGES = 0x01,
	ST_RECENT = 0x02,
	ST_UIDNEXT = 0x04,
	ST_UIDVALIDITY = 0x08,
	ST_UNSEEN = 0x10,
	ST_HIGHESTMODSEQ = 0x20,
	ST_SIZE = 0x40,
	ST_DELETED = 0x80, /* RFC 9051 6.3.11 */
};

static const struct {
	const char *name;
	unsigned bit;
} status_names[] = {
	{"MESSAGES", ST_MESSAGES}, {"RECENT", ST_RECENT},
	{"UIDNEXT", ST_UIDNEXT},   {"UIDVALIDITY", ST_UIDVALIDITY},
	{"UNSEEN", ST_UNSEEN},	   {"HIGHESTMODSEQ", ST_HIGHESTMODSEQ},
	{"SIZE", ST_SIZE},	   {"DELETED", ST_DELETED},
};

/* "(MESSAGES UNSEEN ...)"; -1 on an unknown item. */
int imap_status_items(struct imap_args *a, unsigned *items_r)
{
	unsigned items = 0;

	if (imap_args_list_open(a) < 0)
		return -1;
	do {
		const char *item;
		unsigned bit = 0;

		if (imap_args_atom(a, &item) < 0)
			return -1;
		for (size_t i = 0;
		     i < sizeof(status_names) / sizeof(*status_names); i++)
			if (strcasecmp(item, status_names[i].name) == 0)
				bit = status_names[i].bit;
		if (bit == 0) {
			a->error = "Unknown STATUS item";
			return -1;
		}
		items |= bit;
	} while (!imap_args_at_end(a));
	if (imap_args_list_close(a) < 0)
		return -1;
	*items_r = items;
	return 0;
}

int imap_status_send(struct imap_session *s, const char *name, unsigned items,
		     int *err_r, const char **error_r)
{
	struct store_status st;
	char text[512];
	size_t used = 0;
	int r = store_mailbox_status(s->store_user, name, &st, error_r);

	if (r < 0) {
		*err_r = r;
		return -1;
	}
#define ITEM(bit, fmt, v)                                                      \
	if ((items & (bit)) && used < sizeof(text))                            \
		used += (size_t)snprintf(text + used, sizeof(text) - used,     \
					 "%s" fmt, used ? " " : "", v);
	ITEM(ST_MESSAGES, "MESSAGES %u", st.messages)
	ITEM(ST_RECENT, "RECENT %u", st.recent)
	ITEM(ST_UIDNEXT, "UIDNEXT %u", st.uidnext)
	ITEM(ST_UIDVALIDITY, "UIDVALIDITY %u", st.uidvalidity)
	ITEM(ST_UNSEEN, "UNSEEN %u", st.unseen)
	ITEM(ST_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
	     (unsigned long long)st.highestmodseq)
	ITEM(ST_SIZE, "SIZE %llu", (unsigned long long)st.size)
	ITEM(ST_DELETED, "DELETED %u", st.deleted)
#undef ITEM
	imap_printf(s, "* STATUS ");
	imap_write_astring(s, name);
	imap_printf(s, " (%.*s)\r\n", (int)used, text);
	return 0;
}

enum imap_cmd_result imap_cmd_status(struct imap_session *s, const char *tag,
				     struct imap_args *a)
{
	const char *name, *error = NULL;
	unsigned items;
	int err = 0;

	if (imap_args_mailbox(a, &name) < 0 ||
	    imap_status_items(a, &items) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (imap_status_send(s, name, items, &err, &error) < 0)
		imap_no_store(s, tag, err, error, false);
	else
		imap_ok(s, tag, "STATUS completed");
	return IMAP_CMD_DONE;
}
