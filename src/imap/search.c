/*
 * IMAP SEARCH programs: parser and evaluator (search.h).
 *
 * SECURITY: the parser is bounded by SEARCH_DEPTH_MAX (its recursion and
 * the evaluator's) and SEARCH_KEYS_MAX (nodes); every string is a copy
 * sized by the input. Message content is untrusted too: it is read by
 * mail/mime.h, whose limits bound the work, and matched with memmem over
 * buffers sized by the message.
 */
#include "imap/search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "lib/utf8.h"
#include "mail/mime.h"
#include "store/store.h"

#define SECONDS_PER_DAY 86400

enum search_op {
	SK_ALL,
	SK_AND,
	SK_OR,
	SK_NOT,
	SK_SEQ,
	SK_UID,
	SK_FLAG,   /* flags bit set */
	SK_UNFLAG, /* flags bit clear */
	SK_KEYWORD,
	SK_UNKEYWORD,
	SK_NEW,
	SK_OLD,
	SK_RECENT,
	SK_LARGER,
	SK_SMALLER,
	SK_BEFORE,
	SK_ON,
	SK_SINCE,
	SK_SENTBEFORE,
	SK_SENTON,
	SK_SENTSINCE,
	SK_HEADER, /* field, text */
	SK_BODY,
	SK_TEXT,
	SK_MODSEQ,
};

struct search_key {
	enum search_op op;
	bool content; /* it (or a key under it) reads the message */
	struct search_key *child, *next; /* AND/OR/NOT operands; siblings */
	struct search_key *all;		 /* every key of the program */
	unsigned flags;
	uint64_t number;
	time_t date;
	char *field; /* HEADER field name */
	char *text;  /* needle, case-folded; or a keyword */
	size_t text_len;
	struct imap_seq_range *ranges; /* SK_SEQ, SK_UID */
	size_t n_ranges;
};

/* ---- Growable strings ---- */

struct sstr {
	char *p;
	size_t len, cap;
};

static void sstr_add(struct sstr *s, const void *d, size_t n)
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

static void sstr_fini(struct sstr *s)
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
static void fold_append(struct sstr *o, const char *s, size_t len)
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
			sstr_add(o, s + i, run - i);
			i = run;
			continue;
		}
		if (u[i] < 0x80) {
			enc[0] = (char)(u[i] + 32);
			sstr_add(o, enc, 1);
			i++;
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (n == 0 || n == 4) {
			n = n == 0 ? 1 : n;
			sstr_add(o, s + i, n);
			i += n;
			continue;
		}
		c = n == 2 ? (uint32_t)(u[i] & 0x1f) << 6 | (u[i + 1] & 0x3f)
			   : (uint32_t)(u[i] & 0x0f) << 12 |
				     (uint32_t)(u[i + 1] & 0x3f) << 6 |
				     (u[i + 2] & 0x3f);
		sstr_add(o, enc, utf8_put(enc, fold_cp(c)));
		i += n;
	}
}

static bool folded_has(const char *hay, size_t hay_len, const char *needle,
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

	fold_append(&h, hay, hay_len);
	fold_append(&n, needle, strlen(needle));
	r = folded_has(h.p, h.len, n.p, n.len);
	sstr_fini(&h);
	sstr_fini(&n);
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

static time_t day_of(time_t t)
{
	time_t r = t % SECONDS_PER_DAY;

	return t - (r < 0 ? r + SECONDS_PER_DAY : r);
}

/* ---- Parser ---- */

struct parser {
	struct imap_args *a;
	struct search_program *prog;
	struct search_key *all; /* every key allocated, for freeing */
	size_t keys;
};

/* Private part of the program (after the public fields). */
struct program_priv {
	struct search_program pub;
	struct search_key *all;
};

static int fail(struct parser *ps, const char *why)
{
	ps->a->error = why;
	return -1;
}

static struct search_key *key_new(struct parser *ps, enum search_op op)
{
	struct search_key *k = xcalloc(1, sizeof(*k));

	k->op = op;
	k->all = ps->all;
	ps->all = k;
	return k;
}

enum arg {
	ARG_NONE,
	ARG_STRING, /* astring: header fields, BODY, TEXT */
	ARG_DATE,
	ARG_NUMBER,
	ARG_KEYWORD,
	ARG_UIDSET,
	ARG_HEADER,
	ARG_NOT,
	ARG_OR,
	ARG_MODSEQ,
};

static const struct key_def {
	const char *name;
	enum search_op op;
	enum arg arg;
	unsigned flags;	   /* SK_FLAG / SK_UNFLAG */
	const char *field; /* SK_HEADER from FROM, TO ... */
} key_defs[] = {
	{"ALL", SK_ALL, ARG_NONE, 0, NULL},
	{"ANSWERED", SK_FLAG, ARG_NONE, STORE_F_ANSWERED, NULL},
	{"BCC", SK_HEADER, ARG_STRING, 0, "Bcc"},
	{"BEFORE", SK_BEFORE, ARG_DATE, 0, NULL},
	{"BODY", SK_BODY, ARG_STRING, 0, NULL},
	{"CC", SK_HEADER, ARG_STRING, 0, "Cc"},
	{"DELETED", SK_FLAG, ARG_NONE, STORE_F_DELETED, NULL},
	{"DRAFT", SK_FLAG, ARG_NONE, STORE_F_DRAFT, NULL},
	{"FLAGGED", SK_FLAG, ARG_NONE, STORE_F_FLAGGED, NULL},
	{"FROM", SK_HEADER, ARG_STRING, 0, "From"},
	{"HEADER", SK_HEADER, ARG_HEADER, 0, NULL},
	{"KEYWORD", SK_KEYWORD, ARG_KEYWORD, 0, NULL},
	{"LARGER", SK_LARGER, ARG_NUMBER, 0, NULL},
	{"MODSEQ", SK_MODSEQ, ARG_MODSEQ, 0, NULL},
	{"NEW", SK_NEW, ARG_NONE, 0, NULL},
	{"NOT", SK_NOT, ARG_NOT, 0, NULL},
	{"OLD", SK_OLD, ARG_NONE, 0, NULL},
	{"ON", SK_ON, ARG_DATE, 0, NULL},
	{"OR", SK_OR, ARG_OR, 0, NULL},
	{"RECENT", SK_RECENT, ARG_NONE, 0, NULL},
	{"SEEN", SK_FLAG, ARG_NONE, STORE_F_SEEN, NULL},
	{"SENTBEFORE", SK_SENTBEFORE, ARG_DATE, 0, NULL},
	{"SENTON", SK_SENTON, ARG_DATE, 0, NULL},
	{"SENTSINCE", SK_SENTSINCE, ARG_DATE, 0, NULL},
	{"SINCE", SK_SINCE, ARG_DATE, 0, NULL},
	{"SMALLER", SK_SMALLER, ARG_NUMBER, 0, NULL},
	{"SUBJECT", SK_HEADER, ARG_STRING, 0, "Subject"},
	{"TEXT", SK_TEXT, ARG_STRING, 0, NULL},
	{"TO", SK_HEADER, ARG_STRING, 0, "To"},
	{"UID", SK_UID, ARG_UIDSET, 0, NULL},
	{"UNANSWERED", SK_UNFLAG, ARG_NONE, STORE_F_ANSWERED, NULL},
	{"UNDELETED", SK_UNFLAG, ARG_NONE, STORE_F_DELETED, NULL},
	{"UNDRAFT", SK_UNFLAG, ARG_NONE, STORE_F_DRAFT, NULL},
	{"UNFLAGGED", SK_UNFLAG, ARG_NONE, STORE_F_FLAGGED, NULL},
	{"UNKEYWORD", SK_UNKEYWORD, ARG_KEYWORD, 0, NULL},
	{"UNSEEN", SK_UNFLAG, ARG_NONE, STORE_F_SEEN, NULL},
};

static int parse_key(struct parser *ps, unsigned depth,
		     struct search_key **key_r);

static void set_needle(struct search_key *k, const char *s, size_t len)
{
	struct sstr f = {0};

	fold_append(&f, s, len);
	k->text = f.p != NULL ? f.p : xstrdup("");
	k->text_len = f.len;
}

static void copy_set(struct search_key *k, const struct imap_seqset *set)
{
	k->n_ranges = set->n;
	k->ranges = xmalloc((set->n ? set->n : 1) * sizeof(*k->ranges));
	memcpy(k->ranges, set->ranges, set->n * sizeof(*k->ranges));
}

/* RFC 7162 3.1.5: [entry-name entry-type-req] mod-sequence-valzer. */
static int parse_modseq(struct parser *ps, struct search_key *k)
{
	struct imap_args *a = ps->a;
	const char *name, *type;

	if (imap_args_number64(a, &k->number) == 0)
		return 0;
	if (imap_args_string(a, &name, NULL) < 0 ||
	    strncasecmp(name, "/flags/", 7) != 0)
		return fail(ps, "Bad MODSEQ entry name");
	if (imap_args_atom(a, &type) < 0 ||
	    (strcasecmp(type, "priv") != 0 && strcasecmp(type, "shared") != 0 &&
	     strcasecmp(type, "all") != 0))
		return fail(ps, "Bad MODSEQ entry type");
	/* One modseq per message here: the entry is ignored (3.1.5). */
	return imap_args_number64(a, &k->number);
}

static int parse_arg(struct parser *ps, const struct key_def *d,
		     struct search_key *k, unsigned depth)
{
	struct imap_args *a = ps->a;
	struct imap_seqset set;
	const char *s;
	size_t len;
	uint32_t n;

	switch (d->arg) {
	case ARG_NONE:
		return 0;
	case ARG_STRING:
		if (imap_args_astring(a, &s, &len) < 0)
			return -1;
		set_needle(k, s, len);
		return 0;
	case ARG_HEADER:
		if (imap_args_astring(a, &s, &len) < 0)
			return -1;
		if (len == 0 || strpbrk(s, ": \t") != NULL)
			return fail(ps, "Bad header field name");
		k->field = xstrdup(s);
		if (imap_args_astring(a, &s, &len) < 0)
			return -1;
		set_needle(k, s, len);
		return 0;
	case ARG_DATE:
		return imap_args_date(a, &k->date);
	case ARG_NUMBER:
		if (imap_args_number(a, &n) < 0)
			return -1;
		k->number = n;
		return 0;
	case ARG_KEYWORD:
		if (imap_args_atom(a, &s) < 0)
			return -1;
		k->text = xstrdup(s);
		k->text_len = strlen(s);
		return 0;
	case ARG_UIDSET:
		if (imap_args_seqset(a, &set) < 0)
			return -1;
		copy_set(k, &set);
		return 0;
	case ARG_NOT:
		return parse_key(ps, depth + 1, &k->child);
	case ARG_OR:
		if (parse_key(ps, depth + 1, &k->child) < 0)
			return -1;
		return parse_key(ps, depth + 1, &k->child->next);
	case ARG_MODSEQ:
		ps->prog->uses_modseq = true;
		return parse_modseq(ps, k);
	}
	return fail(ps, "Unknown search key");
}

static bool op_reads_content(enum search_op op)
{
	return op == SK_HEADER || op == SK_BODY || op == SK_TEXT ||
	       op == SK_SENTBEFORE || op == SK_SENTON || op == SK_SENTSINCE;
}

static int key_from_word(struct parser *ps, const char *word, unsigned depth,
			 struct search_key **key_r)
{
	const struct key_def *d = NULL;
	struct search_key *k;

	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++)
		if (strcasecmp(word, key_defs[i].name) == 0)
			d = &key_defs[i];
	if (d == NULL)
		return fail(ps, "Unknown search key");
	k = key_new(ps, d->op);
	k->flags = d->flags;
	if (d->field != NULL)
		k->field = xstrdup(d->field);
	if (parse_arg(ps, d, k, depth) < 0)
		return -1;
	k->content = op_reads_content(k->op);
	for (struct search_key *c = k->child; c != NULL; c = c->next)
		k->content |= c->content;
	*key_r = k;
	return 0;
}

/* "(" key *(SP key) ")" */
static int parse_group(struct parser *ps, unsigned depth,
		       struct search_key **key_r)
{
	struct imap_args *a = ps->a;
	struct search_key *k = key_new(ps, SK_AND), **tail = &k->child;

	if (imap_args_list_open(a) < 0)
		return -1;
	if (imap_args_at_end(a))
		return fail(ps, "Empty search key list");
	while (!imap_args_at_end(a)) {
		if (parse_key(ps, depth + 1, tail) < 0)
			return -1;
		k->content |= (*tail)->content;
		tail = &(*tail)->next;
	}
	if (imap_args_list_close(a) < 0)
		return -1;
	*key_r = k;
	return 0;
}

/* A sequence set, if one is next (a failed try does not move). */
static bool try_seqset(struct parser *ps, struct search_key **key_r)
{
	struct imap_seqset set;
	struct search_key *k;

	if (imap_args_seqset(ps->a, &set) < 0)
		return false;
	k = key_new(ps, SK_SEQ);
	copy_set(k, &set);
	ps->prog->uses_seq = true;
	*key_r = k;
	return true;
}

static int parse_key(struct parser *ps, unsigned depth,
		     struct search_key **key_r)
{
	const char *word;

	if (depth > SEARCH_DEPTH_MAX)
		return fail(ps, "Search program nested too deeply");
	if (++ps->keys > SEARCH_KEYS_MAX)
		return fail(ps, "Too many search keys");
	if (imap_args_is_list(ps->a))
		return parse_group(ps, depth, key_r);
	if (try_seqset(ps, key_r))
		return 0;
	if (imap_args_atom(ps->a, &word) < 0)
		return fail(ps, "Expected a search key");
	return key_from_word(ps, word, depth, key_r);
}

/* RFC 9051 6.4.4: RETURN (MIN MAX ALL COUNT); () means ALL. */
static int parse_return(struct parser *ps)
{
	struct imap_args *a = ps->a;
	const char *opt;

	ps->prog->esearch = true;
	if (imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		if (imap_args_atom(a, &opt) < 0)
			return -1;
		if (strcasecmp(opt, "MIN") == 0)
			ps->prog->ret |= SEARCH_RET_MIN;
		else if (strcasecmp(opt, "MAX") == 0)
			ps->prog->ret |= SEARCH_RET_MAX;
		else if (strcasecmp(opt, "ALL") == 0)
			ps->prog->ret |= SEARCH_RET_ALL;
		else if (strcasecmp(opt, "COUNT") == 0)
			ps->prog->ret |= SEARCH_RET_COUNT;
		else
			return fail(ps, "Unsupported SEARCH return option");
	}
	if (ps->prog->ret == 0)
		ps->prog->ret = SEARCH_RET_ALL;
	return imap_args_list_close(a);
}

/* RFC 3501 6.4.4: US-ASCII must be supported; UTF-8 is ours. */
static int parse_charset(struct parser *ps)
{
	const char *cs;

	if (imap_args_astring(ps->a, &cs, NULL) < 0)
		return -1;
	if (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0)
		return SEARCH_ERR_CHARSET;
	return 0;
}

/* The top level: [RETURN (...)] [CHARSET x] key *(SP key). */
static int parse_program(struct parser *ps, struct search_key *root)
{
	struct imap_args *a = ps->a;
	struct search_key **tail = &root->child;
	bool prefix = true, first = true;
	const char *word;
	int r;

	while (!imap_args_at_end(a)) {
		struct search_key *k = NULL;

		if (imap_args_is_list(a) || try_seqset(ps, &k)) {
			if (k == NULL && parse_group(ps, 0, &k) < 0)
				return -1;
			if (++ps->keys > SEARCH_KEYS_MAX)
				return fail(ps, "Too many search keys");
		} else if (imap_args_atom(a, &word) < 0) {
			return fail(ps, "Expected a search key");
		} else if (first && strcasecmp(word, "RETURN") == 0) {
			first = false;
			if (parse_return(ps) < 0)
				return -1;
			continue;
		} else if (prefix && strcasecmp(word, "CHARSET") == 0) {
			prefix = first = false;
			if ((r = parse_charset(ps)) < 0)
				return r;
			continue;
		} else if (++ps->keys > SEARCH_KEYS_MAX) {
			return fail(ps, "Too many search keys");
		} else if (key_from_word(ps, word, 0, &k) < 0) {
			return -1;
		}
		prefix = first = false;
		root->content |= k->content;
		*tail = k;
		tail = &k->next;
	}
	if (root->child == NULL)
		return fail(ps, "Missing search criteria");
	return 0;
}

int search_parse(struct imap_args *a, struct search_program **prog_r)
{
	struct program_priv *pp = xcalloc(1, sizeof(*pp));
	struct parser ps = {.a = a, .prog = &pp->pub};
	struct search_key *root = key_new(&ps, SK_AND);
	int r;

	pp->pub.root = root;
	r = parse_program(&ps, root);
	pp->all = ps.all;
	if (r < 0) {
		struct search_program *p = &pp->pub;

		search_program_free(&p);
		*prog_r = NULL;
		return r;
	}
	pp->pub.needs_content = root->content;
	for (struct search_key *k = pp->all; k != NULL; k = k->all)
		if (k->op == SK_BODY || k->op == SK_TEXT)
			pp->pub.needs_body = true;
	*prog_r = &pp->pub;
	return 0;
}

void search_program_free(struct search_program **progp)
{
	struct program_priv *pp;
	struct search_key *k;

	if (*progp == NULL)
		return;
	pp = (struct program_priv *)*progp;
	k = pp->all;
	while (k != NULL) {
		struct search_key *next = k->all;

		free(k->field);
		free(k->text);
		free(k->ranges);
		free(k);
		k = next;
	}
	free(pp);
	*progp = NULL;
}

/* ---- Preparing ---- */

void search_prepare(struct search_program *prog, uint32_t count,
		    uint32_t max_uid)
{
	struct program_priv *pp = (struct program_priv *)prog;

	for (struct search_key *k = pp->all; k != NULL; k = k->all) {
		struct imap_seqset set = {.ranges = k->ranges,
					  .n = k->n_ranges};

		if (k->op != SK_SEQ && k->op != SK_UID)
			continue;
		imap_seqset_resolve(&set, k->op == SK_SEQ ? count : max_uid);
		k->n_ranges = set.n;
	}
}

/* Binary search in resolved (sorted, disjoint) ranges. */
static bool ranges_have(const struct search_key *k, uint32_t n)
{
	size_t lo = 0, hi = k->n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n < k->ranges[mid].lo)
			hi = mid;
		else if (n > k->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* ---- Content ---- */

struct content {
	search_load_fn *load;
	void *ctx;
	const struct search_msg *m;
	bool header_only;
	bool tried;
	char *data;
	size_t len;
	struct mime_part *root;
	bool have_body, have_hdr, have_sent;
	struct sstr body; /* decoded, folded text of the body parts */
	struct sstr hdr;  /* decoded, folded "name: value\n" fields */
	int sent_ok;
	time_t sent_day;
};

static bool content_get(struct content *c)
{
	if (!c->tried) {
		c->tried = true;
		if (c->load != NULL &&
		    c->load(c->ctx, c->m, c->header_only, &c->data, &c->len) ==
			    0 &&
		    c->data != NULL)
			c->root = mime_parse(c->data, c->len);
	}
	return c->root != NULL;
}

static void content_free(struct content *c)
{
	mime_free(&c->root);
	free(c->data);
	sstr_fini(&c->body);
	sstr_fini(&c->hdr);
}

/*
 * One field of a header block at *pos: its name and its value with the
 * line ends of folding removed (RFC 5322 2.2.3). Returns false at the
 * end. Lines without a colon are skipped.
 */
static bool next_field(const char *h, size_t len, size_t *pos,
		       const char **name_r, size_t *name_len_r,
		       struct sstr *value)
{
	while (*pos < len) {
		size_t start = *pos, colon, end = start;

		/* The field runs to a line end not followed by WSP. */
		for (;;) {
			const char *nl = memchr(h + end, '\n', len - end);

			end = nl != NULL ? (size_t)(nl - h) + 1 : len;
			if (end >= len || (h[end] != ' ' && h[end] != '\t'))
				break;
		}
		*pos = end;
		for (colon = start; colon < end && h[colon] != ':'; colon++)
			;
		if (colon == end || colon == start)
			continue;
		*name_r = h + start;
		*name_len_r = colon - start;
		while (*name_len_r > 0 && (h[start + *name_len_r - 1] == ' ' ||
					   h[start + *name_len_r - 1] == '\t'))
			(*name_len_r)--;
		value->len = 0;
		for (size_t i = colon + 1; i < end; i++)
			if (h[i] != '\r' && h[i] != '\n')
				sstr_add(value, h + i, 1);
		if (value->p == NULL)
			sstr_add(value, "", 0);
		return true;
	}
	return false;
}

/* The value decoded (RFC 2047) and folded, appended to out. */
static void add_decoded(struct sstr *out, const char *v, size_t len)
{
	char *d;

	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	d = mime_decode_words(v, len);
	fold_append(out, d, strlen(d));
	free(d);
}

/* Every field as "name: value\n", decoded and folded (TEXT). */
static void header_text(struct sstr *out, const char *h, size_t len)
{
	struct sstr v = {0};
	const char *name;
	size_t pos = 0, nlen;

	while (next_field(h, len, &pos, &name, &nlen, &v)) {
		fold_append(out, name, nlen);
		sstr_add(out, ": ", 2);
		add_decoded(out, v.p, v.len);
		sstr_add(out, "\n", 1);
	}
	sstr_fini(&v);
}

static bool header_match(struct content *c, const struct search_key *k)
{
	const struct mime_part *r = c->root;
	const char *h = c->data + r->hdr_off, *name;
	size_t pos = 0, nlen, flen = strlen(k->field);
	struct sstr v = {0}, d = {0};
	bool found = false;

	while (!found && next_field(h, r->hdr_len, &pos, &name, &nlen, &v)) {
		if (nlen != flen || strncasecmp(name, k->field, flen) != 0)
			continue;
		/* RFC 3501 6.4.4: an empty string matches the field's
		 * presence. */
		d.len = 0;
		if (k->text_len > 0)
			add_decoded(&d, v.p, v.len);
		found = folded_has(d.p, d.len, k->text, k->text_len);
	}
	sstr_fini(&v);
	sstr_fini(&d);
	return found;
}

static bool searchable_leaf(const struct mime_part *p)
{
	return p->type == NULL || strcmp(p->type, "text") == 0 ||
	       strcmp(p->type, "message") == 0;
}

/* Text of the body parts, the headers of attached messages included. */
static void body_walk(struct content *c, const struct mime_part *p)
{
	if (p->children == NULL) {
		size_t n;
		char *t;

		if (!searchable_leaf(p))
			return;
		t = mime_decode_body(p, c->data, true, &n);
		fold_append(&c->body, t, n);
		sstr_add(&c->body, "\n", 1);
		free(t);
		return;
	}
	for (const struct mime_part *q = p->children; q != NULL; q = q->next) {
		if (p->type != NULL && strcmp(p->type, "message") == 0)
			header_text(&c->body, c->data + q->hdr_off, q->hdr_len);
		body_walk(c, q);
	}
}

static const struct sstr *body_text(struct content *c)
{
	if (!c->have_body) {
		c->have_body = true;
		body_walk(c, c->root);
	}
	return &c->body;
}

static bool sent_day(struct content *c, time_t *day_r)
{
	if (!c->have_sent) {
		char *v = mime_header_get(c->data + c->root->hdr_off,
					  c->root->hdr_len, "Date");

		c->have_sent = true;
		c->sent_ok = v != NULL &&
			     search_parse_sent_day(v, &c->sent_day) == 0;
		free(v);
	}
	*day_r = c->sent_day;
	return c->sent_ok;
}

static bool text_match(struct content *c, const struct search_key *k)
{
	const struct sstr *b;

	if (!c->have_hdr) {
		c->have_hdr = true;
		header_text(&c->hdr, c->data + c->root->hdr_off,
			    c->root->hdr_len);
	}
	if (folded_has(c->hdr.p, c->hdr.len, k->text, k->text_len))
		return true;
	b = body_text(c);
	return folded_has(b->p, b->len, k->text, k->text_len);
}

static bool content_match(struct content *c, const struct search_key *k)
{
	const struct sstr *b;
	time_t day;

	if (!content_get(c))
		return false;
	switch (k->op) {
	case SK_HEADER:
		return header_match(c, k);
	case SK_BODY:
		b = body_text(c);
		return folded_has(b->p, b->len, k->text, k->text_len);
	case SK_TEXT:
		return text_match(c, k);
	case SK_SENTBEFORE:
		return sent_day(c, &day) && day < k->date;
	case SK_SENTON:
		return sent_day(c, &day) && day == k->date;
	case SK_SENTSINCE:
		return sent_day(c, &day) && day >= k->date;
	default:
		return false;
	}
}

/* ---- Evaluation ---- */

static bool has_keyword(const char *list, const char *kw, size_t len)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);

		if (n == len && strncasecmp(p, kw, len) == 0)
			return true;
		p = sp != NULL ? sp + 1 : NULL;
	}
	return false;
}

static bool eval(const struct search_key *k, const struct search_msg *m,
		 struct content *c);

/* AND: the keys that need no content first, so they can stop early. */
static bool eval_and(const struct search_key *k, const struct search_msg *m,
		     struct content *c)
{
	for (int pass = 0; pass < 2; pass++)
		for (const struct search_key *ch = k->child; ch != NULL;
		     ch = ch->next)
			if (ch->content == (pass == 1) && !eval(ch, m, c))
				return false;
	return true;
}

static bool eval_or(const struct search_key *k, const struct search_msg *m,
		    struct content *c)
{
	const struct search_key *x = k->child, *y = k->child->next;

	if (x->content && !y->content) {
		x = y;
		y = k->child;
	}
	return eval(x, m, c) || eval(y, m, c);
}

static bool eval(const struct search_key *k, const struct search_msg *m,
		 struct content *c)
{
	switch (k->op) {
	case SK_ALL:
		return true;
	case SK_AND:
		return eval_and(k, m, c);
	case SK_OR:
		return eval_or(k, m, c);
	case SK_NOT:
		return !eval(k->child, m, c);
	case SK_SEQ:
		return ranges_have(k, m->seq);
	case SK_UID:
		return ranges_have(k, m->uid);
	case SK_FLAG:
		return (m->flags & k->flags) != 0;
	case SK_UNFLAG:
		return (m->flags & k->flags) == 0;
	case SK_KEYWORD:
		return has_keyword(m->keywords, k->text, k->text_len);
	case SK_UNKEYWORD:
		return !has_keyword(m->keywords, k->text, k->text_len);
	case SK_NEW:
		return m->recent && !(m->flags & STORE_F_SEEN);
	case SK_OLD:
		return !m->recent;
	case SK_RECENT:
		return m->recent;
	case SK_LARGER:
		return m->size > k->number;
	case SK_SMALLER:
		return m->size < k->number;
	case SK_BEFORE:
		return day_of(m->internaldate) < k->date;
	case SK_ON:
		return day_of(m->internaldate) == k->date;
	case SK_SINCE:
		return day_of(m->internaldate) >= k->date;
	case SK_MODSEQ:
		return m->modseq >= k->number;
	default:
		return content_match(c, k);
	}
}

int search_match(const struct search_program *prog, const struct search_msg *m,
		 search_load_fn *load, void *ctx)
{
	struct content c = {.load = load,
			    .ctx = ctx,
			    .m = m,
			    .header_only = !prog->needs_body};
	bool r = eval(prog->root, m, &c);

	content_free(&c);
	return r ? 1 : 0;
}
