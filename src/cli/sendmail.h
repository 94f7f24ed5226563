/*
 * The parts of postern sendmail that its two ways in share: a message on
 * stdin (cmd_sendmail.c) and the SMTP dialogue of -bs (cmd_sendmail_bs.c).
 * Both build the message line by line with sendmail_msg_line() and queue
 * it with sendmail_queue(), so a message is given the same header fixes
 * (Received:, From:, Date:, Message-ID:, no Bcc:) and is committed to the
 * spool the same way whichever way it came.
 */
#ifndef CLI_SENDMAIL_H
#define CLI_SENDMAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "queue/spool.h"
#include "smtp/parse.h"

struct config;

/* One envelope recipient; the strings are owned by struct sendmail. */
struct sendmail_rcpt {
	char *address;
	char *orcpt;	 /* ORCPT= as given ("rfc822;xtext"), or "" */
	unsigned notify; /* SPOOL_NOTIFY_* bits, 0 if not given */
};

struct sendmail {
	struct config *cfg;
	bool use_headers;      /* -t */
	bool dot_ends;	       /* a "." line ends the input (not with -i) */
	const char *sender;    /* "" for <>; owned by the caller */
	const char *full_name; /* -F: the From: display name, or NULL */
	unsigned notify;       /* -N: SPOOL_NOTIFY_* bits, 0 if not given */
	enum spool_ret ret;    /* -R */
	enum spool_body body;  /* -B, SPOOL_BODY_DEFAULT if not given */
	char envid[SMTP_ENVID_MAX + 1]; /* -V, as xtext */
	bool smtputf8; /* -bs: MAIL FROM had SMTPUTF8 (RFC 6531 3.4) */
	bool verbose;  /* -v */
	struct sendmail_rcpt *rcpts;
	size_t nrcpts;
	/* The message being built by sendmail_msg_line(). */
	struct buf msg;	 /* the message with CRLF line ends */
	struct buf bcc;	 /* the Bcc: fields taken out of it */
	bool eight_bit;	 /* an octet >= 0x80 was read */
	bool in_header;	 /* still in the header */
	bool field_seen; /* a fold has a field to continue */
	bool in_bcc;	 /* the current field is Bcc: */
};

/*
 * Add a recipient: "name" gets "@" and our host name; the result must be
 * a valid RFC 5321 4.1.2 Mailbox. orcpt and notify as in struct
 * sendmail_rcpt (orcpt NULL = ""). Returns 0, or -1 after printing why
 * to stderr (nothing added).
 */
int sendmail_add_rcpt(struct sendmail *sm, const char *address,
		      const char *orcpt, unsigned notify)
	__attribute__((warn_unused_result));

/*
 * Append one line of the message, l[0..n) without its line end: stored
 * with CRLF, a Bcc: field (and its folds) aside in sm->bcc, the empty line
 * before the body added when the text starts without a header. No dot
 * handling: the caller has done it. Returns EX_OK, or EX_DATAERR when the
 * message (or its Bcc: fields) passes its limit (printed to stderr); then
 * the message is incomplete and must not be queued.
 */
int sendmail_msg_line(struct sendmail *sm, const char *l, size_t n)
	__attribute__((warn_unused_result));

/*
 * Forget the message and its recipients, ready for the next one (the
 * buffers keep their limits). sm->sender is the caller's.
 */
void sendmail_msg_reset(struct sendmail *sm);

/*
 * Queue the message built so far for sm->rcpts (with -t, plus its To:,
 * Cc: and Bcc:), durably: when this returns EX_OK the message is in the
 * spool and its id in id_r. Otherwise returns the sysexits.h code after
 * printing why to stderr, and nothing is queued: EX_USAGE no recipients,
 * EX_DATAERR a header past the scanner's limits or too many recipients,
 * EX_SOFTWARE an internal error, any other code a spool write failure
 * (see sendmail_errno_exit in cmd_sendmail.c).
 */
int sendmail_queue(struct sendmail *sm, char id_r[SPOOL_ID_SIZE])
	__attribute__((warn_unused_result));

/*
 * -bs: the SMTP dialogue on stdin/stdout (cmd_sendmail_bs.c), each
 * accepted message queued with sendmail_queue(). sm is set up as for one
 * message (cfg, buffers, -F, and -N -R -V -B as defaults for what MAIL
 * and RCPT do not say). Returns EX_OK when the session ended (QUIT or
 * EOF) with nothing lost, EX_TEMPFAIL when a message could not be
 * queued (the client was told 451), EX_IOERR when stdin could not be
 * read.
 */
int sendmail_bs(struct sendmail *sm) __attribute__((warn_unused_result));

#endif
