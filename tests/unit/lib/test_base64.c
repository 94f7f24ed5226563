/* lib/base64: RFC 4648 section 10 vectors both ways, strict decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base64.h"

#define S(s) s, sizeof(s) - 1

struct vector {
	const char *plain;
	size_t plain_len;
	const char *coded;
};

static const struct vector vectors[] = {
	/* RFC 4648 10 */
	{S(""), ""},
	{S("f"), "Zg=="},
	{S("fo"), "Zm8="},
	{S("foo"), "Zm9v"},
	{S("foob"), "Zm9vYg=="},
	{S("fooba"), "Zm9vYmE="},
	{S("foobar"), "Zm9vYmFy"},
	/* Every alphabet position, NULs and high bytes. */
	{S("\0"), "AA=="},
	{S("\0\0\0"), "AAAA"},
	{S("\xff\xff\xff"), "////"},
	{S("\xfb\xef\xbe"), "++++"},
	{S("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93"
	   "\x51\x55\x97\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7"
	   "\xa2\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb"
	   "\xf3\xdf\xbf"),
	 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"},
	/* RFC 4616 PLAIN, as RFC 4954 carries it. */
	{S("\0user\0pass"), "AHVzZXIAcGFzcw=="},
};

#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

static void test_lengths(void **state)
{
	assert_int_equal(base64_encoded_len(0), 0);
	assert_int_equal(base64_encoded_len(1), 4);
	assert_int_equal(base64_encoded_len(2), 4);
	assert_int_equal(base64_encoded_len(3), 4);
	assert_int_equal(base64_encoded_len(4), 8);
	assert_int_equal(base64_decoded_max(0), 0);
	assert_int_equal(base64_decoded_max(4), 3);
	assert_int_equal(base64_decoded_max(8), 6);
	for (size_t i = 0; i < NVECTORS; i++) {
		size_t clen = strlen(vectors[i].coded);

		assert_int_equal(base64_encoded_len(vectors[i].plain_len),
				 clen);
		assert_true(base64_decoded_max(clen) >= vectors[i].plain_len);
	}
}

static void test_encode(void **state)
{
	char out[128];

	for (size_t i = 0; i < NVECTORS; i++) {
		const struct vector *v = &vectors[i];
		size_t n = base64_encoded_len(v->plain_len);

		/* A canary past the documented size must survive. */
		memset(out, '#', sizeof(out));
		assert_int_equal(base64_encode(v->plain, v->plain_len, out),
				 strlen(v->coded));
		assert_string_equal(out, v->coded);
		assert_int_equal(out[n + 1], '#');
	}
}

static void test_decode(void **state)
{
	unsigned char out[128];

	for (size_t i = 0; i < NVECTORS; i++) {
		const struct vector *v = &vectors[i];
		size_t outlen = 12345;

		assert_int_equal(base64_decode(v->coded, strlen(v->coded), out,
					       sizeof(out), &outlen),
				 0);
		assert_int_equal(outlen, v->plain_len);
		assert_memory_equal(out, v->plain, v->plain_len);
	}
}

/* Exactly the decoded length is enough; one byte less is -2. */
static void test_decode_small_output(void **state)
{
	unsigned char out[128];
	size_t outlen;

	for (size_t i = 0; i < NVECTORS; i++) {
		const struct vector *v = &vectors[i];
		size_t clen = strlen(v->coded);

		assert_int_equal(base64_decode(v->coded, clen, out,
					       v->plain_len, &outlen),
				 0);
		assert_int_equal(outlen, v->plain_len);
		if (v->plain_len == 0)
			continue;
		assert_int_equal(base64_decode(v->coded, clen, out,
					       v->plain_len - 1, &outlen),
				 -2);
	}
	assert_int_equal(base64_decode(S("Zm9v"), out, 0, &outlen), -2);
	/* Malformed input is reported as such even when dst is small. */
	assert_int_equal(base64_decode(S("Zm9vZm9v!m9v"), out, 1, &outlen), -1);
}

static void test_roundtrip(void **state)
{
	unsigned char in[256], back[256];
	char coded[350];
	size_t outlen;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t clen = base64_encode(in, n, coded);

		assert_int_equal(clen, base64_encoded_len(n));
		assert_int_equal(base64_decode(coded, clen, back, n, &outlen),
				 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(back, in, n);
	}
}

struct bad {
	const char *why;
	const char *in;
	size_t len;
};

static const struct bad bad_inputs[] = {
	{"length 1", S("Z")},
	{"length 2", S("Zg")},
	{"length 3", S("Zm8")},
	{"length 5", S("Zm9vY")},
	{"unpadded", S("Zm9vYg")},
	{"space", S("Zm9 v")},
	{"space in group", S("Zm 9v")},
	{"newline", S("Zm9v\r\nZm9v")},
	{"trailing newline", S("Zm9vYmFy\n")},
	{"dash (url alphabet)", S("Zm9-")},
	{"underscore (url alphabet)", S("Zm9_")},
	{"bang", S("Zm9!")},
	{"nul", S("Zm\0v")},
	{"high byte", S("Zm9\xc3")},
	{"one pad char alone", S("Z===")},
	{"all padding", S("====")},
	{"pad first", S("=m9v")},
	{"pad in middle of group", S("Zm=v")},
	{"pad then data", S("Zg==Zm9v")},
	{"single pad then data", S("Zm8=Zm9v")},
	{"too much padding", S("Zg==\x3d\x3d\x3d\x3d")},
	{"pad after pad group", S("Zm8=====")},
	{"non-zero bits, two pads", S("Zh==")},
	{"non-zero bits, two pads, last", S("Z/==")},
	{"non-zero bits, one pad", S("Zm9=")},
	{"non-zero bits, one pad, low", S("Zm+=")},
};

static void test_decode_malformed(void **state)
{
	unsigned char out[64];

	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]);
	     i++) {
		const struct bad *b = &bad_inputs[i];
		size_t outlen = 0;
		int r = base64_decode(b->in, b->len, out, sizeof(out), &outlen);

		if (r != -1)
			fail_msg("'%s': got %d, want -1", b->why, r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_small_output),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decode_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
