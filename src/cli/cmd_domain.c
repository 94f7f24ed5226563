/*
 * postern domain add|del|list: the local domains, those postern accepts
 * mail for on port 25.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/userdb.h"
#include "cli/cli.h"

static void domain_usage(FILE *fp)
{
	fprintf(fp,
		"usage: postern domain add DOMAIN [-c FILE]\n"
		"       postern domain del DOMAIN [--force] [-c FILE]\n"
		"       postern domain list [-c FILE]\n\n"
		"Manage the local domains: postern accepts mail for their "
		"users and aliases.\n"
		"del refuses a domain that still has users or aliases; with "
		"--force they are\nremoved with it (their mail on disk is "
		"kept).\n");
}

static void domain_print(const char *domain, void *ctx)
{
	(void)ctx;
	printf("%s\n", domain);
}

static int domain_run(struct cli_userdb *u, const char *action,
		      const char *domain, bool force)
{
	const char *error;
	int rc;

	if (strcmp(action, "add") == 0) {
		rc = userdb_domain_add(u->db, domain, &error);
		if (rc == 0)
			printf("added domain %s\n", domain);
	} else if (strcmp(action, "del") == 0) {
		rc = userdb_domain_del(u->db, domain, force, &error);
		if (rc == 0)
			printf("removed domain %s\n", domain);
	} else {
		rc = userdb_domain_list(u->db, domain_print, NULL, &error);
	}
	return cli_userdb_result(u, rc, error);
}

/* Operands for action: add/del take DOMAIN, list nothing. */
static bool domain_args_ok(const char *action, int nargs, bool force)
{
	if (strcmp(action, "list") == 0)
		return nargs == 0 && !force;
	if (strcmp(action, "add") == 0)
		return nargs == 1 && !force;
	return strcmp(action, "del") == 0 && nargs == 1;
}

int cmd_domain(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	struct cli_userdb u;
	bool force = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			domain_usage(stdout);
			return CLI_EXIT_OK;
		default:
			domain_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind >= argc ||
	    !domain_args_ok(argv[optind], argc - optind - 1, force)) {
		domain_usage(stderr);
		return CLI_EXIT_USER;
	}
	rc = cli_userdb_open(&u, "domain", cli_config_path(config));
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = domain_run(&u, argv[optind], argv[optind + 1], force);
	return cli_userdb_close(&u, rc);
}
