#include "server/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

int privdrop_init(struct privdrop *pd, const char *user, const char **error_r)
{
	static char error[256];
	struct passwd *pw;

	memset(pd, 0, sizeof(*pd));
	if (geteuid() != 0)
		return 0;
	if (user == NULL) {
		*error_r = "running as root needs 'user': the unprivileged "
			   "account the workers run as";
		return -1;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(error, sizeof(error), "user '%s' does not exist",
			 user);
		*error_r = error;
		return -1;
	}
	if (pw->pw_uid == 0) {
		*error_r = "'user' must not be root";
		return -1;
	}
	pd->active = true;
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	pd->user = xstrdup(user);
	return 0;
}

void privdrop_fini(struct privdrop *pd)
{
	free(pd->user);
	memset(pd, 0, sizeof(*pd));
}

void privdrop_apply(const struct privdrop *pd)
{
	if (!pd->active)
		return;
	if (setgroups(1, &pd->gid) != 0 ||
	    setresgid(pd->gid, pd->gid, pd->gid) != 0 ||
	    setresuid(pd->uid, pd->uid, pd->uid) != 0)
		fatal("cannot drop privileges to %s: %s", pd->user,
		      strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0)
		panic("privileges could be regained after dropping them");
}
