/*
 * Shared helpers of the mime*.c files; not part of the mail/mime.h
 * contract. Everything here works on bytes already in memory and is
 * bounded by its input: an output string grows with what it is given, and
 * what it is given is at most a header field of MIME_HEADER_MAX octets or
 * a part of the caller's message.
 */
#ifndef MAIL_MIME_INTERNAL_H
#define MAIL_MIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/mime.h"

/* Parameters kept from one Content-Type or Content-Disposition field. */
#define MIME_PARAMS_MAX 64
/* Sections of one RFC 2231 continued parameter ("name*0" ... "name*N"). */
#define MIME_PARAM_SECTIONS_MAX 100
/* RFC 2046 5.1.1 allows 70; longer ones are taken as broken MIME. */
#define MIME_BOUNDARY_MAX 200
/* A quoted string longer than this is sent as a literal (RFC 3501 4.3). */
#define MIME_QUOTED_MAX 1024

/* A growable output string; always NUL-terminated once non-empty. */
struct mime_str {
	char *s;
	size_t len, cap;
};

void mime_str_add(struct mime_str *o, const void *p, size_t n);
void mime_str_addc(struct mime_str *o, char c);
void mime_str_adds(struct mime_str *o, const char *s);
/* The string (never NULL), which the caller then owns; o is emptied. */
char *mime_str_take(struct mime_str *o);

/* Walks the fields of a header block. */
struct mime_fields {
	const char *hdr;
	size_t len, pos;
	size_t count; /* fields returned so far */
};

void mime_fields_init(struct mime_fields *it, const char *hdr, size_t len);
/*
 * The next field: its name (without the WSP that may precede the colon,
 * RFC 5322 4.5.2) and its raw value (after the colon, folds included,
 * final line end excluded). Lines without a colon are skipped. Returns
 * false at the end, or after MIME_HEADERS_MAX fields.
 */
bool mime_fields_next(struct mime_fields *it, const char **name_r,
		      size_t *name_len_r, const char **value_r,
		      size_t *value_len_r);

/*
 * Unfold a raw value (RFC 5322 2.2.3: drop each line end that precedes
 * WSP), trim WSP at both ends and drop NULs. malloc'd, NUL-terminated, its
 * length in *len_r. NULL when the value is over MIME_HEADER_MAX octets.
 */
char *mime_unfold(const char *value, size_t len, size_t *len_r);

/* One parameter: name lower-case, value as it is to be shown. */
struct mime_param {
	char *name;
	char *value;
};

/* A parsed Content-Type ("type/subtype; params") or Content-Disposition
 * ("type; params"). */
struct mime_ctype {
	char *type, *subtype; /* lower-case; NULL when invalid or absent */
	struct mime_param *params;
	size_t n_params;
};

/*
 * Parse an unfolded Content-Type (with_subtype) or Content-Disposition
 * value. Comments are skipped, quoted strings unquoted, RFC 2231
 * continuations joined: "name*0", "name*1" become "name"; extended ones
 * ("name*0*", "name*") become "name*" with the value charset'lang'%XX as
 * RFC 9051 7.5.2 shows it. Never fails: ct->type is NULL when the value
 * is not one; free with mime_ctype_fini().
 */
void mime_ctype_parse(const char *v, size_t len, bool with_subtype,
		      struct mime_ctype *ct);
void mime_ctype_fini(struct mime_ctype *ct);
/* The value of parameter name (lower-case), or NULL. */
const char *mime_ctype_param(const struct mime_ctype *ct, const char *name);

/*
 * The unfolded values of the first fields called names[0..n) (lower-case)
 * in part's header, in one pass: values_r[i] is NULL when absent (free
 * them with mime_headers_free), lens_r[i] the length.
 */
void mime_part_headers(const struct mime_part *part, const char *msg,
		       const char *const *names, size_t n, char **values_r,
		       size_t *lens_r);
void mime_headers_free(char **values, size_t n);

/* The unfolded value of the first field called name in part's header. */
char *mime_part_header(const struct mime_part *part, const char *msg,
		       const char *name, size_t *len_r);

/* Skip WSP, line ends and (nested) comments from *pp up to end. When
 * comment is not NULL it gets the text of the last comment seen. */
void mime_skip_cfws(const char **pp, const char *end, struct mime_str *comment);

/* RFC 2045 5.1 token characters. */
bool mime_is_token(unsigned char c);

/* Append s[0..len) as an IMAP string (RFC 3501 4.3): NIL for NULL, a
 * quoted string when it can be one, else a literal. */
void mime_imap_nstring(struct mime_str *o, const char *s, size_t len);
/* The same for a NUL-terminated string (or NULL). */
void mime_imap_nstr(struct mime_str *o, const char *s);

/* Append the address list in an unfolded From:/To:-like value as RFC 3501
 * address structures "(...)(...)". Returns how many were written. */
size_t mime_imap_addresses(struct mime_str *o, const char *v, size_t len);

/*
 * Append bytes in charset to o as UTF-8. Returns false (nothing appended)
 * for a charset this module does not know. Bytes that are not valid in
 * the charset become U+FFFD.
 */
bool mime_charset_to_utf8(struct mime_str *o, const char *charset,
			  size_t charset_len, const unsigned char *p, size_t n);

/* Valid UTF-8 is copied; every other octet becomes U+FFFD, or its Latin-1
 * character when latin1_fallback (raw 8-bit text with no charset). */
void mime_raw_to_utf8(struct mime_str *o, const unsigned char *p, size_t n,
		      bool latin1_fallback);

/*
 * Decode base64 leniently (octets outside the alphabet skipped, padding
 * optional), appending to o. *acc and *bits carry a partial quantum from
 * one call to the next; start both at 0. Returns the octets appended.
 */
size_t mime_base64_lenient(struct mime_str *o, const char *s, size_t len,
			   uint32_t *acc, unsigned *bits);

#endif
