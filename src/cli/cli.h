/*
 * Shared by the subcommands: the configuration path rule and exit codes.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

/* Exit codes every subcommand uses. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_USER 1	    /* bad usage, bad config, refused request */
#define CLI_EXIT_INTERNAL 2 /* the environment or postern failed */

#define CLI_DEFAULT_CONFIG "/etc/postern/postern.conf"

/* -c FILE, else $POSTERN_CONFIG, else CLI_DEFAULT_CONFIG. */
const char *cli_config_path(const char *option);

/* The subcommands; argv[0] is the subcommand name. */
int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
