/*
 * Content-Type and Content-Disposition values: "type/subtype" and the
 * parameter list of RFC 2045 5.1, with the continuations and charset'lang'
 * values of RFC 2231.
 */
#include "mail/mime_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

/* A parameter as written, before RFC 2231 sections are joined. */
struct raw_param {
	char *name;  /* lower-case, with its '*' marks */
	char *value; /* unquoted */
	size_t base_len;
	long section; /* -1: not a continuation */
	bool extended;
	bool used;
};

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);

	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

static size_t token_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && mime_is_token((unsigned char)*q))
		q++;
	return (size_t)(q - p);
}

/* Skip to the next ';' outside a quoted string, or to end. */
static void skip_junk(const char **pp, const char *end)
{
	const char *p = *pp;
	bool quoted = false;

	for (; p < end && (quoted || *p != ';'); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\\' && quoted && p + 1 < end)
			p++;
	}
	*pp = p;
}

static char *read_value(const char **pp, const char *end)
{
	const char *p = *pp, *start;
	struct mime_str v = {0};

	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (*p != '\r' && *p != '\n')
				mime_str_addc(&v, *p);
		}
		if (p < end)
			p++;
		*pp = p;
		return mime_str_take(&v);
	}
	/* A token, read leniently: values such as "----=_Part_1" are often
	 * left unquoted although '=' is a tspecial. */
	start = p;
	while (p < end && (unsigned char)*p > ' ' && *p != ';' && *p != '"' &&
	       *p != '(' && *p != 0x7f)
		p++;
	*pp = p;
	return xstrndup(start, (size_t)(p - start));
}

/* RFC 2231 3: "name*N" or "name*N*"; 4: "name*". */
static void classify(struct raw_param *r)
{
	size_t n = strlen(r->name);
	char *star = strchr(r->name, '*');

	r->base_len = n;
	r->section = -1;
	r->extended = false;
	if (star == NULL)
		return;
	r->base_len = (size_t)(star - r->name);
	if (star[1] == '\0') {
		r->extended = true;
		return;
	}
	if (!isdigit((unsigned char)star[1]) ||
	    (star[1] == '0' && isdigit((unsigned char)star[2]))) {
		r->base_len = n; /* not RFC 2231: keep the name as it is */
		return;
	}
	r->section = 0;
	for (star++; isdigit((unsigned char)*star); star++) {
		r->section = r->section * 10 + (*star - '0');
		if (r->section >= MIME_PARAM_SECTIONS_MAX)
			break;
	}
	if (r->section >= MIME_PARAM_SECTIONS_MAX ||
	    (*star != '\0' && strcmp(star, "*") != 0)) {
		r->base_len = n;
		r->section = -1;
		return;
	}
	r->extended = *star == '*';
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 2231 7 attribute-char: kept as is in an ext-value. */
static bool attr_char(unsigned char c)
{
	return mime_is_token(c) && c != '*' && c != '\'' && c != '%';
}

static void add_pct_encoded(struct mime_str *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (attr_char(c)) {
			mime_str_addc(o, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			mime_str_add(o, e, 3);
		}
	}
}

static void add_pct_decoded(struct mime_str *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%' && hexval((unsigned char)s[1]) >= 0 &&
		    hexval((unsigned char)s[2]) >= 0) {
			mime_str_addc(o,
				      (char)(hexval((unsigned char)s[1]) * 16 +
					     hexval((unsigned char)s[2])));
			s += 2;
		} else {
			mime_str_addc(o, *s);
		}
	}
}

static void add_param(struct mime_ctype *ct, char *name, char *value)
{
	ct->params =
		xrealloc(ct->params, (ct->n_params + 1) * sizeof(*ct->params));
	ct->params[ct->n_params].name = name;
	ct->params[ct->n_params].value = value;
	ct->n_params++;
}

/* Join the sections of the continued parameter whose first one is r[i]. */
static void join_sections(struct mime_ctype *ct, struct raw_param *r, size_t n,
			  size_t i)
{
	struct mime_str v = {0};
	const char *base = r[i].name;
	size_t blen = r[i].base_len;
	bool ext = false;

	for (long sec = 0; sec < MIME_PARAM_SECTIONS_MAX; sec++) {
		size_t j;

		for (j = 0; j < n; j++) {
			if (!r[j].used && r[j].section == sec &&
			    r[j].base_len == blen &&
			    memcmp(r[j].name, base, blen) == 0)
				break;
		}
		if (j == n)
			break; /* RFC 2231 3: sections are consecutive */
		r[j].used = true;
		if (sec == 0)
			ext = r[j].extended;
		if (ext && !r[j].extended)
			add_pct_encoded(&v, r[j].value);
		else if (!ext && r[j].extended)
			add_pct_decoded(&v, r[j].value);
		else
			mime_str_adds(&v, r[j].value);
	}
	add_param(ct, xasprintf("%.*s%s", (int)blen, base, ext ? "*" : ""),
		  mime_str_take(&v));
}

static void merge(struct mime_ctype *ct, struct raw_param *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		classify(&r[i]);
	for (size_t i = 0; i < n; i++) {
		if (r[i].used)
			continue;
		if (r[i].section < 0) {
			r[i].used = true;
			add_param(ct, r[i].name, r[i].value);
			r[i].name = r[i].value = NULL;
		} else if (r[i].section == 0) {
			join_sections(ct, r, n, i);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].value);
	}
}

static void parse_params(const char *p, const char *end, struct mime_ctype *ct)
{
	struct raw_param raw[MIME_PARAMS_MAX];
	size_t n = 0;

	while (n < MIME_PARAMS_MAX) {
		size_t tl;

		mime_skip_cfws(&p, end, NULL);
		if (p >= end)
			break;
		if (*p != ';') {
			skip_junk(&p, end);
			continue;
		}
		p++;
		mime_skip_cfws(&p, end, NULL);
		tl = token_len(p, end);
		if (tl == 0) {
			skip_junk(&p, end);
			continue;
		}
		memset(&raw[n], 0, sizeof(raw[n]));
		raw[n].name = lower_dup(p, tl);
		p += tl;
		mime_skip_cfws(&p, end, NULL);
		if (p >= end || *p != '=') {
			free(raw[n].name);
			skip_junk(&p, end);
			continue;
		}
		p++;
		mime_skip_cfws(&p, end, NULL);
		raw[n++].value = read_value(&p, end);
	}
	merge(ct, raw, n);
}

void mime_ctype_parse(const char *v, size_t len, bool with_subtype,
		      struct mime_ctype *ct)
{
	const char *p = v, *end = v + len;
	size_t tl, sl = 0;
	const char *sub = NULL;

	memset(ct, 0, sizeof(*ct));
	mime_skip_cfws(&p, end, NULL);
	tl = token_len(p, end);
	if (tl == 0)
		return;
	ct->type = lower_dup(p, tl);
	p += tl;
	if (with_subtype) {
		mime_skip_cfws(&p, end, NULL);
		if (p < end && *p == '/') {
			p++;
			mime_skip_cfws(&p, end, NULL);
			sub = p;
			sl = token_len(p, end);
			p += sl;
		}
		if (sl == 0) {
			xfree(&ct->type);
			return;
		}
		ct->subtype = lower_dup(sub, sl);
	}
	parse_params(p, end, ct);
}

void mime_ctype_fini(struct mime_ctype *ct)
{
	for (size_t i = 0; i < ct->n_params; i++) {
		free(ct->params[i].name);
		free(ct->params[i].value);
	}
	free(ct->params);
	free(ct->type);
	free(ct->subtype);
	memset(ct, 0, sizeof(*ct));
}

const char *mime_ctype_param(const struct mime_ctype *ct, const char *name)
{
	for (size_t i = 0; i < ct->n_params; i++) {
		if (strcmp(ct->params[i].name, name) == 0)
			return ct->params[i].value;
	}
	return NULL;
}
