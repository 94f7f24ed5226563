/* dns/rdata: names, MX, TXT, TLSA rdata and reverse names, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "dns/rdata.h"

#define W(s) (const unsigned char *)(s), sizeof(s) - 1

static const struct {
	const char *name;
	bool valid;
} name_rows[] = {
	{"example.test", true},
	{"example.test.", true},
	{"_dmarc.example.test", true},
	{"a-b.c_d.e9", true},
	{"x", true},
	{"", false},
	{".", false},
	{"..", false},
	{".example", false},
	{"example..test", false},
	{"example.test..", false},
	{"exa mple", false},
	{"exa\tmple", false},
	{"ex@mple", false},
	{"ex\"ample", false},
	{"\xc3\xa9t\xc3\xa9.test", false}, /* U-labels: convert first */
};

static void test_name_valid(void **state)
{
	char name[300];

	for (size_t i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++)
		assert_int_equal(dns_name_valid(name_rows[i].name),
				 name_rows[i].valid);
	/* Labels of 63, 64; names of 253, 254 (with and without dot). */
	memset(name, 'a', 64);
	name[63] = '\0';
	assert_true(dns_name_valid(name));
	name[63] = 'a';
	name[64] = '\0';
	assert_false(dns_name_valid(name));
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_true(dns_name_valid(name));
	name[253] = '.';
	name[254] = '\0';
	assert_true(dns_name_valid(name));
	name[253] = 'a';
	assert_false(dns_name_valid(name));
}

static const struct {
	const unsigned char *wire;
	size_t len;
	int used;
	const char *text;
} wire_rows[] = {
	{W("\0"), 1, ""},
	{W("\3mx1\7example\4test\0"), 18, "mx1.example.test"},
	{W("\3mx1\7example\4test\0trailing"), 18, "mx1.example.test"},
	{W("\3mx1\7example\4test"), -1, NULL}, /* no root label */
	{W("\5mx1"), -1, NULL},		       /* label past the end */
	{W("\xc0\x0c"), -1, NULL},	       /* compression pointer */
	{W("\x40"
	   "abc\0"),
	 -1, NULL},			 /* extended label type */
	{W("\3m x\4test\0"), -1, NULL},	 /* not a host name */
	{W("\3m.x\4test\0"), -1, NULL},	 /* dot inside a label */
	{W("\3m\0x\4test\0"), -1, NULL}, /* NUL inside a label */
	{W(""), -1, NULL},
};

static void test_rdata_name(void **state)
{
	unsigned char wire[300];
	char out[DNS_NAME_BUF];
	size_t o = 0;

	for (size_t i = 0; i < sizeof(wire_rows) / sizeof(wire_rows[0]); i++) {
		int used = dns_rdata_name(wire_rows[i].wire, wire_rows[i].len,
					  out);

		assert_int_equal(used, wire_rows[i].used);
		if (used >= 0)
			assert_string_equal(out, wire_rows[i].text);
	}
	/* 4 labels of 63: 255 characters in text, over the limit. */
	for (int l = 0; l < 4; l++) {
		wire[o++] = 63;
		memset(wire + o, 'a', 63);
		o += 63;
	}
	wire[o++] = 0;
	assert_int_equal(dns_rdata_name(wire, o, out), -1);
	/* 3 of 63 and one of 61: 253, the most accepted. */
	wire[192] = 61;
	wire[192 + 62] = 0;
	assert_int_equal(dns_rdata_name(wire, 255, out), 255);
	assert_int_equal(strlen(out), 253);
}

static void test_rdata_mx(void **state)
{
	char name[DNS_NAME_BUF];
	unsigned pref = 99;

	assert_int_equal(dns_rdata_mx(W("\0\x0a\3mx1\4test\0"), &pref, name),
			 0);
	assert_int_equal(pref, 10);
	assert_string_equal(name, "mx1.test");
	assert_int_equal(dns_rdata_mx(W("\xff\xff\3mx1\4test\0"), &pref, name),
			 0);
	assert_int_equal(pref, 65535);
	/* RFC 7505: the null MX. */
	assert_int_equal(dns_rdata_mx(W("\0\0\0"), &pref, name), 0);
	assert_int_equal(pref, 0);
	assert_string_equal(name, "");
	assert_int_equal(dns_rdata_mx(W("\0\0"), &pref, name), -1);
	assert_int_equal(dns_rdata_mx(W("\0\0\0junk"), &pref, name), -1);
	assert_int_equal(dns_rdata_mx(W("\0\0\3mx1"), &pref, name), -1);
}

static const struct {
	const unsigned char *rd;
	size_t len;
	size_t size;
	int ret;
	const char *text;
} txt_rows[] = {
	{W("\5hello"), 64, 0, "hello"},
	{W("\7v=spf1 \4-all"), 64, 0, "v=spf1 -all"},
	{W("\0"), 64, 0, ""},
	{W("\0\3abc\0"), 64, 0, "abc"},
	{W("\5hel"), 64, -1, NULL},    /* string past the end */
	{W("\3a\0b"), 64, -1, NULL},   /* NUL byte */
	{W(""), 64, -1, NULL},	       /* no string at all */
	{W("\5hello"), 6, 0, "hello"}, /* exactly fits */
	{W("\5hello"), 5, -2, NULL},   /* one short */
	{W("\3abc\3def"), 6, -2, NULL},
};

static void test_rdata_txt(void **state)
{
	char out[64];

	for (size_t i = 0; i < sizeof(txt_rows) / sizeof(txt_rows[0]); i++) {
		size_t len = 999;
		int ret = dns_rdata_txt(txt_rows[i].rd, txt_rows[i].len, out,
					txt_rows[i].size, &len);

		assert_int_equal(ret, txt_rows[i].ret);
		if (ret == 0) {
			assert_string_equal(out, txt_rows[i].text);
			assert_int_equal(len, strlen(txt_rows[i].text));
		}
	}
}

static void test_rdata_tlsa(void **state)
{
	uint8_t u, s, m;
	const unsigned char *data;
	size_t len;

	assert_int_equal(
		dns_rdata_tlsa(W("\3\1\1\xaa\xbb"), &u, &s, &m, &data, &len),
		0);
	assert_int_equal(u, 3);
	assert_int_equal(s, 1);
	assert_int_equal(m, 1);
	assert_int_equal(len, 2);
	assert_int_equal(data[0], 0xaa);
	assert_int_equal(dns_rdata_tlsa(W("\3\1\1"), &u, &s, &m, &data, &len),
			 -1);
}

static const struct {
	int family;
	const char *ip;
	const char *name;
} ptr_rows[] = {
	{AF_INET, "192.0.2.7", "7.2.0.192.in-addr.arpa"},
	{AF_INET, "0.0.0.0", "0.0.0.0.in-addr.arpa"},
	{AF_INET, "255.255.255.255", "255.255.255.255.in-addr.arpa"},
	{AF_INET6, "::ffff:192.0.2.7", "7.2.0.192.in-addr.arpa"},
	/* RFC 3596 2.5 example address */
	{AF_INET6, "4321:0:1:2:3:4:567:89ab",
	 "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4."
	 "ip6.arpa"},
};

static void test_ptr_qname(void **state)
{
	char out[DNS_NAME_BUF];
	struct sockaddr sa = {.sa_family = AF_UNIX};

	for (size_t i = 0; i < sizeof(ptr_rows) / sizeof(ptr_rows[0]); i++) {
		struct sockaddr_storage ss = {
			.ss_family = (sa_family_t)ptr_rows[i].family};
		void *dst =
			ptr_rows[i].family == AF_INET
				? (void *)&((struct sockaddr_in *)&ss)->sin_addr
				: (void *)&((struct sockaddr_in6 *)&ss)
					  ->sin6_addr;

		assert_int_equal(
			inet_pton(ptr_rows[i].family, ptr_rows[i].ip, dst), 1);
		assert_int_equal(
			dns_ptr_qname((struct sockaddr *)&ss, out, sizeof(out)),
			0);
		assert_string_equal(out, ptr_rows[i].name);
		assert_true(dns_name_valid(out));
	}
	assert_int_equal(dns_ptr_qname(&sa, out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_rdata_name),
		cmocka_unit_test(test_rdata_mx),
		cmocka_unit_test(test_rdata_txt),
		cmocka_unit_test(test_rdata_tlsa),
		cmocka_unit_test(test_ptr_qname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
