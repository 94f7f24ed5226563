/*
 * libFuzzer target for dns/rdata.
 *
 * The input is taken whole, and also as a run of records each prefixed
 * by its 16-bit rdlength (as in a wire RR; a short last record takes what
 * is left). Each record, in an exact-size copy, is fed to every rdata
 * parser (name, MX, TXT, TLSA), its text up to the first NUL to
 * dns_name_valid, and its first 4 and 16 bytes to dns_ptr_qname. The
 * results are checked against small references written from the contract
 * in dns/rdata.h: no read past the record, NUL-terminated outputs within
 * their buffers, names that are host names and encode back to the bytes
 * they came from, and return values in range.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/rdata.h"
#include "fuzz.h"

/* The largest wire name: DNS_NAME_MAX text bytes, a length each label. */
#define WIRE_MAX (DNS_NAME_MAX + 2)

static bool host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void *dup_exact(const void *p, size_t len)
{
	void *q = malloc(len ? len : 1);

	CHECK(q != NULL);
	memcpy(q, p, len);
	return q;
}

static bool terminated_in(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

/*
 * Encode a text name (one final dot allowed) as wire labels into
 * wire[WIRE_MAX + 64]: its length, or -1 when a label is empty, longer
 * than 63 or holds a byte that is not a host character. The text length
 * is not limited here.
 */
static int ref_encode(const char *name, unsigned char *wire, size_t *text_r)
{
	size_t len = strlen(name), o = 0, start = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	*text_r = len;
	if (len == 0 || len > DNS_NAME_MAX + 64)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (!host_char((unsigned char)name[i]))
				return -1;
			continue;
		}
		if (i == start || i - start > 63)
			return -1;
		wire[o++] = (unsigned char)(i - start);
		memcpy(wire + o, name + start, i - start);
		o += i - start;
		start = i + 1;
	}
	wire[o++] = 0;
	return (int)o;
}

/* The wire name at p: its length and text, or -1, per the contract. */
static int ref_name(const unsigned char *p, size_t len, char *out)
{
	size_t pos = 0, olen = 0;

	for (;;) {
		size_t label;

		if (pos >= len)
			return -1;
		label = p[pos++];
		if (label == 0)
			break;
		if (label > 63 || pos + label > len)
			return -1;
		if (olen > 0)
			out[olen++] = '.';
		for (size_t i = 0; i < label; i++) {
			if (!host_char(p[pos + i]))
				return -1;
			out[olen++] = (char)p[pos + i];
		}
		pos += label;
		if (olen > DNS_NAME_MAX)
			return -1;
	}
	out[olen] = '\0';
	return (int)pos;
}

/* Returns what dns_rdata_name returned. */
static int fuzz_name(const unsigned char *p, size_t len)
{
	char *out = malloc(DNS_NAME_BUF);
	char ref[DNS_NAME_BUF + 64];
	int used, want;

	CHECK(out != NULL);
	used = dns_rdata_name(p, len, out);
	want = ref_name(p, len, ref);
	CHECK(used == want);
	if (used >= 0) {
		unsigned char wire[WIRE_MAX + 64];
		size_t text;

		CHECK(used >= 1 && (size_t)used <= len && used <= WIRE_MAX);
		CHECK(terminated_in(out, DNS_NAME_BUF));
		CHECK(strcmp(out, ref) == 0);
		CHECK(strlen(out) <= DNS_NAME_MAX);
		if (out[0] == '\0') {
			CHECK(used == 1);
		} else {
			/* A host name, and it encodes back to the same bytes.
			 */
			CHECK(dns_name_valid(out));
			CHECK(ref_encode(out, wire, &text) == used);
			CHECK(memcmp(wire, p, (size_t)used) == 0);
		}
	}
	free(out);
	return used;
}

static void fuzz_mx(const unsigned char *rd, size_t len)
{
	char *name = malloc(DNS_NAME_BUF);
	char ref[DNS_NAME_BUF + 64];
	unsigned pref = 0xdeadbeef;
	int ret;
	bool want;

	CHECK(name != NULL);
	ret = dns_rdata_mx(rd, len, &pref, name);
	CHECK(ret == 0 || ret == -1);
	want = len >= 3 && ref_name(rd + 2, len - 2, ref) == (int)(len - 2);
	CHECK((ret == 0) == want);
	if (ret == 0) {
		CHECK(pref == ((unsigned)rd[0] << 8 | rd[1]));
		CHECK(terminated_in(name, DNS_NAME_BUF));
		CHECK(strcmp(name, ref) == 0);
		CHECK(name[0] == '\0' || dns_name_valid(name));
	}
	free(name);
}

/*
 * TXT into a buffer of size bytes. Reference: the strings as far as they
 * are well formed; -1 when one is not, -2 when the join does not fit.
 * When both hold, either answer is allowed (the contract names no order).
 */
static void fuzz_txt_size(const unsigned char *rd, size_t len, size_t size)
{
	char *out = malloc(size ? size : 1);
	size_t pos = 0, total = 0, out_len = 0xdeadbeef;
	bool bad = len == 0 || size == 0;
	int ret;

	CHECK(out != NULL);
	while (!bad && pos < len) {
		size_t slen = rd[pos++];

		if (slen > len - pos || memchr(rd + pos, '\0', slen) != NULL) {
			bad = true;
			break;
		}
		total += slen;
		pos += slen;
	}
	ret = dns_rdata_txt(rd, len, out, size, &out_len);
	if (bad && size > 0 && total > size - 1)
		CHECK(ret == -1 || ret == -2);
	else if (bad)
		CHECK(ret == -1);
	else
		CHECK(ret == (total <= size - 1 ? 0 : -2));
	if (ret == 0) {
		CHECK(out_len == total && out_len < size);
		CHECK(out[out_len] == '\0' && strlen(out) == out_len);
		/* The strings, their length octets left out. */
		pos = 0;
		for (size_t o = 0; pos < len;) {
			size_t slen = rd[pos++];

			CHECK(memcmp(out + o, rd + pos, slen) == 0);
			o += slen;
			pos += slen;
		}
	}
	free(out);
}

static void fuzz_txt(const unsigned char *rd, size_t len)
{
	static const size_t sizes[] = {0, 1, 2, 17, 256};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		fuzz_txt_size(rd, len, sizes[i]);
	fuzz_txt_size(rd, len, len);
	fuzz_txt_size(rd, len, len + 1);
}

static void fuzz_tlsa(const unsigned char *rd, size_t len)
{
	uint8_t usage = 0xa5, selector = 0xa5, mtype = 0xa5;
	const unsigned char *d = NULL;
	size_t dlen = 0xdeadbeef;
	int ret = dns_rdata_tlsa(rd, len, &usage, &selector, &mtype, &d, &dlen);

	CHECK(ret == (len < 4 ? -1 : 0));
	if (ret != 0)
		return;
	CHECK(usage == rd[0] && selector == rd[1] && mtype == rd[2]);
	CHECK(d == rd + 3 && dlen == len - 3 && d + dlen == rd + len);
}

static void fuzz_name_valid(const unsigned char *p, size_t len)
{
	size_t n = strnlen((const char *)p, len), text;
	char *name = malloc(n + 1);
	unsigned char wire[WIRE_MAX + 64];
	bool valid;
	int enc;

	CHECK(name != NULL);
	memcpy(name, p, n);
	name[n] = '\0';
	valid = dns_name_valid(name);
	enc = n <= DNS_NAME_MAX + 64 ? ref_encode(name, wire, &text) : -1;
	if (enc < 0) {
		CHECK(!valid);
	} else {
		char out[DNS_NAME_BUF];

		CHECK(valid == (text <= DNS_NAME_MAX));
		/* The wire form reads back as the name, without its dot. */
		if (valid) {
			CHECK(dns_rdata_name(wire, (size_t)enc, out) == enc);
			CHECK(strlen(out) == text &&
			      memcmp(out, name, text) == 0);
		} else {
			CHECK(dns_rdata_name(wire, (size_t)enc, out) == -1);
		}
	}
	free(name);
}

static void check_qname(int ret, char *out, size_t size, const char *want)
{
	CHECK(ret == 0);
	CHECK(terminated_in(out, size));
	CHECK(strcmp(out, want) == 0);
	CHECK(dns_name_valid(out));
}

static void fuzz_ptr(const unsigned char *p, size_t len)
{
	const size_t size = 74;
	char *out = malloc(size);
	char want[128];

	CHECK(out != NULL);
	if (len >= 4) {
		struct sockaddr_in s4;

		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, p, 4);
		snprintf(want, sizeof(want), "%u.%u.%u.%u.in-addr.arpa", p[3],
			 p[2], p[1], p[0]);
		check_qname(dns_ptr_qname((struct sockaddr *)&s4, out, size),
			    out, size, want);
	}
	if (len >= 16) {
		static const unsigned char mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		static const char hex[] = "0123456789abcdef";
		struct sockaddr_in6 s6;
		size_t o = 0;

		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(s6.sin6_addr.s6_addr, p, 16);
		for (int i = 15; i >= 0; i--)
			o += (size_t)snprintf(want + o, sizeof(want) - o,
					      "%c.%c.", hex[p[i] & 15],
					      hex[p[i] >> 4]);
		snprintf(want + o, sizeof(want) - o, "ip6.arpa");
		if (memcmp(p, mapped, sizeof(mapped)) == 0)
			snprintf(want, sizeof(want), "%u.%u.%u.%u.in-addr.arpa",
				 p[15], p[14], p[13], p[12]);
		check_qname(dns_ptr_qname((struct sockaddr *)&s6, out, size),
			    out, size, want);
	}
	if (len >= 1) {
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		ss.ss_family = p[0];
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
			CHECK(dns_ptr_qname((struct sockaddr *)&ss, out,
					    size) == -1);
	}
	free(out);
}

static void fuzz_record(const unsigned char *p, size_t len)
{
	unsigned char *rd = dup_exact(p, len);

	fuzz_name(rd, len);
	fuzz_mx(rd, len);
	fuzz_txt(rd, len);
	fuzz_tlsa(rd, len);
	fuzz_name_valid(rd, len);
	fuzz_ptr(rd, len);
	free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	fuzz_record(data, size);
	while (size - pos >= 2) {
		size_t rdlen = (size_t)data[pos] << 8 | data[pos + 1];

		pos += 2;
		if (rdlen > size - pos)
			rdlen = size - pos;
		fuzz_record(data + pos, rdlen);
		pos += rdlen;
	}
	return 0;
}
