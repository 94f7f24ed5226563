/*
 * The envelope record of a queued message: sender, DSN parameters, and
 * one state per recipient. spool_envelope_format() turns it into text,
 * spool_envelope_parse() turns text back; both are pure (no I/O, no
 * globals) so they can be unit tested and fuzzed. The disk side is in
 * queue/spool.h.
 *
 * Record format, version 2. One field per line, each line ends in LF,
 * fields in exactly this order; every value that came from the network is
 * length-prefixed ("<decimal length>:<bytes>") so no sender or recipient
 * can end a field early or forge one (Exim's 21Nails, CVE-2020-28017 ff.):
 *
 *   postern-envelope 2
 *   id 0123456789ABCDEF
 *   created 1700000000
 *   sender 17:alice@example.org        (0: for the null sender <>)
 *   envid 0:                            (ENVID= as xtext, RFC 3461 4.4)
 *   ret default                         (default|full|hdrs)
 *   body 8bitmime                       (default|7bit|8bitmime)
 *   smtputf8 0                          (0|1)
 *   auth 17:alice@example.org          (submitter, 0: if none)
 *   size 1234
 *   attempts 0
 *   next_attempt 1700000000
 *   held 0                              (0|1: postern queue hold/release)
 *   rcpts 1                             (1..SPOOL_MAX_RCPTS)
 *   rcpt 15:bob@example.net             (then, per recipient:)
 *   orcpt 22:rfc822;bob@example.net     (ORCPT= as sent, 0: if none)
 *   notify failure,delay                (default|never|success,failure,delay)
 *   state deferred                      (pending|delivered|deferred|failed)
 *   last_reply 25:451 4.7.1 Try again later   (0: if none)
 *   updated 1700000300
 *   end
 *
 * Numbers are unsigned decimal without leading zeros. A length prefix is
 * at most SPOOL_FIELD_MAX, and the value may hold any byte but NUL (LF
 * included). The record ends with "end\n" and nothing after it, so a
 * truncated record never parses.
 *
 * Version 1 is version 2 without the "held" line; it still parses (as not
 * held), so a spool written before the upgrade is delivered. Records are
 * always written as version 2.
 */
#ifndef QUEUE_SPOOL_ENVELOPE_H
#define QUEUE_SPOOL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SPOOL_ENVELOPE_VERSION 2
/* The oldest version spool_envelope_parse() still reads. */
#define SPOOL_ENVELOPE_VERSION_MIN 1
/* Queue id: SPOOL_ID_LEN upper-case hex digits; buffers SPOOL_ID_SIZE. */
#define SPOOL_ID_LEN 16
#define SPOOL_ID_SIZE (SPOOL_ID_LEN + 1)
/* Limits on a record; the parser refuses more, format() will not write
 * more. */
#define SPOOL_MAX_RCPTS 10000
#define SPOOL_FIELD_MAX 1000
/* No record within the two limits above can be this large. */
#define SPOOL_ENVELOPE_MAX ((size_t)64 * 1024 * 1024)

/* DSN NOTIFY= bits (RFC 3461 4.1), the same values as SMTP_NOTIFY_*; 0
 * means NOTIFY was not given. */
#define SPOOL_NOTIFY_NEVER 0x01
#define SPOOL_NOTIFY_SUCCESS 0x02
#define SPOOL_NOTIFY_FAILURE 0x04
#define SPOOL_NOTIFY_DELAY 0x08
#define SPOOL_NOTIFY_ALL 0x0f

/* Same order as enum smtp_ret / enum smtp_body. */
enum spool_ret { SPOOL_RET_DEFAULT, SPOOL_RET_FULL, SPOOL_RET_HDRS };
enum spool_body { SPOOL_BODY_DEFAULT, SPOOL_BODY_7BIT, SPOOL_BODY_8BITMIME };

enum spool_rcpt_state {
	SPOOL_RCPT_PENDING,   /* not tried yet */
	SPOOL_RCPT_DELIVERED, /* accepted by the next hop */
	SPOOL_RCPT_DEFERRED,  /* temporary failure: last_reply says why */
	SPOOL_RCPT_FAILED,    /* permanent failure or expired */
};

/*
 * Strings are owned by the envelope and freed by spool_envelope_fini();
 * NULL means the same as "" (parse always gives non-NULL strings).
 */
struct spool_rcpt {
	char *address;
	char *orcpt;	 /* ORCPT= as sent ("rfc822;xtext"), or "" */
	unsigned notify; /* SPOOL_NOTIFY_* bits, 0 if not given */
	enum spool_rcpt_state state;
	char *last_reply; /* last reply from the next hop, or "" */
	time_t updated;	  /* last state change, 0 if never */
};

struct spool_envelope {
	char id[SPOOL_ID_SIZE]; /* "" until spool_msg_commit() sets it */
	time_t created;
	char *sender; /* "" for the null sender <> */
	char *envid;  /* ENVID= as xtext, or "" */
	enum spool_ret ret;
	enum spool_body body;
	bool smtputf8;
	char *auth; /* authenticated submitter, or "" */
	uint64_t size;
	unsigned attempts;
	time_t next_attempt; /* 0: as soon as possible */
	/*
	 * On hold (postern queue hold): never attempted, never expired, no
	 * delay notice, until released. Postfix's hold queue works the same.
	 */
	bool held;
	struct spool_rcpt *rcpts;
	size_t nrcpts;
};

/* True when id is SPOOL_ID_LEN characters of [0-9A-F] and nothing else:
 * the only ids ever used in a path. */
bool spool_id_valid(const char *id);

/* An empty envelope: no strings, no recipients, defaults everywhere. */
void spool_envelope_init(struct spool_envelope *env);
/* Free everything env owns and leave it as after init. */
void spool_envelope_fini(struct spool_envelope *env);

/*
 * Append a recipient in state pending with copies of address and orcpt
 * (NULL = ""). Returns the new recipient, owned by env and valid until
 * the next add or fini. Limits are checked by format, not here.
 */
struct spool_rcpt *spool_envelope_add_rcpt(struct spool_envelope *env,
					   const char *address,
					   const char *orcpt, unsigned notify);

/*
 * The next_attempt that makes a message due now, for an operator's
 * request (postern queue flush, release, bounce) or ETRN: 0 ("as soon as
 * possible"), or 1 when it is 0 already. Due either way, and never the
 * value it had, so an attempt running meanwhile sees that it was asked
 * (spool_envelope_merge).
 */
time_t spool_due_now(time_t next_attempt);

/*
 * A delivery attempt is over: ours is the envelope it read when it
 * started, with its outcomes, and ours->next_attempt still as read then;
 * disk is the envelope on disk now. Put into ours what an operator asked
 * meanwhile (the rule is in the comment of the function). Returns true
 * when an attempt was asked for now (a flush, a release).
 */
bool spool_envelope_merge(struct spool_envelope *ours,
			  const struct spool_envelope *disk);

/*
 * Parse a whole record of len bytes (not NUL-terminated; must not contain
 * NUL). On success returns 0 and fills *env_r, which the caller releases
 * with spool_envelope_fini(). On error returns -1, *env_r is as after
 * spool_envelope_init() (nothing to free), and *error_r is a static string.
 */
int spool_envelope_parse(const char *buf, size_t len,
			 struct spool_envelope *env_r, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Write env as a record. Returns a NUL-terminated buffer the caller frees
 * and its length in *len_r; NULL when env breaks the format's rules (no or
 * more than SPOOL_MAX_RCPTS recipients, a string longer than
 * SPOOL_FIELD_MAX, an invalid id, an out-of-range enum or notify, a
 * negative time). Whatever this returns parses back to an equal envelope.
 */
char *spool_envelope_format(const struct spool_envelope *env, size_t *len_r)
	__attribute__((warn_unused_result));

#endif
