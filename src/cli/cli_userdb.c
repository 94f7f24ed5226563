/*
 * The user database as the domain, user and alias subcommands open it:
 * found through the configuration, owned by the workers' account.
 */
#include <stdio.h>
#include <stdlib.h>

#include "auth/userdb.h"
#include "cli/cli.h"
#include "lib/mem.h"
#include "server/config.h"

int cli_userdb_open(struct cli_userdb *u, const char *cmd,
		    const char *config_path)
{
	const char *error;

	*u = (struct cli_userdb){.cmd = cmd};
	u->cfg = cli_config_load(cmd, config_path);
	if (u->cfg == NULL)
		return CLI_EXIT_USER;
	u->path = xasprintf("%s/%s", u->cfg->data_dir, USERDB_FILE);
	u->db = userdb_open(u->path, true, &error);
	if (u->db == NULL) {
		fprintf(stderr, "postern %s: %s\n", cmd, error);
		return cli_userdb_close(u, CLI_EXIT_INTERNAL);
	}
	/* workers open it after dropping root: hand it over at once */
	if (userdb_chown(u->path, u->cfg->user, &error) < 0) {
		fprintf(stderr, "postern %s: %s\n", cmd, error);
		return cli_userdb_close(u, CLI_EXIT_INTERNAL);
	}
	return CLI_EXIT_OK;
}

int cli_userdb_close(struct cli_userdb *u, int code)
{
	const char *error;

	userdb_free(&u->db);
	/* the -wal and -shm files may have appeared since the open */
	if (u->path != NULL && u->cfg != NULL &&
	    userdb_chown(u->path, u->cfg->user, &error) < 0) {
		fprintf(stderr, "postern %s: %s\n", u->cmd, error);
		if (code == CLI_EXIT_OK)
			code = CLI_EXIT_INTERNAL;
	}
	xfree(&u->path);
	config_free(&u->cfg);
	return code;
}

int cli_userdb_result(const struct cli_userdb *u, int rc, const char *error)
{
	if (rc == 0)
		return CLI_EXIT_OK;
	fprintf(stderr, "postern %s: %s\n", u->cmd, error);
	return rc == -1 ? CLI_EXIT_USER : CLI_EXIT_INTERNAL;
}
