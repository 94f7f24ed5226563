/*
 * RFC 3501 7.4.2 views of a MIME tree: ENVELOPE, BODY and BODYSTRUCTURE.
 * Header values are shown raw (unfolded), not decoded, as RFC 3501 asks.
 */
#include "mail/mime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "mail/mime_internal.h"

void mime_imap_nstring(struct mime_str *o, const char *s, size_t len)
{
	bool literal = len > MIME_QUOTED_MAX;
	size_t n = 0;
	char num[32];

	if (s == NULL) {
		mime_str_adds(o, "NIL");
		return;
	}
	/* RFC 3501 9: a quoted string holds 7-bit TEXT-CHARs; NUL can be in
	 * neither form, so it is dropped. */
	for (size_t i = 0; i < len && !literal; i++) {
		unsigned char c = (unsigned char)s[i];

		literal = c == '\r' || c == '\n' || c >= 0x80;
	}
	for (size_t i = 0; i < len; i++)
		n += s[i] != '\0';
	if (literal) {
		snprintf(num, sizeof(num), "{%zu}\r\n", n);
		mime_str_adds(o, num);
	} else {
		mime_str_addc(o, '"');
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			continue;
		if (!literal && (s[i] == '"' || s[i] == '\\'))
			mime_str_addc(o, '\\');
		mime_str_addc(o, s[i]);
	}
	if (!literal)
		mime_str_addc(o, '"');
}

void mime_imap_nstr(struct mime_str *o, const char *s)
{
	mime_imap_nstring(o, s, s != NULL ? strlen(s) : 0);
}

static void add_num(struct mime_str *o, size_t n)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", n);
	mime_str_adds(o, num);
}

/* A header value as an nstring: NIL when absent. */
static void header_nstring(struct mime_str *o, const struct mime_part *part,
			   const char *msg, const char *name)
{
	size_t len = 0;
	char *v = mime_part_header(part, msg, name, &len);

	mime_imap_nstring(o, v, len);
	free(v);
}

/* An address list; NIL when absent or empty. Returns whether written. */
static bool header_addresses(struct mime_str *o, const struct mime_part *part,
			     const char *msg, const char *name)
{
	size_t len = 0, mark = o->len;
	char *v = mime_part_header(part, msg, name, &len);
	bool any = false;

	if (v != NULL) {
		mime_str_addc(o, '(');
		any = mime_imap_addresses(o, v, len) > 0;
		if (any) {
			mime_str_addc(o, ')');
		} else {
			o->len = mark;
			o->s[mark] = '\0';
		}
		free(v);
	}
	return any;
}

static void envelope(struct mime_str *o, const struct mime_part *part,
		     const char *msg)
{
	size_t from_off, from_len;

	mime_str_addc(o, '(');
	header_nstring(o, part, msg, "date");
	mime_str_addc(o, ' ');
	header_nstring(o, part, msg, "subject");
	mime_str_addc(o, ' ');
	from_off = o->len;
	if (!header_addresses(o, part, msg, "from"))
		mime_str_adds(o, "NIL");
	from_len = o->len - from_off;
	/* RFC 3501 7.4.2: an absent or empty Sender or Reply-To is From. */
	for (int i = 0; i < 2; i++) {
		mime_str_addc(o, ' ');
		if (!header_addresses(o, part, msg,
				      i ? "reply-to" : "sender")) {
			char *copy = xstrndup(o->s + from_off, from_len);

			mime_str_add(o, copy, from_len);
			free(copy);
		}
	}
	static const char *const lists[] = {"to", "cc", "bcc"};
	for (size_t i = 0; i < 3; i++) {
		mime_str_addc(o, ' ');
		if (!header_addresses(o, part, msg, lists[i]))
			mime_str_adds(o, "NIL");
	}
	mime_str_addc(o, ' ');
	header_nstring(o, part, msg, "in-reply-to");
	mime_str_addc(o, ' ');
	header_nstring(o, part, msg, "message-id");
	mime_str_addc(o, ')');
}

char *mime_envelope(const struct mime_part *part, const char *msg)
{
	struct mime_str o = {0};

	envelope(&o, part, msg);
	return mime_str_take(&o);
}

/* body-fld-param: NIL for an empty list. */
static void params(struct mime_str *o, const struct mime_ctype *ct)
{
	if (ct->n_params == 0) {
		mime_str_adds(o, "NIL");
		return;
	}
	mime_str_addc(o, '(');
	for (size_t i = 0; i < ct->n_params; i++) {
		if (i > 0)
			mime_str_addc(o, ' ');
		mime_imap_nstr(o, ct->params[i].name);
		mime_str_addc(o, ' ');
		mime_imap_nstr(o, ct->params[i].value);
	}
	mime_str_addc(o, ')');
}

/*
 * The Content-Type parameters to show. When the part's type is not the
 * one its header names (a default, or a part shown as text past a
 * limit), the header's parameters do not describe it.
 */
static void type_params(struct mime_str *o, const struct mime_part *part,
			const char *msg)
{
	struct mime_ctype ct = {0};
	size_t len;
	char *v = mime_part_header(part, msg, "content-type", &len);

	if (v != NULL)
		mime_ctype_parse(v, len, true, &ct);
	free(v);
	if (ct.type == NULL || strcmp(ct.type, part->type) != 0 ||
	    strcmp(ct.subtype, part->subtype) != 0) {
		mime_ctype_fini(&ct);
	}
	if (ct.n_params == 0 && strcmp(part->type, "text") == 0)
		mime_str_adds(o, "(\"charset\" \"us-ascii\")");
	else
		params(o, &ct);
	mime_ctype_fini(&ct);
}

/* body-fld-lang: Content-Language is a list of tags (RFC 3282). */
static void languages(struct mime_str *o, const char *v, size_t len)
{
	const char *p = v, *end;
	size_t n = 0;

	if (v == NULL) {
		mime_str_adds(o, "NIL");
		return;
	}
	end = v + len;
	while (p < end) {
		const char *tag;

		mime_skip_cfws(&p, end, NULL);
		tag = p;
		while (p < end && mime_is_token((unsigned char)*p))
			p++;
		if (p > tag) {
			mime_str_adds(o, n++ == 0 ? "(" : " ");
			mime_imap_nstring(o, tag, (size_t)(p - tag));
		}
		mime_skip_cfws(&p, end, NULL);
		/* The comma, or junk that is skipped. */
		if (p < end && (*p == ',' || !mime_is_token((unsigned char)*p)))
			p++;
	}
	mime_str_adds(o, n > 0 ? ")" : "NIL");
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void extension(struct mime_str *o, const struct mime_part *part,
		      const char *msg)
{
	size_t len;
	char *v = mime_part_header(part, msg, "content-disposition", &len);
	struct mime_ctype ct = {0};

	if (v != NULL)
		mime_ctype_parse(v, len, false, &ct);
	free(v);
	mime_str_addc(o, ' ');
	if (ct.type != NULL) {
		mime_str_addc(o, '(');
		mime_imap_nstr(o, ct.type);
		mime_str_addc(o, ' ');
		params(o, &ct);
		mime_str_addc(o, ')');
	} else {
		mime_str_adds(o, "NIL");
	}
	mime_ctype_fini(&ct);
	mime_str_addc(o, ' ');
	v = mime_part_header(part, msg, "content-language", &len);
	languages(o, v, len);
	free(v);
	mime_str_addc(o, ' ');
	header_nstring(o, part, msg, "content-location");
}

static void body(struct mime_str *o, const struct mime_part *part,
		 const char *msg, bool ext);

static void multipart(struct mime_str *o, const struct mime_part *part,
		      const char *msg, bool ext)
{
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		body(o, c, msg, ext);
	mime_str_addc(o, ' ');
	mime_imap_nstr(o, part->subtype);
	if (ext) {
		mime_str_addc(o, ' ');
		type_params(o, part, msg);
		extension(o, part, msg);
	}
}

static void single(struct mime_str *o, const struct mime_part *part,
		   const char *msg, bool ext)
{
	mime_imap_nstr(o, part->type);
	mime_str_addc(o, ' ');
	mime_imap_nstr(o, part->subtype);
	mime_str_addc(o, ' ');
	type_params(o, part, msg);
	mime_str_addc(o, ' ');
	header_nstring(o, part, msg, "content-id");
	mime_str_addc(o, ' ');
	header_nstring(o, part, msg, "content-description");
	mime_str_addc(o, ' ');
	mime_imap_nstr(o, part->encoding);
	mime_str_addc(o, ' ');
	add_num(o, part->body_len);
	if (strcmp(part->type, "text") == 0) {
		mime_str_addc(o, ' ');
		add_num(o, part->body_lines);
	} else if (strcmp(part->type, "message") == 0 &&
		   strcmp(part->subtype, "rfc822") == 0 &&
		   part->children != NULL) {
		mime_str_addc(o, ' ');
		envelope(o, part->children, msg);
		mime_str_addc(o, ' ');
		body(o, part->children, msg, ext);
		mime_str_addc(o, ' ');
		add_num(o, part->body_lines);
	}
	if (ext) {
		mime_str_adds(o, " NIL"); /* body MD5: not computed */
		extension(o, part, msg);
	}
}

static void body(struct mime_str *o, const struct mime_part *part,
		 const char *msg, bool ext)
{
	mime_str_addc(o, '(');
	if (strcmp(part->type, "multipart") == 0 && part->children != NULL)
		multipart(o, part, msg, ext);
	else
		single(o, part, msg, ext);
	mime_str_addc(o, ')');
}

char *mime_bodystructure(const struct mime_part *part, const char *msg,
			 bool extended)
{
	struct mime_str o = {0};

	body(&o, part, msg, extended);
	return mime_str_take(&o);
}
