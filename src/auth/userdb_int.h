/*
 * Inside the user database module: shared by userdb.c (open, statements,
 * lookups) and userdb_admin.c (the changes the CLI makes). Not for other
 * modules; they use auth/userdb.h.
 */
#ifndef AUTH_USERDB_INT_H
#define AUTH_USERDB_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "auth/userdb.h"

enum userdb_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_DOMAIN_GET,
	ST_DOMAIN_ADD,
	ST_DOMAIN_DEL,
	ST_DOMAIN_USERS,
	ST_DOMAIN_ALIASES,
	ST_DOMAIN_DEL_USERS,
	ST_DOMAIN_DEL_ALIASES,
	ST_DOMAIN_LIST,
	ST_USER_GET,
	ST_USER_HASH,
	ST_USER_SCRAM,
	ST_USER_ADD,
	ST_USER_DEL,
	ST_USER_PASSWD,
	ST_USER_LIST,
	ST_USER_LIST_DOMAIN,
	ST_ALIAS_GET,
	ST_ALIAS_TARGETS,
	ST_ALIAS_ADD,
	ST_ALIAS_DEL,
	ST_ALIAS_DEL_TARGET,
	ST_ALIAS_LIST,
	ST_COUNT
};

struct userdb {
	sqlite3 *sq;
	sqlite3_stmt *stmts[ST_COUNT]; /* prepared on first use */
	char error[512];
};

/* Set db->error (valid until the next call on db); returns -1. */
int userdb_refuse(struct userdb *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* db->error from SQLite's message for the last failure. */
void userdb_sql_error(struct userdb *db, const char *what);

/* Copy src into dst[size] with ASCII folded to lowercase; -1 if too long. */
int userdb_lower(char *dst, size_t size, const char *src);
/*
 * Validate name (an address, or "@domain" when catchall) and store it
 * lowercase in out[USERDB_ADDRESS_MAX + 1]. -1 with db->error on a bad
 * name.
 */
int userdb_norm(struct userdb *db, const char *name, bool catchall, char *out);

/* The cached statement id, reset and unbound; NULL with db->error. */
sqlite3_stmt *userdb_stmt(struct userdb *db, enum userdb_stmt id);
/* Statement id with text parameters ?1 = a, ?2 = b (either may be NULL). */
sqlite3_stmt *userdb_bind(struct userdb *db, enum userdb_stmt id, const char *a,
			  const char *b);
/* SQLITE_ROW or SQLITE_DONE; -1 with db->error (statement reset). */
int userdb_step(struct userdb *db, sqlite3_stmt *st);
/* 1 when statement id with ?1 = a yields a row, 0 when not, -1 error. */
int userdb_exists(struct userdb *db, enum userdb_stmt id, const char *a);
/*
 * Bind cred (NULL: SQL NULLs) to parameters first..first+3 of st: salt,
 * iterations, stored key, server key. -1 with db->error.
 */
int userdb_bind_scram(struct userdb *db, sqlite3_stmt *st, int first,
		      const struct userdb_scram *cred);
/* Run a statement that returns no rows: rows changed, or -1. */
int userdb_exec(struct userdb *db, enum userdb_stmt id, const char *a,
		const char *b);

#endif
