/*
 * The POP3 maildrop lock (RFC 1939 8): flock(2) on a lock file in the
 * mailbox's folder. flock locks belong to the open file description, so
 * two sessions in one worker process exclude each other as two processes
 * do, and the kernel drops the lock when its holder dies.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/mem.h"

int store_lock(struct store_user *u, const char *name, const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	struct store_mbrow row;
	char *dir, *path;
	int fd, rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, name, norm)) < 0)
		return rc;
	rc = store_mbrow_by_name(u, norm, &row);
	if (rc == 0 && row.noselect)
		rc = store_fail(u, STORE_ERR_NONEXISTENT,
				"mailbox cannot be selected");
	store_mbrow_fini(&row);
	if (rc < 0)
		return rc;
	dir = store_folder_dir(u, norm);
	path = xasprintf("%s/" STORE_LOCK_FILE, dir);
	free(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = store_errno_fail(u, "open", path);
		free(path);
		return rc;
	}
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = errno == EWOULDBLOCK
			     ? store_fail(u, STORE_ERR_LOCKED,
					  "mailbox in use by another session")
			     : store_errno_fail(u, "flock", path);
		close(fd);
		free(path);
		return rc;
	}
	free(path);
	return fd;
}

void store_unlock(struct store_user *u, int handle)
{
	(void)u;
	if (handle >= 0)
		close(handle); /* drops the flock */
}
