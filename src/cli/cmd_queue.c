/*
 * postern queue list|show|delete|flush|hold|release|bounce: the outbound
 * spool as an operator sees it. Changes are made to the envelopes on disk; the
 * queue worker notices them (inotify) and acts.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/mem.h"
#include "queue/spool.h"
#include "server/config.h"

struct queue_cli {
	struct config *cfg;
	bool json;
	const char *domain; /* flush: only messages with rcpts there */
	size_t count;
	uint64_t bytes;
};

static void queue_usage(FILE *fp)
{
	fprintf(fp,
		"usage: postern queue list [--json] [-c FILE]\n"
		"       postern queue show ID [-c FILE]\n"
		"       postern queue delete ID [-c FILE]\n"
		"       postern queue flush [DOMAIN] [-c FILE]\n"
		"       postern queue hold ID [-c FILE]\n"
		"       postern queue release ID [-c FILE]\n"
		"       postern queue bounce ID [-c FILE]\n\n"
		"Inspect and manage the outbound queue. flush retries now "
		"(all messages, or those\nwith recipients in DOMAIN); hold "
		"keeps a message from being tried (and from\nexpiring) until "
		"release, which tries it at once; bounce gives up on a\n"
		"message and returns it to its sender with a DSN. The queue "
		"worker of a\nrunning server acts on each. In list, a '!' "
		"after the id marks a held message.\n");
}

static const char *const rcpt_states[] = {"pending", "delivered", "deferred",
					  "failed"};

/* A JSON string literal of s (RFC 8259 7). */
static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void list_json(const struct spool_envelope *env, bool first)
{
	printf("%s\n  {\"id\": \"%s\", \"size\": %llu, \"created\": %lld, "
	       "\"attempts\": %u, \"next_attempt\": %lld, \"held\": %s, "
	       "\"sender\": ",
	       first ? "" : ",", env->id, (unsigned long long)env->size,
	       (long long)env->created, env->attempts,
	       (long long)env->next_attempt, env->held ? "true" : "false");
	json_str(env->sender);
	printf(", \"recipients\": [");
	for (size_t i = 0; i < env->nrcpts; i++) {
		printf("%s{\"address\": ", i > 0 ? ", " : "");
		json_str(env->rcpts[i].address);
		printf(", \"state\": \"%s\", \"last_reply\": ",
		       rcpt_states[env->rcpts[i].state]);
		json_str(env->rcpts[i].last_reply);
		putchar('}');
	}
	printf("]}");
}

/* mailq(1) layout, as Postfix and sendmail print it: '!' after the id
 * marks a message on hold, as in Postfix. */
static void list_text(const struct spool_envelope *env)
{
	char when[32];
	struct tm tm;

	localtime_r(&env->created, &tm);
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
	printf("%s%c %8llu %-20s  %s\n", env->id, env->held ? '!' : ' ',
	       (unsigned long long)env->size, when,
	       env->sender[0] != '\0' ? env->sender : "MAILER-DAEMON");
	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];

		if (r->state == SPOOL_RCPT_DELIVERED)
			continue;
		if (r->last_reply[0] != '\0')
			printf("%48s(%.70s)\n", "", r->last_reply);
		printf("%48s%s\n", "", r->address);
	}
	putchar('\n');
}

static int list_cb(const char *id, void *ctx)
{
	struct queue_cli *qc = ctx;
	struct spool_envelope env;
	const char *error;

	spool_envelope_init(&env);
	if (spool_envelope_read(qc->cfg->data_dir, id, &env, &error) == 0) {
		if (qc->json)
			list_json(&env, qc->count == 0);
		else
			list_text(&env);
		qc->count++;
		qc->bytes += env.size;
	}
	spool_envelope_fini(&env);
	return 0;
}

static int queue_list(struct queue_cli *qc)
{
	const char *error;

	if (qc->json)
		putchar('[');
	else
		printf("%-17s %8s %-20s  %s\n", "-Queue ID-", "--Size--",
		       "----Arrival Time----", "-Sender/Recipient-------");
	if (spool_list(qc->cfg->data_dir, list_cb, qc, &error) < 0) {
		fprintf(stderr, "postern queue: %s\n", error);
		return CLI_EXIT_INTERNAL;
	}
	if (qc->json)
		printf("%s]\n", qc->count > 0 ? "\n" : "");
	else if (qc->count == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %llu Kbytes in %zu Request%s.\n",
		       (unsigned long long)(qc->bytes + 1023) / 1024, qc->count,
		       qc->count == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

/* Read id's envelope; prints why not and returns -1. */
static int queue_read(struct queue_cli *qc, const char *id,
		      struct spool_envelope *env)
{
	const char *error;

	spool_envelope_init(env);
	if (!spool_id_valid(id)) {
		fprintf(stderr, "postern queue: %s is not a queue id\n", id);
		return -1;
	}
	if (spool_envelope_read(qc->cfg->data_dir, id, env, &error) < 0) {
		fprintf(stderr, "postern queue: %s: %s\n", id, error);
		spool_envelope_fini(env);
		return -1;
	}
	return 0;
}

static int queue_show(struct queue_cli *qc, const char *id)
{
	struct spool_envelope env;
	char *path;
	FILE *fp;
	char line[1024];

	if (queue_read(qc, id, &env) < 0)
		return CLI_EXIT_USER;
	qc->json = false;
	list_text(&env);
	printf("attempts %u, next attempt %lld, auth %s%s\n", env.attempts,
	       (long long)env.next_attempt,
	       env.auth[0] != '\0' ? env.auth : "-",
	       env.held ? ", on hold" : "");
	spool_envelope_fini(&env);
	/* The header block of the message, as stored. */
	path = spool_msg_path(qc->cfg->data_dir, id);
	fp = path != NULL ? fopen(path, "re") : NULL;
	free(path);
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL &&
	       strcmp(line, "\r\n") != 0)
		fputs(line, stdout);
	if (fp != NULL)
		fclose(fp);
	return CLI_EXIT_OK;
}

/* Write env back (the spool keeps the worker's ownership). */
static int queue_write(struct queue_cli *qc, struct spool_envelope *env)
{
	const char *error;

	if (spool_envelope_update(qc->cfg->data_dir, env, &error) < 0) {
		fprintf(stderr, "postern queue: %s: %s\n", env->id, error);
		return -1;
	}
	return 0;
}

static int queue_flush(struct queue_cli *qc)
{
	const char *error;
	size_t n = 0;
	int r = spool_flush(qc->cfg->data_dir, qc->domain, &n, &error);

	if (r < 0 && n == 0) {
		fprintf(stderr, "postern queue: %s\n", error);
		return CLI_EXIT_INTERNAL;
	}
	printf("%zu message%s scheduled for delivery now\n", n,
	       n == 1 ? "" : "s");
	return r < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
}

static int queue_bounce(struct queue_cli *qc, const char *id)
{
	struct spool_envelope env;
	int ret;

	if (queue_read(qc, id, &env) < 0)
		return CLI_EXIT_USER;
	for (size_t i = 0; i < env.nrcpts; i++) {
		struct spool_rcpt *r = &env.rcpts[i];

		if (r->state == SPOOL_RCPT_DELIVERED ||
		    r->state == SPOOL_RCPT_FAILED)
			continue;
		r->state = SPOOL_RCPT_FAILED;
		free(r->last_reply);
		r->last_reply = xstrdup("550 5.0.0 returned to sender by the "
					"administrator");
		r->updated = time(NULL);
	}
	/* Due now: an attempt running meanwhile sees the change. */
	env.next_attempt = spool_due_now(env.next_attempt);
	env.held = false; /* returning it is a release too */
	ret = queue_write(qc, &env) < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
	spool_envelope_fini(&env);
	if (ret == CLI_EXIT_OK)
		printf("%s will be returned to its sender\n", id);
	return ret;
}

/*
 * hold: the worker stops trying it (an attempt already running ends
 * first; each verb made during an attempt is honoured when it ends, see
 * spool_envelope_merge). release: due at once. While held a message does not
 * expire; released after queue.lifetime it gets one attempt, then whatever is
 * still undelivered is returned to the sender.
 */
static int queue_hold(struct queue_cli *qc, const char *id, bool hold)
{
	struct spool_envelope env;
	int ret;

	if (queue_read(qc, id, &env) < 0)
		return CLI_EXIT_USER;
	if (env.held == hold) {
		printf("%s is %s\n", id,
		       hold ? "already on hold" : "not on hold");
		spool_envelope_fini(&env);
		return CLI_EXIT_OK;
	}
	env.held = hold;
	if (!hold)
		env.next_attempt = spool_due_now(env.next_attempt);
	ret = queue_write(qc, &env) < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
	spool_envelope_fini(&env);
	if (ret == CLI_EXIT_OK)
		printf("%s %s\n", id, hold ? "on hold" : "released");
	return ret;
}

static int queue_delete(struct queue_cli *qc, const char *id)
{
	const char *error;

	if (!spool_id_valid(id)) {
		fprintf(stderr, "postern queue: %s is not a queue id\n", id);
		return CLI_EXIT_USER;
	}
	if (spool_remove(qc->cfg->data_dir, id, &error) < 0) {
		fprintf(stderr, "postern queue: %s: %s\n", id, error);
		return CLI_EXIT_USER;
	}
	printf("deleted %s\n", id);
	return CLI_EXIT_OK;
}

static int queue_dispatch(struct queue_cli *qc, const char *action, int nargs,
			  char **args)
{
	if (strcmp(action, "list") == 0 && nargs == 0)
		return queue_list(qc);
	if (strcmp(action, "show") == 0 && nargs == 1)
		return queue_show(qc, args[0]);
	if (strcmp(action, "delete") == 0 && nargs == 1)
		return queue_delete(qc, args[0]);
	if (strcmp(action, "bounce") == 0 && nargs == 1)
		return queue_bounce(qc, args[0]);
	if (strcmp(action, "hold") == 0 && nargs == 1)
		return queue_hold(qc, args[0], true);
	if (strcmp(action, "release") == 0 && nargs == 1)
		return queue_hold(qc, args[0], false);
	if (strcmp(action, "flush") == 0 && nargs <= 1) {
		qc->domain = nargs == 1 ? args[0] : NULL;
		return queue_flush(qc);
	}
	queue_usage(stderr);
	return CLI_EXIT_USER;
}

int cmd_queue(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct queue_cli qc = {0};
	const char *config = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			qc.json = true;
			break;
		case 'h':
			queue_usage(stdout);
			return CLI_EXIT_OK;
		default:
			queue_usage(stderr);
			return CLI_EXIT_USER;
		}
	}
	if (optind >= argc) {
		queue_usage(stderr);
		return CLI_EXIT_USER;
	}
	qc.cfg = cli_config_load("queue", cli_config_path(config));
	if (qc.cfg == NULL)
		return CLI_EXIT_USER;
	rc = queue_dispatch(&qc, argv[optind], argc - optind - 1,
			    argv + optind + 1);
	config_free(&qc.cfg);
	return rc;
}

/* mailq(1): `postern mailq [-c FILE]` is `postern queue list`. */
int cmd_mailq(int argc, char **argv)
{
	char *args[] = {argv[0], "list", NULL, NULL, NULL};
	int n = 2;

	for (int i = 1; i < argc && n < 4; i++)
		args[n++] = argv[i];
	if (argc > 3) {
		queue_usage(stderr);
		return CLI_EXIT_USER;
	}
	return cmd_queue(n, args);
}
