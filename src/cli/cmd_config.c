/*
 * postern config check [-c FILE]: validate everything serve would,
 * short of binding the ports, and print each problem as FILE:LINE: message.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/mem.h"
#include "net/tls.h"
#include "server/config.h"

static void config_usage(FILE *fp)
{
	fprintf(fp, "usage: postern config check [-c FILE]\n\n"
		    "Validate the configuration and the certificates it names; "
		    "print each\nerror as FILE:LINE: message. Exit 0 when "
		    "valid, 1 otherwise.\n");
}

/* The certificates must load, as they would at serve time; errors name
 * the file as the loader's do (path as given). */
static int config_check_tls(const struct config *cfg, const char *path)
{
	struct tls_server_params p = {cfg->tls.cert, cfg->tls.key,
				      cfg->tls.min_version, NULL, 0};
	struct tls_ctx *tls;
	const char *error;
	int bad = 0;

	if (cfg->tls.cert == NULL)
		return 0;
	tls = tls_ctx_server_new(&p, &error);
	if (tls == NULL) {
		printf("%s:%d: tls: %s\n", path, cfg->tls.line, error);
		bad = 1;
	}
	tls_ctx_free(&tls);
	for (size_t i = 0; i < cfg->tls.sni_count; i++) {
		const struct config_sni *s = &cfg->tls.sni[i];
		struct tls_server_params sp = {s->cert, s->key,
					       cfg->tls.min_version, NULL, 0};

		tls = tls_ctx_server_new(&sp, &error);
		if (tls == NULL) {
			printf("%s:%d: tls.sni: %s\n", path, s->line, error);
			bad = 1;
		}
		tls_ctx_free(&tls);
	}
	return bad;
}

static int config_check(const char *path)
{
	struct config_errors errors = {0};
	struct config *cfg = config_load(path, &errors);
	int bad;

	for (size_t i = 0; i < errors.count; i++)
		printf("%s\n", errors.msgs[i]);
	config_errors_fini(&errors);
	if (cfg == NULL)
		return CLI_EXIT_USER;
	bad = config_check_tls(cfg, path);
	config_free(&cfg);
	if (bad)
		return CLI_EXIT_USER;
	printf("%s: ok\n", path);
	return CLI_EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int ch;

	/* GNU getopt permutes: "config check -c F" and "config -c F check". */
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			config_usage(stdout);
			return CLI_EXIT_OK;
		default:
			config_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "check") != 0) {
		config_usage(stderr);
		return CLI_EXIT_USER;
	}
	return config_check(cli_config_path(config));
}
