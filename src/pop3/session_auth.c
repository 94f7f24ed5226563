/*
 * POP3 AUTHORIZATION state: USER/PASS (RFC 1939 7) and AUTH (RFC 5034)
 * over the shared SASL mechanisms of auth/, then the maildrop lock.
 *
 * SECURITY: credentials only over TLS (the dispatcher refuses these
 * commands before it, DESIGN.md 7). Passwords go through the same SASL
 * code as SMTP AUTH, so unknown users cost the same time as wrong
 * passwords; failures are answered late and throttled per address and
 * per user; decoded passwords are wiped. The password check runs on the
 * worker's offload pool (auth/sasl.h SASL_PENDING): meanwhile the
 * session reads no command, and its end cancels the check.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sasl.h"
#include "auth/throttle.h"
#include "auth/userdb.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "net/offload.h"
#include "pop3/session_int.h"
#include "store/store.h"

void pop3_sasl_reset(struct pop3_session *s)
{
	sasl_server_free(&s->sasl); /* cancels a check in flight */
	s->auth_checking = false;
	if (s->state == POP3_STATE_SASL) {
		conn_set_max_line(s->conn, POP3_COMMAND_MAX);
		pop3_set_state(s, POP3_STATE_AUTHORIZATION);
	}
}

void pop3_maildrop_close(struct pop3_session *s)
{
	store_mailbox_free(&s->mb);
	if (s->lock >= 0)
		store_unlock(s->store, s->lock);
	s->lock = -1;
	store_user_free(&s->store);
	xfree(&s->msgs);
	s->nmsgs = 0;
}

/* Copy the message list: POP3 numbers stay fixed for the session. */
static void pop3_maildrop_snapshot(struct pop3_session *s)
{
	const struct store_msg *msgs;
	size_t n;

	store_mailbox_messages(s->mb, &msgs, &n);
	s->msgs = xcalloc(n > 0 ? n : 1, sizeof(*s->msgs));
	for (size_t i = 0; i < n; i++) {
		s->msgs[i].uid = msgs[i].uid;
		s->msgs[i].size = msgs[i].size;
		s->msgs[i].seen = (msgs[i].flags & STORE_F_SEEN) != 0;
	}
	s->nmsgs = n;
	s->uidvalidity = store_mailbox_uidvalidity(s->mb);
}

/* The store user behind an authenticated address; -1 after replying. */
static int pop3_store_user(struct pop3_session *s, const char *address)
{
	struct userdb_mailbox box;
	const char *at = strrchr(address, '@'), *error;
	char local[USERDB_LOCAL_MAX + 1];
	size_t n = 0;
	enum userdb_lookup r = USERDB_NO_USER;

	if (at != NULL && (size_t)(at - address) < sizeof(local)) {
		memcpy(local, address, (size_t)(at - address));
		local[at - address] = '\0';
		r = userdb_resolve(s->srv->userdb, local, at + 1, &box, 1, &n);
	}
	if (r == USERDB_TEMPFAIL) {
		pop3_err(s, "SYS/TEMP", "User database unavailable");
		return -1;
	}
	if (r != USERDB_FOUND) {
		/* authenticated, yet no mailbox: removed meanwhile */
		pop3_err(s, "SYS/PERM", "No maildrop for this user");
		return -1;
	}
	s->store = store_user_open(s->srv->data_dir, box.domain, box.local,
				   &error);
	if (s->store == NULL) {
		log_warn(conn_sid(s->conn), "store open failed",
			 "user=%s error=%s",
			 log_qs((char[400]){0}, 400, address),
			 log_qs((char[300]){0}, 300, error));
		pop3_err(s, "SYS/TEMP", "Cannot open the maildrop");
		return -1;
	}
	store_user_use_counters(s->store, s->srv->counters);
	store_user_set_quota(s->store, box.quota);
	return 0;
}

/* RFC 1939 4: lock and open the maildrop (INBOX); -1 after replying. */
static int pop3_maildrop_open(struct pop3_session *s, const char *address)
{
	enum store_err err = STORE_OK;
	const char *error = "";

	if (pop3_store_user(s, address) < 0)
		return -1;
	s->lock = store_lock(s->store, "INBOX", &error);
	if (s->lock == STORE_ERR_LOCKED) {
		/* RFC 2449 8.1.2 */
		pop3_err(s, "IN-USE",
			 "Maildrop is locked by another POP3 session");
		goto fail;
	}
	if (s->lock >= 0)
		s->mb = store_mailbox_open(s->store, "INBOX", false, &err,
					   &error);
	if (s->mb == NULL) {
		log_warn(conn_sid(s->conn), "maildrop open failed",
			 "user=%s error=%s",
			 log_qs((char[400]){0}, 400, address),
			 log_qs((char[300]){0}, 300, error));
		pop3_err(s, "SYS/TEMP", "Cannot open the maildrop");
		goto fail;
	}
	pop3_maildrop_snapshot(s);
	return 0;
fail:
	/* RFC 1939 4: a lock taken is released before the -ERR counts */
	pop3_maildrop_close(s);
	return -1;
}

/* Authenticated as user: check the brakes, open the maildrop. */
static void pop3_login(struct pop3_session *s, const char *user)
{
	char q[400];
	uint64_t total = 0;

	if (throttle_check(s->srv->throttle, conn_peer_ip(s->conn), user,
			   time(NULL)) > 0) {
		/* The user is under attack from elsewhere. */
		pop3_err(s, "SYS/TEMP",
			 "Too many failed logins for this user; try again "
			 "later");
		return;
	}
	throttle_success(s->srv->throttle, conn_peer_ip(s->conn), user,
			 time(NULL));
	if (pop3_maildrop_open(s, user) < 0)
		return;
	strlcpy_p(s->login, user, sizeof(s->login));
	for (size_t i = 0; i < s->nmsgs; i++)
		total += s->msgs[i].size;
	log_info(conn_sid(s->conn), "login", "peer=%s user=%s messages=%zu",
		 conn_peer_ip(s->conn), log_qs(q, sizeof(q), user), s->nmsgs);
	pop3_set_state(s, POP3_STATE_TRANSACTION);
	pop3_ok(s, "Maildrop locked and ready, %zu messages (%llu octets)",
		s->nmsgs, (unsigned long long)total);
}

static void pop3_auth_fail(struct pop3_session *s, const char *who)
{
	char q[400];
	int ms = throttle_fail(s->srv->throttle, conn_peer_ip(s->conn), who,
			       time(NULL));

	log_info(conn_sid(s->conn), "auth failed",
		 "peer=%s user=%s delay_ms=%d", conn_peer_ip(s->conn),
		 log_qs(q, sizeof(q), who), ms);
	/* Answered only after the pause (brute force brake). */
	s->auth_failed_pending = true;
	conn_delay(s->conn, ms);
}

void pop3_auth_wake(struct pop3_session *s)
{
	if (!s->auth_failed_pending)
		return;
	s->auth_failed_pending = false;
	/* RFC 3206 AUTH-RESP-CODE: a problem with the credentials */
	pop3_err(s, "AUTH", "Authentication failed");
}

static void pop3_sasl_result(struct pop3_session *s, enum sasl_result r,
			     const char *challenge);

/* The password check is over (from the event loop). */
static void pop3_sasl_checked(void *arg)
{
	struct pop3_session *s = arg;

	s->auth_checking = false;
	conn_resume(s->conn); /* before a failure's conn_delay() */
	pop3_sasl_result(s, sasl_server_finish(s->sasl), "");
}

/* Act on what the mechanism said about the last response. */
static void pop3_sasl_result(struct pop3_session *s, enum sasl_result r,
			     const char *challenge)
{
	char user[USERDB_ADDRESS_MAX + 1];

	switch (r) {
	case SASL_PENDING:
		if (sasl_server_verify(s->sasl, offload_default(),
				       pop3_sasl_checked, s)) {
			/* pipelined commands wait until the answer */
			s->auth_checking = true;
			conn_pause(s->conn);
			return;
		}
		pop3_sasl_result(s, sasl_server_finish(s->sasl), "");
		return;
	case SASL_CONTINUE:
		/* RFC 5034 4: "+ " and the base64 challenge, maybe empty */
		conn_printf(s->conn, "+ %s\r\n", challenge);
		if (s->state != POP3_STATE_SASL) {
			conn_set_max_line(s->conn, POP3_SASL_LINE_MAX);
			pop3_set_state(s, POP3_STATE_SASL);
		}
		return;
	case SASL_OK:
		strlcpy_p(user, sasl_server_user(s->sasl), sizeof(user));
		pop3_sasl_reset(s);
		pop3_login(s, user);
		return;
	case SASL_FAIL:
		strlcpy_p(user,
			  sasl_server_authcid(s->sasl) != NULL
				  ? sasl_server_authcid(s->sasl)
				  : "",
			  sizeof(user));
		pop3_sasl_reset(s);
		pop3_auth_fail(s, user[0] != '\0' ? user : NULL);
		return;
	case SASL_MALFORMED:
		pop3_sasl_reset(s);
		pop3_err_count(s, "Cannot decode the authentication response");
		return;
	case SASL_TEMPFAIL:
		log_warn(conn_sid(s->conn), "auth tempfail", "error=%s",
			 log_qs((char[300]){0}, 300,
				sasl_server_error(s->sasl)));
		pop3_sasl_reset(s);
		pop3_err(s, "SYS/TEMP", "Temporary authentication failure");
		return;
	}
}

static void pop3_sasl_step(struct pop3_session *s, const char *in, size_t len,
			   bool have_input)
{
	char out[SASL_CHALLENGE_MAX];
	size_t out_len = 0;
	enum sasl_result r;

	r = sasl_server_step(s->sasl, in, len, have_input, out, sizeof(out),
			     &out_len);
	out[out_len < sizeof(out) ? out_len : sizeof(out) - 1] = '\0';
	pop3_sasl_result(s, r, out);
}

void pop3_sasl_input(struct pop3_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') {
		/* RFC 5034 4: the client cancels; MUST get -ERR */
		pop3_sasl_reset(s);
		pop3_err(s, NULL, "Authentication cancelled");
		return;
	}
	pop3_sasl_step(s, line, len, true);
}

/* May this address try now? Else answer -ERR and return false. */
static bool pop3_throttle_ok(struct pop3_session *s)
{
	int wait = throttle_check(s->srv->throttle, conn_peer_ip(s->conn), NULL,
				  time(NULL));

	if (wait <= 0)
		return true;
	pop3_err(s, "SYS/TEMP",
		 "Too many failed logins; try again in %d seconds", wait);
	return false;
}

/* RFC 1734 clients ask for the mechanisms with a bare AUTH. */
static void pop3_cmd_auth_list(struct pop3_session *s)
{
	const char *m = sasl_mech_list();

	pop3_ok(s, "Mechanisms follow");
	while (*m != '\0') {
		size_t n = strcspn(m, " ");

		conn_printf(s->conn, "%.*s\r\n", (int)n, m);
		m += n;
		m += *m == ' ';
	}
	conn_printf(s->conn, ".\r\n");
}

/* RFC 5034 4 */
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	enum sasl_mech mech;

	if (cmd->argc == 0) {
		pop3_cmd_auth_list(s);
		return;
	}
	if (sasl_mech_parse(cmd->args[0].p, cmd->args[0].len, &mech) < 0) {
		pop3_err_count(s, "Unrecognized authentication mechanism");
		return;
	}
	if (!pop3_throttle_ok(s))
		return;
	s->sasl = sasl_server_new(mech, s->srv->userdb);
	if (cmd->argc == 2)
		pop3_sasl_step(s, cmd->args[1].p, cmd->args[1].len, true);
	else
		pop3_sasl_step(s, "", 0, false);
}

/* RFC 1939 7: the server may say +OK to any name (no user probing). */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	memcpy(s->user, cmd->args[0].p, cmd->args[0].len);
	s->user[cmd->args[0].len] = '\0';
	pop3_ok(s, "Send your password");
}

/*
 * RFC 1939 7 PASS, checked as a SASL PLAIN message (RFC 4616) so it
 * shares every rule of AUTH: "\0" user "\0" password, base64.
 */
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	size_t ulen = strlen(s->user), plen = cmd->args[0].len;
	char msg[2 * POP3_COMMAND_MAX];
	char b64[4 * sizeof(msg) / 3 + 8];
	char out[SASL_CHALLENGE_MAX];
	enum sasl_result r;
	size_t n, out_len;

	if (ulen == 0) {
		pop3_err_count(s, "Send USER first");
		return;
	}
	if (!pop3_throttle_ok(s)) {
		explicit_bzero(s->user, sizeof(s->user));
		return;
	}
	msg[0] = '\0';
	memcpy(msg + 1, s->user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, cmd->args[0].p, plen);
	n = base64_encode(msg, 2 + ulen + plen, b64);
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(s->user, sizeof(s->user));
	s->sasl = sasl_server_new(SASL_MECH_PLAIN, s->srv->userdb);
	r = sasl_server_step(s->sasl, b64, n, true, out, sizeof(out), &out_len);
	explicit_bzero(b64, sizeof(b64));
	/* A name PLAIN cannot carry is a failed login, not a syntax error. */
	pop3_sasl_result(s, r == SASL_MALFORMED ? SASL_FAIL : r, "");
}

/* RFC 2449 6: APOP is not offered (no timestamp in the greeting). */
void pop3_cmd_apop(struct pop3_session *s, const struct pop3_command *cmd)
{
	(void)cmd;
	pop3_err_count(s,
		       "APOP is not offered; use USER/PASS or AUTH over TLS");
}
