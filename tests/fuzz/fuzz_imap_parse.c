/*
 * libFuzzer target for imap/parse.
 *
 * The input is one command as the session collects it (lines and
 * literals, no final CRLF). It is read three ways: generically (tag,
 * name, then every argument skipped), with each typed reader tried at the
 * first argument, and as a literal announcement. Each result must keep
 * its promises: failures leave the cursor where it was with a sentence,
 * strings are NUL-terminated and no longer than the input, resolved
 * sequence sets are sorted and disjoint.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/parse.h"
#include "fuzz.h"

static void walk(const char *in, size_t len)
{
	struct imap_args a;
	const char *tag, *name;
	int ret;

	imap_args_init(&a, in, len);
	ret = imap_args_command(&a, &tag, &name);
	CHECK(tag != NULL && strlen(tag) <= IMAP_TAG_MAX);
	if (ret == 0)
		CHECK(strlen(name) <= IMAP_NAME_MAX);
	while (ret == 0 && !imap_args_at_end(&a)) {
		const char *p = a.p;

		ret = imap_args_skip(&a);
		CHECK(ret == 0 ? a.p > p : imap_args_error(&a)[0] != '\0');
	}
	if (ret == 0)
		(void)imap_args_finish(&a);
	imap_args_fini(&a);
}

static void check_seqset(struct imap_seqset *set)
{
	imap_seqset_resolve(set, 1000);
	for (size_t i = 0; i < set->n; i++) {
		CHECK(set->ranges[i].lo >= 1);
		CHECK(set->ranges[i].lo <= set->ranges[i].hi);
		if (i > 0)
			CHECK(set->ranges[i].lo > set->ranges[i - 1].hi + 1);
	}
}

/* Try one typed reader at the start; a failure must not move. */
static void typed(const char *in, size_t len, int which)
{
	struct imap_args a;
	const char *s = NULL;
	size_t n = 0;
	uint32_t u;
	uint64_t u64;
	time_t t;
	unsigned flags;
	bool b;
	struct imap_seqset set;
	int ret = -1;

	imap_args_init(&a, in, len);
	switch (which) {
	case 0:
		ret = imap_args_astring(&a, &s, &n);
		break;
	case 1:
		ret = imap_args_nstring(&a, &s, &n);
		break;
	case 2:
		ret = imap_args_list_mailbox(&a, &s);
		break;
	case 3:
		ret = imap_args_seqset(&a, &set);
		if (ret == 0)
			check_seqset(&set);
		break;
	case 4:
		ret = imap_args_flags(&a, true, &flags, &s);
		break;
	case 5:
		ret = imap_args_date(&a, &t);
		break;
	case 6:
		ret = imap_args_datetime(&a, &t);
		break;
	case 7:
		ret = imap_args_number64(&a, &u64);
		break;
	case 8:
		ret = imap_args_nz_number(&a, &u);
		break;
	case 9:
		ret = imap_args_message(&a, &s, &n, &b);
		if (ret == 0)
			CHECK(s >= in && s + n <= in + len);
		s = NULL;
		break;
	case 10:
		ret = imap_args_skip(&a);
		break;
	}
	if (ret != 0) {
		CHECK(a.p == in);
		CHECK(imap_args_error(&a)[0] != '\0');
	} else if (s != NULL) {
		CHECK(strlen(s) <= len);
	}
	imap_args_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan sees any read past it. */
	char *in = malloc(size ? size : 1);
	char tag[IMAP_TAG_MAX + 1], name[IMAP_NAME_MAX + 1];
	uint64_t lit;
	bool nonsync;

	CHECK(in != NULL);
	memcpy(in, data, size);
	walk(in, size);
	for (int which = 0; which <= 10; which++)
		typed(in, size, which);
	if (imap_literal_announce(in, size, &lit, &nonsync) == 1)
		CHECK(lit <= UINT32_MAX);
	/* Pattern and name split at the first NUL: bounded work. */
	if (size > 0 && in[size - 1] == '\0' && strlen(in) + 1 < size) {
		const char *pat = in, *mbox = in + strlen(in) + 1;

		(void)imap_list_match(pat, mbox);
		CHECK(imap_list_match("*", mbox));
	}
	imap_peek_command(in, size, tag, name);
	CHECK(strlen(tag) <= IMAP_TAG_MAX && strlen(name) <= IMAP_NAME_MAX);
	free(in);
	return 0;
}
