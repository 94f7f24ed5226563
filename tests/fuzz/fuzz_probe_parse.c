/*
 * libFuzzer target for probe/probe_parse.c and the JSON escaper.
 *
 * Each input line goes to the EHLO, CAPABILITY and CAPA parsers, before
 * and after TLS; every kept entry must be bounded, free of control
 * characters, and the lists must respect their caps. The whole input is
 * then written as a JSON string, which must be valid UTF-8 with no raw
 * control character and balanced quotes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "probe/json.h"
#include "probe/probe.h"
#include "fuzz.h"

static void check_list(const struct probe_list *l)
{
	CHECK(l->n <= PROBE_LIST_MAX);
	for (size_t i = 0; i < l->n; i++) {
		size_t len = strlen(l->v[i]);

		CHECK(len < PROBE_TEXT_MAX);
		for (size_t k = 0; k < len; k++)
			CHECK((unsigned char)l->v[i][k] >= 0x20 &&
			      l->v[i][k] != 0x7f);
	}
}

static void check_target(const struct probe_target *t)
{
	check_list(&t->caps_plain);
	check_list(&t->caps_tls);
	check_list(&t->auth_plain);
	check_list(&t->auth_tls);
}

static void check_json(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	CHECK(fp != NULL);
	json_write_string(fp, (const char *)data, size);
	CHECK(fclose(fp) == 0);
	CHECK(len >= 2 && out[0] == '"' && out[len - 1] == '"');
	for (size_t i = 1; i + 1 < len;) {
		unsigned char ch = (unsigned char)out[i];
		size_t n;

		CHECK(ch >= 0x20 && ch != 0x7f);
		if (ch == '\\') {
			CHECK(i + 2 < len);
			i += out[i + 1] == 'u' ? 6 : 2;
			continue;
		}
		CHECK(ch != '"');
		if (ch < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq((const unsigned char *)out + i, len - 1 - i);
		CHECK(n > 0);
		i += n;
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_target smtp = {0}, imap = {0}, pop3 = {0};
	const char *p = (const char *)data;
	const char *end = p + size;

	smtp.role = probe_role_find(587);
	imap.role = probe_role_find(143);
	pop3.role = probe_role_find(110);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		bool tls = len > 0 && (p[0] & 1);

		probe_smtp_keyword(&smtp, tls, p, len);
		probe_imap_capability(&imap, tls, p, len);
		probe_pop3_capa(&pop3, tls, p, len);
		p += len + (nl != NULL);
	}
	check_target(&smtp);
	check_target(&imap);
	check_target(&pop3);
	probe_target_free_fields(&smtp);
	probe_target_free_fields(&imap);
	probe_target_free_fields(&pop3);
	check_json(data, size);
	return 0;
}
