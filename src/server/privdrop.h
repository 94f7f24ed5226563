/*
 * Dropping root for good. SECURITY: workers call privdrop_apply() right
 * after fork, before touching any client data, and can never get root
 * back (setgroups, setgid, setuid, then a check that setuid(0) fails).
 */
#ifndef SERVER_PRIVDROP_H
#define SERVER_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

struct privdrop {
	bool active; /* false: not root, nothing to drop */
	uid_t uid;
	gid_t gid;
	char *user;
};

/*
 * Resolve user while NSS is still usable. When not running as root the
 * result is inactive. Root without a user is an error: workers must never
 * run as root. Returns 0, or -1 with *error_r (static) set.
 */
int privdrop_init(struct privdrop *pd, const char *user, const char **error_r)
	__attribute__((warn_unused_result));
void privdrop_fini(struct privdrop *pd);

/* Become pd's user for good; a failure is fatal. */
void privdrop_apply(const struct privdrop *pd);

#endif
