/*
 * libFuzzer target for server/config: configuration text in, a validated
 * config or errors out.
 *
 * The promises checked: a config comes back exactly when no error was
 * recorded; every error is one line with no control octet, naming the
 * file and a line number ("fuzz.conf:N: ..."), as an operator's log
 * needs it; a loaded config keeps the ranges the loader enforces; nothing
 * leaks (ASan).
 *
 * Inputs that ask libconfig to @include a file are skipped: the text
 * could name any file on the fuzzing machine, /dev/zero included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/config.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks its string buffer when a quoted string
 * is never closed; that leak is its own, found here, and not ours to
 * mend. Leaks with any of our frames on the stack are still reported. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static bool mentions_include(const char *text)
{
	for (const char *p = text; (p = strchr(p, '@')) != NULL; p++)
		if (strncasecmp(p + 1, "include", 7) == 0)
			return true;
	return false;
}

static void check_error(const char *msg)
{
	const char *p = msg + strlen(NAME);

	CHECK(strncmp(msg, NAME, strlen(NAME)) == 0);
	for (const char *c = msg; *c != '\0'; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	/* "fuzz.conf: ..." (the file as a whole) or "fuzz.conf:N: ..." */
	if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	CHECK(*p == ':');
}

static void check_config(const struct config *cfg)
{
	CHECK(strcmp(cfg->path, NAME) == 0);
	CHECK(cfg->data_dir != NULL && cfg->data_dir[0] == '/');
	CHECK(cfg->workers >= 1);
	CHECK(cfg->tls.min_version == 12 || cfg->tls.min_version == 13);
	CHECK(cfg->queue.retry_count <=
	      sizeof(cfg->queue.retry) / sizeof(cfg->queue.retry[0]));
	CHECK(cfg->queue.tls_policy_count <= CONFIG_TLS_POLICY_MAX);
	CHECK(cfg->queue.mx_port >= 1 && cfg->queue.mx_port <= 65535);
	CHECK(cfg->relay.auto_count <=
	      sizeof(cfg->relay.auto_ports) / sizeof(cfg->relay.auto_ports[0]));
	for (size_t i = 0; i < cfg->listener_count; i++) {
		const struct config_listener *l = &cfg->listeners[i];

		CHECK(l->address != NULL);
		CHECK(l->port >= 1 && l->port <= 65535);
		CHECK(l->line >= 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errors = {0};
	struct config *cfg;
	char *text;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mentions_include(text)) {
		free(text);
		return 0;
	}
	cfg = config_parse_string(text, NAME, "/nonexistent-fuzz", &errors);
	CHECK((cfg == NULL) == (errors.count > 0));
	for (size_t i = 0; i < errors.count; i++)
		check_error(errors.msgs[i]);
	if (cfg != NULL)
		check_config(cfg);
	config_free(&cfg);
	config_errors_fini(&errors);
	free(text);
	return 0;
}
