/*
 * Envelope records: the text format described in spool_envelope.h.
 *
 * SECURITY: the record holds strings from the network (sender, ENVID,
 * ORCPT, recipients, remote replies). Each is written with its length
 * first and read back by that length, never by searching for a delimiter,
 * so its bytes cannot end the field or start another one. The parser
 * checks every length against SPOOL_FIELD_MAX before copying and counts
 * recipients against SPOOL_MAX_RCPTS; nothing is sized by a number from
 * the record.
 */
#include "queue/spool_envelope.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAGIC "postern-envelope"
/* Longest unstructured token (number or word) on a line. */
#define TOKEN_MAX 32
/* Digits of a length prefix: SPOOL_FIELD_MAX has four. */
#define LENGTH_DIGITS_MAX 4

/* time_t is signed; its largest value without overflowing on the way. */
#define TIME_T_MAX                                                             \
	((uint64_t)((((time_t)1 << (sizeof(time_t) * 8 - 2)) - 1) * 2 + 1))

static const char *const ret_names[] = {"default", "full", "hdrs"};
static const char *const body_names[] = {"default", "7bit", "8bitmime"};
static const char *const state_names[] = {"pending", "delivered", "deferred",
					  "failed"};
/* Bit i of notify is notify_names[i]. */
static const char *const notify_names[] = {"never", "success", "failure",
					   "delay"};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct cursor {
	const char *p;
	const char *end;
	const char **error_r;
};

bool spool_id_valid(const char *id)
{
	size_t i;

	if (id == NULL)
		return false;
	for (i = 0; i < SPOOL_ID_LEN; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'A' && id[i] <= 'F')))
			return false;
	}
	return id[SPOOL_ID_LEN] == '\0';
}

void spool_envelope_init(struct spool_envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->ret = SPOOL_RET_DEFAULT;
	env->body = SPOOL_BODY_DEFAULT;
}

void spool_envelope_fini(struct spool_envelope *env)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].address);
		free(env->rcpts[i].orcpt);
		free(env->rcpts[i].last_reply);
	}
	free(env->rcpts);
	free(env->sender);
	free(env->envid);
	free(env->auth);
	spool_envelope_init(env);
}

/* Room for one more recipient; capacity doubles, so no count is trusted. */
static struct spool_rcpt *rcpt_append(struct spool_envelope *env)
{
	struct spool_rcpt *r;
	size_t n = env->nrcpts;

	/* Grow at powers of two: n is the capacity exactly when n is 0 or
	 * a power of two. */
	if ((n & (n - 1)) == 0)
		env->rcpts =
			xrealloc(env->rcpts, (n == 0 ? 1 : 2 * n) * sizeof(*r));
	r = &env->rcpts[n];
	memset(r, 0, sizeof(*r));
	r->state = SPOOL_RCPT_PENDING;
	env->nrcpts++;
	return r;
}

struct spool_rcpt *spool_envelope_add_rcpt(struct spool_envelope *env,
					   const char *address,
					   const char *orcpt, unsigned notify)
{
	struct spool_rcpt *r = rcpt_append(env);

	r->address = xstrdup(address != NULL ? address : "");
	r->orcpt = xstrdup(orcpt != NULL ? orcpt : "");
	r->last_reply = xstrdup("");
	r->notify = notify;
	return r;
}

time_t spool_due_now(time_t next_attempt)
{
	return next_attempt != 0 ? 0 : 1;
}

static bool rcpt_open(const struct spool_rcpt *r)
{
	return r->state == SPOOL_RCPT_PENDING ||
	       r->state == SPOOL_RCPT_DEFERRED;
}

/*
 * The rule for requests made during an attempt. The queue worker writes a
 * message's envelope only when an attempt on it ends; in between only the
 * operator (postern queue) and ETRN write it. So whatever differs on disk
 * from what the attempt read was asked meanwhile, and wins where it asks
 * something; the attempt's own outcomes stand elsewhere:
 *  - a recipient the attempt left open (pending, deferred) that is final
 *    on disk was bounced: it takes the disk's state, reply and time. One
 *    the attempt delivered stays delivered (that mail is gone), and one it
 *    failed keeps the server's reply (the better reason in the DSN);
 *  - held is the disk's (hold and release);
 *  - a next_attempt rewritten on disk (flush, release, bounce: see
 *    spool_due_now) asks for the next attempt now.
 * A deleted message has no envelope on disk: the caller leaves it gone.
 * Recipients are matched by position and address; the operator never
 * adds or removes one, so a mismatch means a record not to trust.
 */
bool spool_envelope_merge(struct spool_envelope *ours,
			  const struct spool_envelope *disk)
{
	for (size_t i = 0; i < ours->nrcpts && ours->nrcpts == disk->nrcpts;
	     i++) {
		struct spool_rcpt *r = &ours->rcpts[i];
		const struct spool_rcpt *d = &disk->rcpts[i];

		if (!rcpt_open(r) || rcpt_open(d) ||
		    strcmp(r->address != NULL ? r->address : "",
			   d->address != NULL ? d->address : "") != 0)
			continue;
		free(r->last_reply);
		r->last_reply =
			xstrdup(d->last_reply != NULL ? d->last_reply : "");
		r->state = d->state;
		r->updated = d->updated;
	}
	ours->held = disk->held;
	return disk->next_attempt != ours->next_attempt;
}

/* ---- parsing ---- */

static int fail(struct cursor *c, const char *error)
{
	*c->error_r = error;
	return -1;
}

/* "<key> " at the cursor; consumes it. */
static int expect_key(struct cursor *c, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(c->end - c->p) <= n || memcmp(c->p, key, n) != 0 ||
	    c->p[n] != ' ')
		return fail(c, "missing or misplaced field");
	c->p += n + 1;
	return 0;
}

/* The rest of the line, up to TOKEN_MAX bytes, without its LF. */
static int read_token(struct cursor *c, const char **tok_r, size_t *len_r)
{
	size_t avail = (size_t)(c->end - c->p);
	const char *lf = memchr(c->p, '\n',
				avail < TOKEN_MAX + 1 ? avail : TOKEN_MAX + 1);

	if (lf == NULL)
		return fail(c, avail <= TOKEN_MAX ? "truncated envelope"
						  : "value too long");
	*tok_r = c->p;
	*len_r = (size_t)(lf - c->p);
	c->p = lf + 1;
	return 0;
}

/* Unsigned decimal without leading zeros, at most max. */
static int parse_number(const char *s, size_t len, uint64_t max,
			uint64_t *value_r)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > max / 10 || (v == max / 10 && d > max % 10))
			return -1;
		v = v * 10 + d;
	}
	*value_r = v;
	return 0;
}

static int read_number(struct cursor *c, const char *key, uint64_t max,
		       uint64_t *value_r)
{
	const char *tok;
	size_t len;

	if (expect_key(c, key) < 0 || read_token(c, &tok, &len) < 0)
		return -1;
	if (parse_number(tok, len, max, value_r) < 0)
		return fail(c, "bad number");
	return 0;
}

static int read_time(struct cursor *c, const char *key, time_t *t_r)
{
	uint64_t v;

	if (read_number(c, key, TIME_T_MAX, &v) < 0)
		return -1;
	*t_r = (time_t)v;
	return 0;
}

/* One of names[0..n-1]; its index in *index_r. */
static int read_word(struct cursor *c, const char *key,
		     const char *const *names, size_t n, unsigned *index_r)
{
	const char *tok;
	size_t len, i;

	if (expect_key(c, key) < 0 || read_token(c, &tok, &len) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) == len &&
		    memcmp(names[i], tok, len) == 0) {
			*index_r = (unsigned)i;
			return 0;
		}
	}
	return fail(c, "unknown keyword");
}

/* "<key> <len>:<len bytes>\n"; a fresh NUL-terminated copy in *s_r. */
static int read_string(struct cursor *c, const char *key, char **s_r)
{
	const char *colon;
	size_t avail;
	uint64_t len;

	if (expect_key(c, key) < 0)
		return -1;
	avail = (size_t)(c->end - c->p);
	colon = memchr(c->p, ':',
		       avail < LENGTH_DIGITS_MAX + 1 ? avail
						     : LENGTH_DIGITS_MAX + 1);
	if (colon == NULL)
		return fail(c, avail <= LENGTH_DIGITS_MAX
				       ? "truncated envelope"
				       : "bad length prefix");
	if (parse_number(c->p, (size_t)(colon - c->p), SPOOL_FIELD_MAX, &len) <
	    0)
		return fail(c, "bad length prefix");
	c->p = colon + 1;
	if ((size_t)(c->end - c->p) <= len)
		return fail(c, "truncated envelope");
	if (c->p[len] != '\n')
		return fail(c, "length prefix does not match the value");
	*s_r = xstrndup(c->p, (size_t)len);
	c->p += len + 1;
	return 0;
}

/* "default", or names from notify_names joined by ',', each at most once. */
static int read_notify(struct cursor *c, unsigned *notify_r)
{
	const char *tok, *p, *end;
	size_t len, i;
	unsigned bits = 0;

	if (expect_key(c, "notify") < 0 || read_token(c, &tok, &len) < 0)
		return -1;
	if (len == 7 && memcmp(tok, "default", 7) == 0) {
		*notify_r = 0;
		return 0;
	}
	for (p = tok, end = tok + len; p <= end; p++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma != NULL ? comma : end) - p);

		for (i = 0; i < N_ELEMS(notify_names); i++) {
			if (strlen(notify_names[i]) == n &&
			    memcmp(notify_names[i], p, n) == 0)
				break;
		}
		if (i == N_ELEMS(notify_names) || (bits & (1u << i)))
			return fail(c, "bad notify");
		bits |= 1u << i;
		p += n;
	}
	*notify_r = bits;
	return 0;
}

static int parse_header(struct cursor *c, struct spool_envelope *env,
			size_t *nrcpts_r)
{
	const char *tok;
	size_t len;
	uint64_t v, nrcpts;
	unsigned w, version;

	if (expect_key(c, MAGIC) < 0)
		return fail(c, "not a postern envelope");
	if (read_token(c, &tok, &len) < 0)
		return -1;
	if (parse_number(tok, len, UINT32_MAX, &v) < 0 ||
	    v < SPOOL_ENVELOPE_VERSION_MIN || v > SPOOL_ENVELOPE_VERSION)
		return fail(c, "unsupported envelope version");
	version = (unsigned)v;
	if (expect_key(c, "id") < 0 || read_token(c, &tok, &len) < 0)
		return -1;
	if (len != SPOOL_ID_LEN)
		return fail(c, "bad id");
	memcpy(env->id, tok, len);
	env->id[len] = '\0';
	if (!spool_id_valid(env->id))
		return fail(c, "bad id");
	if (read_time(c, "created", &env->created) < 0 ||
	    read_string(c, "sender", &env->sender) < 0 ||
	    read_string(c, "envid", &env->envid) < 0)
		return -1;
	if (read_word(c, "ret", ret_names, N_ELEMS(ret_names), &w) < 0)
		return -1;
	env->ret = (enum spool_ret)w;
	if (read_word(c, "body", body_names, N_ELEMS(body_names), &w) < 0)
		return -1;
	env->body = (enum spool_body)w;
	if (read_number(c, "smtputf8", 1, &v) < 0)
		return -1;
	env->smtputf8 = v == 1;
	if (read_string(c, "auth", &env->auth) < 0 ||
	    read_number(c, "size", UINT64_MAX, &env->size) < 0 ||
	    read_number(c, "attempts", UINT32_MAX, &v) < 0)
		return -1;
	env->attempts = (unsigned)v;
	if (read_time(c, "next_attempt", &env->next_attempt) < 0)
		return -1;
	/* Version 1 had no hold. */
	if (version >= 2) {
		if (read_number(c, "held", 1, &v) < 0)
			return -1;
		env->held = v == 1;
	}
	if (read_number(c, "rcpts", UINT32_MAX, &nrcpts) < 0)
		return -1;
	if (nrcpts == 0)
		return fail(c, "no recipients");
	if (nrcpts > SPOOL_MAX_RCPTS)
		return fail(c, "too many recipients");
	*nrcpts_r = (size_t)nrcpts;
	return 0;
}

static int parse_rcpt(struct cursor *c, struct spool_envelope *env)
{
	struct spool_rcpt *r = rcpt_append(env);
	unsigned w;

	if (read_string(c, "rcpt", &r->address) < 0 ||
	    read_string(c, "orcpt", &r->orcpt) < 0 ||
	    read_notify(c, &r->notify) < 0)
		return -1;
	if (read_word(c, "state", state_names, N_ELEMS(state_names), &w) < 0)
		return -1;
	r->state = (enum spool_rcpt_state)w;
	if (read_string(c, "last_reply", &r->last_reply) < 0 ||
	    read_time(c, "updated", &r->updated) < 0)
		return -1;
	return 0;
}

int spool_envelope_parse(const char *buf, size_t len,
			 struct spool_envelope *env_r, const char **error_r)
{
	struct cursor c = {buf, buf + len, error_r};
	size_t nrcpts, i;

	spool_envelope_init(env_r);
	if (len > SPOOL_ENVELOPE_MAX) {
		*error_r = "envelope too large";
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		*error_r = "NUL in envelope";
		return -1;
	}
	if (parse_header(&c, env_r, &nrcpts) < 0)
		goto fail;
	/* Recipients are appended as they parse, so a large count in a
	 * short record allocates nothing. */
	for (i = 0; i < nrcpts; i++) {
		if (parse_rcpt(&c, env_r) < 0)
			goto fail;
	}
	if (c.end - c.p < 4 || memcmp(c.p, "end\n", 4) != 0) {
		fail(&c, c.end - c.p < 4 && memcmp(c.p, "end\n",
						   (size_t)(c.end - c.p)) == 0
				 ? "truncated envelope"
				 : "missing end or too many recipients");
		goto fail;
	}
	if (c.p + 4 != c.end) {
		fail(&c, "trailing data after end");
		goto fail;
	}
	return 0;
fail:
	spool_envelope_fini(env_r);
	return -1;
}

/* ---- formatting ---- */

static const char *str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* Every string within SPOOL_FIELD_MAX, every keyword in range. */
static bool format_ok(const struct spool_envelope *env)
{
	size_t i;

	if (!spool_id_valid(env->id) || env->nrcpts == 0 ||
	    env->nrcpts > SPOOL_MAX_RCPTS || env->rcpts == NULL)
		return false;
	if ((unsigned)env->ret >= N_ELEMS(ret_names) ||
	    (unsigned)env->body >= N_ELEMS(body_names) || env->created < 0 ||
	    env->next_attempt < 0)
		return false;
	if (strlen(str_or_empty(env->sender)) > SPOOL_FIELD_MAX ||
	    strlen(str_or_empty(env->envid)) > SPOOL_FIELD_MAX ||
	    strlen(str_or_empty(env->auth)) > SPOOL_FIELD_MAX)
		return false;
	for (i = 0; i < env->nrcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];

		if ((unsigned)r->state >= N_ELEMS(state_names) ||
		    (r->notify & ~(unsigned)SPOOL_NOTIFY_ALL) != 0 ||
		    r->updated < 0 ||
		    strlen(str_or_empty(r->address)) > SPOOL_FIELD_MAX ||
		    strlen(str_or_empty(r->orcpt)) > SPOOL_FIELD_MAX ||
		    strlen(str_or_empty(r->last_reply)) > SPOOL_FIELD_MAX)
			return false;
	}
	return true;
}

/* The buffer's maximum is above any record format_ok() lets through, so
 * these appends cannot fail; a failure is a broken invariant. */
static void put(struct buf *b, const char *s, size_t len)
{
	if (buf_append(b, s, len) < 0)
		panic("spool envelope larger than %zu bytes",
		      (size_t)SPOOL_ENVELOPE_MAX);
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_decimal(struct buf *b, uint64_t v)
{
	char digits[24];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(b, digits + n, sizeof(digits) - n);
}

static void put_number(struct buf *b, const char *key, uint64_t v)
{
	put_str(b, key);
	put(b, " ", 1);
	put_decimal(b, v);
	put(b, "\n", 1);
}

static void put_word(struct buf *b, const char *key, const char *word)
{
	put_str(b, key);
	put(b, " ", 1);
	put_str(b, word);
	put(b, "\n", 1);
}

/* "<key> <len>:<bytes>\n" */
static void put_string(struct buf *b, const char *key, const char *s)
{
	s = str_or_empty(s);
	put_str(b, key);
	put(b, " ", 1);
	put_decimal(b, strlen(s));
	put(b, ":", 1);
	put_str(b, s);
	put(b, "\n", 1);
}

static void put_notify(struct buf *b, unsigned notify)
{
	size_t i;
	bool first = true;

	put_str(b, "notify ");
	if (notify == 0)
		put_str(b, "default");
	for (i = 0; i < N_ELEMS(notify_names); i++) {
		if ((notify & (1u << i)) == 0)
			continue;
		if (!first)
			put(b, ",", 1);
		put_str(b, notify_names[i]);
		first = false;
	}
	put(b, "\n", 1);
}

static void put_rcpt(struct buf *b, const struct spool_rcpt *r)
{
	put_string(b, "rcpt", r->address);
	put_string(b, "orcpt", r->orcpt);
	put_notify(b, r->notify);
	put_word(b, "state", state_names[r->state]);
	put_string(b, "last_reply", r->last_reply);
	put_number(b, "updated", (uint64_t)r->updated);
}

char *spool_envelope_format(const struct spool_envelope *env, size_t *len_r)
{
	struct buf b;
	char *data;
	size_t i;

	if (!format_ok(env))
		return NULL;
	buf_init(&b, SPOOL_ENVELOPE_MAX + 1);
	put_number(&b, MAGIC, SPOOL_ENVELOPE_VERSION);
	put_word(&b, "id", env->id);
	put_number(&b, "created", (uint64_t)env->created);
	put_string(&b, "sender", env->sender);
	put_string(&b, "envid", env->envid);
	put_word(&b, "ret", ret_names[env->ret]);
	put_word(&b, "body", body_names[env->body]);
	put_number(&b, "smtputf8", env->smtputf8 ? 1 : 0);
	put_string(&b, "auth", env->auth);
	put_number(&b, "size", env->size);
	put_number(&b, "attempts", env->attempts);
	put_number(&b, "next_attempt", (uint64_t)env->next_attempt);
	put_number(&b, "held", env->held ? 1 : 0);
	put_number(&b, "rcpts", env->nrcpts);
	for (i = 0; i < env->nrcpts; i++)
		put_rcpt(&b, &env->rcpts[i]);
	put_str(&b, "end\n");
	*len_r = buf_len(&b);
	/* The NUL is beyond the record: SPOOL_ENVELOPE_MAX + 1 leaves room. */
	put(&b, "", 1);
	data = b.data;
	b.data = NULL;
	buf_fini(&b);
	return data;
}
