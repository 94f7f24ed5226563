/*
 * postern: one binary, subcommands. This file only dispatches.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct cli_command commands[] = {
	{"init", cmd_init,
	 "create a configuration, data folder and certificate"},
	{"serve", cmd_serve, "run the mail server in the foreground"},
	{"config", cmd_config, "check a configuration file"},
	{"domain", cmd_domain, "add, remove and list the local domains"},
	{"user", cmd_user, "add, remove and list users; set passwords"},
	{"alias", cmd_alias, "add, remove and list aliases"},
	{"queue", cmd_queue, "list, show, flush, bounce or delete queued mail"},
	{"mailq", cmd_mailq, "the queue in mailq(1) form (queue list)"},
	{"probe", cmd_probe, "check a mail host's ports, TLS and extensions"},
	{"sendmail", cmd_sendmail,
	 "queue a message from stdin, as sendmail(8)"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *cli_config_path(const char *option)
{
	const char *env = getenv("POSTERN_CONFIG");

	if (option != NULL)
		return option;
	if (env != NULL && *env != '\0')
		return env;
	return CLI_DEFAULT_CONFIG;
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: postern COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(fp,
		"\nRun 'postern COMMAND --help' for a command's options.\n"
		"The configuration is -c FILE, else $POSTERN_CONFIG, else "
		"%s.\n",
		CLI_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');

	/* Writes to a closed socket are errors to handle, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	/* Installed as /usr/sbin/sendmail or mailq, it is that command. */
	self = self != NULL ? self + 1 : argv[0];
	if (strcmp(self, "sendmail") == 0)
		return cmd_sendmail(argc, argv);
	if (strcmp(self, "mailq") == 0)
		return cmd_mailq(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USER;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "postern: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USER;
}
