/*
 * libFuzzer target for pop3/parse.
 *
 * The input is parsed as a command line, and its parameters as numbers;
 * the results must point inside the line and keep the grammar's promises.
 * The same input is then byte-stuffed as a message body, whole and in
 * small pieces through a small window: both must give the same bytes,
 * un-stuffing them must give the input back, no body line may be the
 * terminator, and TOP's output must be a prefix of RETR's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/parse.h"
#include "fuzz.h"

static void fuzz_command(const char *line, size_t len)
{
	struct pop3_command cmd;
	const char *error = NULL;
	int ret = pop3_parse_command(line, len, &cmd, &error);

	CHECK(cmd.rest >= line && cmd.rest + cmd.rest_len == line + len);
	CHECK(cmd.argc <= POP3_ARGS_MAX);
	if (ret != 0) {
		CHECK(ret == -1 || ret == -2);
		CHECK(ret != -2 || len > POP3_COMMAND_MAX - 2);
		CHECK(error != NULL && error[0] != '\0');
		return;
	}
	CHECK(len <= POP3_COMMAND_MAX - 2);
	CHECK(cmd.cmd != POP3_CMD_UNKNOWN);
	CHECK(strlen(pop3_cmd_name(cmd.cmd)) <= len);
	for (size_t i = 0; i < cmd.argc; i++) {
		const struct pop3_arg *a = &cmd.args[i];
		uint32_t n;

		CHECK(a->len >= 1);
		CHECK(a->p >= cmd.rest && a->p + a->len <= line + len);
		if (cmd.cmd != POP3_CMD_PASS)
			CHECK(memchr(a->p, ' ', a->len) == NULL);
		if (pop3_parse_number(a->p, a->len, &n) == 0)
			CHECK(a->len <= 10 && a->p[0] >= '0' && a->p[0] <= '9');
	}
}

/* Stuff in[0..len) with windows of out_size, feeding step octets. */
static size_t stuff(const char *in, size_t len, bool top, uint32_t lines,
		    size_t step, size_t out_size, char *res)
{
	struct pop3_dotstuff d;
	char out[64];
	size_t off = 0, n = 0;

	pop3_dotstuff_init(&d, top, lines);
	while (off < len && !d.done) {
		size_t chunk = len - off < step ? len - off : step;
		size_t olen = 0;
		size_t used = pop3_dotstuff(&d, in + off, chunk, out, out_size,
					    &olen);

		CHECK(used <= chunk && olen <= out_size);
		CHECK(used > 0 || d.done);
		memcpy(res + n, out, olen);
		n += olen;
		off += used;
	}
	CHECK(top || off == len);
	n += pop3_dotstuff_end(&d, res + n, 5);
	return n;
}

/* RFC 1939 3 from the client's side: drop a stuffed dot, stop at ".". */
static void check_unstuff(const char *in, size_t len, const char *res, size_t n)
{
	size_t i = 0, o = 0;

	CHECK(n >= 3 && memcmp(res + n - 3, ".\r\n", 3) == 0);
	CHECK(n == 3 || res[n - 4] == '\n');
	while (i < n - 3) {
		if (res[i] == '.') {
			/* not the terminator: the next is another '.' */
			CHECK(i + 1 < n - 3 && res[i + 1] == '.');
			i++;
		}
		while (i < n - 3) {
			char c = res[i++];

			CHECK(o < len + 2);
			if (o < len)
				CHECK(in[o] == c);
			o++;
			if (c == '\n')
				break;
		}
	}
	CHECK(o >= len && o <= len + 2);
}

static void fuzz_stuff(const char *in, size_t len)
{
	size_t max = 2 * len + 8;
	char *whole = malloc(max), *piece = malloc(max), *top = malloc(max);
	uint32_t lines = len > 0 ? (uint8_t)in[0] % 8 : 0;
	size_t n1, n2, n3;

	CHECK(whole != NULL && piece != NULL && top != NULL);
	n1 = stuff(in, len, false, 0, len + 1, 64, whole);
	n2 = stuff(in, len, false, 0, 3, 2, piece);
	CHECK(n1 == n2 && memcmp(whole, piece, n1) == 0);
	check_unstuff(in, len, whole, n1);
	n3 = stuff(in, len, true, lines, 1, 3, top);
	/* TOP sends a prefix of the message, cut at a line end */
	CHECK(n3 <= n1);
	CHECK(memcmp(top, whole, n3 - 3) == 0);
	CHECK(memcmp(top + n3 - 3, ".\r\n", 3) == 0);
	free(whole);
	free(piece);
	free(top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan sees any read past it. */
	char *line = malloc(size ? size : 1);
	char uidl[POP3_UIDL_MAX + 1];

	CHECK(line != NULL);
	memcpy(line, data, size);
	fuzz_command(line, size);
	fuzz_stuff(line, size);
	if (size >= 8) {
		uint32_t v, u;

		memcpy(&v, data, 4);
		memcpy(&u, data + 4, 4);
		CHECK(pop3_uidl(v, u, uidl, sizeof(uidl)) == 17);
		CHECK(strlen(uidl) == 17 && uidl[8] == '.');
	}
	free(line);
	return 0;
}
