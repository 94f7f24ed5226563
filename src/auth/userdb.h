/*
 * The user database: <data_dir>/postern.db (SQLite, WAL) holding the local
 * domains, the users with their password hashes and quotas, and aliases.
 *
 * Every name is stored lowercase (ASCII letters folded, UTF-8 octets kept
 * as they are), so lookups are case-insensitive for ASCII.
 *
 * One struct userdb is one connection: use it from one thread. Several
 * processes may open the same file (SMTP workers read while the CLI
 * writes); a locked database is waited for up to USERDB_BUSY_TIMEOUT_MS.
 *
 * Errors: functions taking error_r set it to a message owned by the db,
 * valid until the next call on that db. Admin functions return 0 on
 * success, -1 when the request is refused (bad name, already exists, not
 * found, in use) and -2 when the database itself failed.
 *
 * SECURITY: SQL is never built from strings; every statement is prepared
 * once with placeholders and cached in the struct.
 */
#ifndef AUTH_USERDB_H
#define AUTH_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Name of the file inside data_dir. */
#define USERDB_FILE "postern.db"
/*
 * Schema version kept in PRAGMA user_version. 2 added the SCRAM columns;
 * a version 1 file is upgraded in place when it is opened.
 */
#define USERDB_SCHEMA_VERSION 2
#define USERDB_BUSY_TIMEOUT_MS 5000
/* Aliases pointing to aliases are followed this deep, no deeper. */
#define USERDB_ALIAS_DEPTH 8

/* RFC 5321 4.5.3.1.1-2, in octets; local + "@" + domain fits ADDRESS_MAX. */
#define USERDB_LOCAL_MAX 64
#define USERDB_DOMAIN_MAX 255
#define USERDB_ADDRESS_MAX (USERDB_LOCAL_MAX + 1 + USERDB_DOMAIN_MAX)

struct userdb;

/*
 * Open the database at path. With create, a missing file is created (mode
 * 0640) and a missing schema is written; without it both are errors. The
 * file is switched to WAL mode. Returns a db the caller frees with
 * userdb_free(), or NULL with *error_r in a static buffer (valid until the
 * next failed open).
 */
struct userdb *userdb_open(const char *path, bool create, const char **error_r)
	__attribute__((warn_unused_result));

/* Close and free; accepts NULL, sets *dbp to NULL. */
void userdb_free(struct userdb **dbp);

/*
 * When running as root, give path and its -wal and -shm files (those that
 * exist) to user, for workers that open the database after dropping
 * privileges. Does nothing when not root or user is NULL. Returns 0, or -1
 * with *error_r a static message.
 */
int userdb_chown(const char *path, const char *user, const char **error_r)
	__attribute__((warn_unused_result));

/* ---- Names ---- */

/*
 * Check a domain name: LDH labels (letters, digits, '-' not at a label's
 * ends; UTF-8 U-labels allowed), 1..63 octets each, at most 253 in all.
 * Returns 0, or -1 with *error_r a static message.
 */
int userdb_domain_check(const char *domain, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Check a user address "local@domain": the domain as above, the local part
 * 1..64 of ASCII letters, digits, '.', '_', '-', '+' without a leading or
 * trailing dot or "..", so it is safe as a Maildir folder name. (UTF-8
 * local parts are not accepted yet.) Returns 0 or -1 with a static
 * *error_r.
 */
int userdb_address_check(const char *address, const char **error_r)
	__attribute__((warn_unused_result));

/* ---- Lookups (SMTP RCPT, AUTH): one or two indexed queries each ---- */

struct userdb_mailbox {
	char local[USERDB_LOCAL_MAX + 1];
	char domain[USERDB_DOMAIN_MAX + 1];
	uint64_t quota; /* bytes, 0 = unlimited */
};

enum userdb_lookup {
	USERDB_FOUND,
	USERDB_NO_DOMAIN, /* not a local domain */
	USERDB_NO_USER,	  /* local domain, no such user */
	USERDB_TEMPFAIL,  /* the database failed: answer 4xx */
};

/*
 * The mailboxes mail for local@domain goes to, case-insensitively:
 *  1. a user with that address: that user;
 *  2. else an alias with that address: its targets, expanded recursively
 *     (aliases to aliases up to USERDB_ALIAS_DEPTH deep; loops and
 *     duplicates are harmless; a target that is neither a user nor an
 *     alias is skipped);
 *  3. else, when local holds a '+', the same with local cut before the
 *     first '+' (user+tag);
 *  4. else the catch-all alias "@domain";
 *  5. else USERDB_NO_USER.
 * A step whose alias targets all lead nowhere counts as not matching.
 * boxes[0..*n_r) receives the mailboxes, at most max of them: when an
 * alias fans out to more, mail goes to the first max found (targets are
 * taken in sorted order, depth first) and the rest are dropped.
 * Returns USERDB_FOUND with *n_r >= 1, or another value with *n_r = 0
 * (USERDB_NO_USER when max is 0).
 */
enum userdb_lookup
userdb_resolve(struct userdb *db, const char *local, const char *domain,
	       struct userdb_mailbox *boxes, size_t max, size_t *n_r)
	__attribute__((warn_unused_result));

/* 1 when domain is a local domain, 0 when not, -1 on a database error. */
int userdb_domain_is_local(struct userdb *db, const char *domain)
	__attribute__((warn_unused_result));

/*
 * The password hash of user address (case-insensitive). Returns 0 with
 * *hash_r a copy the caller frees, 1 when there is no such user, -1 on a
 * database error with *error_r set.
 */
int userdb_password_hash(struct userdb *db, const char *address, char **hash_r,
			 const char **error_r)
	__attribute__((warn_unused_result));

/*
 * SCRAM-SHA-256 credentials of a user (RFC 5802 3, RFC 7677), as stored:
 * base64 text (RFC 4648 4). They are derived from the password when it is
 * set, so no plaintext is kept. A salt decodes to 1..USERDB_SCRAM_SALT_MAX
 * octets, each key to exactly USERDB_SCRAM_KEY_LEN.
 */
#define USERDB_SCRAM_SALT_MAX 64
#define USERDB_SCRAM_KEY_LEN 32 /* SHA-256 */
/* Iterations accepted from the database: RFC 7677 4 asks for >= 4096. */
#define USERDB_SCRAM_ITERATIONS_MIN 4096
#define USERDB_SCRAM_ITERATIONS_MAX 10000000
#define USERDB_SCRAM_B64_MAX 88 /* base64 of USERDB_SCRAM_SALT_MAX octets */

struct userdb_scram {
	char salt[USERDB_SCRAM_B64_MAX + 1];
	unsigned iterations;
	char stored_key[USERDB_SCRAM_B64_MAX + 1];
	char server_key[USERDB_SCRAM_B64_MAX + 1];
};

/*
 * Check cred against the limits above (base64 that decodes to the right
 * lengths, iterations in range). Returns 0, or -1 with *error_r a static
 * message.
 */
int userdb_scram_check(const struct userdb_scram *cred, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * The SCRAM credentials of user address (case-insensitive) into *cred_r.
 * Returns 0 when found; 1 when there is no such user or the user has none
 * (a hash given with `postern user add --hash`), *cred_r zeroed; -1 on a
 * database error or a corrupt row, with *error_r set.
 */
int userdb_scram_credentials(struct userdb *db, const char *address,
			     struct userdb_scram *cred_r, const char **error_r)
	__attribute__((warn_unused_result));

/* ---- Administration (the CLI). Returns 0, -1 refused, -2 db error. ---- */

/* List callbacks get strings valid during the call only; they must not
 * call into the same db. */
typedef void userdb_domain_cb(const char *domain, void *ctx);
typedef void userdb_user_cb(const char *address, uint64_t quota, void *ctx);
typedef void userdb_alias_cb(const char *alias, const char *target, void *ctx);

int userdb_domain_add(struct userdb *db, const char *domain,
		      const char **error_r) __attribute__((warn_unused_result));
/*
 * Remove a domain. Without force it is refused while users or aliases in
 * the domain exist; with force they are removed with it (their mail on
 * disk is left alone).
 */
int userdb_domain_del(struct userdb *db, const char *domain, bool force,
		      const char **error_r) __attribute__((warn_unused_result));
/* Every domain, sorted. */
int userdb_domain_list(struct userdb *db, userdb_domain_cb *cb, void *ctx,
		       const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Add user address (userdb_address_check) in an existing local domain,
 * with a hash from password_hash() (or one password_hash_check()
 * accepts), its SCRAM credentials (NULL: none, SCRAM then fails for the
 * user; else checked with userdb_scram_check) and quota in bytes (0 =
 * unlimited). Refused when the address is already a user or an alias.
 */
int userdb_user_add(struct userdb *db, const char *address,
		    const char *password_hash, const struct userdb_scram *scram,
		    uint64_t quota, const char **error_r)
	__attribute__((warn_unused_result));
/*
 * Remove a user. Alias targets naming it are kept (and skipped by
 * userdb_resolve) so re-adding the user restores them.
 */
int userdb_user_del(struct userdb *db, const char *address,
		    const char **error_r) __attribute__((warn_unused_result));
/*
 * Replace a user's password hash and SCRAM credentials together (scram
 * NULL removes the old ones, so they cannot outlive the password).
 */
int userdb_user_passwd(struct userdb *db, const char *address,
		       const char *password_hash,
		       const struct userdb_scram *scram, const char **error_r)
	__attribute__((warn_unused_result));
/* Users of domain (NULL: all domains), sorted by domain then local part. */
int userdb_user_list(struct userdb *db, const char *domain, userdb_user_cb *cb,
		     void *ctx, const char **error_r)
	__attribute__((warn_unused_result));

/*
 * Add targets[0..n) to alias, which is "local@domain" or "@domain" (the
 * catch-all) in a local domain and not a user's address. Each target must
 * be an existing user or alias (so local; typos are caught here). Targets
 * already there are kept once. n >= 1.
 */
int userdb_alias_add(struct userdb *db, const char *alias,
		     const char *const *targets, size_t n, const char **error_r)
	__attribute__((warn_unused_result));
/* Remove targets[0..n) from alias, or the whole alias when n is 0. */
int userdb_alias_del(struct userdb *db, const char *alias,
		     const char *const *targets, size_t n, const char **error_r)
	__attribute__((warn_unused_result));
/* Every (alias, target) pair, sorted. */
int userdb_alias_list(struct userdb *db, userdb_alias_cb *cb, void *ctx,
		      const char **error_r) __attribute__((warn_unused_result));

#endif
