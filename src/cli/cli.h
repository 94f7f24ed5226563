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

struct config;

/* Load path for subcommand cmd, printing every error; NULL if unusable.
 * The caller frees the result with config_free(). */
struct config *cli_config_load(const char *cmd, const char *path);

/* The subcommands; argv[0] is the subcommand name. */
int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_domain(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_alias(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_mailq(int argc, char **argv);
int cmd_sendmail(int argc, char **argv);
int cmd_probe(int argc, char **argv);

/*
 * The user database of the configuration, for domain/user/alias
 * (cli_userdb.c). cli_userdb_open() loads config_path (printing its
 * errors), opens <data_dir>/postern.db, creating it when missing, and
 * returns CLI_EXIT_OK with u filled, or another exit code after printing
 * why as "postern CMD: ...". cli_userdb_close() closes it, gives the files
 * to the configured user when run as root, frees u and returns code, or
 * CLI_EXIT_INTERNAL when that failed.
 */
struct cli_userdb {
	struct config *cfg;
	struct userdb *db;
	char *path;
	const char *cmd; /* "domain", "user", "alias": for messages */
};

int cli_userdb_open(struct cli_userdb *u, const char *cmd,
		    const char *config_path);
int cli_userdb_close(struct cli_userdb *u, int code);
/*
 * The exit code for an admin result of userdb (0, -1 refused, -2 db
 * error); prints error as "postern CMD: error" when rc is not 0.
 */
int cli_userdb_result(const struct cli_userdb *u, int rc, const char *error);

#endif
