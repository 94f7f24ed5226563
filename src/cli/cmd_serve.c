/*
 * postern serve -c FILE: run in the foreground, log to stderr or the
 * configured file, until SIGTERM.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "server/master.h"

static void serve_usage(FILE *fp)
{
	fprintf(fp, "usage: postern serve [-c FILE]\n\n"
		    "Run postern in the foreground. SIGTERM drains sessions "
		    "and exits;\nSIGHUP reloads the configuration and "
		    "certificates.\n");
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			serve_usage(stdout);
			return CLI_EXIT_OK;
		default:
			serve_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind != argc) {
		serve_usage(stderr);
		return CLI_EXIT_USER;
	}
	return master_run(cli_config_path(config));
}
