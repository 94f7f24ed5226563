/*
 * Durable delivery of one message to one or more local Maildirs
 * (DESIGN.md 2 and 6): <data_dir>/mail/<domain>/<local>/{cur,new,tmp}.
 *
 * The message is written once to a temp file under <data_dir>/tmp/ (same
 * filesystem as mail/), fsync'd, then hard-linked into each recipient's
 * new/ and each new/ directory fsync'd. Only then may the caller reply 250.
 * A failure at any step undoes the links already made, so the client's
 * retry (451 4.3.0) never leaves a duplicate or a half file in new/.
 *
 * Quotas use the Maildir++ `maildirsize` file (Courier/Dovecot format) so a
 * check does not scan the folder per message.
 *
 * SECURITY: domain and local names come from the user database, already
 * validated; they are checked again here (no '/', no leading '.', not
 * empty) so a bad row can never escape <data_dir>/mail/.
 */
#ifndef STORE_MAILDIR_H
#define STORE_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

/* Queue id: 12 upper-case hex digits; buffers need MAILDIR_ID_SIZE bytes. */
#define MAILDIR_ID_LEN 12
#define MAILDIR_ID_SIZE (MAILDIR_ID_LEN + 1)
/* Bytes buffered before a write(2) to the temp file. */
#define MAILDIR_WRITE_BUFFER ((size_t)64 * 1024)
/* A maildirsize file larger than this is recalculated (Maildir++). */
#define MAILDIR_SIZE_FILE_MAX 5120

struct maildir_delivery;

struct maildir_target {
	const char *domain; /* lower-case, as in the user database */
	const char *local;
	uint64_t quota; /* bytes; 0 = unlimited */
};

/*
 * Start a delivery: creates <data_dir>/tmp/ (0700, parents too) if missing
 * and opens a new temp file there (0600, O_CLOEXEC). hostname goes into the
 * Maildir file names (NULL or "" means "localhost"). The caller owns the
 * result and frees it with maildir_delivery_free(). On error returns NULL
 * and *error_r points to a static string valid until the next call of
 * maildir_delivery_new().
 */
struct maildir_delivery *maildir_delivery_new(const char *data_dir,
					      const char *hostname,
					      const char **error_r)
	__attribute__((warn_unused_result));

/*
 * The queue id chosen in maildir_delivery_new() (MAILDIR_ID_LEN hex
 * digits), for the Received header and "250 2.0.0 Ok: queued as ID".
 * Owned by d.
 */
const char *maildir_delivery_id(const struct maildir_delivery *d);

/*
 * Append len bytes of the message. Buffered; write(2) happens when the
 * buffer is full. Returns 0, or -1 with *error_r (owned by d, valid until
 * the next call on d) naming the path and errno. An error is sticky: later
 * writes and the commit fail with the same message.
 */
int maildir_delivery_write(struct maildir_delivery *d, const void *data,
			   size_t len, const char **error_r)
	__attribute__((warn_unused_result));

/* Bytes appended so far. */
uint64_t maildir_delivery_size(const struct maildir_delivery *d);

/*
 * Would a message of size bytes fit in t's quota? Returns 0 it fits (or
 * quota 0 = unlimited), 1 it would exceed the quota (452 4.2.2), 2 the
 * message alone is larger than the quota (552 5.2.2), -1 on an I/O error or
 * a refused name (logged; reply 451 4.3.0). Reads the Maildir++ maildirsize
 * file and rewrites it from cur/ and new/ (folders included) when it is
 * missing, invalid, for another quota, or larger than MAILDIR_SIZE_FILE_MAX.
 */
int maildir_quota_check(const char *data_dir, const struct maildir_target *t,
			uint64_t size) __attribute__((warn_unused_result));

/*
 * Make the message durable in the n targets' new/ (n >= 1; a target that
 * repeats an earlier one is delivered once): flush, fsync the file, link it
 * into each <maildir>/new/<unique> (creating the Maildir, 0700, when
 * missing; copying via tmp/ + rename where link(2) gives EXDEV/EPERM), fsync
 * each new/ once, append to maildirsize where it exists, then remove the
 * temp file. Copies the queue id into id_r (id_size >= MAILDIR_ID_SIZE).
 *
 * Returns 0: the message is on disk in every target. Returns -1 with
 * *error_r (owned by d, valid until the next call on d): nothing was
 * delivered, the links already made were removed; the caller replies
 * 451 4.3.0 and may call commit again or free.
 */
int maildir_delivery_commit(struct maildir_delivery *d,
			    const struct maildir_target *targets, size_t n,
			    char *id_r, size_t id_size, const char **error_r)
	__attribute__((warn_unused_result));

/* Close and free; removes the temp file unless committed. Accepts NULL and
 * *dp == NULL; sets *dp = NULL. */
void maildir_delivery_free(struct maildir_delivery **dp);

#endif
