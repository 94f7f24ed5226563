/*
 * IMAP parser values (parse.h): sequence sets, flag lists, dates and LIST
 * patterns, over the cursor primitives of parse.c (parse_int.h).
 *
 * SECURITY: as parse.c: every read is bounded by the cursor's end, a set
 * holds at most IMAP_SEQSET_RANGES_MAX ranges, a pattern at most
 * IMAP_PATTERN_MAX octets.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/parse.h"
#include "imap/parse_int.h"
#include "store/store.h"

/* Longest keyword (RFC 3501 flag-keyword atom), as the store keeps it. */
#define IMAP_KEYWORD_MAX STORE_KEYWORD_LEN_MAX

/* ---- Sequence sets ---- */

/* seq-number at s[*i]: nz-number or "*". */
static int seq_number(const char *s, size_t len, size_t *i, uint32_t *n_r)
{
	uint64_t n = 0;
	size_t start = *i;

	if (*i < len && s[*i] == '*') {
		(*i)++;
		*n_r = IMAP_SEQ_STAR;
		return 0;
	}
	if (*i >= len || s[*i] < '1' || s[*i] > '9')
		return -1;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		n = n * 10 + (uint64_t)(s[*i] - '0');
		if (n > UINT32_MAX || *i - start >= 10)
			return -1;
		(*i)++;
	}
	*n_r = (uint32_t)n;
	return 0;
}

int imap_seqset_parse(struct imap_args *a, const char *s, size_t len,
		      struct imap_seqset *set_r)
{
	size_t count = 1, i = 0, k = 0;

	for (size_t j = 0; j < len; j++)
		count += s[j] == ',';
	if (len == 0)
		return imap_args_fail(a, "Expected a sequence set");
	if (count > IMAP_SEQSET_RANGES_MAX)
		return imap_args_fail(a, "Too many ranges in sequence set");
	set_r->ranges = imap_arena_alloc(a, count * sizeof(*set_r->ranges));
	for (;;) {
		struct imap_seq_range *r = &set_r->ranges[k++];

		if (seq_number(s, len, &i, &r->lo) < 0)
			return imap_args_fail(a, "Bad sequence set");
		r->hi = r->lo;
		if (i < len && s[i] == ':') {
			i++;
			if (seq_number(s, len, &i, &r->hi) < 0)
				return imap_args_fail(a, "Bad sequence set");
		}
		if (i == len)
			break;
		if (s[i] != ',')
			return imap_args_fail(a, "Bad sequence set");
		i++;
	}
	set_r->n = k;
	set_r->saved = false;
	return 0;
}

static bool is_seqset_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == ':' || c == ',' || c == '*';
}

int imap_args_seqset(struct imap_args *a, struct imap_seqset *set_r)
{
	const char *q = imap_args_start(a);
	size_t n;

	if (q == NULL)
		return -1;
	/* RFC 9051 9: seq-last-command, "$" alone */
	if (q < a->end && *q == '$' &&
	    (q + 1 == a->end || !imap_is_atom_char((unsigned char)q[1]))) {
		*set_r = (struct imap_seqset){.saved = true};
		imap_args_done(a, q + 1);
		return 0;
	}
	n = imap_span(q, a->end, is_seqset_char, NULL);
	/* A sequence set is a whole word: "1:3x" is not one. */
	if (n == 0 ||
	    (q + n < a->end && imap_is_atom_char((unsigned char)q[n])))
		return imap_args_fail(a, "Bad sequence set");
	if (imap_seqset_parse(a, q, n, set_r) < 0)
		return -1;
	imap_args_done(a, q + n);
	return 0;
}

static int range_cmp(const void *x, const void *y)
{
	const struct imap_seq_range *a = x, *b = y;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t star)
{
	size_t k = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct imap_seq_range r = set->ranges[i];

		if (r.lo == IMAP_SEQ_STAR)
			r.lo = star;
		if (r.hi == IMAP_SEQ_STAR)
			r.hi = star;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;

			r.lo = r.hi;
			r.hi = t;
		}
		if (r.hi == 0)
			continue; /* "*" of an empty mailbox names nothing */
		if (r.lo == 0)
			r.lo = 1;
		set->ranges[k++] = r;
	}
	set->n = k;
	if (k == 0)
		return;
	qsort(set->ranges, k, sizeof(*set->ranges), range_cmp);
	k = 0;
	for (size_t i = 1; i < set->n; i++) {
		struct imap_seq_range *m = &set->ranges[k];

		if (set->ranges[i].lo <= m->hi ||
		    set->ranges[i].lo - 1 == m->hi) {
			if (set->ranges[i].hi > m->hi)
				m->hi = set->ranges[i].hi;
		} else {
			set->ranges[++k] = set->ranges[i];
		}
	}
	set->n = k + 1;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n,
			  uint32_t star)
{
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->ranges[i].lo, hi = set->ranges[i].hi;

		if (lo == IMAP_SEQ_STAR)
			lo = star;
		if (hi == IMAP_SEQ_STAR)
			hi = star;
		if ((n >= lo && n <= hi) || (n >= hi && n <= lo))
			return true;
	}
	return false;
}

/* ---- Flags ---- */

static const struct {
	const char *name;
	unsigned bit;
} system_flags[] = {
	{"Seen", STORE_F_SEEN},	      {"Answered", STORE_F_ANSWERED},
	{"Flagged", STORE_F_FLAGGED}, {"Deleted", STORE_F_DELETED},
	{"Draft", STORE_F_DRAFT},
};

/* One flag at q (after its SP): a system flag bit or a keyword. */
static int read_flag(struct imap_args *a, const char *q, unsigned *flags,
		     char *kw, size_t *kw_len)
{
	bool sys = *q == '\\';
	const char *w = sys ? q + 1 : q;
	size_t n = imap_span(w, a->end, imap_is_atom_char, NULL);

	if (n == 0)
		return imap_args_fail(a, "Expected a flag");
	if (sys) {
		for (size_t i = 0;
		     i < sizeof(system_flags) / sizeof(*system_flags); i++) {
			if (strlen(system_flags[i].name) == n &&
			    strncasecmp(w, system_flags[i].name, n) == 0) {
				*flags |= system_flags[i].bit;
				imap_args_done(a, w + n);
				return 0;
			}
		}
		if (n == 6 && strncasecmp(w, "Recent", 6) == 0)
			return imap_args_fail(a, "\\Recent cannot be set");
		return imap_args_fail(a, "Unknown system flag");
	}
	if (n > IMAP_KEYWORD_MAX)
		return imap_args_fail(a, "Keyword too long");
	if (*kw_len > 0)
		kw[(*kw_len)++] = ' ';
	memcpy(kw + *kw_len, w, n);
	*kw_len += n;
	kw[*kw_len] = '\0';
	imap_args_done(a, w + n);
	return 0;
}

int imap_args_flags(struct imap_args *a, bool parens_optional,
		    unsigned *flags_r, const char **keywords_r)
{
	const char *p0 = a->p;
	bool sp0 = a->need_sp, parens = imap_args_is_list(a);
	unsigned depth0 = a->depth, flags = 0;
	/* Keywords are no longer than the rest of the command. */
	char *kw = imap_arena_alloc(a, (size_t)(a->end - a->p) + 1);
	size_t kw_len = 0;
	const char *q;

	kw[0] = '\0';
	if (!parens && !parens_optional)
		return imap_args_fail(a, "Expected a flag list");
	if (parens && imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		q = imap_args_start(a);
		if (q == NULL || read_flag(a, q, &flags, kw, &kw_len) < 0)
			goto bad;
	}
	if (parens && imap_args_list_close(a) < 0)
		goto bad;
	if (!parens && kw_len == 0 && flags == 0) {
		imap_args_fail(a, "Expected a flag");
		goto bad;
	}
	*flags_r = flags;
	*keywords_r = kw_len > 0 ? kw : NULL;
	return 0;
bad:
	a->p = p0;
	a->need_sp = sp0;
	a->depth = depth0;
	return -1;
}

/* ---- Dates ---- */

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* n digits at *p (advanced), or -1. */
static int digits(const char **p, const char *end, size_t n)
{
	int v = 0;

	if ((size_t)(end - *p) < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

static int days_in_month(int year, int mon)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30,
				  31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : d[mon];
}

/*
 * date-text at *p: day "-" month "-" year; day is 1 or 2 digits, or with
 * fixed, SP DIGIT or 2DIGIT (date-day-fixed). Fills tm's day fields.
 */
static int date_text(const char **p, const char *end, bool fixed, struct tm *tm)
{
	const char *q = *p;
	int day, year, mon = -1;

	if (fixed && q < end && *q == ' ')
		q++;
	if (end - q >= 2 && q[1] >= '0' && q[1] <= '9')
		day = digits(&q, end, 2);
	else
		day = digits(&q, end, 1);
	if (day < 1 || end - q < 5 || *q != '-')
		return -1;
	q++;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(q, months[m], 3) == 0)
			mon = m;
	if (mon < 0 || q[3] != '-')
		return -1;
	q += 4;
	year = digits(&q, end, 4);
	if (year < 1900 || day > days_in_month(year, mon))
		return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_mday = day;
	tm->tm_mon = mon;
	tm->tm_year = year - 1900;
	*p = q;
	return 0;
}

int imap_args_date(struct imap_args *a, time_t *t_r)
{
	const char *q = imap_args_start(a);
	bool quoted;
	struct tm tm;

	if (q == NULL)
		return -1;
	quoted = *q == '"';
	if (quoted)
		q++;
	if (date_text(&q, a->end, false, &tm) < 0 ||
	    (quoted && (q >= a->end || *q++ != '"')))
		return imap_args_fail(a, "Bad date");
	if (q < a->end && imap_is_astring_char((unsigned char)*q))
		return imap_args_fail(a, "Bad date");
	*t_r = timegm(&tm);
	imap_args_done(a, q);
	return 0;
}

/* time SP zone at *p: "02:44:25 -0700"; *off_r in seconds east of UTC. */
static int time_zone(const char **p, const char *end, struct tm *tm,
		     long *off_r)
{
	const char *q = *p;
	int h, m, s, z, sign;

	h = digits(&q, end, 2);
	if (h < 0 || q >= end || *q++ != ':')
		return -1;
	m = digits(&q, end, 2);
	if (m < 0 || q >= end || *q++ != ':')
		return -1;
	s = digits(&q, end, 2);
	if (s < 0 || h > 23 || m > 59 || s > 60 || q >= end || *q++ != ' ')
		return -1;
	if (q >= end || (*q != '+' && *q != '-'))
		return -1;
	sign = *q++ == '-' ? -1 : 1;
	z = digits(&q, end, 4);
	if (z < 0 || z % 100 > 59 || z / 100 > 23)
		return -1;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = s;
	*off_r = sign * ((z / 100) * 3600L + (z % 100) * 60L);
	*p = q;
	return 0;
}

int imap_args_datetime(struct imap_args *a, time_t *t_r)
{
	const char *q = imap_args_start(a);
	struct tm tm;
	long off;

	if (q == NULL)
		return -1;
	if (*q++ != '"' || date_text(&q, a->end, true, &tm) < 0 ||
	    q >= a->end || *q++ != ' ' ||
	    time_zone(&q, a->end, &tm, &off) < 0 || q >= a->end || *q++ != '"')
		return imap_args_fail(a, "Bad date-time");
	*t_r = timegm(&tm) - off;
	imap_args_done(a, q);
	return 0;
}

/* ---- LIST patterns ---- */

/*
 * A set-of-states walk over the pattern: O(name x pattern), both bounded,
 * so no arrangement of wildcards makes it exponential.
 */
bool imap_list_match(const char *pat, const char *name)
{
	size_t m = strlen(pat), n = strlen(name);
	bool cur[IMAP_PATTERN_MAX + 2], next[IMAP_PATTERN_MAX + 2];
	/* RFC 3501 5.1: INBOX (and its hierarchy) in any case. */
	bool inbox = strncmp(name, "INBOX", 5) == 0 &&
		     (name[5] == '\0' || name[5] == '/');

	if (m > IMAP_PATTERN_MAX)
		return false;
	memset(cur, 0, sizeof(cur));
	cur[0] = true;
	for (size_t i = 0; i <= n; i++) {
		/* Wildcards may match nothing: close over them. */
		for (size_t p = 0; p < m; p++)
			if (cur[p] && (pat[p] == '*' || pat[p] == '%'))
				cur[p + 1] = true;
		if (i == n)
			break;
		memset(next, 0, sizeof(next));
		for (size_t p = 0; p < m; p++) {
			char c = name[i], pc = pat[p];

			if (!cur[p])
				continue;
			if (pc == '*' || (pc == '%' && c != '/'))
				next[p] = true;
			else if (pc == c || (inbox && i < 5 &&
					     (pc & ~0x20) == (c & ~0x20)))
				next[p + 1] = true;
		}
		memcpy(cur, next, sizeof(cur));
	}
	return cur[m];
}
