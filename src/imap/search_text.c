/*
 * Text helpers of the SEARCH evaluator (search.c): growable strings,
 * case folding, header fields, sent dates. Pure; see search.h for the
 * matching rules they implement.
 *
 * SECURITY: everything here reads message content, which is hostile:
 * each loop is bounded by its input and every output grows with what it
 * is given (at most a header block or a decoded body).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/search.h"
#include "imap/search_text.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "mail/mime.h"

/* ---- Growable strings ---- */

void search_sstr_add(struct sstr *s, const void *d, size_t n)
{
	if (s->cap - s->len < n + 1) {
		size_t cap = s->cap ? s->cap : 256;

		while (cap - s->len < n + 1)
			cap *= 2;
		s->p = xrealloc(s->p, cap);
		s->cap = cap;
	}
	memcpy(s->p + s->len, d, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void search_sstr_fini(struct sstr *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

/* ---- Case folding ---- */

/* Simple one-to-one lower-casing of the scripts mail is mostly in. */
static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c + 1 : c;
	if (c == 0x178)
		return 0xff;
	if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
		return c + 32;
	if (c == 0x3c2) /* final sigma */
		return 0x3c3;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

static size_t utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	o[0] = (char)(0xe0 | (c >> 12));
	o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[2] = (char)(0x80 | (c & 0x3f));
	return 3;
}

/* Append s folded; octets that are not UTF-8 are copied as they are. */
void search_fold_append(struct sstr *o, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t run = i, n;
		uint32_t c;
		char enc[4];

		while (run < len && u[run] < 0x80 &&
		       !(u[run] >= 'A' && u[run] <= 'Z'))
			run++;
		if (run > i) {
			search_sstr_add(o, s + i, run - i);
			i = run;
			continue;
		}
		if (u[i] < 0x80) {
			enc[0] = (char)(u[i] + 32);
			search_sstr_add(o, enc, 1);
			i++;
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (n == 0 || n == 4) {
			n = n == 0 ? 1 : n;
			search_sstr_add(o, s + i, n);
			i += n;
			continue;
		}
		c = n == 2 ? (uint32_t)(u[i] & 0x1f) << 6 | (u[i + 1] & 0x3f)
			   : (uint32_t)(u[i] & 0x0f) << 12 |
				     (uint32_t)(u[i + 1] & 0x3f) << 6 |
				     (u[i + 2] & 0x3f);
		search_sstr_add(o, enc, utf8_put(enc, fold_cp(c)));
		i += n;
	}
}

bool search_folded_has(const char *hay, size_t hay_len, const char *needle,
		       size_t needle_len)
{
	if (needle_len == 0)
		return true;
	return hay != NULL && memmem(hay, hay_len, needle, needle_len) != NULL;
}

bool search_text_contains(const char *hay, size_t hay_len, const char *needle)
{
	struct sstr h = {0}, n = {0};
	bool r;

	search_fold_append(&h, hay, hay_len);
	search_fold_append(&n, needle, strlen(needle));
	r = search_folded_has(h.p, h.len, n.p, n.len);
	search_sstr_fini(&h);
	search_sstr_fini(&n);
	return r;
}

/* ---- Dates ---- */

static const char month_names[12][4] = {"jan", "feb", "mar", "apr",
					"may", "jun", "jul", "aug",
					"sep", "oct", "nov", "dec"};

static const char *skip_wsp(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Up to max digits at *p (advanced); -1 when none. */
static int read_digits(const char **p, int max, int *ndigits)
{
	int v = 0, n = 0;

	while (n < max && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*ndigits = n;
	return n > 0 ? v : -1;
}

/* RFC 5322 3.3 and 4.3 (obsolete years); only the date part matters. */
int search_parse_sent_day(const char *value, time_t *day_r)
{
	const char *p = skip_wsp(value);
	struct tm tm;
	int day, year, mon = -1, nd;

	/* [day-of-week ","] */
	if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			p++;
		p = skip_wsp(p);
		if (*p != ',')
			return -1;
		p = skip_wsp(p + 1);
	}
	day = read_digits(&p, 2, &nd);
	if (day < 1 || day > 31)
		return -1;
	p = skip_wsp(p);
	for (int m = 0; m < 12; m++)
		if (strncasecmp(p, month_names[m], 3) == 0)
			mon = m;
	if (mon < 0)
		return -1;
	p = skip_wsp(p + 3);
	year = read_digits(&p, 4, &nd);
	if (year < 0 || (*p >= '0' && *p <= '9'))
		return -1;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	else if (nd != 4)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = mon;
	tm.tm_year = year - 1900;
	*day_r = timegm(&tm);
	return 0;
}

void search_add_decoded(struct sstr *out, const char *v, size_t len)
{
	struct sstr u = {0};
	size_t i = 0;
	char *d;

	/* RFC 5322 2.2.3: unfolding drops the line ends, in runs. */
	while (i < len) {
		size_t run = i;

		while (run < len && v[run] != '\r' && v[run] != '\n')
			run++;
		search_sstr_add(&u, v + i, run - i);
		i = run + (run < len);
	}
	search_sstr_add(&u, "", 0); /* u.p is a string even when empty */
	v = u.p;
	len = u.len;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	d = mime_decode_words(v, len);
	search_fold_append(out, d, strlen(d));
	free(d);
	search_sstr_fini(&u);
}

/* Every field as "name: value\n", decoded and folded (TEXT). */
void search_header_text(struct sstr *out, const char *h, size_t len)
{
	struct mime_field f;
	size_t pos = 0;

	while (mime_field_next(h, len, &pos, &f)) {
		if (f.name_len == 0)
			continue;
		search_fold_append(out, f.name, f.name_len);
		search_sstr_add(out, ": ", 2);
		search_add_decoded(out, f.value, f.value_len);
		search_sstr_add(out, "\n", 1);
	}
}
