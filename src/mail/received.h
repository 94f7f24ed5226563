/*
 * Trace headers: Received (RFC 5321 4.4, RFC 5322 3.6.7) and Return-Path.
 * Pure formatting: no I/O, no globals, no locale.
 *
 * SECURITY: the HELO argument and the reverse DNS name are chosen by the
 * peer. Every field is cleaned before it is written (control characters,
 * CR and LF always; for names also space, '(' ')' '\\' and 8-bit bytes) and
 * cut to a fixed length, so no input can start a new header line or close
 * a comment early.
 */
#ifndef MAIL_RECEIVED_H
#define MAIL_RECEIVED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Longest HELO text kept; longer text is cut and ends in "...". */
#define RECEIVED_HELO_MAX 64
/* A buffer this large always holds a Received header (fields are capped). */
#define RECEIVED_HEADER_MAX 2048
/* A buffer this large always holds a Return-Path header. */
#define RECEIVED_RETURN_PATH_MAX 320

struct received_info {
	const char *helo;	 /* as sent by the client; NULL: none */
	const char *peer_ip;	 /* "192.0.2.1" or "2001:db8::1" */
	const char *peer_rdns;	 /* verified reverse name; NULL: none */
	const char *by_host;	 /* our host name */
	const char *protocol;	 /* received_protocol(); NULL: omitted */
	const char *tls_version; /* "TLSv1.3"; NULL without TLS */
	const char *tls_cipher;	 /* "TLS_AES_256_GCM_SHA384"; may be NULL */
	const char *id;		 /* queue id; NULL: omitted */
	const char *for_rcpt;	 /* "user@example.org"; NULL: several */
	time_t when;
	/* Submission privacy: leave out the client's address and name. */
	bool hide_ip;
};

/*
 * The "with" protocol name (RFC 3848, RFC 6531 4.3): SMTP, ESMTP, ESMTPS,
 * ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA. A session
 * without EHLO is "SMTP" (it cannot negotiate AUTH or SMTPUTF8). Returns a
 * static string.
 */
const char *received_protocol(bool esmtp, bool tls, bool auth, bool utf8);

/*
 * Write the Received header into buf, folded into lines of at most 78
 * characters where the fields allow, each line ending in CRLF:
 *
 *   Received: from helo.example (rdns.example [192.0.2.1])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *   	by mx.example.org (postern) with ESMTPS id 1A2B3C4D5E6F
 *   	for <user@example.org>; Sun, 22 Nov 2026 00:21:37 +0000
 *
 * The date is RFC 5322 3.3 in UTC. Returns the length written (without the
 * NUL), or 0 when it does not fit in size bytes (buf is then "" when
 * size > 0). RECEIVED_HEADER_MAX bytes always suffice.
 */
size_t received_format(char *buf, size_t size, const struct received_info *ri);

/*
 * "Return-Path: <sender>\r\n"; sender "" (the null path) gives "<>".
 * Control characters in sender are replaced. Returns the length, or 0 when
 * it does not fit (buf is then "" when size > 0).
 * RECEIVED_RETURN_PATH_MAX bytes always suffice.
 */
size_t received_return_path(char *buf, size_t size, const char *sender);

/*
 * RFC 5322 3.3 date-time in UTC with a numeric zone and English names:
 * "Sun, 22 Nov 2026 00:21:37 +0000". buf needs 32 bytes. Returns the
 * length, or 0 when it does not fit or when is out of range.
 */
size_t received_date(char *buf, size_t size, time_t when);

/*
 * RFC 5321 6.3: loops are found by counting the Received: fields of a
 * message; a server SHOULD refuse at a large threshold, at least 100.
 */
#define RECEIVED_HOPS_MAX 100

/*
 * Counts Received: fields in a header block fed in pieces of any size
 * (a message as stored: CRLF lines), and stops at its empty line. State
 * is a few octets, so it runs on every incoming message without holding
 * the header. Zero-initialize; no _fini.
 */
struct received_hops {
	unsigned count;
	unsigned char matched; /* octets of "Received:" matched on this line */
	bool mid_line;	       /* not at the start of a line */
	bool mismatch;	       /* this line is not a Received: field */
	bool cr;	       /* the line so far is a lone CR */
	bool done;	       /* the empty line has been seen */
};

void received_hops_feed(struct received_hops *h, const char *p, size_t n);

#endif
