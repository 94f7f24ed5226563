/*
 * FETCH's data item list and modifiers (RFC 3501 6.4.5 and 9 "fetch-att",
 * RFC 9051 6.4.5 BINARY, RFC 4466 2.4 fetch modifiers, RFC 7162 3.1.4.1
 * CHANGEDSINCE and 3.2.6 VANISHED). Pure: no I/O, no session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/cmd_fetch.h"
#include "lib/mem.h"

static int fail(struct imap_args *a, const char *error)
{
	a->error = error;
	return -1;
}

static struct imap_fetch_item *add_item(struct imap_args *a,
					struct imap_fetch_req *req,
					enum imap_fetch_att att)
{
	struct imap_fetch_item *it;

	if (req->n >= IMAP_FETCH_ITEMS_MAX) {
		fail(a, "Too many FETCH items");
		return NULL;
	}
	req->items = xrealloc(req->items, (req->n + 1) * sizeof(*req->items));
	it = &req->items[req->n++];
	memset(it, 0, sizeof(*it));
	it->att = att;
	it->part = xstrdup("");
	switch (att) {
	case IMAP_FETCH_UID:
		req->has_uid = true;
		break;
	case IMAP_FETCH_FLAGS:
		req->has_flags = true;
		break;
	case IMAP_FETCH_MODSEQ:
		req->has_modseq = true;
		break;
	default:
		break;
	}
	return it;
}

/*
 * The part number and text of a section spec atom: "1.2.MIME", "HEADER",
 * "3.TEXT", "2". Returns -1 when it fits no rule of RFC 9051 9
 * section-spec (MIME needs a part; binary allows only numbers).
 */
static int section_spec(const char *spec, bool binary, char **part_r,
			enum imap_fetch_text *text_r)
{
	static const struct {
		const char *name;
		enum imap_fetch_text text;
	} texts[] = {
		{"HEADER", IMAP_FETCH_TEXT_HEADER},
		{"HEADER.FIELDS", IMAP_FETCH_TEXT_FIELDS},
		{"HEADER.FIELDS.NOT", IMAP_FETCH_TEXT_FIELDS_NOT},
		{"TEXT", IMAP_FETCH_TEXT_TEXT},
		{"MIME", IMAP_FETCH_TEXT_MIME},
	};
	const char *p = spec;
	size_t part_len = 0;

	/* section-part = nz-number *("." nz-number) */
	while (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		part_len = (size_t)(p - spec);
		if (*p != '.')
			break;
		p++;
	}
	if (*p != '\0' && part_len > 0 && p[-1] != '.')
		return -1;
	*part_r = xstrndup(spec, part_len);
	*text_r = IMAP_FETCH_TEXT_NONE;
	if (*p == '\0')
		return p > spec && p[-1] == '.' ? -1 : 0;
	if (binary)
		return -1;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (strcasecmp(p, texts[i].name) != 0)
			continue;
		if (texts[i].text == IMAP_FETCH_TEXT_MIME && part_len == 0)
			return -1;
		*text_r = texts[i].text;
		return 0;
	}
	return -1;
}

static const char *text_name(enum imap_fetch_text t)
{
	switch (t) {
	case IMAP_FETCH_TEXT_HEADER:
		return "HEADER";
	case IMAP_FETCH_TEXT_FIELDS:
		return "HEADER.FIELDS";
	case IMAP_FETCH_TEXT_FIELDS_NOT:
		return "HEADER.FIELDS.NOT";
	case IMAP_FETCH_TEXT_TEXT:
		return "TEXT";
	case IMAP_FETCH_TEXT_MIME:
		return "MIME";
	default:
		return "";
	}
}

/* A growing string for the response label; bounded by the command. */
struct label {
	char *p;
	size_t len, cap;
};

static void label_add(struct label *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		l->cap = (l->len + n + 1) * 2;
		l->p = xrealloc(l->p, l->cap);
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static void label_str(struct label *l, const char *s)
{
	label_add(l, s, strlen(s));
}

/* A header name in the label: bare when atom-safe, else quoted. */
static void label_field(struct label *l, const char *f)
{
	bool atom = f[0] != '\0';

	for (const char *c = f; atom && *c != '\0'; c++)
		atom = (unsigned char)*c > ' ' && (unsigned char)*c < 0x7f &&
		       strchr("(){%*\"\\]", *c) == NULL;
	if (atom) {
		label_str(l, f);
		return;
	}
	label_add(l, "\"", 1);
	for (const char *c = f; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			label_add(l, "\\", 1);
		label_add(l, c, 1);
	}
	label_add(l, "\"", 1);
}

/* "BODY[1.HEADER.FIELDS (A B)]" for the response. */
static char *section_label(const char *name, const struct imap_fetch_item *it)
{
	struct label l = {NULL, 0, 0};

	label_str(&l, name);
	label_add(&l, "[", 1);
	label_str(&l, it->part);
	if (it->part[0] != '\0' && it->text != IMAP_FETCH_TEXT_NONE)
		label_add(&l, ".", 1);
	label_str(&l, text_name(it->text));
	if (it->n_fields > 0) {
		label_add(&l, " (", 2);
		for (size_t i = 0; i < it->n_fields; i++) {
			if (i > 0)
				label_add(&l, " ", 1);
			label_field(&l, it->fields[i]);
		}
		label_add(&l, ")", 1);
	}
	label_add(&l, "]", 1);
	return l.p;
}

/* "(" header-fld-name *(SP header-fld-name) ")" (RFC 3501 9). */
static int header_list(struct imap_args *a, struct imap_fetch_item *it)
{
	if (imap_args_list_open(a) < 0)
		return -1;
	do {
		const char *f;
		size_t len;

		if (it->n_fields >= IMAP_FETCH_FIELDS_MAX)
			return fail(a, "Too many header names");
		if (imap_args_astring(a, &f, &len) < 0)
			return -1;
		if (len == 0 || strpbrk(f, ": \t\r\n") != NULL)
			return fail(a, "Invalid header field name");
		it->fields = xrealloc(it->fields,
				      (it->n_fields + 1) * sizeof(*it->fields));
		it->fields[it->n_fields++] = xstrdup(f);
	} while (!imap_args_at_end(a));
	return imap_args_list_close(a);
}

/* "<" number "." nz-number ">" right after the section. */
static int partial(struct imap_args *a, struct imap_fetch_item *it)
{
	if (!imap_args_peek(a, '<'))
		return 0;
	if (imap_args_char(a, '<') < 0 || imap_args_number(a, &it->start) < 0 ||
	    imap_args_char(a, '.') < 0 ||
	    imap_args_nz_number(a, &it->count) < 0 ||
	    imap_args_char(a, '>') < 0)
		return fail(a, "Invalid partial <start.count>");
	it->partial = true;
	return 0;
}

/* The "[...]<...>" after BODY, BODY.PEEK, BINARY... */
static int section(struct imap_args *a, struct imap_fetch_req *req,
		   const char *name, enum imap_fetch_att att, bool peek)
{
	bool binary = att != IMAP_FETCH_SECTION;
	struct imap_fetch_item *it = add_item(a, req, att);
	const char *spec = "";

	if (it == NULL)
		return -1;
	it->peek = peek || att == IMAP_FETCH_BINARY_SIZE;
	if (imap_args_char(a, '[') < 0)
		return -1;
	if (!imap_args_peek(a, ']') && imap_args_atom(a, &spec) < 0)
		return -1;
	free(it->part);
	it->part = NULL;
	if (section_spec(spec, binary, &it->part, &it->text) < 0) {
		if (it->part == NULL)
			it->part = xstrdup("");
		return fail(a, "Invalid section");
	}
	if ((it->text == IMAP_FETCH_TEXT_FIELDS ||
	     it->text == IMAP_FETCH_TEXT_FIELDS_NOT) &&
	    header_list(a, it) < 0)
		return -1;
	if (imap_args_char(a, ']') < 0)
		return fail(a, "Missing ] after the section");
	if (att != IMAP_FETCH_BINARY_SIZE && partial(a, it) < 0)
		return -1;
	it->label = section_label(name, it);
	req->needs_text = true;
	if (!it->peek)
		req->sets_seen = true;
	return 0;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT: BODY[], BODY.PEEK[HEADER], BODY[TEXT]
 * under their own names (RFC 3501 6.4.5). */
static int rfc822(struct imap_args *a, struct imap_fetch_req *req,
		  const char *label, enum imap_fetch_text text, bool peek)
{
	struct imap_fetch_item *it = add_item(a, req, IMAP_FETCH_SECTION);

	if (it == NULL)
		return -1;
	it->label = xstrdup(label);
	it->text = text;
	it->peek = peek;
	req->needs_text = true;
	if (!peek)
		req->sets_seen = true;
	return 0;
}

/* The item called name (already read, up to any "["). */
static int item_named(struct imap_args *a, struct imap_fetch_req *req,
		      const char *name)
{
	static const struct {
		const char *name;
		enum imap_fetch_att att;
	} simple[] = {
		{"UID", IMAP_FETCH_UID},
		{"FLAGS", IMAP_FETCH_FLAGS},
		{"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
		{"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
		{"ENVELOPE", IMAP_FETCH_ENVELOPE},
		{"BODY", IMAP_FETCH_BODY},
		{"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
		{"MODSEQ", IMAP_FETCH_MODSEQ},
	};

	if (imap_args_peek(a, '[')) {
		if (strcasecmp(name, "BODY") == 0)
			return section(a, req, "BODY", IMAP_FETCH_SECTION,
				       false);
		if (strcasecmp(name, "BODY.PEEK") == 0)
			return section(a, req, "BODY", IMAP_FETCH_SECTION,
				       true);
		if (strcasecmp(name, "BINARY") == 0)
			return section(a, req, "BINARY", IMAP_FETCH_BINARY,
				       false);
		if (strcasecmp(name, "BINARY.PEEK") == 0)
			return section(a, req, "BINARY", IMAP_FETCH_BINARY,
				       true);
		if (strcasecmp(name, "BINARY.SIZE") == 0)
			return section(a, req, "BINARY.SIZE",
				       IMAP_FETCH_BINARY_SIZE, true);
		return fail(a, "Invalid FETCH item");
	}
	if (strcasecmp(name, "RFC822") == 0)
		return rfc822(a, req, "RFC822", IMAP_FETCH_TEXT_NONE, false);
	if (strcasecmp(name, "RFC822.HEADER") == 0)
		return rfc822(a, req, "RFC822.HEADER", IMAP_FETCH_TEXT_HEADER,
			      true);
	if (strcasecmp(name, "RFC822.TEXT") == 0)
		return rfc822(a, req, "RFC822.TEXT", IMAP_FETCH_TEXT_TEXT,
			      false);
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(name, simple[i].name) == 0)
			return add_item(a, req, simple[i].att) != NULL ? 0 : -1;
	return fail(a, "Invalid FETCH item");
}

/* ALL, FAST, FULL (RFC 3501 6.4.5): only on their own. 1 when name is
 * one, 0 when not, -1 on error. */
static int macro(struct imap_args *a, struct imap_fetch_req *req,
		 const char *name)
{
	static const enum imap_fetch_att full[] = {
		IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE,
		IMAP_FETCH_RFC822_SIZE, IMAP_FETCH_ENVELOPE, IMAP_FETCH_BODY};
	size_t n;

	if (imap_args_peek(a, '['))
		return 0;
	if (strcasecmp(name, "FAST") == 0)
		n = 3;
	else if (strcasecmp(name, "ALL") == 0)
		n = 4;
	else if (strcasecmp(name, "FULL") == 0)
		n = 5;
	else
		return 0;
	for (size_t i = 0; i < n; i++)
		if (add_item(a, req, full[i]) == NULL)
			return -1;
	return 1;
}

/* "(" CHANGEDSINCE n [SP VANISHED] ")" in any order (RFC 4466 2.4). */
static int modifiers(struct imap_args *a, bool uid, bool qresync,
		     struct imap_fetch_req *req)
{
	if (imap_args_list_open(a) < 0)
		return -1;
	do {
		const char *name;

		if (imap_args_atom(a, &name) < 0)
			return -1;
		if (strcasecmp(name, "CHANGEDSINCE") == 0) {
			if (req->changedsince_given)
				return fail(a, "CHANGEDSINCE given twice");
			if (imap_args_number64(a, &req->changedsince) < 0)
				return -1;
			req->changedsince_given = true;
		} else if (strcasecmp(name, "VANISHED") == 0) {
			/* RFC 7162 3.2.6: BAD for FETCH, or without
			 * ENABLE QRESYNC. */
			if (!uid)
				return fail(a, "VANISHED needs UID FETCH");
			if (!qresync)
				return fail(a, "VANISHED needs ENABLE QRESYNC");
			req->vanished = true;
		} else {
			return fail(a, "Unknown FETCH modifier");
		}
	} while (!imap_args_at_end(a));
	if (imap_args_list_close(a) < 0)
		return -1;
	if (req->vanished && !req->changedsince_given)
		return fail(a, "VANISHED needs CHANGEDSINCE");
	return 0;
}

/* Put UID first (UID FETCH), add MODSEQ (CHANGEDSINCE). */
static int implied_items(struct imap_args *a, bool uid,
			 struct imap_fetch_req *req)
{
	if (uid && !req->has_uid) {
		if (add_item(a, req, IMAP_FETCH_UID) == NULL)
			return -1;
		/* Move it to the front: clients read UID first. */
		struct imap_fetch_item tmp = req->items[req->n - 1];

		memmove(req->items + 1, req->items,
			(req->n - 1) * sizeof(*req->items));
		req->items[0] = tmp;
	}
	/* RFC 7162 3.1.4.1 */
	if (req->changedsince_given && !req->has_modseq &&
	    add_item(a, req, IMAP_FETCH_MODSEQ) == NULL)
		return -1;
	return 0;
}

int imap_fetch_parse(struct imap_args *a, bool uid, bool qresync,
		     struct imap_fetch_req *req)
{
	const char *name;
	int r;

	memset(req, 0, sizeof(*req));
	if (imap_args_is_list(a)) {
		if (imap_args_list_open(a) < 0)
			return -1;
		do {
			if (imap_args_atom_until(a, "[", &name) < 0)
				return fail(a, "Invalid FETCH item");
			if (item_named(a, req, name) < 0)
				return -1;
		} while (!imap_args_at_end(a));
		if (imap_args_list_close(a) < 0)
			return -1;
	} else {
		if (imap_args_atom_until(a, "[", &name) < 0)
			return fail(a, "Invalid FETCH item");
		r = macro(a, req, name);
		if (r < 0 || (r == 0 && item_named(a, req, name) < 0))
			return -1;
	}
	if (!imap_args_at_end(a) && modifiers(a, uid, qresync, req) < 0)
		return -1;
	if (imap_args_finish(a) < 0)
		return -1;
	return implied_items(a, uid, req);
}

void imap_fetch_req_free(struct imap_fetch_req *req)
{
	for (size_t i = 0; i < req->n; i++) {
		struct imap_fetch_item *it = &req->items[i];

		free(it->label);
		free(it->part);
		for (size_t j = 0; j < it->n_fields; j++)
			free(it->fields[j]);
		free(it->fields);
	}
	free(req->items);
	memset(req, 0, sizeof(*req));
}
