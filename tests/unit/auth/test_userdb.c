/*
 * User database on a temporary file: recipient resolution (exact, case,
 * +tag, aliases, loops, depth, catch-all), name validation tables, and
 * each admin function's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/userdb.h"
#include "lib/mem.h"

#define HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUk"
#define GiB ((uint64_t)1 << 30)

struct fixture {
	char dir[64];
	char *path;
	struct userdb *db;
};

static void add_domain(struct userdb *db, const char *domain)
{
	const char *error = NULL;
	int rc = userdb_domain_add(db, domain, &error);

	if (rc != 0)
		print_message("domain %s: %s\n", domain, error);
	assert_int_equal(rc, 0);
}

static void add_user(struct userdb *db, const char *address, uint64_t quota)
{
	const char *error = NULL;
	int rc = userdb_user_add(db, address, HASH, NULL, quota, &error);

	if (rc != 0)
		print_message("user %s: %s\n", address, error);
	assert_int_equal(rc, 0);
}

/* alias -> one target */
static void add_alias(struct userdb *db, const char *alias, const char *target)
{
	const char *error = NULL;
	int rc = userdb_alias_add(db, alias, &target, 1, &error);

	if (rc != 0)
		print_message("alias %s: %s\n", alias, error);
	assert_int_equal(rc, 0);
}

/*
 * example.org: alice, bob, carol (1 GiB), aliases team -> alice, bob and
 * all -> team, carol, alice. example.net: dave and the catch-all -> carol.
 */
static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *error = NULL;
	const char *team[] = {"bob@example.org", "alice@example.org"};
	const char *all[] = {"team@example.org", "carol@example.org",
			     "alice@example.org"};

	strlcpy_p(f->dir, "/tmp/postern-userdb-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->path = xasprintf("%s/%s", f->dir, USERDB_FILE);
	f->db = userdb_open(f->path, true, &error);
	if (f->db == NULL)
		print_message("open: %s\n", error);
	assert_non_null(f->db);
	add_domain(f->db, "example.org");
	add_domain(f->db, "Example.NET");
	add_user(f->db, "alice@example.org", 0);
	add_user(f->db, "bob@example.org", 0);
	add_user(f->db, "carol@example.org", GiB);
	add_user(f->db, "dave@example.net", 0);
	assert_int_equal(
		userdb_alias_add(f->db, "team@example.org", team, 2, &error),
		0);
	assert_int_equal(
		userdb_alias_add(f->db, "all@example.org", all, 3, &error), 0);
	add_alias(f->db, "@example.net", "carol@example.org");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	userdb_free(&f->db);
	assert_null(f->db);
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", f->path, suffixes[i]);

		unlink(p);
		free(p);
	}
	rmdir(f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* ---- resolve ---- */

/* local@domain resolves to result with the "local@domain" boxes listed. */
static void expect(struct userdb *db, const char *local, const char *domain,
		   enum userdb_lookup result, const char *const *boxes)
{
	struct userdb_mailbox got[8];
	size_t n = 99, want = 0;

	while (boxes != NULL && boxes[want] != NULL)
		want++;
	print_message("  %s@%s\n", local, domain);
	assert_int_equal(userdb_resolve(db, local, domain, got, 8, &n), result);
	assert_int_equal(n, want);
	for (size_t i = 0; i < n; i++) {
		const char *at = strchr(boxes[i], '@');

		assert_int_equal(strlen(got[i].local), at - boxes[i]);
		assert_memory_equal(got[i].local, boxes[i], at - boxes[i]);
		assert_string_equal(got[i].domain, at + 1);
	}
}

#define BOXES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_resolve_exact(void **state)
{
	struct fixture *f = *state;
	struct userdb_mailbox box;
	size_t n;

	expect(f->db, "alice", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org"));
	expect(f->db, "dave", "example.net", USERDB_FOUND,
	       BOXES("dave@example.net"));
	assert_int_equal(
		userdb_resolve(f->db, "carol", "example.org", &box, 1, &n),
		USERDB_FOUND);
	assert_int_equal(n, 1);
	assert_int_equal(box.quota, GiB);
}

static void test_resolve_case(void **state)
{
	struct fixture *f = *state;

	expect(f->db, "ALICE", "Example.ORG", USERDB_FOUND,
	       BOXES("alice@example.org"));
	expect(f->db, "Dave", "EXAMPLE.NET", USERDB_FOUND,
	       BOXES("dave@example.net"));
	expect(f->db, "Team", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org", "bob@example.org"));
}

static void test_resolve_tag(void **state)
{
	struct fixture *f = *state;

	expect(f->db, "alice+news", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org"));
	expect(f->db, "Alice+a+b", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org"));
	expect(f->db, "team+x", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org", "bob@example.org"));
	expect(f->db, "+alice", "example.org", USERDB_NO_USER, NULL);
	expect(f->db, "nobody+x", "example.org", USERDB_NO_USER, NULL);
	/* an exact user with a '+' wins over the tag rule */
	add_user(f->db, "bob+lists@example.org", 0);
	expect(f->db, "bob+lists", "example.org", USERDB_FOUND,
	       BOXES("bob+lists@example.org"));
	expect(f->db, "bob+other", "example.org", USERDB_FOUND,
	       BOXES("bob@example.org"));
}

static void test_resolve_fanout(void **state)
{
	struct fixture *f = *state;
	struct userdb_mailbox boxes[2];
	size_t n;

	/* targets sorted, so alice before bob whatever the add order */
	expect(f->db, "team", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org", "bob@example.org"));
	/* max 1: the first only */
	assert_int_equal(
		userdb_resolve(f->db, "team", "example.org", boxes, 1, &n),
		USERDB_FOUND);
	assert_int_equal(n, 1);
	assert_string_equal(boxes[0].local, "alice");
}

static void test_resolve_alias_to_alias(void **state)
{
	struct fixture *f = *state;

	/* all -> alice, carol, team -> (alice, bob): alice once */
	expect(f->db, "all", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org", "carol@example.org",
		     "bob@example.org"));
	/* across domains */
	add_alias(f->db, "staff@example.net", "all@example.org");
	expect(f->db, "staff", "example.net", USERDB_FOUND,
	       BOXES("alice@example.org", "carol@example.org",
		     "bob@example.org"));
}

static void test_resolve_loop(void **state)
{
	struct fixture *f = *state;
	const char *error;
	const char *target = "alice@example.org";

	add_alias(f->db, "loop2@example.org", "bob@example.org");
	add_alias(f->db, "loop1@example.org", "loop2@example.org");
	add_alias(f->db, "loop2@example.org", "loop1@example.org");
	expect(f->db, "loop1", "example.org", USERDB_FOUND,
	       BOXES("bob@example.org"));
	expect(f->db, "loop2", "example.org", USERDB_FOUND,
	       BOXES("bob@example.org"));
	/* a loop with no user in it leads nowhere */
	add_alias(f->db, "x@example.org", "alice@example.org");
	add_alias(f->db, "y@example.org", "x@example.org");
	add_alias(f->db, "x@example.org", "y@example.org");
	assert_int_equal(
		userdb_alias_del(f->db, "x@example.org", &target, 1, &error),
		0);
	expect(f->db, "x", "example.org", USERDB_NO_USER, NULL);
	expect(f->db, "y", "example.org", USERDB_NO_USER, NULL);
}

/* a0 -> a1 -> ... -> a9 -> alice: 8 alias levels resolve, 9 do not. */
static void test_resolve_depth(void **state)
{
	struct fixture *f = *state;
	char alias[32], target[32];

	add_alias(f->db, "a9@example.org", "alice@example.org");
	for (int i = 8; i >= 0; i--) {
		snprintf(alias, sizeof(alias), "a%d@example.org", i);
		snprintf(target, sizeof(target), "a%d@example.org", i + 1);
		add_alias(f->db, alias, target);
	}
	expect(f->db, "a2", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org"));
	expect(f->db, "a1", "example.org", USERDB_NO_USER, NULL);
	expect(f->db, "a0", "example.org", USERDB_NO_USER, NULL);
}

static void test_resolve_catchall(void **state)
{
	struct fixture *f = *state;

	expect(f->db, "anything", "example.net", USERDB_FOUND,
	       BOXES("carol@example.org"));
	expect(f->db, "x+y", "example.net", USERDB_FOUND,
	       BOXES("carol@example.org"));
	expect(f->db, "dave+tag", "example.net", USERDB_FOUND,
	       BOXES("dave@example.net"));
	/* example.org has no catch-all */
	expect(f->db, "anything", "example.org", USERDB_NO_USER, NULL);
}

static void test_resolve_unknown(void **state)
{
	struct fixture *f = *state;
	char longlocal[80];

	expect(f->db, "zed", "example.org", USERDB_NO_USER, NULL);
	expect(f->db, "", "example.org", USERDB_NO_USER, NULL);
	memset(longlocal, 'a', sizeof(longlocal) - 1);
	longlocal[sizeof(longlocal) - 1] = '\0';
	expect(f->db, longlocal, "example.org", USERDB_NO_USER, NULL);
	/* a user whose target alias was deleted is skipped */
	add_user(f->db, "temp@example.org", 0);
	add_alias(f->db, "fwd@example.org", "temp@example.org");
	expect(f->db, "fwd", "example.org", USERDB_FOUND,
	       BOXES("temp@example.org"));
	assert_int_equal(userdb_user_del(f->db, "temp@example.org",
					 &(const char *){NULL}),
			 0);
	expect(f->db, "fwd", "example.org", USERDB_NO_USER, NULL);
}

static void test_resolve_not_local(void **state)
{
	struct fixture *f = *state;

	expect(f->db, "alice", "example.com", USERDB_NO_DOMAIN, NULL);
	expect(f->db, "alice", "org", USERDB_NO_DOMAIN, NULL);
	expect(f->db, "alice", "", USERDB_NO_DOMAIN, NULL);
	assert_int_equal(userdb_domain_is_local(f->db, "EXAMPLE.org"), 1);
	assert_int_equal(userdb_domain_is_local(f->db, "example.com"), 0);
}

/* ---- names ---- */

static const struct {
	const char *address;
	int rc;
} user_rows[] = {
	{"ok.user@example.org", 0},
	{"UPPER@Example.Org", 0},
	{"a+tag_1-x@example.org", 0},
	{"0123456789012345678901234567890123456789012345678901234567890123"
	 "@example.org",
	 0}, /* 64 octets */
	{"01234567890123456789012345678901234567890123456789012345678901234"
	 "@example.org",
	 -1}, /* 65 */
	{".dot@example.org", -1},
	{"dot.@example.org", -1},
	{"a..b@example.org", -1},
	{"sp ace@example.org", -1},
	{"sl/ash@example.org", -1},
	{"quo\"te@example.org", -1},
	{"\xc3\xbc@example.org", -1}, /* UTF-8 local parts: not yet */
	{"@example.org", -1},
	{"noat", -1},
	{"a@", -1},
	{"a@-bad.example.org", -1},
	{"a@bad-.example.org", -1},
	{"a@exa..mple.org", -1},
	{"a@example.org.", -1},
	{"a@b@example.org", -1},
	{"x@nodomain.test", -1},   /* domain not local */
	{"alice@example.org", -1}, /* exists */
	{"ALICE@example.org", -1}, /* exists, any case */
	{"team@example.org", -1},  /* is an alias */
};

static void test_user_add_rows(void **state)
{
	struct fixture *f = *state;
	struct userdb_mailbox box;
	const char *error;
	size_t n;

	for (size_t i = 0; i < sizeof(user_rows) / sizeof(user_rows[0]); i++) {
		int rc = userdb_user_add(f->db, user_rows[i].address, HASH,
					 NULL, 0, &error);

		print_message("  %s -> %d %s\n", user_rows[i].address, rc,
			      rc != 0 ? error : "");
		assert_int_equal(rc, user_rows[i].rc);
		if (rc != 0)
			assert_true(error[0] != '\0');
	}
	/* stored lowercase */
	assert_int_equal(
		userdb_resolve(f->db, "upper", "example.org", &box, 1, &n),
		USERDB_FOUND);
	assert_string_equal(box.local, "upper");
	assert_int_equal(
		userdb_user_add(f->db, "q@example.org", "", NULL, 0, &error),
		-1);
	assert_int_equal(userdb_user_add(f->db, "q@example.org", HASH, NULL,
					 (uint64_t)INT64_MAX + 1, &error),
			 -1);
}

static const struct {
	const char *domain;
	int rc;
} domain_rows[] = {
	{"localhost", 0},
	{"example.com", 0},
	{"a-b.c0.example", 0},
	{"xn--bcher-kva.example", 0},
	{"b\xc3\xbc"
	 "cher.example",
	 0}, /* UTF-8 U-label */
	{"", -1},
	{".", -1},
	{".example", -1},
	{"example.", -1},
	{"a..b", -1},
	{"-a.b", -1},
	{"a-.b", -1},
	{"a_b.c", -1},
	{"a b.c", -1},
	{"a/b", -1},
	{"b\xc3(.example", -1},	      /* bad UTF-8 */
	{"\xed\xa0\x80.example", -1}, /* surrogate */
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	 -1}, /* 64-octet label */
};

static void test_domain_check_rows(void **state)
{
	char big[300];
	const char *error;

	(void)state;
	for (size_t i = 0; i < sizeof(domain_rows) / sizeof(domain_rows[0]);
	     i++) {
		int rc = userdb_domain_check(domain_rows[i].domain, &error);

		print_message("  '%s' -> %d\n", domain_rows[i].domain, rc);
		assert_int_equal(rc, domain_rows[i].rc);
	}
	/* 253 octets in labels of 9 + dot, then one more */
	for (size_t i = 0; i < 253; i++)
		big[i] = i % 10 == 9 ? '.' : 'a';
	big[253] = '\0';
	assert_int_equal(userdb_domain_check(big, &error), 0);
	big[253] = 'a';
	big[254] = '\0';
	assert_int_equal(userdb_domain_check(big, &error), -1);
}

/* ---- admin ---- */

struct collect {
	char text[1024];
};

static void collect_user(const char *address, uint64_t quota, void *ctx)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s=%llu ", address,
		 (unsigned long long)quota);
}

static void collect_domain(const char *domain, void *ctx)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s ", domain);
}

static void collect_alias(const char *alias, const char *target, void *ctx)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s>%s ", alias, target);
}

static void test_quota_and_lists(void **state)
{
	struct fixture *f = *state;
	struct collect c = {""};
	const char *error;

	assert_int_equal(
		userdb_user_list(f->db, NULL, collect_user, &c, &error), 0);
	assert_string_equal(c.text, "dave@example.net=0 alice@example.org=0 "
				    "bob@example.org=0 "
				    "carol@example.org=1073741824 ");
	c.text[0] = '\0';
	assert_int_equal(userdb_user_list(f->db, "EXAMPLE.NET", collect_user,
					  &c, &error),
			 0);
	assert_string_equal(c.text, "dave@example.net=0 ");
	c.text[0] = '\0';
	assert_int_equal(userdb_domain_list(f->db, collect_domain, &c, &error),
			 0);
	assert_string_equal(c.text, "example.net example.org ");
	c.text[0] = '\0';
	assert_int_equal(userdb_alias_list(f->db, collect_alias, &c, &error),
			 0);
	assert_string_equal(c.text, "@example.net>carol@example.org "
				    "all@example.org>alice@example.org "
				    "all@example.org>carol@example.org "
				    "all@example.org>team@example.org "
				    "team@example.org>alice@example.org "
				    "team@example.org>bob@example.org ");
}

static void test_password_lookup(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char *hash;

	assert_int_equal(
		userdb_password_hash(f->db, "Alice@Example.org", &hash, &error),
		0);
	assert_string_equal(hash, HASH);
	free(hash);
	assert_int_equal(userdb_user_passwd(f->db, "alice@example.org",
					    "$6$new", NULL, &error),
			 0);
	assert_int_equal(
		userdb_password_hash(f->db, "alice@example.org", &hash, &error),
		0);
	assert_string_equal(hash, "$6$new");
	free(hash);
	assert_int_equal(
		userdb_password_hash(f->db, "zed@example.org", &hash, &error),
		1);
	assert_null(hash);
	/* an alias has no password */
	assert_int_equal(
		userdb_password_hash(f->db, "team@example.org", &hash, &error),
		1);
	assert_int_equal(userdb_user_passwd(f->db, "zed@example.org", "$6$x",
					    NULL, &error),
			 -1);
	assert_string_equal(error, "zed@example.org: no such user");
}

static void test_domain_admin(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct collect c = {""};

	assert_int_equal(userdb_domain_add(f->db, "EXAMPLE.org", &error), -1);
	assert_string_equal(error, "example.org: domain already exists");
	assert_int_equal(userdb_domain_add(f->db, "bad_domain", &error), -1);
	assert_int_equal(
		userdb_domain_del(f->db, "nope.example", false, &error), -1);
	assert_string_equal(error, "nope.example: no such domain");
	/* users, then aliases keep a domain */
	assert_int_equal(userdb_domain_del(f->db, "example.net", false, &error),
			 -1);
	assert_non_null(strstr(error, "users"));
	assert_int_equal(userdb_user_del(f->db, "dave@example.net", &error), 0);
	assert_int_equal(userdb_domain_del(f->db, "example.net", false, &error),
			 -1);
	assert_non_null(strstr(error, "aliases"));
	assert_int_equal(
		userdb_alias_del(f->db, "@example.net", NULL, 0, &error), 0);
	assert_int_equal(userdb_domain_del(f->db, "example.net", false, &error),
			 0);
	/* force takes users and aliases with it */
	assert_int_equal(userdb_domain_del(f->db, "example.org", true, &error),
			 0);
	assert_int_equal(userdb_domain_list(f->db, collect_domain, &c, &error),
			 0);
	assert_string_equal(c.text, "");
	assert_int_equal(
		userdb_user_list(f->db, NULL, collect_user, &c, &error), 0);
	assert_int_equal(userdb_alias_list(f->db, collect_alias, &c, &error),
			 0);
	assert_string_equal(c.text, "");
}

static void test_alias_admin(void **state)
{
	struct fixture *f = *state;
	const char *error;
	const char *two[] = {"alice@example.org", "nobody@example.org"};
	const char *bob = "BOB@example.org";

	/* one bad target refuses the whole request */
	assert_int_equal(
		userdb_alias_add(f->db, "new@example.org", two, 2, &error), -1);
	assert_string_equal(error, "nobody@example.org: no such user or alias");
	assert_int_equal(
		userdb_alias_del(f->db, "new@example.org", NULL, 0, &error),
		-1);
	assert_string_equal(error, "new@example.org: no such alias");
	assert_int_equal(
		userdb_alias_add(f->db, "alice@example.org", &bob, 1, &error),
		-1);
	assert_string_equal(error, "alice@example.org is a user");
	assert_int_equal(
		userdb_alias_add(f->db, "x@example.com", &bob, 1, &error), -1);
	assert_int_equal(
		userdb_alias_add(f->db, "@example.com", &bob, 1, &error), -1);
	assert_int_equal(userdb_alias_add(f->db, "team@example.org",
					  &(const char *){"Team@example.org"},
					  1, &error),
			 -1);
	assert_int_equal(userdb_alias_add(f->db, "team@example.org",
					  &(const char *){"@example.net"}, 1,
					  &error),
			 -1);
	assert_int_equal(
		userdb_alias_add(f->db, "team@example.org", NULL, 0, &error),
		-1);
	/* adding again is harmless; removing one target keeps the rest */
	assert_int_equal(
		userdb_alias_add(f->db, "team@example.org", &bob, 1, &error),
		0);
	assert_int_equal(
		userdb_alias_del(f->db, "team@example.org", &bob, 1, &error),
		0);
	assert_int_equal(
		userdb_alias_del(f->db, "team@example.org", &bob, 1, &error),
		-1);
	assert_string_equal(
		error, "bob@example.org is not a target of team@example.org");
	expect(f->db, "team", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org"));
}

/* ---- SCRAM credentials (schema version 2) ---- */

/* Well-formed credentials: 16-octet salt, two 32-octet keys. */
static const struct userdb_scram scram_good = {
	"W22ZaJ0SNY7soEsUEjb6gQ==",
	4096,
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
};

static void test_scram_store(void **state)
{
	struct fixture *f = *state;
	struct userdb_scram got, bad;
	const char *error;

	/* users added without SCRAM keys have none */
	assert_int_equal(userdb_scram_credentials(f->db, "alice@example.org",
						  &got, &error),
			 1);
	assert_int_equal(userdb_scram_credentials(f->db, "zed@example.org",
						  &got, &error),
			 1);
	assert_int_equal(userdb_user_add(f->db, "erin@example.org", HASH,
					 &scram_good, 0, &error),
			 0);
	assert_int_equal(userdb_scram_credentials(f->db, "Erin@Example.ORG",
						  &got, &error),
			 0);
	assert_memory_equal(&got, &scram_good, sizeof(got));
	/* a new password replaces them, a bare hash removes them */
	assert_int_equal(userdb_user_passwd(f->db, "alice@example.org", HASH,
					    &scram_good, &error),
			 0);
	assert_int_equal(userdb_scram_credentials(f->db, "alice@example.org",
						  &got, &error),
			 0);
	assert_int_equal(userdb_user_passwd(f->db, "erin@example.org", HASH,
					    NULL, &error),
			 0);
	assert_int_equal(userdb_scram_credentials(f->db, "erin@example.org",
						  &got, &error),
			 1);
	/* malformed credentials are refused before they are stored */
	bad = scram_good;
	bad.iterations = 1000;
	assert_int_equal(userdb_user_passwd(f->db, "erin@example.org", HASH,
					    &bad, &error),
			 -1);
	assert_non_null(strstr(error, "iteration"));
	bad = scram_good;
	strlcpy_p(bad.stored_key, "c2hvcnQ=", sizeof(bad.stored_key));
	assert_int_equal(userdb_user_add(f->db, "fred@example.org", HASH, &bad,
					 0, &error),
			 -1);
	bad = scram_good;
	strlcpy_p(bad.salt, "not base64", sizeof(bad.salt));
	assert_int_equal(userdb_scram_check(&bad, &error), -1);
	assert_int_equal(userdb_scram_check(&scram_good, &error), 0);
}

/* A row changed behind our back is an error, not credentials. */
static void test_scram_corrupt(void **state)
{
	struct fixture *f = *state;
	struct userdb_scram got;
	const char *error;
	sqlite3 *sq;

	assert_int_equal(userdb_user_passwd(f->db, "bob@example.org", HASH,
					    &scram_good, &error),
			 0);
	assert_int_equal(sqlite3_open(f->path, &sq), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(sq,
			     "UPDATE users SET scram_server_key = "
			     "'AAAA' WHERE address = 'bob@example.org'",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(sq);
	assert_int_equal(userdb_scram_credentials(f->db, "bob@example.org",
						  &got, &error),
			 -1);
	assert_non_null(strstr(error, "corrupt"));
}

/* The version 1 schema, as postern 0.1 wrote it. */
static const char schema_v1[] =
	"CREATE TABLE domains (name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE users (address TEXT PRIMARY KEY NOT NULL,"
	" local TEXT NOT NULL, domain TEXT NOT NULL,"
	" password_hash TEXT NOT NULL,"
	" quota INTEGER NOT NULL DEFAULT 0 CHECK (quota >= 0),"
	" created INTEGER NOT NULL);"
	"CREATE INDEX users_by_domain ON users (domain, local);"
	"CREATE TABLE aliases (alias TEXT NOT NULL, target TEXT NOT NULL,"
	" PRIMARY KEY (alias, target)) WITHOUT ROWID;"
	"INSERT INTO domains VALUES ('old.example');"
	"INSERT INTO users VALUES ('ann@old.example', 'ann', 'old.example',"
	" '" HASH "', 7, 0);"
	"PRAGMA user_version = 1;";

/* PRAGMA user_version of the file at path. */
static int file_version(const char *path)
{
	sqlite3_stmt *st;
	sqlite3 *sq;
	int version;

	assert_int_equal(sqlite3_open(path, &sq), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(sq, "PRAGMA user_version", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(sq);
	return version;
}

static void test_upgrade_from_1(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/v1.db", f->dir);
	struct userdb_scram got;
	const char *error = NULL;
	struct userdb *db;
	sqlite3 *sq;
	char *hash;

	assert_int_equal(sqlite3_open(path, &sq), SQLITE_OK);
	assert_int_equal(sqlite3_exec(sq, schema_v1, NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(sq);
	/* opened without create: upgraded in place, data kept */
	db = userdb_open(path, false, &error);
	if (db == NULL)
		print_message("open: %s\n", error);
	assert_non_null(db);
	expect(db, "ann", "old.example", USERDB_FOUND,
	       BOXES("ann@old.example"));
	assert_int_equal(
		userdb_password_hash(db, "ann@old.example", &hash, &error), 0);
	assert_string_equal(hash, HASH);
	free(hash);
	assert_int_equal(
		userdb_scram_credentials(db, "ann@old.example", &got, &error),
		1);
	assert_int_equal(userdb_user_passwd(db, "ann@old.example", HASH,
					    &scram_good, &error),
			 0);
	assert_int_equal(
		userdb_scram_credentials(db, "ann@old.example", &got, &error),
		0);
	userdb_free(&db);
	/* the version is 2 now, and a second open leaves it alone */
	db = userdb_open(path, false, &error);
	assert_non_null(db);
	userdb_free(&db);
	assert_int_equal(USERDB_SCHEMA_VERSION, 2);
	assert_int_equal(file_version(path), 2);
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", path,
				    i == 0   ? ""
				    : i == 1 ? "-wal"
					     : "-shm");

		unlink(p);
		free(p);
	}
	free(path);
}

/* ---- open ---- */

static void test_open(void **state)
{
	struct fixture *f = *state;
	char *missing = xasprintf("%s/missing.db", f->dir);
	const char *error = NULL;
	struct userdb *db;
	sqlite3 *sq;
	struct stat st;

	mode_t mask = umask(022);

	umask(mask);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640 & ~mask);
	/* without create, a missing file is an error, and stays missing */
	assert_null(userdb_open(missing, false, &error));
	assert_non_null(strstr(error, missing));
	assert_int_equal(access(missing, F_OK), -1);
	/* a second connection sees the first one's data */
	db = userdb_open(f->path, false, &error);
	assert_non_null(db);
	expect(db, "alice", "example.org", USERDB_FOUND,
	       BOXES("alice@example.org"));
	userdb_free(&db);
	userdb_free(&db); /* NULL is fine */
	/* an empty SQLite file is not a user database without create */
	assert_int_equal(sqlite3_open(missing, &sq), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(sq, "PRAGMA user_version = 99", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(sq);
	assert_null(userdb_open(missing, true, &error));
	assert_non_null(strstr(error, "schema version 99"));
	unlink(missing);
	free(missing);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_resolve_exact),
		T(test_resolve_case),
		T(test_resolve_tag),
		T(test_resolve_fanout),
		T(test_resolve_alias_to_alias),
		T(test_resolve_loop),
		T(test_resolve_depth),
		T(test_resolve_catchall),
		T(test_resolve_unknown),
		T(test_resolve_not_local),
		T(test_user_add_rows),
		T(test_domain_check_rows),
		T(test_quota_and_lists),
		T(test_password_lookup),
		T(test_domain_admin),
		T(test_alias_admin),
		T(test_scram_store),
		T(test_scram_corrupt),
		T(test_upgrade_from_1),
		T(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
