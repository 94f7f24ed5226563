/*
 * libFuzzer target for queue/spool_envelope.
 *
 * The input is an envelope record. What parses must keep the limits,
 * format back to a record of the same length when it was a current
 * version record (the format has one spelling per envelope, up to the
 * order of notify words; a version 1 record gains its "held" line) that
 * parses to an equal
 * envelope and formats to the same bytes again; a record one byte shorter
 * must not parse. What does not parse must give an error and an empty
 * envelope.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/spool_envelope.h"
#include "fuzz.h"

static void check_str(const char *s)
{
	CHECK(s != NULL && strlen(s) <= SPOOL_FIELD_MAX);
}

static void check_limits(const struct spool_envelope *env)
{
	size_t i;

	CHECK(spool_id_valid(env->id));
	CHECK(env->nrcpts >= 1 && env->nrcpts <= SPOOL_MAX_RCPTS);
	CHECK(env->created >= 0 && env->next_attempt >= 0);
	CHECK(env->ret <= SPOOL_RET_HDRS && env->body <= SPOOL_BODY_8BITMIME);
	check_str(env->sender);
	check_str(env->envid);
	check_str(env->auth);
	for (i = 0; i < env->nrcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];

		check_str(r->address);
		check_str(r->orcpt);
		check_str(r->last_reply);
		CHECK((r->notify & ~(unsigned)SPOOL_NOTIFY_ALL) == 0);
		CHECK(r->state <= SPOOL_RCPT_FAILED);
		CHECK(r->updated >= 0);
	}
}

static void check_equal(const struct spool_envelope *a,
			const struct spool_envelope *b)
{
	size_t i;

	CHECK(strcmp(a->id, b->id) == 0);
	CHECK(a->created == b->created && a->next_attempt == b->next_attempt);
	CHECK(strcmp(a->sender, b->sender) == 0);
	CHECK(strcmp(a->envid, b->envid) == 0);
	CHECK(strcmp(a->auth, b->auth) == 0);
	CHECK(a->ret == b->ret && a->body == b->body);
	CHECK(a->smtputf8 == b->smtputf8);
	CHECK(a->size == b->size && a->attempts == b->attempts);
	CHECK(a->held == b->held);
	CHECK(a->nrcpts == b->nrcpts);
	for (i = 0; i < a->nrcpts; i++) {
		const struct spool_rcpt *x = &a->rcpts[i], *y = &b->rcpts[i];

		CHECK(strcmp(x->address, y->address) == 0);
		CHECK(strcmp(x->orcpt, y->orcpt) == 0);
		CHECK(strcmp(x->last_reply, y->last_reply) == 0);
		CHECK(x->notify == y->notify && x->state == y->state);
		CHECK(x->updated == y->updated);
	}
}

static void check_failed(int ret, const char *error,
			 const struct spool_envelope *env)
{
	CHECK(ret == -1);
	CHECK(error != NULL && error[0] != '\0');
	CHECK(env->rcpts == NULL && env->nrcpts == 0);
	CHECK(env->sender == NULL && env->envid == NULL && env->auth == NULL);
}

static void round_trip(const struct spool_envelope *env, size_t size,
		       bool current)
{
	struct spool_envelope back;
	const char *error = NULL;
	size_t len, len2;
	char *rec = spool_envelope_format(env, &len), *rec2;

	CHECK(rec != NULL && strlen(rec) == len);
	/* Version 1 records gain "held 0\n". */
	CHECK(current ? len == size : len == size + 7);
	CHECK(spool_envelope_parse(rec, len, &back, &error) == 0);
	check_equal(env, &back);
	rec2 = spool_envelope_format(&back, &len2);
	CHECK(rec2 != NULL && len2 == len && memcmp(rec, rec2, len) == 0);
	spool_envelope_fini(&back);
	free(rec);
	free(rec2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan sees any read past it. */
	char *buf = malloc(size ? size : 1);
	struct spool_envelope env;
	const char *error = NULL;
	int ret;

	CHECK(buf != NULL);
	memcpy(buf, data, size);
	ret = spool_envelope_parse(buf, size, &env, &error);
	if (ret != 0) {
		check_failed(ret, error, &env);
		free(buf);
		return 0;
	}
	check_limits(&env);
	round_trip(&env, size, memcmp(buf, "postern-envelope 1\n", 19) != 0);
	spool_envelope_fini(&env);
	/* A record cut short never parses. */
	CHECK(size > 0);
	error = NULL;
	ret = spool_envelope_parse(buf, size - 1, &env, &error);
	check_failed(ret, error, &env);
	free(buf);
	return 0;
}
