/*
 * IMAP SEARCH programs: parser and evaluator (search.h); the text
 * helpers (folding, header fields, dates) are in search_text.c.
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

#include "imap/search_text.h"
#include "lib/mem.h"
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
	bool saved; /* SK_UID of "$": ranges come at search_prepare */
};

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

	search_fold_append(&f, s, len);
	k->text = f.p != NULL ? f.p : xstrdup("");
	k->text_len = f.len;
}

static void copy_set(struct search_key *k, const struct imap_seqset *set)
{
	k->saved = set->saved;
	k->n_ranges = set->n;
	k->ranges = xmalloc((set->n ? set->n : 1) * sizeof(*k->ranges));
	if (set->n > 0) /* "$" has no ranges, and no array */
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
	/* "$" names messages, as UIDs: no message numbers involved */
	k = key_new(ps, set.saved ? SK_UID : SK_SEQ);
	copy_set(k, &set);
	ps->prog->uses_seq |= !set.saved;
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
		else if (strcasecmp(opt, "SAVE") == 0) /* 6.4.4.1 */
			ps->prog->ret |= SEARCH_RET_SAVE;
		else
			return fail(ps, "Unsupported SEARCH return option");
	}
	/* "()" is ALL; "(SAVE)" alone answers nothing */
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
	pp->pub.need = SEARCH_NEED_HEADER;
	for (struct search_key *k = pp->all; k != NULL; k = k->all)
		if (k->op == SK_BODY || k->op == SK_TEXT)
			pp->pub.need = SEARCH_NEED_ALL;
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

/* The runs of consecutive UIDs in saved (ascending) as k's ranges. */
static void saved_ranges(struct search_key *k, const uint32_t *saved,
			 size_t n_saved)
{
	size_t n = 0;

	free(k->ranges);
	k->ranges = xmalloc((n_saved > 0 ? n_saved : 1) * sizeof(*k->ranges));
	for (size_t i = 0; i < n_saved; i++) {
		if (n > 0 && k->ranges[n - 1].hi + 1 == saved[i])
			k->ranges[n - 1].hi = saved[i];
		else
			k->ranges[n++] =
				(struct imap_seq_range){saved[i], saved[i]};
	}
	k->n_ranges = n;
}

void search_prepare(struct search_program *prog, uint32_t count,
		    uint32_t max_uid, const uint32_t *saved, size_t n_saved)
{
	struct program_priv *pp = (struct program_priv *)prog;

	for (struct search_key *k = pp->all; k != NULL; k = k->all) {
		struct imap_seqset set;

		if (k->op != SK_SEQ && k->op != SK_UID)
			continue;
		if (k->saved)
			saved_ranges(k, saved, n_saved);
		set = (struct imap_seqset){.ranges = k->ranges,
					   .n = k->n_ranges};
		imap_seqset_resolve(&set, k->op == SK_SEQ ? count : max_uid);
		k->n_ranges = set.n;
	}
}

void search_use_fields(struct search_program *prog,
		       bool (*cached)(const char *name))
{
	struct program_priv *pp = (struct program_priv *)prog;

	if (prog->need != SEARCH_NEED_HEADER)
		return;
	for (struct search_key *k = pp->all; k != NULL; k = k->all) {
		if (k->op == SK_HEADER && !cached(k->field))
			return;
		if ((k->op == SK_SENTBEFORE || k->op == SK_SENTON ||
		     k->op == SK_SENTSINCE) &&
		    !cached("Date"))
			return;
	}
	prog->need = SEARCH_NEED_FIELDS;
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
	enum search_need need;
	bool tried;
	char *data;
	size_t len;
	bool loaded;
	size_t hdr_len;		/* the header block: data[0..hdr_len) */
	struct mime_part *root; /* SEARCH_NEED_ALL only */
	bool have_body, have_hdr, have_sent;
	struct sstr body; /* decoded, folded text of the body parts */
	struct sstr hdr;  /* decoded, folded "name: value\n" fields */
	int sent_ok;
	time_t sent_day;
};

/* Where the header's fields end: at its empty line, or the end (as
 * mime_parse reads it). */
static size_t header_length(const char *d, size_t len)
{
	struct mime_field f;
	size_t pos = 0;

	while (mime_field_next(d, len, &pos, &f))
		;
	return pos;
}

static bool content_get(struct content *c)
{
	if (!c->tried) {
		c->tried = true;
		c->loaded = c->load != NULL &&
			    c->load(c->ctx, c->m, c->need, &c->data, &c->len) ==
				    0 &&
			    c->data != NULL;
		/* A header block needs no MIME tree: only the body keys
		 * walk the parts. */
		if (c->loaded && c->need == SEARCH_NEED_ALL) {
			c->root = mime_parse(c->data, c->len);
			c->hdr_len = c->root->hdr_len;
		} else if (c->loaded) {
			c->hdr_len = header_length(c->data, c->len);
		}
	}
	return c->loaded;
}

static void content_free(struct content *c)
{
	mime_free(&c->root);
	free(c->data);
	search_sstr_fini(&c->body);
	search_sstr_fini(&c->hdr);
}

static bool header_match(struct content *c, const struct search_key *k)
{
	size_t pos = 0, flen = strlen(k->field);
	struct mime_field f;
	struct sstr d = {0};
	bool found = false;

	while (!found && mime_field_next(c->data, c->hdr_len, &pos, &f)) {
		if (f.name_len != flen ||
		    strncasecmp(f.name, k->field, flen) != 0)
			continue;
		/* RFC 3501 6.4.4: an empty string matches the field's
		 * presence. */
		d.len = 0;
		if (k->text_len > 0)
			search_add_decoded(&d, f.value, f.value_len);
		found = search_folded_has(d.p, d.len, k->text, k->text_len);
	}
	search_sstr_fini(&d);
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
		search_fold_append(&c->body, t, n);
		search_sstr_add(&c->body, "\n", 1);
		free(t);
		return;
	}
	for (const struct mime_part *q = p->children; q != NULL; q = q->next) {
		if (p->type != NULL && strcmp(p->type, "message") == 0)
			search_header_text(&c->body, c->data + q->hdr_off,
					   q->hdr_len);
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
		char *v = mime_header_get(c->data, c->hdr_len, "Date");

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
		search_header_text(&c->hdr, c->data, c->hdr_len);
	}
	if (search_folded_has(c->hdr.p, c->hdr.len, k->text, k->text_len))
		return true;
	b = body_text(c);
	return search_folded_has(b->p, b->len, k->text, k->text_len);
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
		return search_folded_has(b->p, b->len, k->text, k->text_len);
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
	struct content c = {
		.load = load, .ctx = ctx, .m = m, .need = prog->need};
	bool r = eval(prog->root, m, &c);

	content_free(&c);
	return r ? 1 : 0;
}
