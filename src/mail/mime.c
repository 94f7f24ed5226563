/*
 * The MIME tree of a message, built in one pass over its lines.
 *
 * SECURITY: the message comes from anyone on the Internet. The pass reads
 * each body line once and each header line twice (to find the header's
 * end, then its fields); a line that starts with "--" is compared with the
 * boundaries of the open multiparts, at most MIME_DEPTH_MAX of at most
 * MIME_BOUNDARY_MAX octets, so the work stays linear in the input. Depth
 * and part count are capped; past a cap the rest is shown as text.
 *
 * The line end before a boundary belongs to the boundary (RFC 2046
 * 5.1.1), so a part ends just before it. Parts still open when the
 * message ends (no close delimiter) end with it.
 */
#include "mail/mime.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "mail/mime_internal.h"

/* A multipart whose body is being read. */
struct frame {
	struct mime_part *part;
	const char *boundary;
	size_t blen;
	struct mime_part *last; /* last child, to append in order */
};

struct parser {
	const char *msg;
	size_t len;
	size_t pos;   /* start of the current line */
	size_t lines; /* LFs before pos */
	size_t nparts;
	struct mime_part *cur; /* innermost open part */
	struct frame frames[MIME_DEPTH_MAX + 1];
	size_t nframes;
	/* The frames' boundaries (the parsed Content-Type they come from is
	 * freed once the part has started). */
	char *bounds[MIME_DEPTH_MAX + 1];
};

/* Offset just past the line starting at pos (past its LF, or len). */
static size_t next_line(const struct parser *p, size_t pos)
{
	const char *nl = memchr(p->msg + pos, '\n', p->len - pos);

	return nl != NULL ? (size_t)(nl - p->msg) + 1 : p->len;
}

/*
 * RFC 2046 5.1.1: "--" boundary, then "--" for the close delimiter, then
 * optional LWSP (transport padding). Returns the index of the innermost
 * open multipart whose boundary the line at pos is, or -1; *close_r says
 * whether it is the close delimiter.
 */
static int match_boundary(const struct parser *p, size_t pos, size_t next,
			  bool *close_r)
{
	const char *s = p->msg + pos;
	size_t n = next - pos;

	if (n < 3 || s[0] != '-' || s[1] != '-')
		return -1;
	for (size_t k = p->nframes; k-- > 0;) {
		const struct frame *f = &p->frames[k];
		size_t i = 2 + f->blen;

		if (n < i || memcmp(s + 2, f->boundary, f->blen) != 0)
			continue;
		*close_r = n >= i + 2 && s[i] == '-' && s[i + 1] == '-';
		if (*close_r)
			return (int)k; /* anything may follow "--" */
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n || s[i] == '\n')
			return (int)k;
	}
	return -1;
}

static bool is_blank(const struct parser *p, size_t pos, size_t next)
{
	size_t n = next - pos;

	return (n == 1 && p->msg[pos] == '\n') ||
	       (n == 2 && p->msg[pos] == '\r' && p->msg[pos + 1] == '\n');
}

/* Length of the line end just before pos (0 at the start). */
static size_t eol_before(const struct parser *p, size_t pos)
{
	if (pos == 0 || p->msg[pos - 1] != '\n')
		return 0;
	return pos > 1 && p->msg[pos - 2] == '\r' ? 2 : 1;
}

/* Read the header block starting at p->pos; leaves p->pos at the body. */
static void read_header(struct parser *p, struct mime_part *part)
{
	part->hdr_off = p->pos;
	while (p->pos < p->len) {
		size_t next = next_line(p, p->pos);
		bool close;

		if (is_blank(p, p->pos, next)) {
			part->hdr_len = p->pos - part->hdr_off;
			p->pos = next;
			p->lines++;
			part->body_off = p->pos;
			return;
		}
		if (p->nframes > 0 &&
		    match_boundary(p, p->pos, next, &close) >= 0) {
			/* No empty line, no body; the line end before the
			 * boundary belongs to it (RFC 2046 5.1.1). */
			size_t end = p->pos - eol_before(p, p->pos);

			part->body_off =
				end > part->hdr_off ? end : part->hdr_off;
			part->hdr_len = part->body_off - part->hdr_off;
			return;
		}
		if (p->msg[next - 1] == '\n')
			p->lines++;
		p->pos = next;
	}
	part->hdr_len = p->pos - part->hdr_off;
	part->body_off = p->pos;
}

static void set_type(struct mime_part *part, const char *type,
		     const char *subtype)
{
	free(part->type);
	free(part->subtype);
	part->type = xstrdup(type);
	part->subtype = xstrdup(subtype);
}

/* RFC 2045 5.2 and RFC 2046 5.1.5 defaults; RFC 2045 6.1 encoding. */
static void classify(struct parser *p, struct mime_part *part,
		     struct mime_ctype *ct)
{
	static const char *const names[2] = {"content-type",
					     "content-transfer-encoding"};
	char *v[2];
	size_t vlen[2];

	mime_part_headers(part, p->msg, names, 2, v, vlen);
	if (v[0] != NULL)
		mime_ctype_parse(v[0], vlen[0], true, ct);
	if (ct->type != NULL) {
		part->type = xstrdup(ct->type);
		part->subtype = xstrdup(ct->subtype);
	} else if (part->parent != NULL &&
		   strcmp(part->parent->type, "multipart") == 0 &&
		   strcmp(part->parent->subtype, "digest") == 0) {
		set_type(part, "message", "rfc822");
	} else {
		set_type(part, "text", "plain");
	}
	if (v[1] != NULL) {
		struct mime_ctype cte;

		mime_ctype_parse(v[1], vlen[1], false, &cte);
		part->encoding = cte.type != NULL ? xstrdup(cte.type) : NULL;
		mime_ctype_fini(&cte);
	}
	if (part->encoding == NULL)
		part->encoding = xstrdup("7bit");
	mime_headers_free(v, 2);
}

static void add_child(struct mime_part *parent, struct mime_part *child,
		      struct mime_part **lastp)
{
	child->parent = parent;
	if (*lastp == NULL)
		parent->children = child;
	else
		(*lastp)->next = child;
	*lastp = child;
	parent->n_children++;
}

/* body_lines holds the LF count at body_off until the part is closed. */
static void close_part(struct parser *p, struct mime_part *part, size_t end,
		       size_t lfs)
{
	size_t start_lfs = part->body_lines;

	if (end <= part->body_off) {
		/* The line end taken as the empty line (or the part's
		 * start) was the one before the boundary: keep the empty
		 * part inside its parent. */
		if (part->hdr_off > end)
			part->hdr_off = end;
		if (part->hdr_len > end - part->hdr_off)
			part->hdr_len = end - part->hdr_off;
		if (part->body_off > end)
			part->body_off = end;
		part->body_len = 0;
		part->body_lines = 0;
		return;
	}
	part->body_len = end - part->body_off;
	part->body_lines = lfs - start_lfs + (p->msg[end - 1] != '\n');
}

/*
 * Start a part at p->pos: its header, its type, and, for a multipart or a
 * message/rfc822, what its body holds. depth is the part's own depth.
 */
static void start_part(struct parser *p, struct mime_part *part, size_t depth)
{
	struct mime_ctype ct = {0};
	const char *b;
	bool room;

	p->nparts++;
	read_header(p, part);
	part->body_lines = p->lines;
	p->cur = part;
	classify(p, part, &ct);
	room = depth < MIME_DEPTH_MAX && p->nparts < MIME_PARTS_MAX;
	if (strcmp(part->type, "multipart") == 0) {
		b = mime_ctype_param(&ct, "boundary");
		if (room && b != NULL && b[0] != '\0' &&
		    strlen(b) <= MIME_BOUNDARY_MAX) {
			struct frame *f = &p->frames[p->nframes];

			p->bounds[p->nframes] = xstrdup(b);
			f->part = part;
			f->boundary = p->bounds[p->nframes];
			f->blen = strlen(b);
			f->last = NULL;
			p->nframes++;
		} else {
			set_type(part, "text", "plain");
		}
	} else if (strcmp(part->type, "message") == 0 &&
		   strcmp(part->subtype, "rfc822") == 0) {
		if (room) {
			struct mime_part *child = xcalloc(1, sizeof(*child));
			struct mime_part *last = NULL;

			add_child(part, child, &last);
			start_part(p, child, depth + 1);
		} else {
			set_type(part, "text", "plain");
		}
	}
	mime_ctype_fini(&ct);
}

static size_t depth_of(const struct mime_part *part)
{
	size_t d = 0;

	for (; part->parent != NULL; part = part->parent)
		d++;
	return d;
}

/* A multipart with no part at all cannot be shown as one (RFC 3501
 * body-type-mpart needs one body): it becomes text. */
static void close_multipart(struct mime_part *part)
{
	if (strcmp(part->type, "multipart") == 0 && part->n_children == 0)
		set_type(part, "text", "plain");
}

/* Close every open part inside frame k, which stays open. */
static void close_inside(struct parser *p, size_t k, size_t end, size_t lfs)
{
	struct mime_part *top = p->frames[k].part;

	for (struct mime_part *q = p->cur; q != NULL && q != top;
	     q = q->parent) {
		close_part(p, q, end, lfs);
		close_multipart(q);
	}
	for (size_t i = k + 1; i < p->nframes; i++)
		xfree(&p->bounds[i]);
	p->nframes = k + 1;
	p->cur = top;
}

/* A boundary line of frame k at p->pos, ending at next. */
static void on_boundary(struct parser *p, size_t k, bool close, size_t next)
{
	struct frame *f = &p->frames[k];
	size_t eol = eol_before(p, p->pos);
	/* RFC 2046 5.1.1: the line end before a boundary belongs to it. */
	size_t end = p->pos - eol, lfs = p->lines - (eol > 0);

	close_inside(p, k, end, lfs);
	if (p->msg[next - 1] == '\n')
		p->lines++;
	p->pos = next;
	if (close) {
		/* The rest up to an outer boundary is the epilogue. */
		xfree(&p->bounds[k]);
		p->nframes = k;
		return;
	}
	{
		struct mime_part *child = xcalloc(1, sizeof(*child));

		add_child(f->part, child, &f->last);
		start_part(p, child, depth_of(child));
	}
}

struct mime_part *mime_parse(const char *msg, size_t len)
{
	struct parser p = {.msg = msg, .len = len};
	struct mime_part *root = xcalloc(1, sizeof(*root));

	start_part(&p, root, 0);
	while (p.pos < p.len) {
		size_t next = next_line(&p, p.pos);
		bool close = false;
		int k = p.nframes > 0 ? match_boundary(&p, p.pos, next, &close)
				      : -1;

		/* Past MIME_PARTS_MAX a boundary is text of the last part. */
		if (k >= 0 && (close || p.nparts < MIME_PARTS_MAX)) {
			on_boundary(&p, (size_t)k, close, next);
			continue;
		}
		if (msg[next - 1] == '\n')
			p.lines++;
		p.pos = next;
	}
	for (struct mime_part *q = p.cur; q != NULL; q = q->parent) {
		close_part(&p, q, len, p.lines);
		close_multipart(q);
	}
	for (size_t i = 0; i < p.nframes; i++)
		free(p.bounds[i]);
	return root;
}

void mime_free(struct mime_part **rootp)
{
	struct mime_part *part = *rootp, *child, *next;

	if (part == NULL)
		return;
	for (child = part->children; child != NULL; child = next) {
		next = child->next;
		mime_free(&child);
	}
	free(part->type);
	free(part->subtype);
	free(part->encoding);
	free(part);
	*rootp = NULL;
}

static bool is_type(const struct mime_part *part, const char *type,
		    const char *subtype)
{
	return strcmp(part->type, type) == 0 &&
	       (subtype == NULL || strcmp(part->subtype, subtype) == 0);
}

static const struct mime_part *nth_child(const struct mime_part *part,
					 unsigned long n)
{
	const struct mime_part *c = part->children;

	while (c != NULL && --n > 0)
		c = c->next;
	return c;
}

/* RFC 3501 6.4.5: number n inside the message whose root is msg. */
static const struct mime_part *in_message(const struct mime_part *msg,
					  unsigned long n)
{
	if (is_type(msg, "multipart", NULL))
		return nth_child(msg, n);
	return n == 1 ? msg : NULL;
}

const struct mime_part *mime_section(const struct mime_part *root,
				     const char *section)
{
	const struct mime_part *part = root;
	const char *s = section;
	bool first = true;

	if (*s == '\0')
		return root;
	for (;;) {
		unsigned long n = 0;

		if (*s < '1' || *s > '9')
			return NULL;
		for (; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (unsigned long)(*s - '0');
			if (n > MIME_PARTS_MAX)
				return NULL;
		}
		if (first)
			part = in_message(part, n);
		else if (is_type(part, "multipart", NULL))
			part = nth_child(part, n);
		else if (is_type(part, "message", "rfc822"))
			part = in_message(part->children, n);
		else
			part = NULL;
		first = false;
		if (part == NULL || *s == '\0')
			return part;
		if (*s++ != '.')
			return NULL;
	}
}
