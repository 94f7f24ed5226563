/*
 * libFuzzer target for the FETCH item parser and section extraction
 * (imap/cmd_fetch.h).
 *
 * Input: one flags octet (bit 0: UID FETCH, bit 1: QRESYNC enabled), then
 * the item list as it follows the sequence set, then optionally a NUL and
 * a message. The list is parsed; when it parses, every section item is
 * cut from the message. Promises checked: a failure leaves a sentence; a
 * section lies inside the message or inside the buffer it returned, and
 * a partial window lies inside the section.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/cmd_fetch.h"
#include "mail/mime.h"
#include "fuzz.h"

static void sections(const struct imap_fetch_req *q, const char *msg,
		     size_t len)
{
	struct mime_part *root = mime_parse(msg, len);

	for (size_t i = 0; i < q->n; i++) {
		const struct imap_fetch_item *it = &q->items[i];
		const char *d;
		size_t n, off, pn;
		char *owned;
		int r;

		if (it->att != IMAP_FETCH_SECTION &&
		    it->att != IMAP_FETCH_BINARY &&
		    it->att != IMAP_FETCH_BINARY_SIZE)
			continue;
		CHECK(it->label != NULL && it->part != NULL);
		r = imap_fetch_section(msg, len, root, it, &d, &n, &owned);
		CHECK(r >= -1 && r <= 1);
		if (r == 0) {
			if (owned == NULL)
				CHECK(d >= msg && n <= len &&
				      (size_t)(d - msg) <= len - n);
			else
				CHECK(d == owned);
			/* Touch every octet so ASan sees a bad span. */
			for (size_t k = 0; k < n; k++)
				CHECK(d[k] == d[k]);
			imap_fetch_partial(n, it->start, it->count, &off, &pn);
			CHECK(off <= n && pn <= n - off);
		}
		free(owned);
	}
	mime_free(&root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1, *nul;
	size_t items_len, msg_len = 0;
	struct imap_fetch_req q;
	struct imap_args a;
	char *items, *msg = NULL;
	int ret;

	if (size < 1)
		return 0;
	nul = memchr(in, '\0', size - 1);
	items_len = nul != NULL ? (size_t)(nul - in) : size - 1;
	/* Exact-size copies: any read past either end is seen. */
	items = malloc(items_len ? items_len : 1);
	memcpy(items, in, items_len);
	if (nul != NULL) {
		msg_len = size - 1 - items_len - 1;
		msg = malloc(msg_len ? msg_len : 1);
		memcpy(msg, nul + 1, msg_len);
	}
	imap_args_init(&a, items, items_len);
	ret = imap_fetch_parse(&a, data[0] & 1, data[0] & 2, &q);
	CHECK(ret == 0 || ret == -1);
	if (ret < 0)
		CHECK(imap_args_error(&a)[0] != '\0');
	else {
		CHECK(q.n >= 1 && q.n <= IMAP_FETCH_ITEMS_MAX + 2);
		if (data[0] & 1)
			CHECK(q.has_uid);
		if (q.vanished)
			CHECK((data[0] & 3) == 3 && q.changedsince_given);
		if (msg != NULL)
			sections(&q, msg, msg_len);
	}
	imap_fetch_req_free(&q);
	imap_args_fini(&a);
	free(items);
	free(msg);
	return 0;
}
