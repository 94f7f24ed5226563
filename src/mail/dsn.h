/*
 * Delivery status notifications (RFC 3464, RFC 3461 6, RFC 6522): the
 * policy of when one is sent, and the bytes of the message. Pure: no I/O,
 * no globals; the caller queues the result with MAIL FROM:<> (RFC 3461
 * 6.1) to the envelope sender.
 *
 * SECURITY: the diagnostic is the text of a remote server's reply, and the
 * addresses, ORCPT and ENVID come from the original client. Every value
 * is cleaned before it is written (CR, LF and other control characters
 * never pass; 8-bit octets only as well-formed UTF-8 in an address of an
 * internationalized DSN), cut to a fixed length and folded, so no input
 * can add a header field, a MIME part or a line longer than 998 octets.
 */
#ifndef MAIL_DSN_H
#define MAIL_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * NOTIFY= bits (RFC 3461 4.1). They are the same values as SMTP_NOTIFY_*
 * (smtp/parse.h) and SPOOL_NOTIFY_* (queue/spool_envelope.h), which live
 * in higher layers, so a value read from either passes here unchanged.
 * 0 means NOTIFY was not given.
 */
#define DSN_NOTIFY_NEVER 0x01
#define DSN_NOTIFY_SUCCESS 0x02
#define DSN_NOTIFY_FAILURE 0x04
#define DSN_NOTIFY_DELAY 0x08
#define DSN_NOTIFY_ALL 0x0f

/* Longest remote reply kept in a DSN; longer text is cut, ends in "...". */
#define DSN_DIAGNOSTIC_MAX 2048
/* Longest address, ORCPT or ENVID kept (RFC 3461 4.2 allows ORCPT 500). */
#define DSN_ADDRESS_MAX 512
/* Longest host name kept (RFC 1035 2.3.4 limits names to 255). */
#define DSN_HOST_MAX 255

/* RFC 3464 2.3.3 action-value. */
enum dsn_action {
	DSN_FAILED,
	DSN_DELAYED,
	DSN_DELIVERED,
	DSN_RELAYED,
	DSN_EXPANDED
};

struct dsn_rcpt {
	/* Final recipient as it was in the envelope (rfc822). */
	const char *address;
	/* ORCPT= as received, "addr-type;xtext"; NULL or "": none. */
	const char *orcpt;
	enum dsn_action action;
	/* RFC 3463 "5.1.1"; NULL or malformed: 5.0.0, 4.0.0 or 2.0.0 by
	 * action (RFC 3461 6.3 g). */
	const char *status;
	/* Host name of the server that answered; NULL or "": none. */
	const char *remote_mta;
	/* The reply text, e.g. "550 5.1.1 no such user"; NULL: none. A
	 * multi-line reply may keep its CRLFs: they become spaces. */
	const char *diagnostic;
	/* 0: unknown, the field is left out. */
	time_t last_attempt;
	/* DSN_DELAYED only; 0: left out. */
	time_t will_retry_until;
};

struct dsn_report {
	/* Our host name: Reporting-MTA, From: and Message-ID domain. */
	const char *reporting_mta;
	/* ENVID= as received, xtext (RFC 3461 4.4); NULL or "": none. */
	const char *envid;
	/* Envelope sender of the original: To: of the DSN. "": none. */
	const char *sender;
	/* When the original arrived; 0: Arrival-Date left out. */
	time_t arrival;
	/* Domain of the DSN's Message-ID; NULL or "": reporting_mta. */
	const char *message_id_domain;
	const struct dsn_rcpt *rcpts;
	size_t nrcpts;
	/* RET=FULL. Honoured only when a recipient failed (RFC 3461 4.3). */
	bool return_full;
	/* The original message, header and body with CRLF line ends; NULL
	 * or empty: nothing is returned. Only its header is returned
	 * unless return_full. */
	const char *original;
	size_t original_len;
	/* Largest original returned whole; past it only the header is
	 * (RFC 3461 6.2). 0: no cap. */
	size_t max_return;
};

/*
 * Whether a DSN with this action is sent for a recipient that gave
 * notify_bits (DSN_NOTIFY_*; bits above DSN_NOTIFY_ALL are ignored):
 *   - never to the null sender "" (nor NULL): a bounce of a bounce loops
 *     (RFC 5321 4.5.5, RFC 3461 6.1);
 *   - NEVER: none, even if other bits are wrongly set with it (4.1);
 *   - no bits: FAILURE and DELAY (4.1 allows "FAILURE,DELAY");
 *   - failed needs FAILURE, delayed DELAY, and delivered, relayed and
 *     expanded SUCCESS (5.2.2 b: relayed to a server without DSN).
 */
bool dsn_wanted(unsigned notify_bits, enum dsn_action action,
		const char *sender);

/*
 * The whole DSN message, header and body, CRLF line ends, no line longer
 * than 998 octets; NUL-terminated, *len_r (may be NULL) is its length
 * without the NUL. The caller owns it and frees it with free().
 *
 * From: "Mail Delivery System <MAILER-DAEMON@reporting_mta>", To: the
 * sender, a Subject by the gravest action (failed, else delayed, else
 * success), Date: now, Message-ID, Auto-Submitted: auto-replied (RFC 3834
 * 5) and a multipart/report (RFC 6522) of three parts:
 *   1. text/plain: what happened to each recipient, for a person;
 *   2. message/delivery-status (RFC 3464 2.2, 2.3): one group per rcpts[i]
 *      in order; the ENVID and ORCPT xtext is decoded (RFC 3461 6.3 a, d);
 *   3. the original: message/rfc822 when return_full, a recipient failed,
 *      and max_return allows, else its header as text/rfc822-headers. Left
 *      out when there is no original, or when it is not CRLF text of lines
 *      up to 998 octets (a header that is not is left out too).
 * When an address or ORCPT has 8-bit octets (SMTPUTF8), part 2 is
 * message/global-delivery-status with the "utf-8" address type and part 3
 * message/global or message/global-headers (RFC 6533). A part with 8-bit
 * octets says Content-Transfer-Encoding: 8bit, and so does the message:
 * the caller sends such a DSN with BODY=8BITMIME (and SMTPUTF8 when the
 * sender has 8-bit octets).
 *
 * The boundary is made from boundary_seed (its letters, digits, '-' and
 * '_'; NULL is fine) and checked against every part: pass something the
 * original's author cannot guess, such as the queue id. The seed also
 * makes the Message-ID unique with now.
 *
 * Returns NULL, with nothing to send, when the sender is "" or NULL (never
 * a bounce for a bounce) or nrcpts is 0. The caller applies dsn_wanted()
 * to each recipient before.
 */
char *dsn_compose(const struct dsn_report *r, time_t now,
		  const char *boundary_seed, size_t *len_r);

#endif
