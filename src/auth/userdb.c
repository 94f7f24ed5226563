/*
 * The user database on SQLite: opening, names, the statement cache and
 * the lookups. Lookups run in SMTP workers for every RCPT, so they are a
 * few indexed queries on cached statements. Changes are in
 * userdb_admin.c.
 *
 * SECURITY: every value reaches SQL through a bound parameter. Names are
 * validated before they are stored (local parts become Maildir folders).
 * A statement is reset as soon as its rows are read, so no reader keeps a
 * WAL snapshot open between calls.
 */
#include "auth/userdb.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/userdb_int.h"
#include "lib/mem.h"

#define USERDB_STR_(x) #x
#define USERDB_STR(x) USERDB_STR_(x)

#define USERDB_VERSION_SQL                                                     \
	"PRAGMA user_version = " USERDB_STR(USERDB_SCHEMA_VERSION) ";\n"

/* Most alias nodes one resolve expands: bounds work on a hostile table. */
#define USERDB_EXPAND_MAX 256

/* clang-format off */
static const char userdb_schema[] =
	"BEGIN IMMEDIATE;\n"
	"CREATE TABLE IF NOT EXISTS domains (\n"
	"  name TEXT PRIMARY KEY NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE IF NOT EXISTS users (\n"
	"  address TEXT PRIMARY KEY NOT NULL,\n"
	"  local TEXT NOT NULL,\n"
	"  domain TEXT NOT NULL,\n"
	"  password_hash TEXT NOT NULL,\n"
	"  quota INTEGER NOT NULL DEFAULT 0 CHECK (quota >= 0),\n"
	"  created INTEGER NOT NULL,\n"
	"  scram_salt TEXT,\n"
	"  scram_iterations INTEGER,\n"
	"  scram_stored_key TEXT,\n"
	"  scram_server_key TEXT\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS users_by_domain ON users (domain, local);\n"
	"CREATE TABLE IF NOT EXISTS aliases (\n"
	"  alias TEXT NOT NULL,\n"
	"  target TEXT NOT NULL,\n"
	"  PRIMARY KEY (alias, target)\n"
	") WITHOUT ROWID;\n"
	USERDB_VERSION_SQL
	"COMMIT;\n";

/* Version 1 to 2: the SCRAM credentials, NULL until a password is set. */
static const char userdb_upgrade_1[] =
	"ALTER TABLE users ADD COLUMN scram_salt TEXT;\n"
	"ALTER TABLE users ADD COLUMN scram_iterations INTEGER;\n"
	"ALTER TABLE users ADD COLUMN scram_stored_key TEXT;\n"
	"ALTER TABLE users ADD COLUMN scram_server_key TEXT;\n"
	"PRAGMA user_version = 2;\n";
/* clang-format on */

/* An alias of domain d is "...@d": its last length(d) + 1 characters. */
#define ALIAS_IN_DOMAIN "substr(alias, -length(?1) - 1) = '@' || ?1"

static const char *const userdb_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_DOMAIN_GET] = "SELECT 1 FROM domains WHERE name = ?1",
	[ST_DOMAIN_ADD] = "INSERT INTO domains (name) VALUES (?1)",
	[ST_DOMAIN_DEL] = "DELETE FROM domains WHERE name = ?1",
	[ST_DOMAIN_USERS] = "SELECT 1 FROM users WHERE domain = ?1 LIMIT 1",
	[ST_DOMAIN_ALIASES] =
		"SELECT 1 FROM aliases WHERE " ALIAS_IN_DOMAIN " LIMIT 1",
	[ST_DOMAIN_DEL_USERS] = "DELETE FROM users WHERE domain = ?1",
	[ST_DOMAIN_DEL_ALIASES] = "DELETE FROM aliases WHERE " ALIAS_IN_DOMAIN,
	[ST_DOMAIN_LIST] = "SELECT name FROM domains ORDER BY name",
	[ST_USER_GET] = "SELECT local, domain, quota FROM users "
			"WHERE address = ?1",
	[ST_USER_HASH] = "SELECT password_hash FROM users WHERE address = ?1",
	[ST_USER_SCRAM] = "SELECT scram_salt, scram_iterations, "
			  "scram_stored_key, scram_server_key FROM users "
			  "WHERE address = ?1",
	[ST_USER_ADD] = "INSERT INTO users (address, local, domain, "
			"password_hash, quota, created, scram_salt, "
			"scram_iterations, scram_stored_key, scram_server_key) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_USER_DEL] = "DELETE FROM users WHERE address = ?1",
	[ST_USER_PASSWD] = "UPDATE users SET password_hash = ?2, "
			   "scram_salt = ?3, scram_iterations = ?4, "
			   "scram_stored_key = ?5, scram_server_key = ?6 "
			   "WHERE address = ?1",
	[ST_USER_LIST] = "SELECT address, quota FROM users "
			 "ORDER BY domain, local",
	[ST_USER_LIST_DOMAIN] = "SELECT address, quota FROM users "
				"WHERE domain = ?1 ORDER BY local",
	[ST_ALIAS_GET] = "SELECT 1 FROM aliases WHERE alias = ?1 LIMIT 1",
	[ST_ALIAS_TARGETS] = "SELECT target FROM aliases WHERE alias = ?1 "
			     "ORDER BY target",
	[ST_ALIAS_ADD] = "INSERT OR IGNORE INTO aliases (alias, target) "
			 "VALUES (?1, ?2)",
	[ST_ALIAS_DEL] = "DELETE FROM aliases WHERE alias = ?1",
	[ST_ALIAS_DEL_TARGET] = "DELETE FROM aliases "
				"WHERE alias = ?1 AND target = ?2",
	[ST_ALIAS_LIST] = "SELECT alias, target FROM aliases "
			  "ORDER BY alias, target",
};

/* Open failures have no db to hold their message. */
static char userdb_open_error[512];

int userdb_refuse(struct userdb *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->error, sizeof(db->error), fmt, ap);
	va_end(ap);
	return -1;
}

void userdb_sql_error(struct userdb *db, const char *what)
{
	userdb_refuse(db, "user database: %s: %s", what,
		      sqlite3_errmsg(db->sq));
}

/* ---- Names ---- */

static bool userdb_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Well-formed UTF-8 (RFC 3629): no overlongs, surrogates or > U+10FFFF. */
static bool userdb_utf8_valid(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned char c = *s++;
		int more = c < 0x80		    ? 0
			   : c >= 0xc2 && c <= 0xdf ? 1
			   : c >= 0xe0 && c <= 0xef ? 2
			   : c >= 0xf0 && c <= 0xf4 ? 3
						    : -1;

		if (more < 0)
			return false;
		if ((c == 0xe0 && *s < 0xa0) || (c == 0xed && *s > 0x9f) ||
		    (c == 0xf0 && *s < 0x90) || (c == 0xf4 && *s > 0x8f))
			return false;
		for (int i = 0; i < more; i++, s++) {
			if ((*s & 0xc0) != 0x80)
				return false;
		}
	}
	return true;
}

/* A domain's characters and labels; its length is checked already. */
static int userdb_domain_labels(const unsigned char *p, const char **error_r)
{
	size_t label = 0;
	unsigned char prev = '.';

	for (; *p != '\0'; prev = *p++) {
		if (*p == '.') {
			if (prev == '.' || prev == '-') {
				*error_r =
					prev == '.'
						? "empty label in domain"
						: "domain label ends with '-'";
				return -1;
			}
			label = 0;
			continue;
		}
		if (!userdb_is_alnum(*p) && *p != '-' && *p < 0x80) {
			*error_r = "domain may only hold letters, digits, '-' "
				   "and '.'";
			return -1;
		}
		if (*p == '-' && prev == '.') {
			*error_r = "domain label starts with '-'";
			return -1;
		}
		if (++label > 63) {
			*error_r = "domain label longer than 63 octets";
			return -1;
		}
	}
	if (prev == '.' || prev == '-') {
		*error_r = prev == '.' ? "domain ends with '.'"
				       : "domain label ends with '-'";
		return -1;
	}
	return 0;
}

int userdb_domain_check(const char *domain, const char **error_r)
{
	size_t len = strlen(domain);

	if (len == 0 || len > 253) {
		*error_r = len == 0 ? "empty domain"
				    : "domain longer than 253 octets";
		return -1;
	}
	if (!userdb_utf8_valid((const unsigned char *)domain)) {
		*error_r = "domain is not valid UTF-8";
		return -1;
	}
	return userdb_domain_labels((const unsigned char *)domain, error_r);
}

static int userdb_local_check(const char *local, size_t len,
			      const char **error_r)
{
	if (len == 0 || len > USERDB_LOCAL_MAX) {
		*error_r = len == 0 ? "empty local part"
				    : "local part longer than 64 octets";
		return -1;
	}
	if (local[0] == '.' || local[len - 1] == '.') {
		*error_r = "local part starts or ends with '.'";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];

		if (!userdb_is_alnum(c) && c != '.' && c != '_' && c != '-' &&
		    c != '+') {
			*error_r = "local part may only hold ASCII letters, "
				   "digits and . _ - +";
			return -1;
		}
		if (c == '.' && local[i + 1] == '.') {
			*error_r = "local part holds '..'";
			return -1;
		}
	}
	return 0;
}

int userdb_address_check(const char *address, const char **error_r)
{
	const char *at = strrchr(address, '@');

	if (at == NULL) {
		*error_r = "address must be local@domain";
		return -1;
	}
	if (userdb_local_check(address, (size_t)(at - address), error_r) < 0)
		return -1;
	return userdb_domain_check(at + 1, error_r);
}

/* Copy src into dst[size] with ASCII folded to lowercase; -1 if too long. */
int userdb_lower(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0'; i++) {
		if (i + 1 >= size)
			return -1;
		dst[i] = src[i];
		if (src[i] >= 'A' && src[i] <= 'Z')
			dst[i] += 'a' - 'A';
	}
	dst[i] = '\0';
	return 0;
}

/*
 * Validate name (an address, or "@domain" when catchall) and store it
 * lowercase in out[USERDB_ADDRESS_MAX + 1]. -1 with db->error on a bad
 * name.
 */
int userdb_norm(struct userdb *db, const char *name, bool catchall, char *out)
{
	const char *error;
	int rc = name[0] == '@' && catchall
			 ? userdb_domain_check(name + 1, &error)
			 : userdb_address_check(name, &error);

	if (rc < 0)
		return userdb_refuse(db, "%s: %s", name, error);
	if (userdb_lower(out, USERDB_ADDRESS_MAX + 1, name) < 0)
		return userdb_refuse(db, "%s: address too long", name);
	return 0;
}

/* ---- Statements ---- */

/* The cached statement id, reset and unbound; NULL with db->error. */
sqlite3_stmt *userdb_stmt(struct userdb *db, enum userdb_stmt id)
{
	sqlite3_stmt *st = db->stmts[id];

	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(db->sq, userdb_sql[id], -1,
			       SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		userdb_sql_error(db, "prepare");
		return NULL;
	}
	db->stmts[id] = st;
	return st;
}

/* Statement id with text parameters ?1 = a, ?2 = b (either may be NULL). */
sqlite3_stmt *userdb_bind(struct userdb *db, enum userdb_stmt id, const char *a,
			  const char *b)
{
	sqlite3_stmt *st = userdb_stmt(db, id);

	if (st == NULL)
		return NULL;
	if ((a != NULL &&
	     sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT) != SQLITE_OK) ||
	    (b != NULL &&
	     sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT) != SQLITE_OK)) {
		userdb_sql_error(db, "bind");
		return NULL;
	}
	return st;
}

/* SQLITE_ROW or SQLITE_DONE; -1 with db->error (statement reset). */
int userdb_step(struct userdb *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	userdb_sql_error(db, "query");
	sqlite3_reset(st);
	return -1;
}

/* 1 when statement id with ?1 = a yields a row, 0 when not, -1 error. */
int userdb_exists(struct userdb *db, enum userdb_stmt id, const char *a)
{
	sqlite3_stmt *st = userdb_bind(db, id, a, NULL);
	int rc;

	if (st == NULL || (rc = userdb_step(db, st)) < 0)
		return -1;
	sqlite3_reset(st);
	return rc == SQLITE_ROW;
}

/* Run a statement that returns no rows: rows changed, or -1. */
int userdb_exec(struct userdb *db, enum userdb_stmt id, const char *a,
		const char *b)
{
	sqlite3_stmt *st = userdb_bind(db, id, a, b);

	if (st == NULL || userdb_step(db, st) < 0)
		return -1;
	sqlite3_reset(st);
	return sqlite3_changes(db->sq);
}

/* ---- Open and close ---- */

static int userdb_user_version(sqlite3 *sq, int *version_r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(sq, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Bring a version 1 file to version 2. The version is read again inside
 * the write transaction: another process may have upgraded it meanwhile.
 */
static int userdb_upgrade(sqlite3 *sq, const char *path, int *version)
{
	if (sqlite3_exec(sq, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto error;
	if (userdb_user_version(sq, version) < 0)
		goto error;
	if (*version == 1) {
		if (sqlite3_exec(sq, userdb_upgrade_1, NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto error;
		*version = 2;
	}
	if (sqlite3_exec(sq, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
error:
	snprintf(userdb_open_error, sizeof(userdb_open_error),
		 "%s: cannot upgrade the schema from version 1: %s", path,
		 sqlite3_errmsg(sq));
	if (!sqlite3_get_autocommit(sq))
		sqlite3_exec(sq, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Settings and schema of a freshly opened connection; -1 with message. */
static int userdb_setup(sqlite3 *sq, const char *path, bool create)
{
	int version;

	if (sqlite3_busy_timeout(sq, USERDB_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_exec(sq, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    userdb_user_version(sq, &version) < 0)
		goto sql_error;
	if (version == 0 && create) {
		if (sqlite3_exec(sq, userdb_schema, NULL, NULL, NULL) !=
		    SQLITE_OK) {
			snprintf(userdb_open_error, sizeof(userdb_open_error),
				 "%s: cannot create the schema: %s", path,
				 sqlite3_errmsg(sq));
			sqlite3_exec(sq, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		version = USERDB_SCHEMA_VERSION;
	}
	if (version == 1 && userdb_upgrade(sq, path, &version) < 0)
		return -1;
	if (version != USERDB_SCHEMA_VERSION) {
		snprintf(userdb_open_error, sizeof(userdb_open_error),
			 version == 0
				 ? "%s: not a postern user database"
				 : "%s: schema version %d, this postern "
				   "knows " USERDB_STR(USERDB_SCHEMA_VERSION),
			 path, version);
		return -1;
	}
	return 0;
sql_error:
	snprintf(userdb_open_error, sizeof(userdb_open_error), "%s: %s", path,
		 sqlite3_errmsg(sq));
	return -1;
}

/* Create a missing file with mode 0640 (SQLite would use 0644). */
static int userdb_create_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd < 0) {
		snprintf(userdb_open_error, sizeof(userdb_open_error),
			 "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

struct userdb *userdb_open(const char *path, bool create, const char **error_r)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
		    SQLITE_OPEN_EXRESCODE;
	struct userdb *db;
	sqlite3 *sq = NULL;

	*error_r = userdb_open_error;
	if (create && userdb_create_file(path) < 0)
		return NULL;
	if (sqlite3_open_v2(path, &sq, flags, NULL) != SQLITE_OK) {
		snprintf(userdb_open_error, sizeof(userdb_open_error),
			 "%s: cannot open: %s", path,
			 sq != NULL ? sqlite3_errmsg(sq) : "out of memory");
		sqlite3_close(sq);
		return NULL;
	}
	if (userdb_setup(sq, path, create) < 0) {
		sqlite3_close(sq);
		return NULL;
	}
	db = xcalloc(1, sizeof(*db));
	db->sq = sq;
	return db;
}

void userdb_free(struct userdb **dbp)
{
	struct userdb *db = *dbp;

	if (db == NULL)
		return;
	for (size_t i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_close(db->sq);
	free(db);
	*dbp = NULL;
}

int userdb_chown(const char *path, const char *user, const char **error_r)
{
	static char error[512];
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	struct passwd *pw;

	if (user == NULL || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(error, sizeof(error), "no such user: %s", user);
		*error_r = error;
		return -1;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *file = xasprintf("%s%s", path, suffixes[i]);
		int rc = chown(file, pw->pw_uid, pw->pw_gid);

		if (rc != 0 && (errno != ENOENT || i == 0)) {
			snprintf(error, sizeof(error), "cannot chown %s: %s",
				 file, strerror(errno));
			free(file);
			*error_r = error;
			return -1;
		}
		free(file);
	}
	return 0;
}

/* ---- Lookups ---- */

int userdb_domain_is_local(struct userdb *db, const char *domain)
{
	char name[USERDB_DOMAIN_MAX + 1];

	if (userdb_lower(name, sizeof(name), domain) < 0)
		return 0;
	return userdb_exists(db, ST_DOMAIN_GET, name);
}

int userdb_password_hash(struct userdb *db, const char *address, char **hash_r,
			 const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	*hash_r = NULL;
	*error_r = db->error;
	if (userdb_lower(addr, sizeof(addr), address) < 0)
		return 1;
	st = userdb_bind(db, ST_USER_HASH, addr, NULL);
	if (st == NULL || (rc = userdb_step(db, st)) < 0)
		return -1;
	if (rc == SQLITE_ROW)
		*hash_r = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : 1;
}

struct userdb_expand {
	struct userdb_mailbox *boxes;
	size_t max;
	size_t n;
	char **seen; /* aliases already expanded (loops, diamonds) */
	size_t nseen;
};

/* Add a user row's mailbox unless it is there already. */
static void userdb_add_box(struct userdb_expand *x, sqlite3_stmt *st)
{
	const char *local = (const char *)sqlite3_column_text(st, 0);
	const char *domain = (const char *)sqlite3_column_text(st, 1);
	struct userdb_mailbox *box;

	if (local == NULL || domain == NULL)
		return;
	for (size_t i = 0; i < x->n; i++) {
		if (strcmp(x->boxes[i].local, local) == 0 &&
		    strcmp(x->boxes[i].domain, domain) == 0)
			return;
	}
	if (x->n >= x->max)
		return;
	box = &x->boxes[x->n++];
	strlcpy_p(box->local, local, sizeof(box->local));
	strlcpy_p(box->domain, domain, sizeof(box->domain));
	box->quota = (uint64_t)sqlite3_column_int64(st, 2);
}

/* 1 when addr is a user (and is now in x), 0 when not, -1 on error. */
static int userdb_expand_user(struct userdb *db, struct userdb_expand *x,
			      const char *addr)
{
	sqlite3_stmt *st = userdb_bind(db, ST_USER_GET, addr, NULL);
	int rc;

	if (st == NULL || (rc = userdb_step(db, st)) < 0)
		return -1;
	if (rc == SQLITE_ROW)
		userdb_add_box(x, st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW;
}

/*
 * The targets of alias addr, read in full before recursing because the
 * cached statement is needed again below. *targets_r is NULL-ended and
 * freed by the caller; NULL when there are none.
 */
static int userdb_alias_targets(struct userdb *db, const char *addr,
				char ***targets_r)
{
	sqlite3_stmt *st = userdb_bind(db, ST_ALIAS_TARGETS, addr, NULL);
	char **targets = NULL;
	size_t n = 0;
	int rc;

	*targets_r = NULL;
	if (st == NULL)
		return -1;
	while ((rc = userdb_step(db, st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t == NULL)
			continue;
		targets = xrealloc(targets, (n + 2) * sizeof(*targets));
		targets[n++] = xstrdup(t);
		targets[n] = NULL;
	}
	sqlite3_reset(st);
	*targets_r = targets;
	return rc < 0 ? -1 : 0;
}

static void userdb_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * Expand addr into x: a user, else an alias's targets (depth levels deep
 * so far). 1 when it led to at least one mailbox, 0 when not, -1 error.
 */
static int userdb_expand(struct userdb *db, struct userdb_expand *x,
			 const char *addr, int depth)
{
	char **targets;
	int rc, found = 0;

	if (addr[0] != '@' && (rc = userdb_expand_user(db, x, addr)) != 0)
		return rc;
	if (depth >= USERDB_ALIAS_DEPTH || x->nseen >= USERDB_EXPAND_MAX)
		return 0;
	for (size_t i = 0; i < x->nseen; i++) {
		if (strcmp(x->seen[i], addr) == 0)
			return 0;
	}
	x->seen = xrealloc(x->seen, (x->nseen + 1) * sizeof(*x->seen));
	x->seen[x->nseen++] = xstrdup(addr);
	if (userdb_alias_targets(db, addr, &targets) < 0) {
		userdb_strv_free(targets);
		return -1;
	}
	for (size_t i = 0; targets != NULL && targets[i] != NULL; i++) {
		if (x->n >= x->max)
			break;
		rc = userdb_expand(db, x, targets[i], depth + 1);
		if (rc < 0) {
			found = -1;
			break;
		}
		found |= rc;
	}
	userdb_strv_free(targets);
	return found;
}

/* Steps 1-4 of userdb_resolve for a local domain. */
static int userdb_resolve_local(struct userdb *db, struct userdb_expand *x,
				const char *local, const char *domain)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	const char *plus = strchr(local, '+');
	int rc;

	snprintf(addr, sizeof(addr), "%s@%s", local, domain);
	if ((rc = userdb_expand(db, x, addr, 0)) != 0)
		return rc;
	if (plus != NULL && plus != local) {
		snprintf(addr, sizeof(addr), "%.*s@%s", (int)(plus - local),
			 local, domain);
		if ((rc = userdb_expand(db, x, addr, 0)) != 0)
			return rc;
	}
	snprintf(addr, sizeof(addr), "@%s", domain);
	return userdb_expand(db, x, addr, 0);
}

enum userdb_lookup userdb_resolve(struct userdb *db, const char *local,
				  const char *domain,
				  struct userdb_mailbox *boxes, size_t max,
				  size_t *n_r)
{
	char lname[USERDB_LOCAL_MAX + 1], dname[USERDB_DOMAIN_MAX + 1];
	struct userdb_expand x = {boxes, max, 0, NULL, 0};
	int rc;

	*n_r = 0;
	if (userdb_lower(dname, sizeof(dname), domain) < 0)
		return USERDB_NO_DOMAIN;
	rc = userdb_exists(db, ST_DOMAIN_GET, dname);
	if (rc <= 0)
		return rc < 0 ? USERDB_TEMPFAIL : USERDB_NO_DOMAIN;
	if (max == 0 || userdb_lower(lname, sizeof(lname), local) < 0 ||
	    lname[0] == '\0')
		return USERDB_NO_USER;
	rc = userdb_resolve_local(db, &x, lname, dname);
	for (size_t i = 0; i < x.nseen; i++)
		free(x.seen[i]);
	free(x.seen);
	if (rc < 0)
		return USERDB_TEMPFAIL;
	*n_r = x.n;
	return rc > 0 && x.n > 0 ? USERDB_FOUND : USERDB_NO_USER;
}
