/*
 * postern alias add|del|list: addresses that forward to local users or to
 * other aliases; "@domain" is the catch-all of a domain.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/userdb.h"
#include "cli/cli.h"

static void alias_usage(FILE *fp)
{
	fprintf(fp,
		"usage: postern alias add ALIAS TARGET... [-c FILE]\n"
		"       postern alias del ALIAS [TARGET...] [-c FILE]\n"
		"       postern alias list [-c FILE]\n\n"
		"Mail for ALIAS (local@domain, or @domain for every address "
		"of the domain\nthat is no user or other alias) goes to each "
		"TARGET: an existing user or\nalias. add to an existing alias "
		"adds targets; del without targets removes\nthe alias.\n");
}

static void alias_print(const char *alias, const char *target, void *ctx)
{
	(void)ctx;
	printf("%s\t%s\n", alias, target);
}

static int alias_run(struct cli_userdb *u, const char *action, int nargs,
		     char **args)
{
	const char *const *targets = (const char *const *)args + 1;
	size_t n = nargs > 0 ? (size_t)nargs - 1 : 0;
	const char *error;
	int rc;

	if (strcmp(action, "add") == 0) {
		rc = userdb_alias_add(u->db, args[0], targets, n, &error);
		if (rc == 0)
			printf("added alias %s\n", args[0]);
	} else if (strcmp(action, "del") == 0) {
		rc = userdb_alias_del(u->db, args[0], targets, n, &error);
		if (rc == 0)
			printf("removed %s%s\n",
			       n > 0 ? "targets of " : "alias ", args[0]);
	} else {
		rc = userdb_alias_list(u->db, alias_print, NULL, &error);
	}
	return cli_userdb_result(u, rc, error);
}

static bool alias_args_ok(const char *action, int nargs)
{
	if (strcmp(action, "list") == 0)
		return nargs == 0;
	if (strcmp(action, "add") == 0)
		return nargs >= 2;
	return strcmp(action, "del") == 0 && nargs >= 1;
}

int cmd_alias(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	struct cli_userdb u;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			alias_usage(stdout);
			return CLI_EXIT_OK;
		default:
			alias_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind >= argc || !alias_args_ok(argv[optind], argc - optind - 1)) {
		alias_usage(stderr);
		return CLI_EXIT_USER;
	}
	rc = cli_userdb_open(&u, "alias", cli_config_path(config));
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = alias_run(&u, argv[optind], argc - optind - 1, argv + optind + 1);
	return cli_userdb_close(&u, rc);
}
