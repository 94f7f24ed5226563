/*
 * postern user add|del|passwd|list: the users, their passwords and quotas.
 *
 * SECURITY: a password never comes from argv (other users can read it in
 * ps): it is read from stdin (--password-stdin) or typed at the terminal
 * without echo, then wiped from memory once hashed and turned into SCRAM
 * keys. --hash takes a hash made elsewhere (not a secret to hide from ps:
 * it is what the database holds); such a user has no SCRAM keys.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/scram.h"
#include "auth/userdb.h"
#include "cli/cli.h"
#include "lib/mem.h"

struct user_opts {
	const char *config;
	bool password_stdin;
	const char *hash;  /* --hash: stored as given, after a format check */
	const char *quota; /* as given, for user add */
};

static void user_usage(FILE *fp)
{
	fprintf(fp,
		"usage: postern user add ADDRESS [--password-stdin | --hash "
		"HASH]\n"
		"                        [--quota SIZE] [-c FILE]\n"
		"       postern user del ADDRESS [-c FILE]\n"
		"       postern user passwd ADDRESS [--password-stdin | --hash "
		"HASH] [-c FILE]\n"
		"       postern user list [DOMAIN] [-c FILE]\n\n"
		"Manage users. The password is typed twice at the terminal, "
		"or read as one\nline from stdin with --password-stdin; it is "
		"never taken from the command\nline. --hash stores a hash made "
		"elsewhere instead: $y$, $2b$, $2y$, $6$ or\n$argon2id$, "
		"optionally after a Dovecot {SCHEME}; such a user cannot use\n"
		"SCRAM-SHA-256. SIZE is bytes or a number with K, M or G "
		"(1024-based); 0 (the\ndefault) is unlimited. The domain must "
		"exist (postern domain add).\n");
}

/* ---- Sizes ---- */

/* "0", "500", "100K", "20M", "2G" (1024-based). */
static int user_parse_size(const char *s, uint64_t *size_r)
{
	unsigned shift = 0;
	unsigned long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		const char *units = "KMG";
		const char *u = strchr(units, *end & ~0x20);

		if (u == NULL || *u == '\0' || end[1] != '\0')
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
	}
	if (n > ((unsigned long long)INT64_MAX >> shift))
		return -1;
	*size_r = (uint64_t)n << shift;
	return 0;
}

/* The largest unit that divides q exactly, so list output parses back. */
static void user_format_size(uint64_t q, char *buf, size_t size)
{
	static const char units[] = "GMK";

	if (q == 0) {
		strlcpy_p(buf, "unlimited", size);
		return;
	}
	for (int i = 0; i < 3; i++) {
		unsigned shift = 10 * (unsigned)(3 - i);

		if (q % ((uint64_t)1 << shift) == 0) {
			snprintf(buf, size, "%" PRIu64 "%c", q >> shift,
				 units[i]);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64, q);
}

/* ---- Passwords ---- */

/* Room for PASSWORD_MAX octets, CR, LF and NUL. */
#define USER_PASSWORD_BUF (PASSWORD_MAX + 3)

/* One line of stdin, CR/LF stripped. -1 with *error_r when none fits. */
static int user_read_line(char *buf, size_t size, const char **error_r)
{
	size_t len;

	if (fgets(buf, (int)size, stdin) == NULL) {
		*error_r = "no password on stdin";
		return -1;
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && len + 1 >= size) {
		*error_r = "password too long";
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0) {
		*error_r = "empty password";
		return -1;
	}
	return 0;
}

static struct termios user_saved_tty;

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void user_restore_tty(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &user_saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int user_prompt(const char *prompt, char *buf, size_t size,
		       const char **error_r)
{
	struct termios quiet;
	int rc;

	if (tcgetattr(STDIN_FILENO, &user_saved_tty) != 0) {
		*error_r = "cannot read the terminal settings";
		return -1;
	}
	quiet = user_saved_tty;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	signal(SIGINT, user_restore_tty);
	signal(SIGTERM, user_restore_tty);
	/* echo off first: what is typed once the prompt shows stays hidden */
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fputs(prompt, stderr);
	fflush(stderr);
	rc = user_read_line(buf, size, error_r);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &user_saved_tty);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return rc;
}

/* The new password, from stdin or typed twice. */
static int user_get_password(bool from_stdin, char *buf, const char **error_r)
{
	char again[USER_PASSWORD_BUF];
	int rc;

	if (from_stdin)
		return user_read_line(buf, USER_PASSWORD_BUF, error_r);
	if (!isatty(STDIN_FILENO)) {
		*error_r = "stdin is not a terminal: use --password-stdin";
		return -1;
	}
	if (user_prompt("New password: ", buf, USER_PASSWORD_BUF, error_r) < 0)
		return -1;
	rc = user_prompt("Retype password: ", again, sizeof(again), error_r);
	if (rc == 0 && strcmp(buf, again) != 0) {
		*error_r = "the passwords do not match";
		rc = -1;
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

/* What a new password leaves behind: its hash and SCRAM keys. */
struct user_secrets {
	char *hash;
	struct userdb_scram scram;
	bool has_scram;
};

static void user_secrets_wipe(struct user_secrets *sec)
{
	if (sec->hash != NULL)
		explicit_bzero(sec->hash, strlen(sec->hash));
	free(sec->hash);
	explicit_bzero(sec, sizeof(*sec));
}

/*
 * The given --hash, or ask for a password and derive its hash and SCRAM
 * keys; prints why on failure.
 */
static int user_new_secrets(const struct cli_userdb *u,
			    const struct user_opts *o, struct user_secrets *sec)
{
	char password[USER_PASSWORD_BUF];
	const char *error;
	int rc;

	memset(sec, 0, sizeof(*sec));
	if (o->hash != NULL) {
		sec->hash = xstrdup(o->hash); /* checked by user_precheck */
		return 0;
	}
	rc = user_get_password(o->password_stdin, password, &error);
	if (rc == 0)
		rc = password_hash(password, &sec->hash, &error);
	if (rc == 0)
		rc = scram_credentials_make(password, &sec->scram, &error);
	explicit_bzero(password, sizeof(password));
	if (rc < 0) {
		user_secrets_wipe(sec);
		fprintf(stderr, "postern %s: %s\n", u->cmd, error);
		return -1;
	}
	sec->has_scram = true;
	return 0;
}

/* ---- Actions ---- */

/* Before asking for a password: is the address free in a local domain? */
static int user_add_precheck(const struct cli_userdb *u, const char *address)
{
	const char *at = strrchr(address, '@');
	const char *error;
	char *hash = NULL;
	int rc = userdb_domain_is_local(u->db, at + 1);

	if (rc == 0) {
		fprintf(stderr,
			"postern user: %s: no such domain (add it with "
			"postern domain add)\n",
			at + 1);
		return CLI_EXIT_USER;
	}
	if (rc == 1)
		rc = userdb_password_hash(u->db, address, &hash, &error);
	if (rc == 0) {
		free(hash);
		fprintf(stderr, "postern user: %s: user already exists\n",
			address);
		return CLI_EXIT_USER;
	}
	/* a database error shows again, with its message, at the add */
	return CLI_EXIT_OK;
}

static int user_add(struct cli_userdb *u, const char *address,
		    const struct user_opts *o)
{
	uint64_t quota = 0;
	struct user_secrets sec;
	const char *error;
	int rc;

	if (o->quota != NULL && user_parse_size(o->quota, &quota) < 0) {
		fprintf(stderr,
			"postern user: --quota %s: want bytes or a number with "
			"K, M or G\n",
			o->quota);
		return CLI_EXIT_USER;
	}
	rc = user_add_precheck(u, address);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (user_new_secrets(u, o, &sec) < 0)
		return CLI_EXIT_USER;
	rc = userdb_user_add(u->db, address, sec.hash,
			     sec.has_scram ? &sec.scram : NULL, quota, &error);
	user_secrets_wipe(&sec);
	if (rc == 0)
		printf("added user %s\n", address);
	return cli_userdb_result(u, rc, error);
}

static int user_passwd(struct cli_userdb *u, const char *address,
		       const struct user_opts *o)
{
	struct user_secrets sec;
	const char *error;
	char *hash;
	int rc = userdb_password_hash(u->db, address, &hash, &error);

	if (rc != 0) {
		if (rc > 0)
			error = "no such user";
		fprintf(stderr, "postern user: %s: %s\n", address, error);
		return rc > 0 ? CLI_EXIT_USER : CLI_EXIT_INTERNAL;
	}
	free(hash);
	if (user_new_secrets(u, o, &sec) < 0)
		return CLI_EXIT_USER;
	rc = userdb_user_passwd(u->db, address, sec.hash,
				sec.has_scram ? &sec.scram : NULL, &error);
	user_secrets_wipe(&sec);
	if (rc == 0)
		printf("changed the password of %s\n", address);
	return cli_userdb_result(u, rc, error);
}

static void user_print(const char *address, uint64_t quota, void *ctx)
{
	char size[32];

	(void)ctx;
	user_format_size(quota, size, sizeof(size));
	printf("%s\t%s\n", address, size);
}

static int user_run(struct cli_userdb *u, const char *action, const char *arg,
		    const struct user_opts *o)
{
	const char *error;
	int rc;

	if (strcmp(action, "add") == 0)
		return user_add(u, arg, o);
	if (strcmp(action, "passwd") == 0)
		return user_passwd(u, arg, o);
	if (strcmp(action, "del") == 0) {
		rc = userdb_user_del(u->db, arg, &error);
		if (rc == 0)
			printf("removed user %s\n", arg);
	} else {
		rc = userdb_user_list(u->db, arg, user_print, NULL, &error);
	}
	return cli_userdb_result(u, rc, error);
}

/* Operands and options fit action. */
static bool user_args_ok(const char *action, int nargs,
			 const struct user_opts *o)
{
	bool list = strcmp(action, "list") == 0;
	bool add = strcmp(action, "add") == 0;
	bool passwd = strcmp(action, "passwd") == 0;

	if (!list && !add && !passwd && strcmp(action, "del") != 0)
		return false;
	if (list ? nargs > 1 : nargs != 1)
		return false;
	return (o->quota == NULL || add) &&
	       ((!o->password_stdin && o->hash == NULL) || add || passwd) &&
	       (!o->password_stdin || o->hash == NULL);
}

/*
 * Refusals that need no database: bad address, malformed --hash, no way
 * to get a password.
 */
static int user_precheck(const char *action, const char *arg,
			 const struct user_opts *o)
{
	bool list = strcmp(action, "list") == 0;
	bool asks = strcmp(action, "add") == 0 || strcmp(action, "passwd") == 0;
	const char *error;

	if (!list && userdb_address_check(arg, &error) < 0) {
		fprintf(stderr, "postern user: %s: %s\n", arg, error);
		return CLI_EXIT_USER;
	}
	if (o->hash != NULL && password_hash_check(o->hash, &error) < 0) {
		fprintf(stderr, "postern user: --hash: %s\n", error);
		return CLI_EXIT_USER;
	}
	if (asks && o->hash == NULL && !o->password_stdin &&
	    !isatty(STDIN_FILENO)) {
		fprintf(stderr, "postern user: stdin is not a terminal: use "
				"--password-stdin\n");
		return CLI_EXIT_USER;
	}
	return CLI_EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"password-stdin", no_argument, NULL, 'P'},
		{"hash", required_argument, NULL, 'H'},
		{"quota", required_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct user_opts o = {0};
	struct cli_userdb u;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'P':
			o.password_stdin = true;
			break;
		case 'H':
			o.hash = optarg;
			break;
		case 'q':
			o.quota = optarg;
			break;
		case 'h':
			user_usage(stdout);
			return CLI_EXIT_OK;
		default:
			user_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind >= argc ||
	    !user_args_ok(argv[optind], argc - optind - 1, &o)) {
		user_usage(stderr);
		return CLI_EXIT_USER;
	}
	rc = user_precheck(argv[optind], argv[optind + 1], &o);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_userdb_open(&u, "user", cli_config_path(o.config));
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = user_run(&u, argv[optind], argv[optind + 1], &o);
	return cli_userdb_close(&u, rc);
}
