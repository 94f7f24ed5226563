/*
 * RFC 5322 3.4 address lists as RFC 3501 7.4.2 address structures:
 * (name adl mailbox host), groups as a start marker (NIL NIL "name" NIL)
 * and an end marker (NIL NIL NIL NIL).
 *
 * Lenient by design: mail in the wild breaks every rule, and an envelope
 * must still be shown. What cannot be read is skipped up to the next
 * comma; a missing part is shown as Dovecot does ("MISSING_DOMAIN"), so
 * clients see the same thing from either server.
 */
#include <stdlib.h>
#include <string.h>

#include "mail/mime_internal.h"

#define MISSING_DOMAIN "MISSING_DOMAIN"
#define MISSING_MAILBOX "MISSING_MAILBOX"

struct ap {
	const char *p, *end;
	struct mime_str comment; /* last comment seen, for a name */
	size_t count;
	bool in_group;
};

struct addr {
	struct mime_str name, adl, local, domain;
};

static void skip(struct ap *a)
{
	mime_skip_cfws(&a->p, a->end, &a->comment);
}

/* RFC 5322 3.2.3 atext, plus 8-bit for RFC 6532 UTF-8. */
static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80 ||
	       (c > ' ' && c < 0x7f && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* An atom (dot allowed when dots) or a quoted-string, unquoted into out. */
static bool word(struct ap *a, struct mime_str *out, bool dots)
{
	const char *p;

	skip(a);
	p = a->p;
	if (p < a->end && *p == '"') {
		for (p++; p < a->end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < a->end)
				p++;
			if (*p != '\r' && *p != '\n')
				mime_str_addc(out, *p);
		}
		a->p = p < a->end ? p + 1 : p;
		if (out->s == NULL)
			mime_str_add(out, "", 0); /* "" is a word */
		return true;
	}
	while (p < a->end && (atext((unsigned char)*p) || (dots && *p == '.')))
		p++;
	if (p == a->p)
		return false;
	mime_str_add(out, a->p, (size_t)(p - a->p));
	a->p = p;
	return true;
}

/* RFC 5322 3.2.5 phrase (obs-phrase: dots too), words joined by a space. */
static void phrase(struct ap *a, struct mime_str *out)
{
	for (;;) {
		const char *save = a->p;
		size_t len = out->len;

		if (len > 0)
			mime_str_addc(out, ' ');
		if (!word(a, out, true)) {
			a->p = save;
			out->len = len;
			if (out->s != NULL)
				out->s[len] = '\0';
			return;
		}
	}
}

/* dot-atom or obs-local-part: words separated by dots. Leading and
 * doubled dots are kept: such addresses exist ("a..b@", ".a@"). */
static void dotted(struct ap *a, struct mime_str *out)
{
	bool need_dot = false;

	for (;;) {
		skip(a);
		if (a->p < a->end && *a->p == '.') {
			mime_str_addc(out, '.');
			a->p++;
			need_dot = false;
			continue;
		}
		if (need_dot || !word(a, out, false))
			return;
		need_dot = true;
	}
}

/* RFC 5322 3.4.1 domain: dot-atom or domain-literal. */
static void domain(struct ap *a, struct mime_str *out)
{
	skip(a);
	if (a->p < a->end && *a->p == '[') {
		const char *q = a->p;

		while (q < a->end && *q != ']')
			q++;
		if (q < a->end)
			q++;
		for (const char *c = a->p; c < q; c++) {
			if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
				mime_str_addc(out, *c);
		}
		a->p = q;
		return;
	}
	dotted(a, out);
}

static void addr_spec(struct ap *a, struct addr *ad)
{
	dotted(a, &ad->local);
	skip(a);
	if (a->p < a->end && *a->p == '@') {
		a->p++;
		domain(a, &ad->domain);
	}
}

/* RFC 5322 4.4 obs-route: "@a,@b:" kept as "@a,@b". */
static void route(struct ap *a, struct addr *ad)
{
	for (;;) {
		skip(a);
		while (a->p < a->end && *a->p == ',') {
			a->p++;
			skip(a);
		}
		if (a->p >= a->end || *a->p != '@')
			break;
		a->p++;
		if (ad->adl.len > 0)
			mime_str_addc(&ad->adl, ',');
		mime_str_addc(&ad->adl, '@');
		domain(a, &ad->adl);
	}
	if (a->p < a->end && *a->p == ':')
		a->p++;
}

static void emit(struct ap *a, struct mime_str *o, struct addr *ad)
{
	mime_str_addc(o, '(');
	mime_imap_nstring(o, ad->name.len > 0 ? ad->name.s : NULL,
			  ad->name.len);
	mime_str_addc(o, ' ');
	mime_imap_nstring(o, ad->adl.len > 0 ? ad->adl.s : NULL, ad->adl.len);
	mime_str_addc(o, ' ');
	if (ad->local.len > 0)
		mime_imap_nstring(o, ad->local.s, ad->local.len);
	else
		mime_imap_nstr(o, MISSING_MAILBOX);
	mime_str_addc(o, ' ');
	if (ad->domain.len > 0)
		mime_imap_nstring(o, ad->domain.s, ad->domain.len);
	else
		mime_imap_nstr(o, MISSING_DOMAIN);
	mime_str_addc(o, ')');
	a->count++;
}

static void addr_free(struct addr *ad)
{
	free(ad->name.s);
	free(ad->adl.s);
	free(ad->local.s);
	free(ad->domain.s);
	memset(ad, 0, sizeof(*ad));
}

/* Skip what cannot be read, up to the next ',' (or ';' in a group). */
static void resync(struct ap *a)
{
	while (a->p < a->end && *a->p != ',' &&
	       !(a->in_group && *a->p == ';')) {
		const char *before = a->p;

		skip(a);
		if (a->p >= a->end || *a->p == ',' ||
		    (a->in_group && *a->p == ';'))
			break;
		if (*a->p == '"') {
			struct mime_str junk = {0};

			word(a, &junk, false);
			free(junk.s);
		}
		if (a->p == before)
			a->p++;
	}
}

static void group(struct ap *a, struct mime_str *o, struct addr *ad);

/* One mailbox or group at a->p; emits it when it can be read. */
static void address(struct ap *a, struct mime_str *o, bool allow_group)
{
	struct addr ad = {0};
	const char *start = a->p;

	a->comment.len = 0;
	phrase(a, &ad.name);
	skip(a);
	if (a->p < a->end && *a->p == ':' && allow_group && ad.name.len > 0) {
		a->p++;
		group(a, o, &ad);
	} else if (a->p < a->end && *a->p == '<') {
		a->p++;
		route(a, &ad);
		addr_spec(a, &ad);
		skip(a);
		if (a->p < a->end && *a->p == '>')
			a->p++;
		emit(a, o, &ad);
	} else if (ad.name.len > 0 && memchr(ad.name.s, ' ', ad.name.len) &&
		   (a->p >= a->end || *a->p == ',' ||
		    (a->in_group && *a->p == ';'))) {
		/* Words and no address: a name whose address is missing
		 * (Dovecot shows the same). */
		emit(a, o, &ad);
	} else {
		ad.name.len = 0;
		a->p = start;
		a->comment.len = 0;
		addr_spec(a, &ad);
		skip(a);
		if (a->comment.len > 0) /* "user@host (Real Name)" */
			mime_str_add(&ad.name, a->comment.s, a->comment.len);
		if (ad.local.len > 0 || ad.domain.len > 0)
			emit(a, o, &ad);
	}
	addr_free(&ad);
	resync(a);
}

static void group(struct ap *a, struct mime_str *o, struct addr *ad)
{
	mime_str_adds(o, "(NIL NIL ");
	mime_imap_nstring(o, ad->name.s, ad->name.len);
	mime_str_adds(o, " NIL)");
	a->in_group = true;
	for (;;) {
		skip(a);
		if (a->p >= a->end)
			break;
		if (*a->p == ';') {
			a->p++;
			break;
		}
		if (*a->p == ',') {
			a->p++;
			continue;
		}
		address(a, o, false);
	}
	a->in_group = false;
	mime_str_adds(o, "(NIL NIL NIL NIL)");
	a->count += 2;
}

size_t mime_imap_addresses(struct mime_str *o, const char *v, size_t len)
{
	struct ap a = {.p = v, .end = v + len};

	while (a.p < a.end) {
		const char *before = a.p;

		skip(&a);
		if (a.p >= a.end)
			break;
		if (*a.p == ',' || *a.p == ';') {
			a.p++;
			continue;
		}
		address(&a, o, true);
		if (a.p == before)
			a.p++;
	}
	free(a.comment.s);
	return a.count;
}
