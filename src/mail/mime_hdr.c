/*
 * Header fields of a MIME part: walking the fields, unfolding a value,
 * and the shared output string. mime_header_get() lives here.
 */
#include "mail/mime_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"

void mime_str_add(struct mime_str *o, const void *p, size_t n)
{
	if (o->s == NULL || o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 64;

		while (cap < o->len + n + 1)
			cap *= 2;
		o->s = xrealloc(o->s, cap);
		o->cap = cap;
	}
	if (n > 0)
		memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
}

void mime_str_addc(struct mime_str *o, char c)
{
	mime_str_add(o, &c, 1);
}

void mime_str_adds(struct mime_str *o, const char *s)
{
	mime_str_add(o, s, strlen(s));
}

char *mime_str_take(struct mime_str *o)
{
	char *s = o->s != NULL ? o->s : xstrdup("");

	o->s = NULL;
	o->len = o->cap = 0;
	return s;
}

void mime_fields_init(struct mime_fields *it, const char *hdr, size_t len)
{
	it->hdr = hdr;
	it->len = len;
	it->pos = 0;
	it->count = 0;
}

/* Index just past the line starting at i (its LF), or len. */
static size_t field_line_end(const char *s, size_t len, size_t i)
{
	const char *lf = memchr(s + i, '\n', len - i);

	return lf != NULL ? (size_t)(lf - s) + 1 : len;
}

bool mime_field_next(const char *hdr, size_t len, size_t *pos,
		     struct mime_field *f)
{
	size_t start = *pos, first, end, nlen = 0;
	const char *colon;

	if (start >= len || hdr[start] == '\n' ||
	    (hdr[start] == '\r' &&
	     (start + 1 == len || hdr[start + 1] == '\n')))
		return false;
	first = end = field_line_end(hdr, len, start);
	while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'))
		end = field_line_end(hdr, len, end);
	colon = memchr(hdr + start, ':', first - start);
	if (colon != NULL) {
		nlen = (size_t)(colon - (hdr + start));
		while (nlen > 0 && (hdr[start + nlen - 1] == ' ' ||
				    hdr[start + nlen - 1] == '\t'))
			nlen--;
	}
	f->start = hdr + start;
	f->len = end - start;
	f->name = f->start;
	f->name_len = nlen;
	f->value = colon != NULL ? colon + 1 : hdr + end;
	f->value_len = (size_t)(hdr + end - f->value);
	*pos = end;
	return true;
}

bool mime_fields_next(struct mime_fields *it, const char **name_r,
		      size_t *name_len_r, const char **value_r,
		      size_t *value_len_r)
{
	struct mime_field f;

	while (it->count < MIME_HEADERS_MAX &&
	       mime_field_next(it->hdr, it->len, &it->pos, &f)) {
		size_t n = f.value_len;

		if (f.start[0] == ' ' || f.start[0] == '\t')
			continue; /* a continuation with no field before it */
		it->count++;
		if (f.name_len == 0)
			continue;
		if (n > 0 && f.value[n - 1] == '\n')
			n--;
		if (n > 0 && f.value[n - 1] == '\r')
			n--;
		*name_r = f.name;
		*name_len_r = f.name_len;
		*value_r = f.value;
		*value_len_r = n;
		return true;
	}
	return false;
}

char *mime_unfold(const char *v, size_t len, size_t *len_r)
{
	char *out;
	size_t n = 0, i = 0;

	if (len > MIME_HEADER_MAX)
		return NULL;
	out = xmalloc(len + 1);
	while (i < len &&
	       (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
		i++;
	for (; i < len; i++) {
		if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n')
			continue; /* the LF decides */
		if (v[i] == '\n' && i + 1 < len &&
		    (v[i + 1] == ' ' || v[i + 1] == '\t'))
			continue;
		if (v[i] == '\n') {
			/* A bare line end not followed by WSP cannot be in
			 * a field; keep a CR if one came before it. */
			if (i > 0 && v[i - 1] == '\r')
				out[n++] = '\r';
			out[n++] = '\n';
			continue;
		}
		if (v[i] != '\0')
			out[n++] = v[i];
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' ||
			 out[n - 1] == '\r' || out[n - 1] == '\n'))
		n--;
	out[n] = '\0';
	*len_r = n;
	return out;
}

char *mime_header_get(const char *hdr, size_t hdr_len, const char *name)
{
	struct mime_fields it;
	const char *fname, *value;
	size_t flen, vlen, nlen = strlen(name), outlen;

	mime_fields_init(&it, hdr, hdr_len);
	while (mime_fields_next(&it, &fname, &flen, &value, &vlen)) {
		if (flen == nlen && strncasecmp(fname, name, nlen) == 0)
			return mime_unfold(value, vlen, &outlen);
	}
	return NULL;
}

static bool name_listed(char *const *names, size_t n, const char *name,
			size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

size_t mime_header_fields(const char *hdr, size_t hdr_len, char *const *names,
			  size_t n_names, bool exclude, char *out,
			  size_t *out_len_r)
{
	struct mime_field f;
	size_t pos = 0, o = 0, count = 0;

	while (mime_field_next(hdr, hdr_len, &pos, &f)) {
		bool match = f.name_len > 0 &&
			     name_listed(names, n_names, f.name, f.name_len);

		if (match != exclude) {
			memcpy(out + o, f.start, f.len);
			o += f.len;
			count++;
		}
	}
	*out_len_r = o;
	return count;
}

char *mime_part_header(const struct mime_part *part, const char *msg,
		       const char *name, size_t *len_r)
{
	struct mime_fields it;
	const char *fname, *value;
	size_t flen, vlen, nlen = strlen(name);

	mime_fields_init(&it, msg + part->hdr_off, part->hdr_len);
	while (mime_fields_next(&it, &fname, &flen, &value, &vlen)) {
		if (flen == nlen && strncasecmp(fname, name, nlen) == 0)
			return mime_unfold(value, vlen, len_r);
	}
	return NULL;
}

void mime_part_headers(const struct mime_part *part, const char *msg,
		       const char *const *names, size_t n, char **values_r,
		       size_t *lens_r)
{
	struct mime_fields it;
	const char *fname, *value;
	size_t flen, vlen, left = n;
	unsigned long found = 0;

	assert(n <= sizeof(found) * 8);
	for (size_t i = 0; i < n; i++) {
		values_r[i] = NULL;
		lens_r[i] = 0;
	}
	mime_fields_init(&it, msg + part->hdr_off, part->hdr_len);
	while (left > 0 &&
	       mime_fields_next(&it, &fname, &flen, &value, &vlen)) {
		for (size_t i = 0; i < n; i++) {
			if (!(found & (1UL << i)) && strlen(names[i]) == flen &&
			    strncasecmp(fname, names[i], flen) == 0) {
				/* The first one counts, even when it is over
				 * MIME_HEADER_MAX and so absent. */
				values_r[i] =
					mime_unfold(value, vlen, &lens_r[i]);
				found |= 1UL << i;
				left--;
				break;
			}
		}
	}
}

void mime_headers_free(char **values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(&values[i]);
}

bool mime_is_token(unsigned char c)
{
	/* RFC 2045 5.1: any CHAR except SPACE, CTLs and tspecials. */
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

void mime_skip_cfws(const char **pp, const char *end, struct mime_str *comment)
{
	const char *p = *pp;

	for (;;) {
		int depth = 0;

		while (p < end &&
		       (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end || *p != '(')
			break;
		if (comment != NULL) {
			comment->len = 0;
			if (comment->s != NULL)
				comment->s[0] = '\0';
		}
		/* RFC 5322 3.2.2: comments nest; a quoted-pair escapes. */
		for (; p < end; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
			} else if (*p == '(') {
				if (depth++ == 0)
					continue;
			} else if (*p == ')') {
				if (--depth == 0) {
					p++;
					break;
				}
			}
			if (comment != NULL && *p != '\r' && *p != '\n')
				mime_str_addc(comment, *p);
		}
	}
	*pp = p;
}
