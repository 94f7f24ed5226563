/*
 * IMAP command parser: a cursor over one complete command (parse.h):
 * strings, lists, numbers, the command's tag and name. Sequence sets,
 * flags, dates and LIST patterns are in parse_values.c.
 *
 * SECURITY: every loop is bounded by a->end; literal sizes are compared
 * with what is left before use; nothing is sized by a number the client
 * sent. Returned strings go to an arena whose total is bounded by the
 * input length (each string is at most as long as its encoding, plus
 * one NUL) plus IMAP_SEQSET_RANGES_MAX ranges per set.
 */
#include "imap/parse.h"
#include "imap/parse_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"

/* Smallest arena block; larger requests get a block of their own. */
#define IMAP_ARENA_BLOCK 4096

struct imap_arena_block {
	struct imap_arena_block *next;
	size_t used, size;
	_Alignas(max_align_t) char data[];
};

void *imap_arena_alloc(struct imap_args *a, size_t n)
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
	char *d = imap_arena_alloc(a, n + 1);

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
	char *d = imap_arena_alloc(a, xl + yl + 1);

	memcpy(d, x, xl);
	memcpy(d + xl, y, yl);
	d[xl + yl] = '\0';
	return d;
}

const char *imap_args_error(const struct imap_args *a)
{
	return a->error[0] != '\0' ? a->error : "Syntax error";
}

int imap_args_fail(struct imap_args *a, const char *why)
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
bool imap_is_atom_char(unsigned char c)
{
	if (c >= 0x80 || is_ctl(c))
		return false;
	return strchr("(){ %*\"\\]", c) == NULL;
}

bool imap_is_astring_char(unsigned char c)
{
	return imap_is_atom_char(c) || c == ']';
}

static bool is_list_char(unsigned char c)
{
	return imap_is_astring_char(c) || c == '%' || c == '*';
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

const char *imap_args_start(struct imap_args *a)
{
	const char *why = NULL;
	const char *p = peek_start(a, &why);

	if (p == NULL)
		a->error = why;
	return p;
}

void imap_args_done(struct imap_args *a, const char *p)
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
		return imap_args_fail(a, "Unbalanced parentheses");
	if (a->p != a->end)
		return imap_args_fail(a, "Unexpected extra arguments");
	return 0;
}

bool imap_args_peek(const struct imap_args *a, char c)
{
	return a->p < a->end && *a->p == c;
}

int imap_args_char(struct imap_args *a, char c)
{
	if (a->p >= a->end || *a->p != c)
		return imap_args_fail(a, "Unexpected character");
	a->p++;
	a->need_sp = c == ']' || c == '>' || c == ')';
	return 0;
}

/* ---- Atoms ---- */

size_t imap_span(const char *p, const char *end, bool (*ok)(unsigned char),
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
	const char *q = imap_args_start(a);
	size_t n;

	if (q == NULL)
		return -1;
	n = imap_span(q, a->end, ok, stop);
	if (n == 0)
		return imap_args_fail(a, "Expected an atom");
	*s_r = arena_strndup(a, q, n);
	if (len_r != NULL)
		*len_r = n;
	imap_args_done(a, q + n);
	return 0;
}

int imap_args_atom(struct imap_args *a, const char **atom_r)
{
	return read_word(a, imap_is_atom_char, NULL, atom_r, NULL);
}

int imap_args_atom_until(struct imap_args *a, const char *stop,
			 const char **atom_r)
{
	return read_word(a, imap_is_atom_char, stop, atom_r, NULL);
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
				return imap_args_fail(
					a, "Bad escape in quoted string");
			r++;
		} else if (*r == '\r' || *r == '\n' || *r == '\0') {
			return imap_args_fail(
				a, "Quoted strings hold no CR, LF or NUL");
		}
		r++;
	}
	if (r >= a->end)
		return imap_args_fail(a, "Unterminated quoted string");
	out = o = imap_arena_alloc(a, (size_t)(r - q));
	for (const char *c = q + 1; c < r; c++) {
		if (*c == '\\')
			c++;
		*o++ = *c;
	}
	*o = '\0';
	*s_r = out;
	if (len_r != NULL)
		*len_r = (size_t)(o - out);
	imap_args_done(a, r + 1);
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
			imap_args_fail(a, "Literal too large");
			return NULL;
		}
		r++;
	}
	if (digits == 0) {
		imap_args_fail(a, "Bad literal");
		return NULL;
	}
	if (r < a->end && *r == '+')
		r++;
	if (a->end - r < 3 || r[0] != '}' || r[1] != '\r' || r[2] != '\n') {
		imap_args_fail(a, "Bad literal");
		return NULL;
	}
	r += 3;
	if ((uint64_t)(a->end - r) < n) {
		imap_args_fail(a, "Literal shorter than announced");
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
		return imap_args_fail(a, "Expected a string");
	next = read_literal(a, q, &data, &n);
	if (next == NULL)
		return -1;
	if (memchr(data, '\0', n) != NULL)
		return imap_args_fail(a, "Strings hold no NUL");
	*s_r = arena_strndup(a, data, n);
	if (len_r != NULL)
		*len_r = n;
	imap_args_done(a, next);
	return 0;
}

int imap_args_string(struct imap_args *a, const char **s_r, size_t *len_r)
{
	const char *q = imap_args_start(a);

	if (q == NULL)
		return -1;
	return read_string_at(a, q, s_r, len_r);
}

int imap_args_astring(struct imap_args *a, const char **s_r, size_t *len_r)
{
	const char *q = imap_args_start(a);

	if (q == NULL)
		return -1;
	if (*q == '"' || *q == '{')
		return read_string_at(a, q, s_r, len_r);
	return read_word(a, imap_is_astring_char, NULL, s_r, len_r);
}

/* Is NIL at q, as a whole word? */
static bool nil_at(const char *q, const char *end)
{
	return end - q >= 3 && strncasecmp(q, "NIL", 3) == 0 &&
	       (end - q == 3 || !imap_is_astring_char((unsigned char)q[3]));
}

bool imap_args_is_nil(const struct imap_args *a)
{
	const char *why;
	const char *q = peek_start(a, &why);

	return q != NULL && nil_at(q, a->end);
}

int imap_args_nstring(struct imap_args *a, const char **s_r, size_t *len_r)
{
	const char *q = imap_args_start(a);

	if (q == NULL)
		return -1;
	if (nil_at(q, a->end)) {
		*s_r = NULL;
		if (len_r != NULL)
			*len_r = 0;
		imap_args_done(a, q + 3);
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
	const char *q = imap_args_start(a);

	if (q == NULL)
		return -1;
	if (*q == '"' || *q == '{')
		return read_string_at(a, q, pattern_r, NULL);
	return read_word(a, is_list_char, NULL, pattern_r, NULL);
}

int imap_args_message(struct imap_args *a, const char **data_r, size_t *len_r,
		      bool *binary_r)
{
	const char *q = imap_args_start(a);
	const char *next;
	bool binary = false;

	if (q == NULL)
		return -1;
	if (*q == '~') {
		binary = true;
		q++;
	}
	if (q >= a->end || *q != '{')
		return imap_args_fail(a, "Expected a literal");
	next = read_literal(a, q, data_r, len_r);
	if (next == NULL)
		return -1;
	if (binary_r != NULL)
		*binary_r = binary;
	imap_args_done(a, next);
	return 0;
}

/* ---- Lists ---- */

int imap_args_list_open(struct imap_args *a)
{
	const char *q = imap_args_start(a);

	if (q == NULL)
		return -1;
	if (*q != '(')
		return imap_args_fail(a, "Expected a list");
	if (a->depth >= IMAP_LIST_DEPTH_MAX)
		return imap_args_fail(a, "Lists nested too deeply");
	a->depth++;
	a->p = q + 1;
	a->need_sp = false;
	return 0;
}

int imap_args_list_close(struct imap_args *a)
{
	if (a->depth == 0 || a->p >= a->end || *a->p != ')')
		return imap_args_fail(a, "Expected )");
	a->depth--;
	imap_args_done(a, a->p + 1);
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
		imap_args_done(a, next);
		return 0;
	}
	/* Anything up to SP or a paren: atoms, "<0.5>", and "BODY[...]"
	 * whose section may hold spaces and a list. */
	while (q + n < a->end && q[n] != ' ' && q[n] != '(' && q[n] != ')') {
		if (q[n] == '[') {
			const char *close =
				memchr(q + n, ']', (size_t)(a->end - q - n));

			if (close == NULL)
				return imap_args_fail(a, "Unterminated [");
			n = (size_t)(close - q);
		}
		n++;
	}
	if (n == 0)
		return imap_args_fail(a, "Expected an argument");
	imap_args_done(a, q + n);
	return 0;
}

static int skip_any(struct imap_args *a)
{
	unsigned base = a->depth;
	const char *q;

	if (!imap_args_is_list(a)) {
		q = imap_args_start(a);
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
			q = imap_args_start(a);
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
	const char *q = imap_args_start(a);
	uint64_t n = 0;
	size_t digits = 0;

	if (q == NULL)
		return -1;
	while (q + digits < a->end && q[digits] >= '0' && q[digits] <= '9') {
		n = n * 10 + (uint64_t)(q[digits] - '0');
		if (++digits > 19 || n > max)
			return imap_args_fail(a, "Number out of range");
	}
	if (digits == 0)
		return imap_args_fail(a, "Expected a number");
	*n_r = n;
	imap_args_done(a, q + digits);
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
		return imap_args_fail(a, "Expected a number above zero");
	}
	*n_r = (uint32_t)n;
	return 0;
}

int imap_args_number64(struct imap_args *a, uint64_t *n_r)
{
	return read_number(a, INT64_MAX, n_r);
}

/* ---- The command ---- */

static bool is_tag_char(unsigned char c)
{
	return imap_is_astring_char(c) && c != '+';
}

int imap_args_command(struct imap_args *a, const char **tag_r,
		      const char **name_r)
{
	size_t n = imap_span(a->p, a->end, is_tag_char, NULL);
	char *name;

	*tag_r = "*";
	if (n == 0)
		return imap_args_fail(a, "Missing tag");
	if (n > IMAP_TAG_MAX)
		return imap_args_fail(a, "Tag too long");
	*tag_r = arena_strndup(a, a->p, n);
	imap_args_done(a, a->p + n);
	if (imap_args_at_end(a) && a->p == a->end)
		return imap_args_fail(a, "Missing command");
	if (imap_args_atom(a, name_r) < 0)
		return imap_args_fail(a, "Missing command");
	if (strlen(*name_r) > IMAP_NAME_MAX)
		return imap_args_fail(a, "Unknown command");
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
	       imap_is_astring_char((unsigned char)line[j]))
		j++;
	if (j - *i >= size || (j < len && line[j] != ' ')) {
		out[0] = '\0';
		*i = len;
		return;
	}
	for (size_t k = *i; k < j; k++) {
		char c = line[k];

		if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		out[n++] = c;
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
