/*
 * libFuzzer target for mail/header.
 *
 * Input: byte 0 picks the limits (bit 0: small ones, to reach them),
 * bytes 1..3 the sizes of the feeds (used in turn), the rest is the
 * message. It is scanned in feeds of those sizes, one octet at a time,
 * and in one piece; all three must agree on every result. Each feed is
 * its own exact-size allocation, so ASan catches a read past it. The
 * results must also keep the header's promises: the header ends in the
 * empty line's CRLF, and every From: address is "local@domain" with no
 * control character and no "@" in the domain. The Received: counter of
 * mail/received runs on the same bytes, whole and one octet at a time.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/header.h"
#include "mail/received.h"
#include "fuzz.h"

#define HEADER 4
#define LIST_MAX 8192

struct run {
	int ret, fin;
	size_t consumed;
	char from[LIST_MAX];
	char sender[512];
	bool from_bad, sender_bad, msgid, date;
	size_t bad_fields;
	const char *limit_error;
};

static void check_address(const char *a)
{
	const char *at = strrchr(a, '@');

	CHECK(at != NULL && at != a && at[1] != '\0');
	for (const char *p = a; *p != '\0'; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void append(char *list, const char *s)
{
	size_t n = strlen(list);

	snprintf(list + n, LIST_MAX - n, "%s\n", s);
}

static void results(struct header_scan *h, struct run *r)
{
	const char *sender = header_scan_sender(h);

	for (size_t i = 0; i < header_scan_from_count(h); i++) {
		check_address(header_scan_from(h, i));
		append(r->from, header_scan_from(h, i));
	}
	CHECK(header_scan_from(h, header_scan_from_count(h)) == NULL);
	if (sender != NULL) {
		check_address(sender);
		snprintf(r->sender, sizeof(r->sender), "%s", sender);
	}
	r->from_bad = header_scan_from_malformed(h);
	r->sender_bad = header_scan_sender_malformed(h);
	CHECK(!r->sender_bad || sender == NULL);
	r->msgid = header_scan_has(h, "message-id");
	r->date = header_scan_has(h, "DATE");
	r->bad_fields = header_scan_bad_fields(h);
	r->limit_error = header_scan_limit_error(h);
	CHECK((r->limit_error != NULL) == (r->fin == -2));
}

/* Feed in[0..len) in feeds of 1 + sizes[i % 3] % 64 octets, or whole. */
static void scan(const struct header_limits *lim, const uint8_t sizes[3],
		 size_t step, const char *in, size_t len, struct run *r)
{
	struct header_scan *h = header_scan_new(lim);
	size_t fed = 0, feeds = 0;

	memset(r, 0, sizeof(*r));
	do {
		size_t n = sizes  ? 1 + sizes[feeds++ % 3] % 64
			   : step ? step
				  : len;
		size_t used;
		char *chunk;

		if (n > len - fed)
			n = len - fed;
		chunk = malloc(n ? n : 1);
		CHECK(chunk != NULL);
		memcpy(chunk, in + fed, n);
		r->ret = header_scan_feed(h, chunk, n, &used);
		free(chunk);
		CHECK(r->ret == 0 || r->ret == 1 || r->ret == -2);
		CHECK(used <= n && (r->ret != 0 || used == n));
		r->consumed = fed + used;
		fed += n;
	} while (r->ret == 0 && fed < len);
	r->fin = header_scan_finish(h);
	CHECK(r->fin == (r->ret != 0 ? r->ret : r->fin));
	CHECK(r->fin == 1 || r->fin == -2);
	results(h, r);
	header_scan_free(&h);
	CHECK(h == NULL);
}

static void same(const struct run *a, const struct run *b)
{
	CHECK(a->ret == b->ret);
	CHECK(a->fin == b->fin);
	CHECK(a->consumed == b->consumed);
	CHECK(strcmp(a->from, b->from) == 0);
	CHECK(strcmp(a->sender, b->sender) == 0);
	CHECK(a->from_bad == b->from_bad);
	CHECK(a->sender_bad == b->sender_bad);
	CHECK(a->msgid == b->msgid && a->date == b->date);
	CHECK(a->bad_fields == b->bad_fields);
	CHECK(a->limit_error == b->limit_error);
}

/* Whole or octet by octet, the hop counter gives one answer. */
static void hops(const char *in, size_t len)
{
	struct received_hops whole = {0}, bytes = {0};
	size_t lines = 1;

	received_hops_feed(&whole, in, len);
	for (size_t i = 0; i < len; i++) {
		received_hops_feed(&bytes, in + i, 1);
		lines += in[i] == '\n';
	}
	CHECK(whole.count == bytes.count && whole.done == bytes.done);
	CHECK(whole.count <= lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct header_limits small = {.field_max = 64,
						   .fields_max = 8,
						   .header_max = 512,
						   .from_max = 4};
	static struct run chunked, single, whole;
	const struct header_limits *lim;
	const char *in = (const char *)data + HEADER;
	size_t len;

	if (size < HEADER)
		return 0;
	len = size - HEADER;
	lim = data[0] & 1 ? &small : NULL;

	scan(lim, data + 1, 0, in, len, &chunked);
	scan(lim, NULL, 1, in, len, &single);
	scan(lim, NULL, 0, in, len, &whole);
	same(&chunked, &whole);
	same(&single, &whole);
	hops(in, len);

	CHECK(whole.consumed <= len);
	if (whole.ret == 1)
		CHECK(whole.consumed >= 2 &&
		      memcmp(in + whole.consumed - 2, "\r\n", 2) == 0 &&
		      (whole.consumed == 2 ||
		       memcmp(in + whole.consumed - 4, "\r\n", 2) == 0));
	if (whole.ret == 0)
		CHECK(whole.consumed == len);
	return 0;
}
