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

/* An address list; NIL when absent or empty. Returns whether written. */
static bool addresses(struct mime_str *o, const char *v, size_t len)
{
	size_t mark = o->len;
	bool any;

	if (v == NULL)
		return false;
	mime_str_addc(o, '(');
	any = mime_imap_addresses(o, v, len) > 0;
	if (any) {
		mime_str_addc(o, ')');
	} else {
		o->len = mark;
		o->s[mark] = '\0';
	}
	return any;
}

enum {
	E_DATE,
	E_SUBJECT,
	E_FROM,
	E_SENDER,
	E_REPLY_TO,
	E_TO,
	E_CC,
	E_BCC,
	E_IN_REPLY_TO,
	E_MESSAGE_ID,
	E_FIELDS
};

/* RFC 3501 7.4.2, in the order of the envelope. */
static const char *const envelope_fields[E_FIELDS] = {
	"date", "subject", "from", "sender",	  "reply-to",
	"to",	"cc",	   "bcc",  "in-reply-to", "message-id",
};

static void envelope(struct mime_str *o, const struct mime_part *part,
		     const char *msg)
{
	char *v[E_FIELDS];
	size_t len[E_FIELDS], from_off, from_len;

	mime_part_headers(part, msg, envelope_fields, E_FIELDS, v, len);
	mime_str_addc(o, '(');
	mime_imap_nstring(o, v[E_DATE], len[E_DATE]);
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, v[E_SUBJECT], len[E_SUBJECT]);
	mime_str_addc(o, ' ');
	from_off = o->len;
	if (!addresses(o, v[E_FROM], len[E_FROM]))
		mime_str_adds(o, "NIL");
	from_len = o->len - from_off;
	/* RFC 3501 7.4.2: an absent or empty Sender or Reply-To is From. */
	for (size_t i = E_SENDER; i <= E_REPLY_TO; i++) {
		mime_str_addc(o, ' ');
		if (!addresses(o, v[i], len[i])) {
			char *copy = xstrndup(o->s + from_off, from_len);

			mime_str_add(o, copy, from_len);
			free(copy);
		}
	}
	for (size_t i = E_TO; i <= E_BCC; i++) {
		mime_str_addc(o, ' ');
		if (!addresses(o, v[i], len[i]))
			mime_str_adds(o, "NIL");
	}
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, v[E_IN_REPLY_TO], len[E_IN_REPLY_TO]);
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, v[E_MESSAGE_ID], len[E_MESSAGE_ID]);
	mime_str_addc(o, ')');
	mime_headers_free(v, E_FIELDS);
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

enum { B_TYPE, B_ID, B_DESC, B_DISP, B_LANG, B_LOC, B_FIELDS };

/* What BODYSTRUCTURE shows of a part's header, read in one pass. */
static const char *const body_fields[B_FIELDS] = {
	"content-type",	       "content-id",	   "content-description",
	"content-disposition", "content-language", "content-location",
};

struct fields {
	char *v[B_FIELDS];
	size_t len[B_FIELDS];
};

/*
 * The Content-Type parameters to show. When the part's type is not the
 * one its header names (a default, or a part shown as text past a
 * limit), the header's parameters do not describe it.
 */
static void type_params(struct mime_str *o, const struct mime_part *part,
			const struct fields *f)
{
	struct mime_ctype ct = {0};

	if (f->v[B_TYPE] != NULL)
		mime_ctype_parse(f->v[B_TYPE], f->len[B_TYPE], true, &ct);
	if (ct.type == NULL || strcmp(ct.type, part->type) != 0 ||
	    strcmp(ct.subtype, part->subtype) != 0)
		mime_ctype_fini(&ct);
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

/* SP body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void extension(struct mime_str *o, const struct fields *f)
{
	struct mime_ctype ct = {0};

	if (f->v[B_DISP] != NULL)
		mime_ctype_parse(f->v[B_DISP], f->len[B_DISP], false, &ct);
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
	languages(o, f->v[B_LANG], f->len[B_LANG]);
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, f->v[B_LOC], f->len[B_LOC]);
}

static void body(struct mime_str *o, const struct mime_part *part,
		 const char *msg, bool ext);

static void multipart(struct mime_str *o, const struct mime_part *part,
		      const char *msg, bool ext, const struct fields *f)
{
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		body(o, c, msg, ext);
	mime_str_addc(o, ' ');
	mime_imap_nstr(o, part->subtype);
	if (ext) {
		mime_str_addc(o, ' ');
		type_params(o, part, f);
		extension(o, f);
	}
}

static void single(struct mime_str *o, const struct mime_part *part,
		   const char *msg, bool ext, const struct fields *f)
{
	mime_imap_nstr(o, part->type);
	mime_str_addc(o, ' ');
	mime_imap_nstr(o, part->subtype);
	mime_str_addc(o, ' ');
	type_params(o, part, f);
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, f->v[B_ID], f->len[B_ID]);
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, f->v[B_DESC], f->len[B_DESC]);
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
		extension(o, f);
	}
}

static void body(struct mime_str *o, const struct mime_part *part,
		 const char *msg, bool ext)
{
	struct fields f;

	mime_part_headers(part, msg, body_fields, B_FIELDS, f.v, f.len);
	mime_str_addc(o, '(');
	if (strcmp(part->type, "multipart") == 0 && part->children != NULL)
		multipart(o, part, msg, ext, &f);
	else
		single(o, part, msg, ext, &f);
	mime_str_addc(o, ')');
	mime_headers_free(f.v, B_FIELDS);
}

char *mime_bodystructure(const struct mime_part *part, const char *msg,
			 bool extended)
{
	struct mime_str o = {0};

	body(&o, part, msg, extended);
	return mime_str_take(&o);
}
