/*
 * libFuzzer target for mail/mime.
 *
 * Input: the message. It is parsed; then ENVELOPE, BODY and
 * BODYSTRUCTURE are written for the root and for every message/rfc822
 * part, and every part is looked up by its section number. Checks: each
 * part lies inside its parent and the message, the limits hold, every
 * section number names the part it was made from, and every string
 * written is well-formed IMAP (balanced lists, quoted strings with only
 * escaped quotes and backslashes and no CR, LF or 8-bit, literals whose
 * count is right). Header values also go through mime_header_get and
 * mime_decode_words, whose output must be valid UTF-8; each leaf body
 * through mime_decode_body, whose text output must be too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "mail/mime.h"
#include "fuzz.h"

/* One IMAP value at s[*i]; returns false when it is not well-formed. */
static bool imap_value(const char *s, size_t len, size_t *i)
{
	if (*i >= len)
		return false;
	if (s[*i] == '(') {
		(*i)++;
		for (bool first = true; *i < len && s[*i] != ')';
		     first = false) {
			/* Bodies and addresses follow each other with no
			 * space: "(...)(...)". */
			if (!first && s[*i] == ' ')
				(*i)++;
			else if (!first && (s[*i] != '(' || s[*i - 1] != ')'))
				return false;
			if (!imap_value(s, len, i))
				return false;
		}
		return *i < len && s[(*i)++] == ')';
	}
	if (s[*i] == '"') {
		for ((*i)++; *i < len && s[*i] != '"'; (*i)++) {
			unsigned char c = (unsigned char)s[*i];

			if (c == '\\') {
				(*i)++;
				if (*i >= len ||
				    (s[*i] != '"' && s[*i] != '\\'))
					return false;
			} else if (c == '\r' || c == '\n' || c == 0 ||
				   c >= 0x80) {
				return false;
			}
		}
		return *i < len && s[(*i)++] == '"';
	}
	if (s[*i] == '{') {
		size_t n = 0;

		for ((*i)++; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
			n = n * 10 + (size_t)(s[*i] - '0');
		if (*i + 3 > len || memcmp(s + *i, "}\r\n", 3) != 0)
			return false;
		*i += 3;
		if (n > len - *i || memchr(s + *i, '\0', n) != NULL)
			return false;
		*i += n;
		return true;
	}
	if (len - *i >= 3 && memcmp(s + *i, "NIL", 3) == 0) {
		*i += 3;
		return true;
	}
	if (s[*i] >= '0' && s[*i] <= '9') {
		while (*i < len && s[*i] >= '0' && s[*i] <= '9')
			(*i)++;
		return true;
	}
	return false;
}

static void check_imap(char *s)
{
	size_t i = 0, len = strlen(s);

	CHECK(s[0] == '(');
	CHECK(imap_value(s, len, &i));
	CHECK(i == len);
	free(s);
}

static void check_utf8(char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, len - i);

		CHECK(k > 0);
		i += k;
	}
	free(s);
}

static void check_headers(const struct mime_part *p, const char *msg)
{
	static const char *const names[] = {"subject", "from", "content-type",
					    "x-none"};

	for (size_t i = 0; i < 4; i++) {
		char *v =
			mime_header_get(msg + p->hdr_off, p->hdr_len, names[i]);

		if (v != NULL) {
			check_utf8(mime_decode_words(v, strlen(v)));
			free(v);
		}
	}
}

static size_t nparts;

static bool is_message(const struct mime_part *p)
{
	return strcmp(p->type, "message") == 0 &&
	       strcmp(p->subtype, "rfc822") == 0;
}

/* Every part lies inside its parent and the message. */
static void walk(const struct mime_part *p, const char *msg, size_t len,
		 size_t depth)
{
	size_t n = 0;

	nparts++;
	CHECK(depth <= MIME_DEPTH_MAX);
	CHECK(p->hdr_off <= len && p->hdr_len <= len - p->hdr_off);
	CHECK(p->body_off >= p->hdr_off + p->hdr_len);
	CHECK(p->body_off <= len && p->body_len <= len - p->body_off);
	CHECK(p->type != NULL && p->subtype != NULL && p->encoding != NULL);
	CHECK(p->body_lines <= p->body_len);
	if (p->parent != NULL) {
		CHECK(p->hdr_off >= p->parent->body_off);
		CHECK(p->body_off + p->body_len <=
		      p->parent->body_off + p->parent->body_len);
	}
	if (strcmp(p->type, "multipart") == 0)
		CHECK(p->n_children > 0);
	if (is_message(p)) {
		CHECK(p->n_children == 1);
		check_imap(mime_envelope(p->children, msg));
	}
	check_headers(p, msg);
	if (p->n_children == 0) {
		size_t dn = 0;
		char *s = mime_decode_body(p, msg, false, &dn);

		CHECK(dn <= p->body_len && s[dn] == '\0');
		free(s);
		s = mime_decode_body(p, msg, true, &dn);
		CHECK(s[dn] == '\0');
		if (strcmp(p->type, "text") == 0 && strlen(s) == dn)
			check_utf8(s);
		else
			free(s);
	}
	for (const struct mime_part *c = p->children; c != NULL; c = c->next) {
		CHECK(c->parent == p);
		n++;
		walk(c, msg, len, depth + 1);
	}
	CHECK(n == p->n_children);
}

static void message_sections(const struct mime_part *root,
			     const struct mime_part *q, char *sec);

/* RFC 3501 6.4.5: the parts inside p, whose number is sec. */
static void part_sections(const struct mime_part *root,
			  const struct mime_part *p, char *sec)
{
	size_t sl = strlen(sec), n = 0;

	if (is_message(p)) {
		message_sections(root, p->children, sec);
		return;
	}
	if (strcmp(p->type, "multipart") != 0)
		return;
	for (const struct mime_part *c = p->children; c != NULL; c = c->next) {
		snprintf(sec + sl, 16, "%s%zu", sl > 0 ? "." : "", ++n);
		CHECK(mime_section(root, sec) == c);
		part_sections(root, c, sec);
		sec[sl] = '\0';
	}
}

/* The parts of message q (the root, or a message/rfc822's message) whose
 * numbers start with sec: a multipart's parts, else q itself is part 1. */
static void message_sections(const struct mime_part *root,
			     const struct mime_part *q, char *sec)
{
	size_t sl = strlen(sec);

	if (strcmp(q->type, "multipart") == 0) {
		part_sections(root, q, sec);
		return;
	}
	snprintf(sec + sl, 16, "%s1", sl > 0 ? "." : "");
	CHECK(mime_section(root, sec) == q);
	part_sections(root, q, sec);
	sec[sl] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = malloc(size ? size : 1);
	char sec[16 * (2 * MIME_DEPTH_MAX + 2)] = "";
	struct mime_part *root;

	CHECK(msg != NULL);
	memcpy(msg, data, size);
	root = mime_parse(msg, size);
	CHECK(root != NULL && root->parent == NULL);
	nparts = 0;
	walk(root, msg, size, 0);
	message_sections(root, root, sec);
	CHECK(nparts <= MIME_PARTS_MAX);
	check_imap(mime_envelope(root, msg));
	check_imap(mime_bodystructure(root, msg, false));
	check_imap(mime_bodystructure(root, msg, true));
	CHECK(mime_section(root, "") == root);
	{
		/* Any string as a section number: a part of the tree or
		 * NULL. */
		char any[24];
		size_t n = size < sizeof(any) - 1 ? size : sizeof(any) - 1;
		const struct mime_part *p;

		memcpy(any, data, n);
		any[n] = '\0';
		p = mime_section(root, any);
		while (p != NULL && p->parent != NULL)
			p = p->parent;
		CHECK(p == NULL || p == root);
	}
	mime_free(&root);
	CHECK(root == NULL);
	free(msg);
	return 0;
}
