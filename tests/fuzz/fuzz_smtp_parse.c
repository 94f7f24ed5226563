/*
 * libFuzzer target for smtp/parse and mail/address.
 *
 * The input is a command line (without CRLF). It is split by
 * smtp_parse_verb, and its argument and the whole input are fed to every
 * argument parser under every extension set, and to the address parsers
 * under every flag set. Each result must keep its promises: bounded,
 * NUL-terminated fields, results consistent with the flags, and an
 * address that formats back to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/address.h"
#include "smtp/parse.h"
#include "fuzz.h"

#define EXT_ALL 0x1f

static bool terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

static bool has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static void check_address(const struct address *a, unsigned flags)
{
	CHECK(terminated(a->local, sizeof(a->local)));
	CHECK(terminated(a->domain, sizeof(a->domain)));
	if (a->null) {
		CHECK(flags & ADDRESS_F_ALLOW_NULL);
		CHECK(a->local[0] == '\0' && a->domain[0] == '\0');
		return;
	}
	CHECK(a->domain[0] != '\0');
	CHECK(a->literal == (a->domain[0] == '['));
	if (!(flags & ADDRESS_F_UTF8))
		CHECK(!a->utf8);
}

static void check_error(int ret, const char *error)
{
	CHECK(ret == -1 || ret == -2 || ret == -3);
	CHECK(error != NULL && error[0] != '\0');
}

/* What address_format writes is a mailbox that parses to the same. */
static void check_format(const struct address *a, unsigned flags)
{
	char buf[2 * ADDRESS_PATH_MAX], small[8];
	struct address b;
	const char *error;
	size_t n;

	n = address_format(a, buf, sizeof(buf));
	CHECK(n < sizeof(buf) && strlen(buf) == n);
	CHECK(address_format(a, small, sizeof(small)) == n);
	CHECK(strlen(small) == (n < sizeof(small) ? n : sizeof(small) - 1));
	CHECK(memcmp(small, buf, strlen(small)) == 0);
	if (a->null)
		return;
	CHECK(address_parse_mailbox(buf, n, flags, &b, &error) == 0);
	CHECK(strcmp(a->local, b.local) == 0);
	CHECK(strcmp(a->domain, b.domain) == 0);
	CHECK(a->quoted == b.quoted && a->literal == b.literal &&
	      a->utf8 == b.utf8);
}

static void fuzz_path(const char *s, size_t len)
{
	struct address a[4];
	int ret[4];

	for (unsigned flags = 0; flags < 4; flags++) {
		const char *error = NULL;
		size_t used = 1;

		ret[flags] = address_parse_path(s, len, flags, &a[flags], &used,
						&error);
		if (ret[flags] != 0) {
			check_error(ret[flags], error);
			CHECK(used == 0);
			CHECK(ret[flags] != -3 || !(flags & ADDRESS_F_UTF8));
			continue;
		}
		CHECK(used >= 2 && used <= len && used <= ADDRESS_PATH_MAX);
		CHECK(s[0] == '<' && s[used - 1] == '>');
		check_address(&a[flags], flags);
		check_format(&a[flags], flags);
	}
	/* The UTF-8 flag only widens: same answer, or -3 becomes 0. */
	for (unsigned flags = 0; flags < 4; flags += 2) {
		unsigned wide = flags | ADDRESS_F_UTF8;

		if (ret[flags] == -3)
			CHECK(ret[wide] == 0 &&
			      (a[wide].utf8 || has_8bit(s, len)));
		else
			CHECK(ret[flags] == ret[wide]);
		if (ret[flags] == 0)
			CHECK(memcmp(&a[flags], &a[wide], sizeof(a[0])) == 0);
	}
}

static void fuzz_mailbox(const char *s, size_t len)
{
	for (unsigned flags = 0; flags < 4; flags++) {
		struct address a;
		const char *error = NULL;
		int ret = address_parse_mailbox(s, len, flags, &a, &error);

		if (ret != 0) {
			check_error(ret, error);
			continue;
		}
		CHECK(!a.null);
		check_address(&a, flags);
		check_format(&a, flags);
	}
}

static void check_smtp_error(const struct smtp_error *err)
{
	CHECK(err->code == 501 || err->code == 550 || err->code == 553 ||
	      err->code == 555);
	CHECK(err->status != NULL && strlen(err->status) == 5);
	CHECK(err->text != NULL && err->text[0] != '\0');
}

static void fuzz_mail(const char *arg, size_t len, unsigned exts)
{
	struct address from;
	struct smtp_mail_params mp;
	struct smtp_error err = {0};

	if (smtp_parse_mail(arg, len, exts, &from, &mp, &err) != 0) {
		check_smtp_error(&err);
		return;
	}
	check_address(&from, ADDRESS_F_UTF8 | ADDRESS_F_ALLOW_NULL);
	CHECK(terminated(mp.envid, sizeof(mp.envid)));
	CHECK(terminated(mp.auth, sizeof(mp.auth)));
	CHECK(!mp.has_size || (exts & SMTP_EXT_SIZE));
	CHECK(mp.body == SMTP_BODY_DEFAULT || (exts & SMTP_EXT_8BITMIME));
	CHECK(!mp.smtputf8 || (exts & SMTP_EXT_SMTPUTF8));
	CHECK(!from.utf8 || mp.smtputf8);
	CHECK(mp.ret == SMTP_RET_DEFAULT || (exts & SMTP_EXT_DSN));
	CHECK(mp.envid[0] == '\0' || (exts & SMTP_EXT_DSN));
	CHECK(mp.auth[0] == '\0' || (exts & SMTP_EXT_AUTH));
}

static void fuzz_rcpt(const char *arg, size_t len, unsigned exts, bool utf8)
{
	struct address to;
	struct smtp_rcpt_params rp;
	struct smtp_error err = {0};

	if (smtp_parse_rcpt(arg, len, exts, utf8, &to, &rp, &err) != 0) {
		check_smtp_error(&err);
		return;
	}
	CHECK(!to.null);
	CHECK(terminated(to.local, sizeof(to.local)));
	CHECK(terminated(rp.orcpt, sizeof(rp.orcpt)));
	if (to.domain[0] == '\0')
		CHECK(strcmp(to.local, "Postmaster") == 0);
	else
		check_address(&to, utf8 ? ADDRESS_F_UTF8 : 0);
	CHECK(rp.notify == 0 || (exts & SMTP_EXT_DSN));
	CHECK(!(rp.notify & SMTP_NOTIFY_NEVER) ||
	      rp.notify == SMTP_NOTIFY_NEVER);
	CHECK(rp.orcpt[0] == '\0' || (exts & SMTP_EXT_DSN));
	CHECK(rp.orcpt[0] == '\0' || strchr(rp.orcpt, ';') != NULL);
}

static void fuzz_args(const char *arg, size_t len)
{
	struct smtp_error err = {0};
	uint64_t chunk;
	bool last;

	for (unsigned exts = 0; exts <= EXT_ALL; exts++) {
		fuzz_mail(arg, len, exts);
		fuzz_rcpt(arg, len, exts, false);
		fuzz_rcpt(arg, len, exts, true);
	}
	if (smtp_parse_bdat(arg, len, &chunk, &last, &err) != 0)
		CHECK(err.code == 501 && err.text != NULL);
	err.code = 0;
	if (smtp_parse_helo(arg, len, &err) != 0)
		CHECK(err.code == 501 && err.text != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan sees any read past it. */
	char *line = malloc(size ? size : 1);
	const char *arg;
	size_t arg_len;
	enum smtp_verb verb;

	CHECK(line != NULL);
	memcpy(line, data, size);
	verb = smtp_parse_verb(line, size, &arg, &arg_len);
	CHECK(arg >= line && arg + arg_len == line + size);
	CHECK(smtp_verb_name(verb) != NULL);
	if (verb != SMTP_VERB_UNKNOWN)
		CHECK(arg == line + size || arg[-1] == ' ');
	fuzz_args(arg, arg_len);
	fuzz_args(line, size);
	fuzz_path(line, size);
	fuzz_mailbox(line, size);
	free(line);
	return 0;
}
