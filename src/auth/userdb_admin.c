/*
 * The user database's changes, made by the CLI: each runs in one IMMEDIATE
 * transaction so its checks and writes are atomic against other writers
 * (another CLI run, a future web admin).
 *
 * SECURITY: every name is validated (auth/userdb.c) before it is stored;
 * local parts become Maildir folder names.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "auth/userdb.h"
#include "auth/userdb_int.h"

static int userdb_norm_domain(struct userdb *db, const char *domain, char *out)
{
	const char *error;

	if (userdb_domain_check(domain, &error) < 0)
		return userdb_refuse(db, "%s: %s", domain, error);
	return userdb_lower(out, USERDB_DOMAIN_MAX + 1, domain);
}

static int userdb_begin(struct userdb *db, const char **error_r)
{
	*error_r = db->error;
	return userdb_exec(db, ST_BEGIN, NULL, NULL) < 0 ? -2 : 0;
}

/* Commit when rc is 0, else roll back. Returns rc, or -2 if the commit
 * failed. */
static int userdb_end(struct userdb *db, int rc)
{
	if (rc == 0 && userdb_exec(db, ST_COMMIT, NULL, NULL) < 0)
		rc = -2;
	/* not through userdb_exec: the message of the failure stays */
	if (rc != 0 && !sqlite3_get_autocommit(db->sq))
		sqlite3_exec(db->sq, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* userdb_exists() as an admin result: 1 / 0 as is, -1 becomes -2. */
static int userdb_has(struct userdb *db, enum userdb_stmt id, const char *a)
{
	int rc = userdb_exists(db, id, a);

	return rc < 0 ? -2 : rc;
}

int userdb_domain_add(struct userdb *db, const char *domain,
		      const char **error_r)
{
	char name[USERDB_DOMAIN_MAX + 1];
	int rc;

	*error_r = db->error;
	if (userdb_norm_domain(db, domain, name) < 0)
		return -1;
	if (userdb_begin(db, error_r) < 0)
		return -2;
	rc = userdb_has(db, ST_DOMAIN_GET, name);
	if (rc == 1)
		rc = userdb_refuse(db, "%s: domain already exists", name);
	else if (rc == 0 && userdb_exec(db, ST_DOMAIN_ADD, name, NULL) < 0)
		rc = -2;
	return userdb_end(db, rc);
}

/* What keeps domain name from being removed without force. */
static int userdb_domain_in_use(struct userdb *db, const char *name)
{
	int rc = userdb_has(db, ST_DOMAIN_USERS, name);

	if (rc == 1)
		return userdb_refuse(db,
				     "%s: domain still has users (remove "
				     "them first, or force)",
				     name);
	if (rc == 0)
		rc = userdb_has(db, ST_DOMAIN_ALIASES, name);
	if (rc == 1)
		return userdb_refuse(db,
				     "%s: domain still has aliases "
				     "(remove them first, or force)",
				     name);
	return rc;
}

int userdb_domain_del(struct userdb *db, const char *domain, bool force,
		      const char **error_r)
{
	char name[USERDB_DOMAIN_MAX + 1];
	int rc;

	*error_r = db->error;
	if (userdb_norm_domain(db, domain, name) < 0)
		return -1;
	if (userdb_begin(db, error_r) < 0)
		return -2;
	rc = userdb_has(db, ST_DOMAIN_GET, name);
	if (rc == 0)
		rc = userdb_refuse(db, "%s: no such domain", name);
	else if (rc == 1 && !force)
		rc = userdb_domain_in_use(db, name);
	else if (rc == 1 &&
		 (userdb_exec(db, ST_DOMAIN_DEL_USERS, name, NULL) < 0 ||
		  userdb_exec(db, ST_DOMAIN_DEL_ALIASES, name, NULL) < 0))
		rc = -2;
	else if (rc == 1)
		rc = 0;
	if (rc == 0 && userdb_exec(db, ST_DOMAIN_DEL, name, NULL) < 0)
		rc = -2;
	return userdb_end(db, rc);
}

int userdb_domain_list(struct userdb *db, userdb_domain_cb *cb, void *ctx,
		       const char **error_r)
{
	sqlite3_stmt *st = userdb_stmt(db, ST_DOMAIN_LIST);
	int rc;

	*error_r = db->error;
	if (st == NULL)
		return -2;
	while ((rc = userdb_step(db, st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), ctx);
	sqlite3_reset(st);
	return rc < 0 ? -2 : 0;
}

/* Why addr cannot become a user or an alias: 0 free, -1 refused, -2. */
static int userdb_address_taken(struct userdb *db, const char *addr,
				bool as_alias)
{
	const char *at = strrchr(addr, '@');
	int rc = userdb_has(db, ST_DOMAIN_GET, at + 1);

	if (rc == 0)
		return userdb_refuse(db,
				     "%s: no such domain (add it with "
				     "postern domain add)",
				     at + 1);
	if (rc == 1)
		rc = userdb_has(db, ST_USER_GET, addr);
	if (rc == 1)
		return userdb_refuse(db,
				     as_alias ? "%s is a user"
					      : "%s: user already exists",
				     addr);
	if (rc == 0 && !as_alias)
		rc = userdb_has(db, ST_ALIAS_GET, addr);
	if (rc == 1)
		return userdb_refuse(db, "%s is an alias", addr);
	return rc;
}

static int userdb_insert_user(struct userdb *db, const char *addr,
			      const char *hash,
			      const struct userdb_scram *scram, uint64_t quota)
{
	const char *at = strrchr(addr, '@');
	sqlite3_stmt *st = userdb_stmt(db, ST_USER_ADD);

	if (st == NULL)
		return -2;
	if (sqlite3_bind_text(st, 1, addr, -1, SQLITE_TRANSIENT) ||
	    sqlite3_bind_text(st, 2, addr, (int)(at - addr),
			      SQLITE_TRANSIENT) ||
	    sqlite3_bind_text(st, 3, at + 1, -1, SQLITE_TRANSIENT) ||
	    sqlite3_bind_text(st, 4, hash, -1, SQLITE_TRANSIENT) ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)quota) ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL))) {
		userdb_sql_error(db, "bind");
		return -2;
	}
	if (userdb_bind_scram(db, st, 7, scram) < 0)
		return -2;
	if (userdb_step(db, st) < 0)
		return -2;
	sqlite3_reset(st);
	return 0;
}

/* The new secrets of addr, before they are stored: -1 with db->error. */
static int userdb_secrets_check(struct userdb *db, const char *addr,
				const char *hash,
				const struct userdb_scram *scram)
{
	const char *error;

	if (hash == NULL || hash[0] == '\0')
		return userdb_refuse(db, "%s: empty password hash", addr);
	if (scram != NULL && userdb_scram_check(scram, &error) < 0)
		return userdb_refuse(db, "%s: %s", addr, error);
	return 0;
}

int userdb_user_add(struct userdb *db, const char *address,
		    const char *password_hash, const struct userdb_scram *scram,
		    uint64_t quota, const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc;

	*error_r = db->error;
	if (userdb_norm(db, address, false, addr) < 0)
		return -1;
	if (userdb_secrets_check(db, addr, password_hash, scram) < 0)
		return -1;
	if (quota > INT64_MAX)
		return userdb_refuse(db, "%s: quota too large", addr);
	if (userdb_begin(db, error_r) < 0)
		return -2;
	rc = userdb_address_taken(db, addr, false);
	if (rc == 0)
		rc = userdb_insert_user(db, addr, password_hash, scram, quota);
	return userdb_end(db, rc);
}

/* Run a one-row change on user address; "no such user" when none. */
static int userdb_user_change(struct userdb *db, enum userdb_stmt id,
			      const char *address, const char *arg,
			      const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc;

	*error_r = db->error;
	if (userdb_norm(db, address, false, addr) < 0)
		return -1;
	if (userdb_begin(db, error_r) < 0)
		return -2;
	rc = userdb_exec(db, id, addr, arg);
	if (rc == 0)
		rc = userdb_refuse(db, "%s: no such user", addr);
	else
		rc = rc < 0 ? -2 : 0;
	return userdb_end(db, rc);
}

int userdb_user_del(struct userdb *db, const char *address,
		    const char **error_r)
{
	return userdb_user_change(db, ST_USER_DEL, address, NULL, error_r);
}

/* The UPDATE of userdb_user_passwd: rows changed, or -1. */
static int userdb_update_secrets(struct userdb *db, const char *addr,
				 const char *hash,
				 const struct userdb_scram *scram)
{
	sqlite3_stmt *st = userdb_bind(db, ST_USER_PASSWD, addr, hash);

	if (st == NULL || userdb_bind_scram(db, st, 3, scram) < 0 ||
	    userdb_step(db, st) < 0)
		return -1;
	sqlite3_reset(st);
	return sqlite3_changes(db->sq);
}

int userdb_user_passwd(struct userdb *db, const char *address,
		       const char *password_hash,
		       const struct userdb_scram *scram, const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc;

	*error_r = db->error;
	if (userdb_norm(db, address, false, addr) < 0 ||
	    userdb_secrets_check(db, addr, password_hash, scram) < 0)
		return -1;
	if (userdb_begin(db, error_r) < 0)
		return -2;
	rc = userdb_update_secrets(db, addr, password_hash, scram);
	if (rc == 0)
		rc = userdb_refuse(db, "%s: no such user", addr);
	else
		rc = rc < 0 ? -2 : 0;
	return userdb_end(db, rc);
}

int userdb_user_list(struct userdb *db, const char *domain, userdb_user_cb *cb,
		     void *ctx, const char **error_r)
{
	char name[USERDB_DOMAIN_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	*error_r = db->error;
	if (domain != NULL && userdb_norm_domain(db, domain, name) < 0)
		return -1;
	st = domain == NULL ? userdb_stmt(db, ST_USER_LIST)
			    : userdb_bind(db, ST_USER_LIST_DOMAIN, name, NULL);
	if (st == NULL)
		return -2;
	while ((rc = userdb_step(db, st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		   (uint64_t)sqlite3_column_int64(st, 1), ctx);
	sqlite3_reset(st);
	return rc < 0 ? -2 : 0;
}

/* Check target for alias and add the pair. */
static int userdb_alias_add_one(struct userdb *db, const char *alias,
				const char *target)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc;

	if (userdb_norm(db, target, false, addr) < 0)
		return -1;
	if (strcmp(addr, alias) == 0)
		return userdb_refuse(db, "%s: an alias cannot point to itself",
				     addr);
	rc = userdb_has(db, ST_USER_GET, addr);
	if (rc == 0)
		rc = userdb_has(db, ST_ALIAS_GET, addr);
	if (rc == 0)
		return userdb_refuse(db, "%s: no such user or alias", addr);
	if (rc < 0 || userdb_exec(db, ST_ALIAS_ADD, alias, addr) < 0)
		return -2;
	return 0;
}

int userdb_alias_add(struct userdb *db, const char *alias,
		     const char *const *targets, size_t n, const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc;

	*error_r = db->error;
	if (userdb_norm(db, alias, true, addr) < 0)
		return -1;
	if (n == 0)
		return userdb_refuse(db, "%s: no target given", addr);
	if (userdb_begin(db, error_r) < 0)
		return -2;
	rc = userdb_address_taken(db, addr, true);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = userdb_alias_add_one(db, addr, targets[i]);
	return userdb_end(db, rc);
}

/* Remove target from alias; refused when it is not one. */
static int userdb_alias_del_one(struct userdb *db, const char *alias,
				const char *target)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc;

	if (userdb_norm(db, target, false, addr) < 0)
		return -1;
	rc = userdb_exec(db, ST_ALIAS_DEL_TARGET, alias, addr);
	if (rc == 0)
		return userdb_refuse(db, "%s is not a target of %s", addr,
				     alias);
	return rc < 0 ? -2 : 0;
}

int userdb_alias_del(struct userdb *db, const char *alias,
		     const char *const *targets, size_t n, const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	int rc = 0;

	*error_r = db->error;
	if (userdb_norm(db, alias, true, addr) < 0)
		return -1;
	if (userdb_begin(db, error_r) < 0)
		return -2;
	if (n == 0) {
		rc = userdb_exec(db, ST_ALIAS_DEL, addr, NULL);
		if (rc == 0)
			rc = userdb_refuse(db, "%s: no such alias", addr);
		else
			rc = rc < 0 ? -2 : 0;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = userdb_alias_del_one(db, addr, targets[i]);
	return userdb_end(db, rc);
}

int userdb_alias_list(struct userdb *db, userdb_alias_cb *cb, void *ctx,
		      const char **error_r)
{
	sqlite3_stmt *st = userdb_stmt(db, ST_ALIAS_LIST);
	int rc;

	*error_r = db->error;
	if (st == NULL)
		return -2;
	while ((rc = userdb_step(db, st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1), ctx);
	sqlite3_reset(st);
	return rc < 0 ? -2 : 0;
}
