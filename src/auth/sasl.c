/*
 * SASL server: the base64 framing every protocol shares (RFC 4954 4, RFC
 * 3501 6.2.2, RFC 5034 4), PLAIN, LOGIN, and SCRAM-SHA-256 through
 * auth/scram.c.
 *
 * The password check of PLAIN and LOGIN (yescrypt: ~27 ms) is split off:
 * sasl_server_step() looks the hash up (SQLite handles stay on the loop
 * thread), sasl_server_verify() runs password_verify() on a thread of
 * net/offload.h, and sasl_server_finish() gives the result.
 *
 * SECURITY: client input is decoded into one bounded stack buffer that
 * is wiped before returning; passwords are copied only into the check
 * (struct sasl_check), NUL-terminated for password_verify(), and wiped
 * with it. A failure never says whether the user exists (see
 * auth/sasl.h): an unknown user's dummy check runs the same way.
 */
#include "auth/sasl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/password.h"
#include "auth/scram.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "net/offload.h"

/* The longest challenge in base64, with its NUL, fits the out buffer. */
_Static_assert((SCRAM_SERVER_MSG_MAX + 2) / 3 * 4 + 1 <= SASL_CHALLENGE_MAX,
	       "SASL_CHALLENGE_MAX holds every challenge");

static const char *const sasl_names[] = {
	[SASL_MECH_PLAIN] = "PLAIN",
	[SASL_MECH_LOGIN] = "LOGIN",
	[SASL_MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
};

#define SASL_NMECHS (sizeof(sasl_names) / sizeof(sasl_names[0]))

/* draft-murchison-sasl-login-00 2: the challenges, before base64. */
#define SASL_LOGIN_USER "Username:"
#define SASL_LOGIN_PASS "Password:"

enum sasl_state {
	SASL_STATE_START,      /* nothing received yet */
	SASL_STATE_PLAIN,      /* waiting for the PLAIN message */
	SASL_STATE_LOGIN_USER, /* sent "Username:" */
	SASL_STATE_LOGIN_PASS, /* sent "Password:" */
	SASL_STATE_SCRAM,      /* auth/scram.c has the exchange */
	SASL_STATE_CHECK,      /* SASL_PENDING: the password check to run */
	SASL_STATE_DONE,
};

/*
 * One password check, all it needs and nothing shared: what a pool
 * thread touches. Owned by the sasl_server until submitted, then by the
 * job (released by sasl_check_release, on the loop thread).
 */
struct sasl_check {
	struct sasl_server *s; /* loop thread only, in sasl_check_done */
	sasl_done_fn *done;
	void *done_arg;
	char *hash; /* NULL: unknown user, a dummy check */
	bool ok;    /* written by the work */
	char password[PASSWORD_MAX + 1];
};

struct sasl_server {
	enum sasl_mech mech;
	enum sasl_state state;
	struct userdb *db;
	struct scram_server *scram;
	struct sasl_check *check; /* SASL_STATE_CHECK, before verify */
	struct offload_job *job;  /* the check running on a pool */
	bool checked;		  /* the check is over: verdict holds */
	enum sasl_result verdict; /* for sasl_server_finish */
	bool user_known;	  /* the check is against a stored hash */
	bool user_fits;		  /* LOGIN: the name fit user[] */
	bool authenticated;
	char user[USERDB_ADDRESS_MAX + 1];
	char error[256];
};

/* ---- Mechanism names ---- */

int sasl_mech_parse(const char *name, size_t len, enum sasl_mech *mech_r)
{
	for (size_t i = 0; i < SASL_NMECHS; i++) {
		if (len == strlen(sasl_names[i]) &&
		    strncasecmp(name, sasl_names[i], len) == 0) {
			*mech_r = (enum sasl_mech)i;
			return 0;
		}
	}
	return -1;
}

const char *sasl_mech_name(enum sasl_mech mech)
{
	if ((size_t)mech >= SASL_NMECHS)
		panic("sasl_mech_name: mechanism %d", (int)mech);
	return sasl_names[mech];
}

const char *sasl_mech_list(void)
{
	return "PLAIN LOGIN SCRAM-SHA-256";
}

/* ---- Pure decoders ---- */

int sasl_response_decode(const char *in, size_t in_len, bool initial,
			 unsigned char *buf, size_t size, size_t *len_r)
{
	*len_r = 0;
	/* RFC 4954 4: "=" is an initial response of zero length */
	if (initial && in_len == 1 && in[0] == '=')
		return 0;
	/* refuse before scanning: no need to read a huge line to the end */
	if (in_len > base64_encoded_len(size))
		return -2;
	return base64_decode(in, in_len, buf, size, len_r);
}

/* s[0..n) is UTF-8 (RFC 4616 2: SAFE, NUL already excluded). */
static bool sasl_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t seq = s[i] < 0x80 ? 1 : utf8_seq(s + i, n - i);

		if (seq == 0)
			return false;
		i += seq;
	}
	return true;
}

int sasl_plain_parse(const unsigned char *msg, size_t len, struct sasl_plain *r)
{
	const unsigned char *nul1 = memchr(msg, '\0', len);
	const unsigned char *nul2, *end = msg + len;

	memset(r, 0, sizeof(*r));
	if (nul1 == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
	if (nul2 == NULL || memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)))
		return -1;
	r->authzid = (const char *)msg;
	r->authzid_len = (size_t)(nul1 - msg);
	r->authcid = (const char *)nul1 + 1;
	r->authcid_len = (size_t)(nul2 - nul1 - 1);
	r->passwd = (const char *)nul2 + 1;
	r->passwd_len = (size_t)(end - nul2 - 1);
	/* RFC 4616 2: authcid and passwd are 1*SAFE */
	if (r->authcid_len == 0 || r->passwd_len == 0 ||
	    !sasl_utf8(msg, r->authzid_len) ||
	    !sasl_utf8((const unsigned char *)r->authcid, r->authcid_len)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

/* ---- The exchange ---- */

static int sasl_scram_lookup(void *ctx, const char *username,
			     struct userdb_scram *cred_r, const char **error_r)
{
	struct sasl_server *s = ctx;

	return userdb_scram_credentials(s->db, username, cred_r, error_r);
}

struct sasl_server *sasl_server_new(enum sasl_mech mech, struct userdb *db)
{
	struct sasl_server *s = xcalloc(1, sizeof(*s));

	if ((size_t)mech >= SASL_NMECHS)
		panic("sasl_server_new: mechanism %d", (int)mech);
	s->mech = mech;
	s->db = db;
	if (mech == SASL_MECH_SCRAM_SHA_256)
		s->scram = scram_server_new(sasl_scram_lookup, s);
	return s;
}

static void sasl_check_release(void *arg)
{
	struct sasl_check *c = arg;

	if (c->hash != NULL) {
		explicit_bzero(c->hash, strlen(c->hash));
		free(c->hash);
	}
	explicit_bzero(c, sizeof(*c));
	free(c);
}

void sasl_server_free(struct sasl_server **sp)
{
	struct sasl_server *s = *sp;

	if (s == NULL)
		return;
	/* A check in flight is dropped: its done never calls s back. */
	offload_cancel(&s->job);
	if (s->check != NULL)
		sasl_check_release(s->check);
	scram_server_free(&s->scram);
	explicit_bzero(s, sizeof(*s));
	free(s);
	*sp = NULL;
}

const char *sasl_server_user(const struct sasl_server *s)
{
	return s->authenticated ? s->user : NULL;
}

const char *sasl_server_authcid(const struct sasl_server *s)
{
	return s->user[0] != '\0' ? s->user : NULL;
}

const char *sasl_server_error(const struct sasl_server *s)
{
	return s->error;
}

/* Note why, for the log; returns result. */
static enum sasl_result sasl_why(struct sasl_server *s, enum sasl_result result,
				 const char *why)
{
	strlcpy_p(s->error, why, sizeof(s->error));
	return result;
}

/* s->user = name[0..len) in lowercase; false when it cannot be a user. */
static bool sasl_set_user(struct sasl_server *s, const char *name, size_t len)
{
	if (len > USERDB_ADDRESS_MAX || memchr(name, '\0', len) != NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		s->user[i] = c;
	}
	s->user[len] = '\0';
	return true;
}

/*
 * Prepare the check of passwd[0..passwd_len) for s->user (known is false
 * when the name could not be a user): look the hash up here, on the loop
 * thread, and hold both for sasl_server_verify(). SASL_PENDING, or the
 * result when no hashing is needed (bad length, database failure).
 */
static enum sasl_result sasl_verify(struct sasl_server *s, bool known,
				    const char *passwd, size_t passwd_len)
{
	struct sasl_check *c;
	const char *error;
	char *hash = NULL;
	int rc = 1;

	/* answered before any lookup, so the same for every user */
	if (passwd_len == 0 || passwd_len > PASSWORD_MAX)
		return sasl_why(s, SASL_FAIL, "empty or over-long password");
	if (known)
		rc = userdb_password_hash(s->db, s->user, &hash, &error);
	if (rc < 0)
		return sasl_why(s, SASL_TEMPFAIL, error);
	c = xcalloc(1, sizeof(*c));
	memcpy(c->password, passwd, passwd_len);
	c->password[passwd_len] = '\0';
	c->hash = rc == 0 ? hash : NULL; /* rc > 0: unknown, a dummy check */
	s->user_known = rc == 0;
	s->check = c;
	return SASL_PENDING;
}

/* On a pool thread: only c is touched. The dummy costs what a real
 * check costs (password.h), so timing does not tell who exists. */
static void sasl_check_work(void *arg)
{
	struct sasl_check *c = arg;

	if (c->hash != NULL)
		c->ok = password_verify(c->password, c->hash);
	else
		password_verify_dummy(c->password);
	explicit_bzero(c->password, sizeof(c->password));
}

/* The check c of s is over: its result becomes s's verdict. */
static void sasl_check_judge(struct sasl_server *s, const struct sasl_check *c)
{
	s->checked = true;
	if (c->ok) {
		s->verdict = SASL_OK;
	} else {
		s->verdict = SASL_FAIL;
		sasl_why(s, SASL_FAIL,
			 s->user_known ? "wrong password" : "unknown user");
	}
}

/* On the loop thread, unless cancelled (then s may be gone). */
static void sasl_check_done(void *arg)
{
	struct sasl_check *c = arg;
	struct sasl_server *s = c->s;

	s->job = NULL; /* done: the handle dies with this call */
	sasl_check_judge(s, c);
	c->done(c->done_arg);
}

bool sasl_server_verify(struct sasl_server *s, struct offload *pool,
			sasl_done_fn *done, void *arg)
{
	struct sasl_check *c = s->check;

	if (s->state != SASL_STATE_CHECK || c == NULL || s->job != NULL)
		panic("sasl_server_verify: state %d, no check to start",
		      (int)s->state);
	if (pool != NULL) {
		c->s = s;
		c->done = done;
		c->done_arg = arg;
		s->job = offload_submit(pool, sasl_check_work, sasl_check_done,
					sasl_check_release, c);
		if (s->job != NULL) {
			s->check = NULL; /* the job's now */
			return true;
		}
		/* the queue is full: a temporary error, not a wait */
		s->checked = true;
		s->verdict = sasl_why(s, SASL_TEMPFAIL,
				      "password check queue is full");
	} else {
		sasl_check_work(c);
		sasl_check_judge(s, c);
	}
	sasl_check_release(c);
	s->check = NULL;
	return false;
}

enum sasl_result sasl_server_finish(struct sasl_server *s)
{
	if (s->state != SASL_STATE_CHECK || !s->checked)
		panic("sasl_server_finish: state %d, check over %d",
		      (int)s->state, (int)s->checked);
	s->state = SASL_STATE_DONE;
	if (s->verdict == SASL_OK)
		s->authenticated = true;
	return s->verdict;
}

/* RFC 4616 2: one message, authzid empty or the user itself. */
static enum sasl_result sasl_plain_step(struct sasl_server *s,
					const unsigned char *msg, size_t len)
{
	struct sasl_plain p;

	if (sasl_plain_parse(msg, len, &p) < 0)
		return sasl_why(s, SASL_MALFORMED, "malformed PLAIN message");
	if (p.authzid_len != 0 &&
	    (p.authzid_len != p.authcid_len ||
	     strncasecmp(p.authzid, p.authcid, p.authcid_len) != 0))
		return sasl_why(s, SASL_FAIL,
				"authorization identity is not the user");
	return sasl_verify(s, sasl_set_user(s, p.authcid, p.authcid_len),
			   p.passwd, p.passwd_len);
}

/* LOGIN: the user name, then the password, each its own response. */
static enum sasl_result sasl_login_step(struct sasl_server *s,
					const unsigned char *msg, size_t len,
					char *raw, size_t *raw_len_r)
{
	if (memchr(msg, '\0', len) != NULL)
		return sasl_why(s, SASL_MALFORMED, "NUL in LOGIN response");
	if (s->state == SASL_STATE_LOGIN_PASS)
		return sasl_verify(s, s->user_fits, (const char *)msg, len);
	if (len == 0)
		return sasl_why(s, SASL_MALFORMED, "empty user name");
	s->user_fits = sasl_set_user(s, (const char *)msg, len);
	s->state = SASL_STATE_LOGIN_PASS;
	*raw_len_r = strlen(SASL_LOGIN_PASS);
	memcpy(raw, SASL_LOGIN_PASS, *raw_len_r);
	return SASL_CONTINUE;
}

static enum sasl_result sasl_scram_step(struct sasl_server *s,
					const unsigned char *msg, size_t len,
					char *raw, size_t raw_size,
					size_t *raw_len_r)
{
	enum sasl_result r =
		scram_server_step(s->scram, msg, len, raw, raw_size, raw_len_r);

	if (r == SASL_OK) {
		strlcpy_p(s->user, scram_server_user(s->scram),
			  sizeof(s->user));
		s->authenticated = true;
	} else if (r != SASL_CONTINUE) {
		sasl_why(s, r, scram_server_error(s->scram));
	}
	return r;
}

/* The state a mechanism starts in once it has its first response. */
static enum sasl_state sasl_first_state(enum sasl_mech mech)
{
	switch (mech) {
	case SASL_MECH_PLAIN:
		return SASL_STATE_PLAIN;
	case SASL_MECH_LOGIN:
		return SASL_STATE_LOGIN_USER;
	case SASL_MECH_SCRAM_SHA_256:
		return SASL_STATE_SCRAM;
	}
	panic("sasl: mechanism %d", (int)mech);
}

/* The decoded response msg[0..len) to the mechanism in its state. */
static enum sasl_result sasl_dispatch(struct sasl_server *s,
				      const unsigned char *msg, size_t len,
				      char *raw, size_t raw_size,
				      size_t *raw_len_r)
{
	switch (s->state) {
	case SASL_STATE_PLAIN:
		return sasl_plain_step(s, msg, len);
	case SASL_STATE_LOGIN_USER:
	case SASL_STATE_LOGIN_PASS:
		return sasl_login_step(s, msg, len, raw, raw_len_r);
	case SASL_STATE_SCRAM:
		return sasl_scram_step(s, msg, len, raw, raw_size, raw_len_r);
	case SASL_STATE_START:
	case SASL_STATE_CHECK:
	case SASL_STATE_DONE:
		break;
	}
	panic("sasl_dispatch in state %d", (int)s->state);
}

/* The first step without an initial response: the first challenge. */
static enum sasl_result sasl_start(struct sasl_server *s, char *raw,
				   size_t *raw_len_r)
{
	s->state = sasl_first_state(s->mech);
	if (s->mech == SASL_MECH_LOGIN) {
		*raw_len_r = strlen(SASL_LOGIN_USER);
		memcpy(raw, SASL_LOGIN_USER, *raw_len_r);
	}
	return SASL_CONTINUE; /* PLAIN, SCRAM: an empty challenge */
}

enum sasl_result sasl_server_step(struct sasl_server *s, const char *in,
				  size_t in_len, bool have_input, char *out,
				  size_t out_size, size_t *out_len_r)
{
	unsigned char buf[SASL_DECODED_MAX] = {0};
	char raw[SCRAM_SERVER_MSG_MAX];
	size_t len = 0, raw_len = 0;
	enum sasl_result r;
	int rc;

	if (out_size < SASL_CHALLENGE_MAX || s->state == SASL_STATE_DONE ||
	    s->state == SASL_STATE_CHECK)
		panic("sasl_server_step: out_size %zu, state %d", out_size,
		      (int)s->state);
	out[0] = '\0';
	*out_len_r = 0;
	if (s->state == SASL_STATE_START && !have_input) {
		r = sasl_start(s, raw, &raw_len);
	} else if (in_len == 1 && in[0] == '*') {
		/* RFC 4954 4, RFC 3501 6.2.2, RFC 5034 4: the client cancels */
		r = sasl_why(s, SASL_MALFORMED, "cancelled by the client");
	} else {
		rc = sasl_response_decode(in, in_len,
					  s->state == SASL_STATE_START, buf,
					  sizeof(buf), &len);
		if (s->state == SASL_STATE_START)
			s->state = sasl_first_state(s->mech);
		r = rc < 0 ? sasl_why(s, SASL_MALFORMED,
				      rc == -1 ? "response is not base64"
					       : "response too long")
			   : sasl_dispatch(s, buf, len, raw, sizeof(raw),
					   &raw_len);
		explicit_bzero(buf, sizeof(buf));
	}
	if (r == SASL_CONTINUE)
		*out_len_r = base64_encode(raw, raw_len, out);
	else if (r == SASL_PENDING)
		s->state = SASL_STATE_CHECK;
	else
		s->state = SASL_STATE_DONE;
	explicit_bzero(raw, raw_len);
	return r;
}
