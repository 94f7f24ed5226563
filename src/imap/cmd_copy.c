/*
 * COPY, MOVE and their UID forms (RFC 3501 6.4.7, 6.4.8; RFC 6851), with
 * COPYUID (RFC 4315 3) and TRYCREATE.
 *
 * The store copies in one transaction (all or nothing, RFC 3501 6.4.7)
 * and, for MOVE, expunges the sources in the same one, so a message is
 * never in neither mailbox nor, after an OK, in both (RFC 6851 3.3).
 * MOVE then reports COPYUID in an untagged OK before the EXPUNGE (or
 * VANISHED) responses, as RFC 6851 4.3 advises.
 */
#include <stdlib.h>
#include <string.h>

#include "imap/msgset.h"
#include "imap/session_int.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "store/store.h"

/* "[COPYUID v src dst]" for the messages that were copied; NULL when
 * none was (a UID set of absent UIDs, or all expunged meanwhile). */
static char *copyuid(uint32_t uidvalidity, const uint32_t *uids,
		     const uint32_t *new_uids, size_t n)
{
	uint32_t *src = xmalloc((n > 0 ? n : 1) * sizeof(*src));
	uint32_t *dst = xmalloc((n > 0 ? n : 1) * sizeof(*dst));
	char *ssrc, *sdst, *code = NULL;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (new_uids[i] == 0)
			continue;
		src[k] = uids[i];
		dst[k++] = new_uids[i];
	}
	if (k > 0) {
		ssrc = imap_msgset_format(src, k);
		sdst = imap_msgset_format(dst, k);
		code = xasprintf("[COPYUID %u %s %s]", uidvalidity, ssrc, sdst);
		free(ssrc);
		free(sdst);
	}
	free(src);
	free(dst);
	return code;
}

static enum imap_cmd_result do_copy(struct imap_session *s, const char *tag,
				    struct imap_args *a, bool uid, bool move)
{
	struct imap_seqset set;
	const char *dest, *error = NULL;
	uint32_t *uids = NULL, *new_uids, uidvalidity = 0;
	size_t n = 0;
	char *code, *text;
	int r;

	if (imap_args_seqset(a, &set) < 0 || imap_args_mailbox(a, &dest) < 0 ||
	    imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (imap_view_resolve(s, &set, uid, &uids, &n, &error) < 0) {
		a->error = error;
		return IMAP_CMD_BAD;
	}
	if (move && s->readonly) {
		free(uids);
		imap_no(s, tag, "[CANNOT] Mailbox is read-only (EXAMINE)");
		return IMAP_CMD_DONE;
	}
	if (n == 0) {
		/* RFC 4315 3 (A005): nothing matched, nothing to do. */
		imap_ok(s, tag, "No messages to %s", move ? "move" : "copy");
		return IMAP_CMD_DONE;
	}
	new_uids = xcalloc(n, sizeof(*new_uids));
	r = store_copy(s->mailbox, uids, n, dest, move, &uidvalidity, new_uids,
		       &error);
	if (r < 0) {
		free(uids);
		free(new_uids);
		/* RFC 3501 6.4.7: TRYCREATE when the target is missing. */
		imap_no_store(s, tag, r, error, true);
		return IMAP_CMD_DONE;
	}
	code = copyuid(uidvalidity, uids, new_uids, n);
	free(uids);
	free(new_uids);
	if (!move) {
		text = xasprintf("%s%sCOPY completed", code ? code : "",
				 code ? " " : "");
		imap_ok(s, tag, "%s", text);
	} else {
		/* RFC 6851 4.3: COPYUID before the EXPUNGEs. */
		if (code != NULL) {
			text = xasprintf("%s Moved", code);
			imap_untagged(s, "OK %s", text);
			free(text);
		}
		if (imap_session_sync(s, 0, &error) < 0)
			log_warn(conn_sid(s->conn), "move: sync failed",
				 "error=%s", error);
		/* RFC 6851 4.4: the new HIGHESTMODSEQ under QRESYNC. */
		if (s->enabled & IMAP_ENABLED_QRESYNC)
			text = xasprintf(
				"[HIGHESTMODSEQ %llu] MOVE completed",
				(unsigned long long)s->view.highestmodseq);
		else
			text = xstrdup("MOVE completed");
		imap_ok(s, tag, "%s", text);
	}
	free(text);
	free(code);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_copy(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	return do_copy(s, tag, a, false, false);
}

enum imap_cmd_result imap_cmd_uid_copy(struct imap_session *s, const char *tag,
				       struct imap_args *a)
{
	return do_copy(s, tag, a, true, false);
}

enum imap_cmd_result imap_cmd_move(struct imap_session *s, const char *tag,
				   struct imap_args *a)
{
	return do_copy(s, tag, a, false, true);
}

enum imap_cmd_result imap_cmd_uid_move(struct imap_session *s, const char *tag,
				       struct imap_args *a)
{
	return do_copy(s, tag, a, true, true);
}
