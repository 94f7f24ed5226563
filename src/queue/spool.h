/*
 * The durable outbound spool (DESIGN.md 2, 3 and 6). Submission puts each
 * message for remote recipients here before its 250; the queue worker
 * rebuilds its schedule from here at start (spool_list), so the spool, not
 * any notification, is the source of truth.
 *
 *   <data_dir>/queue/tmp/<id>.msg, <id>.env, <id>.u<hex>   being written
 *   <data_dir>/queue/msg/<id>                               message bytes
 *   <data_dir>/queue/env/<id>                               envelope record
 *
 * Commit order: message to tmp/ + fsync, envelope to tmp/ + fsync, rename
 * the message into msg/, fsync msg/, rename the envelope into env/ (the
 * commit point), fsync env/. So after a kill -9 at any instant there is
 * either no envelope, or an envelope whose message is complete on disk.
 * A message without an envelope is garbage (spool_cleanup_orphans); an
 * envelope without its message never exists: spool_remove() takes the
 * envelope away first, and spool_envelope_update() only replaces an
 * envelope that is still there.
 *
 * Files are 0600, directories 0700. Ids are checked with spool_id_valid()
 * before they go into a path, so a user-given id (CLI) cannot escape the
 * spool.
 *
 * Errors: functions taking a struct spool_msg give messages owned by it,
 * valid until the next call on it. The others (and spool_msg_new) give a
 * static buffer valid until the next call into this module. Processes are
 * single-threaded; this module is not thread-safe.
 */
#ifndef QUEUE_SPOOL_H
#define QUEUE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "queue/spool_envelope.h"

/* Bytes buffered before a write(2) to the message file. */
#define SPOOL_WRITE_BUFFER ((size_t)64 * 1024)

struct spool_msg;

/*
 * Start a message: creates <data_dir>/queue/{tmp,msg,env} (0700, parents
 * too, each new directory fsync'd into its parent) if missing, picks a new
 * id (SPOOL_ID_LEN hex digits from getrandom(), not in use in tmp/, msg/
 * or env/) and opens tmp/<id>.msg (0600, O_EXCL). The caller owns the
 * result and frees it with spool_msg_free(). Returns NULL on error.
 */
struct spool_msg *spool_msg_new(const char *data_dir, const char **error_r)
	__attribute__((warn_unused_result));

/* The message's id, owned by m; for "250 2.0.0 Ok: queued as <id>". */
const char *spool_msg_id(const struct spool_msg *m);

/*
 * Append len bytes of the message, buffered (SPOOL_WRITE_BUFFER). Returns
 * 0, or -1 on a write error; an error is sticky, later writes and the
 * commit fail with the same message.
 */
int spool_msg_write(struct spool_msg *m, const void *data, size_t len,
		    const char **error_r) __attribute__((warn_unused_result));

/*
 * Make the message and env durable, in the order given at the top. Fills
 * in env->id (it must be "" or this message's id), env->size when 0 (bytes
 * written) and env->created when 0 (now). env must be formattable (see
 * spool_envelope_format: at least one recipient, fields within limits).
 *
 * Returns 0: the message is queued and survives any crash; reply 250.
 * Returns -1: nothing is queued (what was renamed is removed again); reply
 * 451 4.3.0. After -1 the message cannot be committed again; free it.
 * Committing twice is a bug (panic).
 */
int spool_msg_commit(struct spool_msg *m, struct spool_envelope *env,
		     const char **error_r) __attribute__((warn_unused_result));

/* Close and free; removes the temp files unless committed. Accepts NULL
 * and *mp == NULL; sets *mp = NULL. */
void spool_msg_free(struct spool_msg **mp);

/*
 * Read and parse env/<id> (at most SPOOL_ENVELOPE_MAX bytes; the record's
 * id must equal id). Returns 0 and fills *env_r (release it with
 * spool_envelope_fini), or -1 with *env_r empty: invalid id, no such
 * envelope, I/O error or a malformed record.
 */
int spool_envelope_read(const char *data_dir, const char *id,
			struct spool_envelope *env_r, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Replace env/<env->id> atomically with env (after delivery attempts): the
 * new record is written to tmp/, fsync'd, exchanged with the old one
 * (renameat2 RENAME_EXCHANGE, so a message removed meanwhile is not
 * brought back), and env/ fsync'd. Returns 0, or -1 with the old record
 * unchanged: invalid or unformattable env, no such envelope, I/O error.
 */
int spool_envelope_update(const char *data_dir,
			  const struct spool_envelope *env,
			  const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Call cb(id, ctx) for each envelope in env/ (valid ids only, any order).
 * cb returns 0 to go on; any other value stops the walk and is returned
 * as is (*error_r untouched). cb may spool_remove() the id it is given.
 * Returns 0 after all (an absent spool is empty), or -1 with *error_r on
 * a directory error.
 */
int spool_list(const char *data_dir, int (*cb)(const char *id, void *ctx),
	       void *ctx, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Remove a queued message: env/<id> first, fsync env/, then msg/<id>.
 * Returns 0 when either file was removed (a message without envelope is
 * garbage and goes too), or -1: invalid id, not queued, I/O error.
 */
int spool_remove(const char *data_dir, const char *id, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * False when id has no envelope in the spool (never queued, removed, or
 * an invalid id); true otherwise, also when it cannot be told (an I/O
 * error), so that a doubt never drops a message.
 */
bool spool_queued(const char *data_dir, const char *id);

/* "<data_dir>/queue/msg/<id>", which the caller frees; NULL for an
 * invalid id. */
char *spool_msg_path(const char *data_dir, const char *id)
	__attribute__((warn_unused_result));

/*
 * Remove garbage last modified before older_than (an absolute time; pass
 * something like now - 1 day so that messages still being received are
 * left alone): files in tmp/ named by this module, and messages in msg/
 * that have no envelope. Returns the number of files removed, or -1 with
 * *error_r (some may have been removed).
 */
int spool_cleanup_orphans(const char *data_dir, time_t older_than,
			  const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Make every queued message that is not held (with a recipient in domain,
 * when not NULL; "@domain" means domain and its subdomains) due now: its next
 * attempt is set to spool_due_now() and the queue worker, which watches the
 * spool, tries it at once (postern queue flush, ETRN); one whose attempt is
 * running gets another right after it. Returns 0 with *count_r set, or -1 (some
 * envelope could not be written).
 */
int spool_flush(const char *data_dir, const char *domain, size_t *count_r,
		const char **error_r) __attribute__((warn_unused_result));

/*
 * Queue text, a complete message, from the null sender <> to the one
 * recipient `to`, durably (DSNs and other notices to senders). Returns 0
 * with the queue id in id_r (SPOOL_ID_SIZE octets), or -1 with *error_r
 * set (valid until the next call into this module).
 */
int spool_queue_notice(const char *data_dir, const char *to, const char *text,
		       size_t len, char *id_r, const char **error_r)
	__attribute__((warn_unused_result));

#endif