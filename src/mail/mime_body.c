/*
 * A part's body with its Content-Transfer-Encoding undone (RFC 2045 6.7
 * quoted-printable, 6.8 base64) and, for text, its charset made UTF-8:
 * the text that SEARCH BODY and TEXT look at.
 */
#include "mail/mime.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "mail/mime_internal.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f') /* not allowed, but seen */
		return c - 'a' + 10;
	return -1;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * RFC 2045 6.7: "=XX" octets, "=" at a line end is a soft line break,
 * whitespace at the end of a line was added in transport and goes. A
 * malformed "=" is kept as it is (the RFC's suggested robustness).
 */
static void qp_decode(struct mime_str *o, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t eol = i, ws;
		bool soft = false;

		while (eol < len && s[eol] != '\n')
			eol++;
		ws = eol;
		if (ws > i && s[ws - 1] == '\r')
			ws--;
		while (ws > i && is_wsp(s[ws - 1]))
			ws--;
		for (size_t k = i; k < ws; k++) {
			int h, l;

			if (s[k] != '=') {
				mime_str_addc(o, s[k]);
			} else if (k + 1 == ws) {
				soft = true; /* "=" ends the line: no line end
					      */
			} else if (k + 2 < ws &&
				   (h = hexval((unsigned char)s[k + 1])) >= 0 &&
				   (l = hexval((unsigned char)s[k + 2])) >= 0) {
				mime_str_addc(o, (char)(h * 16 + l));
				k += 2;
			} else {
				mime_str_addc(o, '=');
			}
		}
		if (eol < len && !soft) {
			if (eol > i && s[eol - 1] == '\r')
				mime_str_addc(o, '\r');
			mime_str_addc(o, '\n');
		}
		i = eol < len ? eol + 1 : len;
	}
}

static char *part_charset(const struct mime_part *part, const char *msg)
{
	struct mime_ctype ct = {0};
	size_t len;
	char *v = mime_part_header(part, msg, "content-type", &len);
	char *cs = NULL;

	if (v != NULL)
		mime_ctype_parse(v, len, true, &ct);
	free(v);
	if (mime_ctype_param(&ct, "charset") != NULL)
		cs = xstrdup(mime_ctype_param(&ct, "charset"));
	mime_ctype_fini(&ct);
	return cs;
}

char *mime_decode_body(const struct mime_part *part, const char *msg,
		       bool to_utf8, size_t *len_r)
{
	struct mime_str raw = {0}, out = {0};
	const char *body = msg + part->body_off;
	char *cs;

	if (strcmp(part->encoding, "base64") == 0) {
		uint32_t acc = 0;
		unsigned bits = 0;

		mime_base64_lenient(&raw, body, part->body_len, &acc, &bits);
	} else if (strcmp(part->encoding, "quoted-printable") == 0) {
		qp_decode(&raw, body, part->body_len);
	} else {
		mime_str_add(&raw, body, part->body_len);
	}
	if (!to_utf8 || strcmp(part->type, "text") != 0) {
		*len_r = raw.len;
		return mime_str_take(&raw);
	}
	cs = part_charset(part, msg);
	if (cs == NULL ||
	    !mime_charset_to_utf8(&out, cs, strlen(cs),
				  (const unsigned char *)raw.s, raw.len))
		mime_raw_to_utf8(&out, (const unsigned char *)raw.s, raw.len,
				 true);
	free(cs);
	free(raw.s);
	*len_r = out.len;
	return mime_str_take(&out);
}
