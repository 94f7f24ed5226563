/*
 * RFC 2047 encoded words in header values, decoded to UTF-8, and the
 * few charsets this server converts (RFC 2047 also names charsets by
 * their RFC 2978 names; aliases are compared case-insensitively).
 */
#include "mail/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "lib/utf8.h"
#include "mail/mime_internal.h"

enum charset { CS_UNKNOWN, CS_UTF8, CS_ASCII, CS_LATIN1, CS_CP1252 };

/* Windows-1252 0x80-0x9F; 0 marks the five undefined positions. */
static const uint16_t cp1252[32] = {
	0x20AC, 0,	0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,	0x017D, 0,
	0,	0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,	0x017E, 0x0178,
};

static bool name_is(const char *cs, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(cs, name, len) == 0;
}

static enum charset charset_of(const char *cs, size_t len)
{
	static const char *const utf8[] = {"utf-8", "utf8", NULL};
	static const char *const ascii[] = {
		"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", NULL};
	static const char *const latin1[] = {
		"iso-8859-1", "iso8859-1", "latin1", "l1",
		"iso_8859-1", "cp819",	   "ibm819", NULL};
	static const char *const cp[] = {"windows-1252", "cp1252", NULL};
	static const struct {
		const char *const *names;
		enum charset cs;
	} table[] = {{utf8, CS_UTF8},
		     {ascii, CS_ASCII},
		     {latin1, CS_LATIN1},
		     {cp, CS_CP1252}};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		for (const char *const *n = table[i].names; *n != NULL; n++) {
			if (name_is(cs, len, *n))
				return table[i].cs;
		}
	}
	return CS_UNKNOWN;
}

static void add_cp(struct mime_str *o, uint32_t cp)
{
	char b[4];

	if (cp < 0x80) {
		mime_str_addc(o, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		mime_str_add(o, b, 2);
	} else {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		mime_str_add(o, b, 3);
	}
}

void mime_raw_to_utf8(struct mime_str *o, const unsigned char *p, size_t n,
		      bool latin1_fallback)
{
	size_t i = 0;

	while (i < n) {
		size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, n - i);

		if (k > 0) {
			mime_str_add(o, p + i, k);
			i += k;
		} else {
			add_cp(o, latin1_fallback ? p[i] : 0xFFFD);
			i++;
		}
	}
}

bool mime_charset_to_utf8(struct mime_str *o, const char *charset,
			  size_t charset_len, const unsigned char *p, size_t n)
{
	enum charset cs = charset_of(charset, charset_len);

	if (cs == CS_UNKNOWN)
		return false;
	if (cs == CS_UTF8) {
		mime_raw_to_utf8(o, p, n, false);
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c < 0x80)
			mime_str_addc(o, (char)c);
		else if (cs == CS_ASCII)
			add_cp(o, 0xFFFD);
		else if (cs == CS_CP1252 && c < 0xA0)
			add_cp(o, cp1252[c - 0x80] ? cp1252[c - 0x80] : 0xFFFD);
		else
			add_cp(o, c);
	}
	return true;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int b64val(unsigned char c)
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

/* Base64 read leniently: octets outside the alphabet are skipped and
 * missing padding is fine, as senders get both wrong. */
size_t mime_base64_lenient(struct mime_str *o, const char *s, size_t len,
			   uint32_t *acc, unsigned *bits)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)s[i]);

		if (s[i] == '=') {
			*acc = 0;
			*bits = 0; /* padding ends the quantum */
			continue;
		}
		if (v < 0)
			continue;
		*acc = (*acc << 6) | (uint32_t)v;
		*bits += 6;
		if (*bits >= 8) {
			*bits -= 8;
			mime_str_addc(o, (char)((*acc >> *bits) & 0xFF));
			n++;
		}
	}
	return n;
}

/* RFC 2047 4.2: Q encoding. */
static void q_decode(struct mime_str *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_') {
			mime_str_addc(o, ' ');
		} else if (s[i] == '=' && i + 2 < len &&
			   hexval((unsigned char)s[i + 1]) >= 0 &&
			   hexval((unsigned char)s[i + 2]) >= 0) {
			mime_str_addc(
				o, (char)(hexval((unsigned char)s[i + 1]) * 16 +
					  hexval((unsigned char)s[i + 2])));
			i += 2;
		} else {
			mime_str_addc(o, s[i]);
		}
	}
}

struct word {
	const char *charset;
	size_t charset_len;
	char enc;
	const char *text;
	size_t text_len;
	size_t len; /* of the whole "=?...?=" */
};

/* RFC 2047 2: "=?" charset "?" encoding "?" encoded-text "?=" at s. */
static bool parse_word(const char *s, size_t len, struct word *w)
{
	size_t i = 2, q1, q2;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return false;
	while (i < len && mime_is_token((unsigned char)s[i]) && s[i] != '?')
		i++;
	if (i == 2 || i + 3 >= len || s[i] != '?' || s[i + 2] != '?')
		return false;
	q1 = i;
	w->enc = (char)(s[i + 1] | 0x20);
	if (w->enc != 'b' && w->enc != 'q')
		return false;
	for (q2 = i + 3; q2 + 1 < len && !(s[q2] == '?' && s[q2 + 1] == '=');
	     q2++) {
		if (s[q2] == ' ' || s[q2] == '\t' || s[q2] == '\r' ||
		    s[q2] == '\n' || s[q2] == '?')
			return false;
	}
	if (q2 + 1 >= len)
		return false;
	w->charset = s + 2;
	w->charset_len = q1 - 2;
	/* RFC 2231 5: "charset*language" */
	for (size_t k = 0; k < w->charset_len; k++) {
		if (w->charset[k] == '*') {
			w->charset_len = k;
			break;
		}
	}
	w->text = s + q1 + 3;
	w->text_len = q2 - (q1 + 3);
	w->len = q2 + 2;
	return true;
}

/* Decoded octets of adjacent words, converted together so a character
 * split across two words (a common sender bug) survives. */
struct pending {
	struct mime_str bytes;
	const char *charset;
	size_t charset_len;
};

static void flush(struct mime_str *o, struct pending *pd)
{
	if (pd->bytes.len > 0 &&
	    !mime_charset_to_utf8(o, pd->charset, pd->charset_len,
				  (const unsigned char *)pd->bytes.s,
				  pd->bytes.len))
		mime_raw_to_utf8(o, (const unsigned char *)pd->bytes.s,
				 pd->bytes.len, true);
	pd->bytes.len = 0;
}

static bool only_wsp(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

char *mime_decode_words(const char *value, size_t len)
{
	struct mime_str o = {0};
	struct pending pd = {0};
	size_t i = 0, plain = 0;
	bool after_word = false;

	while (i < len) {
		struct word w;

		if (value[i] != '=' || !parse_word(value + i, len - i, &w)) {
			i++;
			continue;
		}
		if (charset_of(w.charset, w.charset_len) == CS_UNKNOWN) {
			i += w.len; /* kept as it is, as plain text */
			continue;
		}
		/* RFC 2047 6.2: whitespace between two encoded words goes. */
		if (!after_word || !only_wsp(value + plain, i - plain)) {
			flush(&o, &pd);
			mime_raw_to_utf8(&o,
					 (const unsigned char *)value + plain,
					 i - plain, true);
		} else if (pd.bytes.len > 0 &&
			   (pd.charset_len != w.charset_len ||
			    strncasecmp(pd.charset, w.charset, w.charset_len) !=
				    0)) {
			flush(&o, &pd);
		}
		pd.charset = w.charset;
		pd.charset_len = w.charset_len;
		if (w.enc == 'b') {
			uint32_t acc = 0;
			unsigned bits = 0;

			mime_base64_lenient(&pd.bytes, w.text, w.text_len, &acc,
					    &bits);
		} else {
			q_decode(&pd.bytes, w.text, w.text_len);
		}
		i += w.len;
		plain = i;
		after_word = true;
	}
	flush(&o, &pd);
	mime_raw_to_utf8(&o, (const unsigned char *)value + plain, len - plain,
			 true);
	free(pd.bytes.s);
	return mime_str_take(&o);
}
