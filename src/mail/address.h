/*
 * Envelope addresses: RFC 5321 4.1.2 Path / Mailbox, with the RFC 6531
 * extensions for UTF-8. A pure parser: no I/O, no globals.
 */
#ifndef MAIL_ADDRESS_H
#define MAIL_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1.1-3, in octets. */
#define ADDRESS_LOCAL_MAX 64
#define ADDRESS_DOMAIN_MAX 255
#define ADDRESS_PATH_MAX 256

/* Parsing flags. */
#define ADDRESS_F_UTF8 0x01	  /* SMTPUTF8: UTF-8 in local part/domain */
#define ADDRESS_F_ALLOW_NULL 0x02 /* "<>" is accepted (MAIL FROM) */

struct address {
	/*
	 * The local part's value: a quoted-string is stored unquoted with
	 * its backslash escapes undone ("a b"@x stores a b). Empty for <>.
	 */
	char local[ADDRESS_LOCAL_MAX + 1];
	/* As written; compare case-insensitively. "[192.0.2.1]" for a
	 * literal. */
	char domain[ADDRESS_DOMAIN_MAX + 1];
	bool null;    /* the null path <> */
	bool literal; /* domain is an address literal */
	bool utf8;    /* holds non-ASCII octets (needs SMTPUTF8) */
	bool quoted;  /* local part was (and must be) written quoted */
};

/*
 * Parse a Path at the start of s[0..len): "<" [A-d-l ":"] Mailbox ">" or,
 * with ADDRESS_F_ALLOW_NULL, "<>". A source route (A-d-l) is accepted and
 * ignored (RFC 5321 4.1.1.3). UTF-8 must be well-formed and is only
 * accepted with ADDRESS_F_UTF8.
 *
 * Returns 0 with *addr_r filled and *consumed_r the octets used (through
 * the ">"); -1 on a syntax error; -2 when a part is over its RFC limit;
 * -3 when the address needs SMTPUTF8 and the flag is not set. *error_r
 * is a static human sentence for the reply.
 */
int address_parse_path(const char *s, size_t len, unsigned flags,
		       struct address *addr_r, size_t *consumed_r,
		       const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Parse a bare Mailbox ("local@domain", the whole of s[0..len)), as
 * typed in a CLI or found in VRFY. Same results as address_parse_path.
 */
int address_parse_mailbox(const char *s, size_t len, unsigned flags,
			  struct address *addr_r, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Write addr as "local@domain" into buf (quoting the local part when it
 * needs it, "" for the null path). Returns the length it needs; the
 * output is cut and NUL-terminated when that is >= size.
 */
size_t address_format(const struct address *addr, char *buf, size_t size);

/*
 * Whether domain is parent or one of its subdomains ("a.b.example" and
 * "example" are within "example"; "badexample" is not). Case-insensitive.
 */
bool address_domain_within(const char *domain, const char *parent);

#endif
