/*
 * IMAP command parser: a cursor over one complete command (parse.h).
 *
 * SECURITY: every loop is bounded by a->end; literal sizes are compared
 * with what is left before use; nothing is sized by a number the client
 * sent. Returned strings go to an arena whose total is bounded by the
 * input length (each string is at most as long as its encoding, plus
 * one NUL) plus IMAP_SEQSET_RANGES_MAX ranges per set.
 */
#include "imap/parse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "store/store.h"

/* Smallest arena block; larger requests get a block of their own. */
#define IMAP_ARENA_BLOCK 4096
/* Longest keyword (RFC 3501 flag-keyword atom), as the store keeps it. */
#define IMAP_KEYWORD_MAX STORE_KEYWORD_LEN_MAX

struct imap_arena_block {
	struct imap_arena_block *next;
	size_t used, size;
	_Alignas(max_align_t) char data[];
};

static void *arena_alloc(struct imap_args *a, size_t n)
{
	struct imap_arena_block *b = a->arena;
	size_t need = (n + 15) & ~(size_t)15;

	if (b == NULL || b->size - b->used < need) {
		size_t size = need > IMAP_ARENA_BLOCK ? need : IMAP_ARENA_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->arena;
		a->arena = b;
	}
	b->used += need;
	return b->data + b->used - need;
}

static char *arena_strndup(struct imap_args *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void imap_args_init(struct imap_args *a, const char *data, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->p = data;
	a->end = data + len;
	a->error = "";
}

void imap_args_fini(struct imap_args *a)
{
	while (a->arena != NULL) {
		struct imap_arena_block *next = a->arena->next;

		free(a->arena);
		a->arena = next;
	}
}

const char *imap_args_concat(struct imap_args *a, const char *x, const char *y)
{
	size_t xl = strlen(x), yl = strlen(y);
	char *d = arena_alloc(a, xl + yl + 1);

	memcpy(d, x, xl);
	memcpy(d + xl, y, yl + 1);
	return d;
}

const char *imap_args_error(const struct imap_args *a)
{
	return a->error[0] != '\0' ? a->error : "Syntax error";
}

static int fail(struct imap_args *a, const char *why)
{
	a->error = why;
	return -1;
}

/* ---- Character classes (RFC 3501 9) ---- */

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* ATOM-CHAR: CHAR except atom-specials; resp-special ']' excluded. */
static bool is_atom_char(unsigned char c)
{
	if (c >= 0x80 || is_ctl(c))
		return false;
	return strchr("(){ %*\"\\]", c) == NULL;
}

static bool is_astring_char(unsigned char c)
{
	return is_atom_char(c) || c == ']';
}

static bool is_list_char(unsigned char c)
{
	return is_astring_char(c) || c == '%' || c == '*';
}

/* ---- Separators ---- */

/* Where the next argument starts after its SP, or NULL (why in *why). */
static const char *peek_start(const struct imap_args *a, const char **why)
{
	const char *p = a->p;

	if (a->need_sp) {
		if (p >= a->end || *p == ')') {
			*why = "Missing argument";
			return NULL;
		}
		if (*p != ' ') {
			*why = "Expected a space between arguments";
			return NULL;
		}
		p++;
	}
	if (p >= a->end) {
		*why = "Missing argument";
		return NULL;
	}
	return p;
}

static const char *arg_start(struct imap_args *a)
{
	const char *why = NULL;
	const char *p = peek_start(a, &why);

	if (p == NULL)
		a->error = why;
	return p;
}

static void arg_done(struct imap_args *a, const char *p)
{
	a->p = p;
	a->need_sp = true;
}

bool imap_args_at_end(const struct imap_args *a)
{
	return a->p >= a->end || *a->p == ')';
}

int imap_args_finish(struct imap_args *a)
{
	if (a->depth > 0)
		return fail(a, "Unbalanced parentheses");
	if (a->p != a->end)
		return fail(a, "Unexpected extra arguments");
	return 0;
}

bool imap_args_peek(const struct imap_args *a, char c)
{
	return a->p < a->end && *a->p == c;
}

int imap_args_char(struct imap_args *a, char c)
{
	if (a->p >= a->end || *a->p != c)
		return fail(a, "Unexpected character");
	a->p++;
	a->need_sp = c == ']' || c == '>' || c == ')';
	return 0;
}

/* ---- Atoms ---- */

static size_t span(const char *p, const char *end, bool (*ok)(unsigned char),
		   const char *stop)
{
	size_t n = 0;

	while (p + n < end && ok((unsigned char)p[n]) &&
	       (stop == NULL || strchr(stop, p[n]) == NULL))
		n++;
	return n;
}

static int read_word(struct imap_args *a, bool (*ok)(unsigned char),
		     const char *stop, const char **s_r, size_t *len_r)
{
	const char *q = arg_start(a);
	size_t n;

	if (q == NULL)
		return -1;
	n = span(q, a->end, ok, stop);
	if (n == 0)
		return fail(a, "Expected an atom");
	*s_r = arena_strndup(a, q, n);
	if (len_r != NULL)
		*len_r = n;
	arg_done(a, q + n);
	return 0;
}

int imap_args_atom(struct imap_args *a, const char **atom_r)
{
	return read_word(a, is_atom_char, NULL, atom_r, NULL);
}

int imap_args_atom_until(struct imap_args *a, const char *stop,
			 const char **atom_r)
{
	return read_word(a, is_atom_char, stop, atom_r, NULL);
}

/* ---- Strings ---- */

/* A quoted string at q ('"'); unescaped copy in the arena. */
static int read_quoted(struct imap_args *a, const char *q, const char **s_r,
		       size_t *len_r)
{
	const char *r = q + 1;
	char *out, *o;

	/* First pass finds the end, so the copy is sized by the input. */
	while (r < a->end && *r != '"') {
		if (*r == '\\') {
			if (r + 1 >= a->end || (r[1] != '\\' && r[1] != '"'))
				return fail(a, "Bad escape in quoted string");
			r++;
		} else if (*r == '\r' || *r == '\n' || *r == '\0') {
			return fail(a, "Quoted strings hold no CR, LF or NUL");
		}
		r++;
	}
	if (r >= a->end)
		return fail(a, "Unterminated quoted string");
	out = o = arena_alloc(a, (size_t)(r - q));
	for (const char *c = q + 1; c < r; c++) {
		if (*c == '\\')
			c++;
		*o++ = *c;
	}
	*o = '\0';
	*s_r = out;
	if (len_r != NULL)
		*len_r = (size_t)(o - out);
	arg_done(a, r + 1);
	return 0;
}

/*
 * A literal announcement at q: "{n}" or "{n+}" then CRLF (RFC 3501 4.3,
 * RFC 7888). Sets *data_r to the n octets (checked to be there) and
 * returns the position after them, or NULL.
 */
static const char *read_literal(struct imap_args *a, const char *q,
				const char **data_r, size_t *len_r)
{
	uint64_t n = 0;
	const char *r = q + 1;
	size_t digits = 0;

	while (r < a->end && *r >= '0' && *r <= '9') {
		n = n * 10 + (uint64_t)(*r - '0');
		if (++digits > 10 || n > UINT32_MAX) {
			fail(a, "Literal too large");
			return NULL;
		}
		r++;
	}
	if (digits == 0) {
		fail(a, "Bad literal");
		return NULL;
	}
	if (r < a->end && *r == '+')
		r++;
	if (a->end - r < 3 || r[0] != '}' || r[1] != '\r' || r[2] != '\n') {
		fail(a, "Bad literal");
		return NULL;
	}
	r += 3;
	if ((uint64_t)(a->end - r) < n) {
		fail(a, "Literal shorter than announced");
		return NULL;
	}
	*data_r = r;
	*len_r = (size_t)n;
	return r + n;
}

static int read_string_at(struct imap_args *a, const char *q, const char **s_r,
			  size_t *len_r)
{
	const char *data, *next;
	size_t n;

	if (*q == '"')
		return read_quoted(a, q, s_r, len_r);
	if (*q != '{')
		return fail(a, "Expected a string");
	next = read_literal(a, q, &data, &n);
	if (next == NULL)
		return -1;
	if (memchr(data, '\0', n) != NULL)
		return fail(a, "Strings hold no NUL");
	*s_r = arena_strndup(a, data, n);
	if (len_r != NULL)
		*len_r = n;
	arg_done(a, next);
	return 0;
}

int imap_args_string(struct imap_args *a, const char **s_r, size_t *len_r)
{
	const char *q = arg_start(a);

	if (q == NULL)
		return -1;
	return read_string_at(a, q, s_r, len_r);
}

int imap_args_astring(struct imap_args *a, const char **s_r, size_t *len_r)
{
	const char *q = arg_start(a);

	if (q == NULL)
		return -1;
	if (*q == '"' || *q == '{')
		return read_string_at(a, q, s_r, len_r);
	return read_word(a, is_astring_char, NULL, s_r, len_r);
}

/* Is NIL at q, as a whole word? */
static bool nil_at(const char *q, const char *end)
{
	return end - q >= 3 && strncasecmp(q, "NIL", 3) == 0 &&
	       (end - q == 3 || !is_astring_char((unsigned char)q[3]));
}

bool imap_args_is_nil(const struct imap_args *a)
{
	const char *why;
	const char *q = peek_start(a, &why);

	return q != NULL && nil_at(q, a->end);
}

int imap_args_nstring(struct imap_args *a, const char **s_r, size_t *len_r)
{
	const char *q = arg_start(a);

	if (q == NULL)
		return -1;
	if (nil_at(q, a->end)) {
		*s_r = NULL;
		if (len_r != NULL)
			*len_r = 0;
		arg_done(a, q + 3);
		return 0;
	}
	return read_string_at(a, q, s_r, len_r);
}

int imap_args_mailbox(struct imap_args *a, const char **name_r)
{
	if (imap_args_astring(a, name_r, NULL) < 0)
		return -1;
	/* RFC 3501 5.1: INBOX is case-insensitive. */
	if (strcasecmp(*name_r, "INBOX") == 0)
		*name_r = "INBOX";
	return 0;
}

int imap_args_list_mailbox(struct imap_args *a, const char **pattern_r)
{
	const char *q = arg_start(a);

	if (q == NULL)
		return -1;
	if (*q == '"' || *q == '{')
		return read_string_at(a, q, pattern_r, NULL);
	return read_word(a, is_list_char, NULL, pattern_r, NULL);
}

int imap_args_message(struct imap_args *a, const char **data_r, size_t *len_r,
		      bool *binary_r)
{
	const char *q = arg_start(a);
	const char *next;
	bool binary = false;

	if (q == NULL)
		return -1;
	if (*q == '~') {
		binary = true;
		q++;
	}
	if (q >= a->end || *q != '{')
		return fail(a, "Expected a literal");
	next = read_literal(a, q, data_r, len_r);
	if (next == NULL)
		return -1;
	if (binary_r != NULL)
		*binary_r = binary;
	arg_done(a, next);
	return 0;
}

/* ---- Lists ---- */

int imap_args_list_open(struct imap_args *a)
{
	const char *q = arg_start(a);

	if (q == NULL)
		return -1;
	if (*q != '(')
		return fail(a, "Expected a list");
	if (a->depth >= IMAP_LIST_DEPTH_MAX)
		return fail(a, "Lists nested too deeply");
	a->depth++;
	a->p = q + 1;
	a->need_sp = false;
	return 0;
}

int imap_args_list_close(struct imap_args *a)
{
	if (a->depth == 0 || a->p >= a->end || *a->p != ')')
		return fail(a, "Expected )");
	a->depth--;
	arg_done(a, a->p + 1);
	return 0;
}

bool imap_args_is_list(const struct imap_args *a)
{
	const char *why;
	const char *q = peek_start(a, &why);

	return q != NULL && *q == '(';
}

/* Skip one non-list argument at q: a string, literal or bare word. */
static int skip_simple(struct imap_args *a, const char *q)
{
	const char *s, *next;
	size_t n = 0;

	if (*q == '"')
		return read_quoted(a, q, &s, NULL);
	if (*q == '~' && q + 1 < a->end && q[1] == '{')
		q++;
	if (*q == '{') {
		next = read_literal(a, q, &s, &n);
		if (next == NULL)
			return -1;
		arg_done(a, next);
		return 0;
	}
	/* Anything up to SP or a paren: atoms, "<0.5>", and "BODY[...]"
	 * whose section may hold spaces and a list. */
	while (q + n < a->end && q[n] != ' ' && q[n] != '(' && q[n] != ')') {
		if (q[n] == '[') {
			const char *close =
				memchr(q + n, ']', (size_t)(a->end - q - n));

			if (close == NULL)
				return fail(a, "Unterminated [");
			n = (size_t)(close - q);
		}
		n++;
	}
	if (n == 0)
		return fail(a, "Expected an argument");
	arg_done(a, q + n);
	return 0;
}

static int skip_any(struct imap_args *a)
{
	unsigned base = a->depth;
	const char *q;

	if (!imap_args_is_list(a)) {
		q = arg_start(a);
		return q == NULL ? -1 : skip_simple(a, q);
	}
	if (imap_args_list_open(a) < 0)
		return -1;
	while (a->depth > base) {
		if (imap_args_at_end(a)) {
			if (imap_args_list_close(a) < 0)
				return -1;
		} else if (imap_args_is_list(a)) {
			if (imap_args_list_open(a) < 0)
				return -1;
		} else {
			q = arg_start(a);
			if (q == NULL || skip_simple(a, q) < 0)
				return -1;
		}
	}
	return 0;
}

int imap_args_skip(struct imap_args *a)
{
	const char *p = a->p;
	bool sp = a->need_sp;
	unsigned depth = a->depth;

	if (skip_any(a) == 0)
		return 0;
	/* Like every reader, a failure leaves the cursor where it was. */
	a->p = p;
	a->need_sp = sp;
	a->depth = depth;
	return -1;
}

/* ---- Numbers ---- */

static int read_number(struct imap_args *a, uint64_t max, uint64_t *n_r)
{
	const char *q = arg_start(a);
	uint64_t n = 0;
	size_t digits = 0;

	if (q == NULL)
		return -1;
	while (q + digits < a->end && q[digits] >= '0' && q[digits] <= '9') {
		n = n * 10 + (uint64_t)(q[digits] - '0');
		if (++digits > 19 || n > max)
			return fail(a, "Number out of range");
	}
	if (digits == 0)
		return fail(a, "Expected a number");
	*n_r = n;
	arg_done(a, q + digits);
	return 0;
}

int imap_args_number(struct imap_args *a, uint32_t *n_r)
{
	uint64_t n;

	if (read_number(a, UINT32_MAX, &n) < 0)
		return -1;
	*n_r = (uint32_t)n;
	return 0;
}

int imap_args_nz_number(struct imap_args *a, uint32_t *n_r)
{
	const char *p = a->p;
	bool sp = a->need_sp;
	uint64_t n;

	if (read_number(a, UINT32_MAX, &n) < 0)
		return -1;
	if (n == 0) {
		a->p = p;
		a->need_sp = sp;
		return fail(a, "Expected a number above zero");
	}
	*n_r = (uint32_t)n;
	return 0;
}

int imap_args_number64(struct imap_args *a, uint64_t *n_r)
{
	return read_number(a, INT64_MAX, n_r);
}

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
		return fail(a, "Expected a sequence set");
	if (count > IMAP_SEQSET_RANGES_MAX)
		return fail(a, "Too many ranges in sequence set");
	set_r->ranges = arena_alloc(a, count * sizeof(*set_r->ranges));
	for (;;) {
		struct imap_seq_range *r = &set_r->ranges[k++];

		if (seq_number(s, len, &i, &r->lo) < 0)
			return fail(a, "Bad sequence set");
		r->hi = r->lo;
		if (i < len && s[i] == ':') {
			i++;
			if (seq_number(s, len, &i, &r->hi) < 0)
				return fail(a, "Bad sequence set");
		}
		if (i == len)
			break;
		if (s[i] != ',')
			return fail(a, "Bad sequence set");
		i++;
	}
	set_r->n = k;
	return 0;
}

static bool is_seqset_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == ':' || c == ',' || c == '*';
}

int imap_args_seqset(struct imap_args *a, struct imap_seqset *set_r)
{
	const char *q = arg_start(a);
	size_t n;

	if (q == NULL)
		return -1;
	n = span(q, a->end, is_seqset_char, NULL);
	/* A sequence set is a whole word: "1:3x" is not one. */
	if (n == 0 || (q + n < a->end && is_atom_char((unsigned char)q[n])))
		return fail(a, "Bad sequence set");
	if (imap_seqset_parse(a, q, n, set_r) < 0)
		return -1;
	arg_done(a, q + n);
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
	size_t n = span(w, a->end, is_atom_char, NULL);

	if (n == 0)
		return fail(a, "Expected a flag");
	if (sys) {
		for (size_t i = 0;
		     i < sizeof(system_flags) / sizeof(*system_flags); i++) {
			if (strlen(system_flags[i].name) == n &&
			    strncasecmp(w, system_flags[i].name, n) == 0) {
				*flags |= system_flags[i].bit;
				arg_done(a, w + n);
				return 0;
			}
		}
		if (n == 6 && strncasecmp(w, "Recent", 6) == 0)
			return fail(a, "\\Recent cannot be set");
		return fail(a, "Unknown system flag");
	}
	if (n > IMAP_KEYWORD_MAX)
		return fail(a, "Keyword too long");
	if (*kw_len > 0)
		kw[(*kw_len)++] = ' ';
	memcpy(kw + *kw_len, w, n);
	*kw_len += n;
	kw[*kw_len] = '\0';
	arg_done(a, w + n);
	return 0;
}

int imap_args_flags(struct imap_args *a, bool parens_optional,
		    unsigned *flags_r, const char **keywords_r)
{
	const char *p0 = a->p;
	bool sp0 = a->need_sp, parens = imap_args_is_list(a);
	unsigned depth0 = a->depth, flags = 0;
	/* Keywords are no longer than the rest of the command. */
	char *kw = arena_alloc(a, (size_t)(a->end - a->p) + 1);
	size_t kw_len = 0;
	const char *q;

	kw[0] = '\0';
	if (!parens && !parens_optional)
		return fail(a, "Expected a flag list");
	if (parens && imap_args_list_open(a) < 0)
		return -1;
	while (!imap_args_at_end(a)) {
		q = arg_start(a);
		if (q == NULL || read_flag(a, q, &flags, kw, &kw_len) < 0)
			goto bad;
	}
	if (parens && imap_args_list_close(a) < 0)
		goto bad;
	if (!parens && kw_len == 0 && flags == 0) {
		fail(a, "Expected a flag");
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
	const char *q = arg_start(a);
	bool quoted;
	struct tm tm;

	if (q == NULL)
		return -1;
	quoted = *q == '"';
	if (quoted)
		q++;
	if (date_text(&q, a->end, false, &tm) < 0 ||
	    (quoted && (q >= a->end || *q++ != '"')))
		return fail(a, "Bad date");
	if (q < a->end && is_astring_char((unsigned char)*q))
		return fail(a, "Bad date");
	*t_r = timegm(&tm);
	arg_done(a, q);
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
	const char *q = arg_start(a);
	struct tm tm;
	long off;

	if (q == NULL)
		return -1;
	if (*q++ != '"' || date_text(&q, a->end, true, &tm) < 0 ||
	    q >= a->end || *q++ != ' ' ||
	    time_zone(&q, a->end, &tm, &off) < 0 || q >= a->end || *q++ != '"')
		return fail(a, "Bad date-time");
	*t_r = timegm(&tm) - off;
	arg_done(a, q);
	return 0;
}

/* ---- The command ---- */

static bool is_tag_char(unsigned char c)
{
	return is_astring_char(c) && c != '+';
}

int imap_args_command(struct imap_args *a, const char **tag_r,
		      const char **name_r)
{
	size_t n = span(a->p, a->end, is_tag_char, NULL);
	char *name;

	*tag_r = "*";
	if (n == 0)
		return fail(a, "Missing tag");
	if (n > IMAP_TAG_MAX)
		return fail(a, "Tag too long");
	*tag_r = arena_strndup(a, a->p, n);
	arg_done(a, a->p + n);
	if (imap_args_at_end(a) && a->p == a->end)
		return fail(a, "Missing command");
	if (imap_args_atom(a, name_r) < 0)
		return fail(a, "Missing command");
	if (strlen(*name_r) > IMAP_NAME_MAX)
		return fail(a, "Unknown command");
	for (name = (char *)*name_r; *name != '\0'; name++)
		if (*name >= 'a' && *name <= 'z')
			*name = (char)(*name - 'a' + 'A');
	return 0;
}

int imap_literal_announce(const char *line, size_t len, uint64_t *size_r,
			  bool *nonsync_r)
{
	size_t i, start;
	uint64_t n = 0;
	bool nonsync = false;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	i = len - 1;
	if (line[i - 1] == '+') {
		nonsync = true;
		i--;
	}
	start = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == start || i == 0 || line[i - 1] != '{')
		return 0;
	if (start - i > 10)
		return -1;
	for (size_t k = i; k < start; k++)
		n = n * 10 + (uint64_t)(line[k] - '0');
	if (n > IMAP_LITERAL_ANNOUNCE_MAX)
		return -1;
	*size_r = n;
	*nonsync_r = nonsync;
	return 1;
}

/* Copy the word at line[*i] (stopping at SP) into out[0..size). */
static void peek_word(const char *line, size_t len, size_t *i, char *out,
		      size_t size, bool upper)
{
	size_t n = 0, j = *i;

	while (j < len && line[j] != ' ' &&
	       is_astring_char((unsigned char)line[j]))
		j++;
	if (j - *i >= size || (j < len && line[j] != ' ')) {
		out[0] = '\0';
		*i = len;
		return;
	}
	for (size_t k = *i; k < j; k++) {
		char c = line[k];

		out[n++] = upper && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
	}
	out[n] = '\0';
	*i = j < len ? j + 1 : j;
}

void imap_peek_command(const char *line, size_t len, char *tag, char *name)
{
	size_t i = 0;

	peek_word(line, len, &i, tag, IMAP_TAG_MAX + 1, false);
	if (tag[0] == '\0' || strchr(tag, '+') != NULL) {
		tag[0] = name[0] = '\0';
		return;
	}
	peek_word(line, len, &i, name, IMAP_NAME_MAX + 1, true);
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
