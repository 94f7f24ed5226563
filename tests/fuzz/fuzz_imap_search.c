/*
 * libFuzzer target for imap/search: the SEARCH program parser and the
 * evaluator.
 *
 * The input is the arguments of a SEARCH command as they follow
 * "t SEARCH" on the wire (literals included), then optionally a NUL and
 * a message: a program that parses is matched against that message
 * under four sets of metadata, so hostile programs meet hostile
 * content, once from the message and once, when the program allows it,
 * from the block of cached fields the store would keep (the fields
 * filtered by mail/mime.h's mime_header_fields, then the blank line).
 * Checks: a failed parse says why and leaves nothing; a match is 0 or 1,
 * the same from either source, and the message is loaded at most once
 * per evaluation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/search.h"
#include "mail/mime.h"
#include "fuzz.h"

struct msg_src {
	const char *data;
	size_t len;
	unsigned loads;
};

/* A few of the store's cached fields (store_fields.c). */
static char *const cached[] = {"Date", "From", "Subject", "To"};
/* What "$" stands for. */
static const uint32_t saved[] = {2, 3, 7};

static bool is_cached(const char *name)
{
	for (size_t i = 0; i < sizeof(cached) / sizeof(cached[0]); i++)
		if (strcasecmp(cached[i], name) == 0)
			return true;
	return false;
}

/* The cached block of a message: its fields of cached[], then its
 * blank line, as store_fields_extract builds it. */
static int load_fields(const struct msg_src *src, char **data_r, size_t *len_r)
{
	struct mime_part *root = mime_parse(src->data, src->len);
	size_t blank = root->body_off - (root->hdr_off + root->hdr_len), o;
	char *out = malloc(root->hdr_len + blank + 1);

	CHECK(out != NULL);
	mime_header_fields(src->data + root->hdr_off, root->hdr_len, cached,
			   sizeof(cached) / sizeof(cached[0]), false, out, &o);
	CHECK(o <= root->hdr_len);
	memcpy(out + o, src->data + root->hdr_off + root->hdr_len, blank);
	mime_free(&root);
	*data_r = out;
	*len_r = o + blank;
	return 0;
}

static int load(void *ctx, const struct search_msg *m, enum search_need need,
		char **data_r, size_t *len_r)
{
	struct msg_src *src = ctx;

	size_t len;

	(void)m;
	src->loads++;
	if (src->data == NULL)
		return -1;
	if (need == SEARCH_NEED_FIELDS)
		return load_fields(src, data_r, len_r);
	len = src->len;
	if (need != SEARCH_NEED_ALL) {
		/* As the store: up to and including the empty line. */
		const char *end = memmem(src->data, src->len, "\r\n\r\n", 4);

		if (end != NULL)
			len = (size_t)(end - src->data) + 4;
	}
	/* An exact-size copy: ASan sees any read past it. */
	*data_r = malloc(len ? len : 1);
	CHECK(*data_r != NULL);
	memcpy(*data_r, src->data, len);
	*len_r = len;
	return 0;
}

static void evaluate(const struct search_program *p, struct msg_src *src,
		     int *results)
{
	static const struct search_msg msgs[] = {
		{.seq = 1, .uid = 1, .flags = 0, .size = 0},
		{.seq = 2,
		 .uid = 7,
		 .flags = 0x1f,
		 .keywords = "$a b",
		 .recent = true,
		 .modseq = 9,
		 .internaldate = 1600000000,
		 .size = 5000},
		{.seq = 3,
		 .uid = 4000000000u,
		 .flags = 0x5,
		 .keywords = "x",
		 .modseq = UINT64_MAX >> 1,
		 .internaldate = -86401,
		 .size = UINT64_MAX},
		{.seq = 4, .uid = UINT32_MAX, .internaldate = 0},
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		int r;

		src->loads = 0;
		r = search_match(p, &msgs[i], load, src);
		CHECK(r == 0 || r == 1);
		if (results[i] >= 0)
			CHECK(r == results[i]); /* fields block == message */
		results[i] = r;
		CHECK(src->loads <= 1);
		CHECK(p->needs_content || src->loads == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "t SEARCH";
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul != NULL ? (size_t)(nul - data) : size;
	char *in = malloc(sizeof(head) - 1 + plen);
	struct msg_src src = {NULL, 0, 0};
	struct search_program *p = NULL;
	struct imap_args a;
	const char *tag, *name;
	int r;

	CHECK(in != NULL);
	memcpy(in, head, sizeof(head) - 1);
	memcpy(in + sizeof(head) - 1, data, plen);
	if (nul != NULL) {
		src.data = (const char *)nul + 1;
		src.len = size - plen - 1;
	}
	imap_args_init(&a, in, sizeof(head) - 1 + plen);
	/* Input not starting with SP runs into the command name. */
	if (imap_args_command(&a, &tag, &name) < 0)
		goto out;
	r = search_parse(&a, &p);
	CHECK(r == 0 || r == -1 || r == SEARCH_ERR_CHARSET);
	CHECK((r == 0) == (p != NULL));
	if (r == -1)
		CHECK(imap_args_error(&a)[0] != '\0');
	if (r == 0 && imap_args_finish(&a) == 0) {
		int results[4] = {-1, -1, -1, -1};

		search_prepare(p, 4, UINT32_MAX, saved, 3);
		evaluate(p, &src, results);
		search_use_fields(p, is_cached);
		if (p->need == SEARCH_NEED_FIELDS)
			evaluate(p, &src, results);
	}
	search_program_free(&p);
out:
	imap_args_fini(&a);
	free(in);
	return 0;
}
