#include "lib/base64.h"

#include <stdint.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n)
{
	return (n / 3 + (n % 3 != 0)) * 4;
}

size_t base64_decoded_max(size_t len)
{
	/* Strict decoding refuses a length that is not a multiple of 4. */
	return len / 4 * 3;
}

size_t base64_encode(const void *src, size_t n, char *dst)
{
	const unsigned char *s = src;
	size_t o = 0;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
			     s[i + 2];

		dst[o++] = b64_alphabet[v >> 18 & 0x3f];
		dst[o++] = b64_alphabet[v >> 12 & 0x3f];
		dst[o++] = b64_alphabet[v >> 6 & 0x3f];
		dst[o++] = b64_alphabet[v & 0x3f];
	}
	/* RFC 4648 4: a final group of 1 or 2 bytes is padded with '='. */
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		dst[o++] = b64_alphabet[v >> 18 & 0x3f];
		dst[o++] = b64_alphabet[v >> 12 & 0x3f];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		dst[o++] = b64_alphabet[v >> 18 & 0x3f];
		dst[o++] = b64_alphabet[v >> 12 & 0x3f];
		dst[o++] = b64_alphabet[v >> 6 & 0x3f];
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

/* Value of an alphabet character, or -1 (including for '='). */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode one group of four characters into out[0..3); returns the number
 * of bytes it holds (1..3), or -1. Padding is allowed only when last is
 * set, and only as "xx==" or "xxx=".
 */
static int b64_decode_quad(const unsigned char *q, int last,
			   unsigned char out[3])
{
	int v[4];
	int pad = 0;

	if (last && q[3] == '=') {
		pad = q[2] == '=' ? 2 : 1;
	}
	for (int k = 0; k < 4 - pad; k++) {
		v[k] = b64_value(q[k]);
		if (v[k] < 0)
			return -1;
	}
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	if (pad == 2) {
		/* RFC 4648 3.5: the pad bits must be zero (canonical). */
		if ((v[1] & 0x0f) != 0)
			return -1;
		return 1;
	}
	out[1] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
	if (pad == 1) {
		if ((v[2] & 0x03) != 0)
			return -1;
		return 2;
	}
	out[2] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	return 3;
}

int base64_decode(const char *src, size_t len, void *dst, size_t dstsize,
		  size_t *outlen_r)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *d = dst;
	size_t o = 0;
	int too_small = 0;

	/* RFC 4648 4: padded output is always a multiple of 4 characters. */
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		unsigned char out[3];
		int n = b64_decode_quad(s + i, i + 4 == len, out);

		if (n < 0)
			return -1;
		/* Keep validating when out of room: malformed wins over -2. */
		if (too_small || dstsize - o < (size_t)n) {
			too_small = 1;
			continue;
		}
		for (int k = 0; k < n; k++)
			d[o++] = out[k];
	}
	if (too_small)
		return -2;
	*outlen_r = o;
	return 0;
}
