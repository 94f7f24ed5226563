/*
 * The users' SCRAM-SHA-256 credentials (schema version 2): checks, the
 * lookup SCRAM exchanges make, and binding them into the admin changes.
 *
 * SECURITY: StoredKey and ServerKey let whoever reads them pose as this
 * server to a client (not as the client); they are as secret as the
 * password hashes. The copies made here are the caller's to wipe.
 */
#include <sqlite3.h>
#include <string.h>

#include "auth/userdb.h"
#include "auth/userdb_int.h"
#include "lib/base64.h"

/* text decodes to min..max octets. */
static bool userdb_b64_len_ok(const char *text, size_t min, size_t max)
{
	unsigned char buf[USERDB_SCRAM_SALT_MAX];
	size_t len = strnlen(text, USERDB_SCRAM_B64_MAX + 1);
	size_t n;
	bool ok;

	if (len > USERDB_SCRAM_B64_MAX)
		return false;
	ok = base64_decode(text, len, buf, sizeof(buf), &n) == 0 && n >= min &&
	     n <= max;
	explicit_bzero(buf, sizeof(buf));
	return ok;
}

int userdb_scram_check(const struct userdb_scram *cred, const char **error_r)
{
	if (!userdb_b64_len_ok(cred->salt, 1, USERDB_SCRAM_SALT_MAX)) {
		*error_r = "SCRAM salt is not base64 of 1 to 64 octets";
		return -1;
	}
	if (cred->iterations < USERDB_SCRAM_ITERATIONS_MIN ||
	    cred->iterations > USERDB_SCRAM_ITERATIONS_MAX) {
		*error_r = "SCRAM iteration count out of range";
		return -1;
	}
	if (!userdb_b64_len_ok(cred->stored_key, USERDB_SCRAM_KEY_LEN,
			       USERDB_SCRAM_KEY_LEN) ||
	    !userdb_b64_len_ok(cred->server_key, USERDB_SCRAM_KEY_LEN,
			       USERDB_SCRAM_KEY_LEN)) {
		*error_r = "SCRAM key is not base64 of 32 octets";
		return -1;
	}
	return 0;
}

int userdb_bind_scram(struct userdb *db, sqlite3_stmt *st, int first,
		      const struct userdb_scram *cred)
{
	int rc;

	if (cred == NULL) {
		rc = sqlite3_bind_null(st, first) ||
		     sqlite3_bind_null(st, first + 1) ||
		     sqlite3_bind_null(st, first + 2) ||
		     sqlite3_bind_null(st, first + 3);
	} else {
		rc = sqlite3_bind_text(st, first, cred->salt, -1,
				       SQLITE_TRANSIENT) ||
		     sqlite3_bind_int64(st, first + 1, cred->iterations) ||
		     sqlite3_bind_text(st, first + 2, cred->stored_key, -1,
				       SQLITE_TRANSIENT) ||
		     sqlite3_bind_text(st, first + 3, cred->server_key, -1,
				       SQLITE_TRANSIENT);
	}
	if (rc != 0) {
		userdb_sql_error(db, "bind");
		return -1;
	}
	return 0;
}

/* Copy column col of st into dst[USERDB_SCRAM_B64_MAX + 1]; -1 if NULL. */
static int userdb_scram_column(sqlite3_stmt *st, int col, char *dst)
{
	const char *text = (const char *)sqlite3_column_text(st, col);

	if (text == NULL || strlen(text) > USERDB_SCRAM_B64_MAX)
		return -1;
	memcpy(dst, text, strlen(text) + 1);
	return 0;
}

/* The row st points at into *cred_r: 0, 1 when it holds none, -1. */
static int userdb_scram_row(struct userdb *db, sqlite3_stmt *st,
			    const char *addr, struct userdb_scram *cred_r)
{
	sqlite3_int64 iterations;
	const char *error;

	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		return 1;
	iterations = sqlite3_column_int64(st, 1);
	if (userdb_scram_column(st, 0, cred_r->salt) < 0 ||
	    userdb_scram_column(st, 2, cred_r->stored_key) < 0 ||
	    userdb_scram_column(st, 3, cred_r->server_key) < 0 ||
	    iterations < 0 || iterations > USERDB_SCRAM_ITERATIONS_MAX)
		return userdb_refuse(db, "%s: corrupt SCRAM credentials", addr);
	cred_r->iterations = (unsigned)iterations;
	if (userdb_scram_check(cred_r, &error) < 0)
		return userdb_refuse(db, "%s: corrupt SCRAM credentials: %s",
				     addr, error);
	return 0;
}

int userdb_scram_credentials(struct userdb *db, const char *address,
			     struct userdb_scram *cred_r, const char **error_r)
{
	char addr[USERDB_ADDRESS_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	memset(cred_r, 0, sizeof(*cred_r));
	*error_r = db->error;
	if (userdb_lower(addr, sizeof(addr), address) < 0)
		return 1;
	st = userdb_bind(db, ST_USER_SCRAM, addr, NULL);
	if (st == NULL || (rc = userdb_step(db, st)) < 0)
		return -1;
	rc = rc == SQLITE_ROW ? userdb_scram_row(db, st, addr, cred_r) : 1;
	sqlite3_reset(st);
	if (rc != 0)
		explicit_bzero(cred_r, sizeof(*cred_r));
	return rc;
}
