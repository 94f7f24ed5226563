/*
 * Not-authenticated state (RFC 3501 6.2): STARTTLS, AUTHENTICATE (with
 * SASL-IR, RFC 4959) and LOGIN, over the SASL code SMTP submission uses.
 *
 * SECURITY: credentials only over TLS (DESIGN.md 7): before TLS the
 * capabilities say LOGINDISABLED and no AUTH=, and both commands are
 * refused. LOGIN goes through SASL PLAIN, so both ways share the dummy
 * verification and the wiping of secrets. Failures are answered late and
 * throttled per address and per user (auth/throttle.h, shared with SMTP).
 * The password check runs on the worker's offload pool (SASL_PENDING):
 * the command stays busy (IMAP_INPUT_BUSY, input paused) until it is
 * over, and the session's end cancels it (sasl_server_free).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/sasl.h"
#include "auth/throttle.h"
#include "auth/userdb.h"
#include "imap/session_int.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "net/offload.h"
#include "store/store.h"

enum imap_cmd_result imap_cmd_starttls(struct imap_session *s, const char *tag,
				       struct imap_args *a)
{
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (!s->srv->starttls || s->srv->tls == NULL || conn_is_tls(s->conn)) {
		imap_bad(s, tag, "STARTTLS not available");
		return IMAP_CMD_DONE;
	}
	/* RFC 9051 6.2.1; conn_start_tls drops input buffered so far. */
	imap_ok(s, tag, "Begin TLS negotiation now");
	s->tls_pending = true;
	conn_start_tls(s->conn, s->srv->tls, NULL);
	return IMAP_CMD_DONE;
}

/* Open the user's store; the user is now logged in. */
static int login_complete(struct imap_session *s, const char *address)
{
	struct userdb_mailbox box;
	const char *at = strrchr(address, '@'), *error;
	char local[USERDB_LOCAL_MAX + 1];
	size_t n = 0;

	if (at == NULL || (size_t)(at - address) >= sizeof(local))
		return -1;
	memcpy(local, address, (size_t)(at - address));
	local[at - address] = '\0';
	if (userdb_resolve(s->srv->userdb, local, at + 1, &box, 1, &n) !=
	    USERDB_FOUND)
		return -1;
	s->store_user = store_user_open(s->srv->data_dir, box.domain, box.local,
					&error);
	if (s->store_user == NULL) {
		log_warn(conn_sid(s->conn), "cannot open mail store",
			 "user=%s error=%s", address, error);
		return -1;
	}
	store_user_use_counters(s->store_user, s->srv->counters);
	store_user_set_quota(s->store_user, box.quota);
	strlcpy_p(s->user, address, sizeof(s->user));
	imap_session_set_state(s, IMAP_STATE_AUTH);
	return 0;
}

static void auth_end(struct imap_session *s)
{
	sasl_server_free(&s->sasl);
	if (s->mode == IMAP_INPUT_AUTH)
		imap_session_cmd_done(s);
}

void imap_auth_abort(struct imap_session *s)
{
	auth_end(s);
	xfree(&s->async_tag);
}

static void auth_fail(struct imap_session *s, const char *who)
{
	char q[300];
	int ms = throttle_fail(s->srv->throttle, conn_peer_ip(s->conn), who,
			       time(NULL));

	log_info(conn_sid(s->conn), "auth failed",
		 "peer=%s user=%s delay_ms=%d", conn_peer_ip(s->conn),
		 log_qs(q, sizeof(q), who), ms);
	auth_end(s);
	/* The NO comes after a pause (brute force brake). */
	s->auth_failed_pending = true;
	conn_delay(s->conn, ms);
}

void imap_auth_wake(struct imap_session *s)
{
	s->auth_failed_pending = false;
	imap_no(s, s->async_tag != NULL ? s->async_tag : "*",
		"[AUTHENTICATIONFAILED] Authentication failed");
	xfree(&s->async_tag);
}

static void auth_ok(struct imap_session *s, const char *tag)
{
	const char *user = sasl_server_user(s->sasl);
	char q[300];

	if (throttle_check(s->srv->throttle, conn_peer_ip(s->conn), user,
			   time(NULL)) > 0) {
		/* The user is under attack from elsewhere. */
		imap_no(s, tag,
			"[UNAVAILABLE] Too many failed logins for this user; "
			"try again later");
		return;
	}
	if (login_complete(s, user) < 0) {
		imap_no(s, tag, "[UNAVAILABLE] Mailbox not available");
		return;
	}
	throttle_success(s->srv->throttle, conn_peer_ip(s->conn), s->user,
			 time(NULL));
	log_info(conn_sid(s->conn), "login", "peer=%s user=%s",
		 conn_peer_ip(s->conn), log_qs(q, sizeof(q), s->user));
	/* RFC 9051 6.2.2: new capabilities with the OK. */
	imap_ok(s, tag, "[CAPABILITY %s] Logged in", imap_capabilities(s));
}

static enum imap_cmd_result auth_result(struct imap_session *s, const char *tag,
					enum sasl_result r, const char *out,
					size_t out_len);

/* The password check is over (from the event loop): end the command. */
static void auth_checked(void *arg)
{
	struct imap_session *s = arg;
	char *tag = xstrdup(s->async_tag);

	/* back to commands first: a failure's conn_delay() pauses again */
	imap_session_cmd_done(s);
	(void)auth_result(s, tag, sasl_server_finish(s->sasl), "", 0);
	free(tag);
}

/* Start the password check; the command waits for it, busy. */
static enum imap_cmd_result auth_check(struct imap_session *s, const char *tag)
{
	if (s->async_tag == NULL)
		s->async_tag = xstrdup(tag);
	if (!sasl_server_verify(s->sasl, offload_default(), auth_checked, s))
		return auth_result(s, tag, sasl_server_finish(s->sasl), "", 0);
	/* no other command, nor AUTHENTICATE line, until auth_checked */
	s->mode = IMAP_INPUT_BUSY;
	conn_pause(s->conn);
	return IMAP_CMD_ASYNC;
}

/* One SASL step; answers or asks for more. */
static enum imap_cmd_result auth_step(struct imap_session *s, const char *tag,
				      const char *in, size_t len,
				      bool have_input)
{
	char out[SASL_CHALLENGE_MAX];
	size_t out_len = 0;
	enum sasl_result r;

	r = sasl_server_step(s->sasl, in, len, have_input, out, sizeof(out),
			     &out_len);
	return auth_result(s, tag, r, out, out_len);
}

/* Answer what the mechanism said, or ask for more. */
static enum imap_cmd_result auth_result(struct imap_session *s, const char *tag,
					enum sasl_result r, const char *out,
					size_t out_len)
{
	switch (r) {
	case SASL_PENDING:
		return auth_check(s, tag);
	case SASL_CONTINUE:
		conn_printf(s->conn, "+ %.*s\r\n", (int)out_len, out);
		if (s->async_tag == NULL)
			s->async_tag = xstrdup(tag);
		s->mode = IMAP_INPUT_AUTH;
		return IMAP_CMD_ASYNC;
	case SASL_OK:
		auth_ok(s, tag);
		break;
	case SASL_FAIL:
		if (s->async_tag == NULL)
			s->async_tag = xstrdup(tag);
		auth_fail(s, sasl_server_authcid(s->sasl));
		return IMAP_CMD_DONE;
	case SASL_MALFORMED:
		imap_bad(s, tag, "Cannot decode the authentication response");
		break;
	case SASL_TEMPFAIL:
		imap_no(s, tag,
			"[UNAVAILABLE] Temporary authentication "
			"failure");
		break;
	}
	auth_end(s);
	xfree(&s->async_tag);
	return IMAP_CMD_DONE;
}

void imap_auth_input(struct imap_session *s, const char *line, size_t len)
{
	char *tag = xstrdup(s->async_tag);

	if (len == 1 && line[0] == '*') {
		/* RFC 3501 6.2.2: the client cancels. */
		imap_bad(s, tag, "AUTHENTICATE cancelled");
		imap_auth_abort(s);
	} else {
		(void)auth_step(s, tag, line, len, true);
	}
	free(tag);
}

/* Throttle and TLS checks shared by AUTHENTICATE and LOGIN. */
static bool auth_allowed(struct imap_session *s, const char *tag)
{
	int wait;

	if (!conn_is_tls(s->conn)) {
		imap_no(s, tag,
			"[PRIVACYREQUIRED] Use STARTTLS first; credentials "
			"travel only over TLS");
		return false;
	}
	wait = throttle_check(s->srv->throttle, conn_peer_ip(s->conn), NULL,
			      time(NULL));
	if (wait > 0) {
		imap_no(s, tag,
			"[UNAVAILABLE] Too many failed logins; try again in %d "
			"seconds",
			wait);
		return false;
	}
	return true;
}

enum imap_cmd_result imap_cmd_authenticate(struct imap_session *s,
					   const char *tag, struct imap_args *a)
{
	const char *mech_name, *ir = NULL;
	size_t ir_len = 0;
	enum sasl_mech mech;

	if (imap_args_atom(a, &mech_name) < 0)
		return IMAP_CMD_BAD;
	/* RFC 4959: an initial response, "=" for an empty one. */
	if (!imap_args_at_end(a) && imap_args_atom(a, &ir) < 0)
		return IMAP_CMD_BAD;
	if (imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (ir != NULL)
		ir_len = strlen(ir);
	/* Only what CAPABILITY offers (no LOGIN mechanism in IMAP). */
	if (sasl_mech_parse(mech_name, strlen(mech_name), &mech) < 0 ||
	    mech == SASL_MECH_LOGIN) {
		imap_no(s, tag, "[CANNOT] Unsupported mechanism");
		return IMAP_CMD_DONE;
	}
	if (!auth_allowed(s, tag))
		return IMAP_CMD_DONE;
	s->sasl = sasl_server_new(mech, s->srv->userdb);
	return auth_step(s, tag, ir != NULL ? ir : "", ir_len, ir != NULL);
}

enum imap_cmd_result imap_cmd_login(struct imap_session *s, const char *tag,
				    struct imap_args *a)
{
	const char *user, *pass;
	size_t ulen, plen, mlen;
	char msg[2 * SASL_DECODED_MAX], b64[4 * SASL_DECODED_MAX];
	enum imap_cmd_result r;

	if (imap_args_astring(a, &user, &ulen) < 0 ||
	    imap_args_astring(a, &pass, &plen) < 0 || imap_args_finish(a) < 0)
		return IMAP_CMD_BAD;
	if (!auth_allowed(s, tag))
		return IMAP_CMD_DONE;
	if (ulen == 0 || plen == 0 || ulen + plen + 2 > SASL_DECODED_MAX) {
		imap_no(s, tag, "[AUTHENTICATIONFAILED] Authentication failed");
		return IMAP_CMD_DONE;
	}
	/* RFC 4616 2: "" NUL user NUL password, then the PLAIN path. */
	msg[0] = '\0';
	memcpy(msg + 1, user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, pass, plen);
	mlen = 2 + ulen + plen;
	base64_encode(msg, mlen, b64);
	explicit_bzero(msg, sizeof(msg));
	s->sasl = sasl_server_new(SASL_MECH_PLAIN, s->srv->userdb);
	r = auth_step(s, tag, b64, base64_encoded_len(mlen), true);
	explicit_bzero(b64, sizeof(b64));
	return r;
}
