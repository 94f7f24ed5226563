/*
 * SMTP command line parsing (RFC 5321 4.1, RFC 1870, 6152, 6531, 3461,
 * 3030, 4954). Pure functions over (bytes, length): no I/O, no state, so
 * they are unit tested row by row and fuzzed.
 */
#ifndef SMTP_PARSE_H
#define SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/address.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_ETRN,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

/* A reply for a refused command: static strings. */
struct smtp_error {
	int code;	    /* 501, 553, 555 ... */
	const char *status; /* enhanced status code, "5.5.4" */
	const char *text;   /* human sentence */
};

/*
 * Split a command line (without CRLF) into its verb and argument: the
 * verb is case-insensitive and ends at SP or the end; *arg_r points after
 * the single SP (leading spaces of the argument kept), *arg_len_r may be 0.
 */
enum smtp_verb smtp_parse_verb(const char *line, size_t len, const char **arg_r,
			       size_t *arg_len_r);

/* Name of a verb for logs ("MAIL"). */
const char *smtp_verb_name(enum smtp_verb verb);

/* ESMTP extensions the session has enabled, for the parameter checks. */
#define SMTP_EXT_SIZE 0x01
#define SMTP_EXT_8BITMIME 0x02
#define SMTP_EXT_SMTPUTF8 0x04
#define SMTP_EXT_DSN 0x08
#define SMTP_EXT_AUTH 0x10

enum smtp_body { SMTP_BODY_DEFAULT, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };
enum smtp_ret { SMTP_RET_DEFAULT, SMTP_RET_FULL, SMTP_RET_HDRS };

/* RFC 3461 4.4: ENVID up to 100 characters of xtext; ORCPT 500. */
#define SMTP_ENVID_MAX 100
#define SMTP_ORCPT_MAX 500

struct smtp_mail_params {
	bool has_size;
	uint64_t size;			 /* SIZE=, RFC 1870 */
	enum smtp_body body;		 /* BODY=, RFC 6152 */
	bool smtputf8;			 /* SMTPUTF8, RFC 6531 3.4 */
	enum smtp_ret ret;		 /* RET=, RFC 3461 4.3 */
	char envid[SMTP_ENVID_MAX + 1];	 /* ENVID=, as xtext; "" if absent */
	char auth[ADDRESS_PATH_MAX + 1]; /* AUTH=, RFC 4954 5; "" if absent */
};

#define SMTP_NOTIFY_NEVER 0x01
#define SMTP_NOTIFY_SUCCESS 0x02
#define SMTP_NOTIFY_FAILURE 0x04
#define SMTP_NOTIFY_DELAY 0x08

struct smtp_rcpt_params {
	unsigned notify; /* SMTP_NOTIFY_*; 0 if absent */
	char orcpt[SMTP_ORCPT_MAX +
		   1]; /* "rfc822;xtext" as sent; "" if absent */
};

/*
 * Parse the argument of MAIL: "FROM:<path> [SP params]". Spaces after the
 * colon are tolerated (common clients send them). exts says which
 * extensions were advertised: a parameter of one not advertised is
 * refused (555 5.5.4), as are unknown and repeated parameters.
 * UTF-8 in the path is accepted only when exts has SMTP_EXT_SMTPUTF8 and
 * the SMTPUTF8 parameter is given (else 550 5.6.7, RFC 6531 3.5).
 * Returns 0, or -1 with *err_r set.
 */
int smtp_parse_mail(const char *arg, size_t len, unsigned exts,
		    struct address *from_r, struct smtp_mail_params *params_r,
		    struct smtp_error *err_r)
	__attribute__((warn_unused_result));

/*
 * Parse the argument of RCPT: "TO:<path> [SP params]"; <> is refused and
 * "<Postmaster>" (no domain, RFC 5321 4.1.1.3) is accepted with an empty
 * domain. utf8 says whether the transaction's MAIL had SMTPUTF8.
 * Returns 0, or -1 with *err_r set.
 */
int smtp_parse_rcpt(const char *arg, size_t len, unsigned exts, bool utf8,
		    struct address *to_r, struct smtp_rcpt_params *params_r,
		    struct smtp_error *err_r)
	__attribute__((warn_unused_result));

/*
 * Parse the argument of BDAT: "chunk-size [SP LAST]" (RFC 3030 2).
 * Returns 0, or -1 with *err_r set (501 5.5.4).
 */
int smtp_parse_bdat(const char *arg, size_t len, uint64_t *size_r, bool *last_r,
		    struct smtp_error *err_r)
	__attribute__((warn_unused_result));

/*
 * Check the argument of HELO/EHLO: a domain or an address literal
 * (RFC 5321 4.1.1.1). Returns 0, or -1 with *err_r set (501 5.5.4).
 */
int smtp_parse_helo(const char *arg, size_t len, struct smtp_error *err_r)
	__attribute__((warn_unused_result));

#endif
