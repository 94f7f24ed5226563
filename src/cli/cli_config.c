/*
 * Loading the configuration for a subcommand: errors printed as
 * FILE:LINE: message, like `postern config check` does.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "server/config.h"

struct config *cli_config_load(const char *cmd, const char *path)
{
	struct config_errors errors = {0};
	struct config *cfg = config_load(path, &errors);

	for (size_t i = 0; i < errors.count; i++)
		fprintf(stderr, "%s\n", errors.msgs[i]);
	config_errors_fini(&errors);
	if (cfg == NULL)
		fprintf(stderr, "postern %s: %s: configuration not usable\n",
			cmd, path);
	return cfg;
}
