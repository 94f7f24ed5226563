/*
 * What the findings mean: warnings per target, the advice (which port a
 * mail client should use, whether port 25 leaves this network) and the
 * exit code. Pure functions over the model, unit tested row by row.
 */
#include "probe/probe.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void warn_status(struct probe_target *t)
{
	const char *why = t->detail != NULL ? t->detail : "no details";

	switch (t->status) {
	case PROBE_ST_BLOCKED:
		probe_list_addf(&t->warnings,
				"no answer to the connection: probably "
				"blocked by your network (or a firewall "
				"drops it)");
		break;
	case PROBE_ST_SILENT:
		probe_list_addf(&t->warnings,
				"accepted the connection but sent no greeting "
				"in time");
		break;
	case PROBE_ST_FAILED:
		probe_list_addf(&t->warnings, "the session failed: %s", why);
		break;
	case PROBE_ST_UNREACHABLE:
		probe_list_addf(&t->warnings, "unreachable: %s", why);
		break;
	case PROBE_ST_PENDING:
	case PROBE_ST_OPEN:
	case PROBE_ST_CLOSED:
		break;
	}
}

/* Credentials could go in clear before TLS (DESIGN.md 7). */
static void warn_plain_auth(struct probe_target *t)
{
	if (t->role->tls != PROBE_STARTTLS)
		return;
	if (t->role->proto == PROBE_SMTP && t->auth_plain.n > 0)
		probe_list_addf(&t->warnings,
				"offers AUTH before TLS: a mail client may "
				"send its password in clear");
	else if (t->role->proto != PROBE_SMTP &&
		 (t->login_plain || t->auth_plain.n > 0))
		probe_list_addf(&t->warnings,
				"accepts a login before TLS: a mail client "
				"may send its password in clear");
}

static void warn_cert(struct probe_target *t, long long now)
{
	const struct probe_tls *s = &t->tls;
	bool expired = s->not_after != 0 && now > s->not_after;
	char date[32] = "?";
	struct tm tm;
	time_t when = (time_t)s->not_after;

	if (s->not_after != 0 && gmtime_r(&when, &tm) != NULL)
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if (expired)
		probe_list_addf(&t->warnings, "the certificate expired on %s",
				date);
	if (s->not_before != 0 && now < s->not_before)
		probe_list_addf(&t->warnings,
				"the certificate is not valid yet");
	if (!s->name_ok)
		probe_list_addf(&t->warnings,
				"the certificate does not match %s (it is "
				"for %s)",
				t->host,
				s->sans ? s->sans
					: (s->subject ? s->subject : "?"));
	/* An expired certificate is already said; other reasons are not. */
	if (!s->chain_ok && !(expired && s->chain_error != NULL &&
			      strstr(s->chain_error, "expired") != NULL))
		probe_list_addf(&t->warnings,
				"the certificate is not trusted: %s",
				s->chain_error ? s->chain_error : "unknown");
}

void probe_target_warnings(struct probe_target *t, long long now)
{
	warn_status(t);
	if (t->status != PROBE_ST_OPEN)
		return;
	if (t->role->tls == PROBE_STARTTLS && !t->starttls)
		probe_list_addf(&t->warnings,
				t->role->port == 25
					? "STARTTLS is not offered on port "
					  "25: mail from other servers "
					  "arrives in clear"
					: "STARTTLS is not offered: "
					  "passwords and mail go in clear");
	warn_plain_auth(t);
	if (t->tls_error != NULL)
		probe_list_addf(&t->warnings, "TLS failed: %s", t->tls_error);
	if (t->tls.done)
		warn_cert(t, now);
	if (t->legacy == 1)
		probe_list_addf(&t->warnings,
				"accepts %s: TLS 1.0 and 1.1 are broken and "
				"deprecated (RFC 8996)",
				t->legacy_version);
	if (t->login == PROBE_LOGIN_FAILED)
		probe_list_addf(&t->warnings, "login failed: %s",
				t->login_detail ? t->login_detail : "refused");
}

/* Works for a mail client: greeted, TLS in its mode, login not refused */
static bool usable(const struct probe_target *t)
{
	if (t->status != PROBE_ST_OPEN || !t->tls.done ||
	    t->tls_error != NULL || t->login == PROBE_LOGIN_FAILED)
		return false;
	if (t->role->submission)
		return t->auth_tls.n > 0 || t->login == PROBE_LOGIN_OK;
	return true;
}

/* Within one role: a login that worked, then a certificate without
 * fault, then the first found. */
static int quality(const struct probe_target *t)
{
	return (t->login == PROBE_LOGIN_OK ? 2 : 0) +
	       (t->tls.chain_ok && t->tls.name_ok ? 1 : 0);
}

/* Roles in preference order; the first role with a usable target wins */
static const struct probe_target *pick(const struct probe_target *t, size_t n,
				       const int *ports, size_t np,
				       bool *checked_r)
{
	for (size_t r = 0; r < np; r++) {
		const struct probe_target *best = NULL;

		for (size_t i = 0; i < n; i++) {
			if (t[i].role->port != ports[r])
				continue;
			*checked_r = true;
			if (usable(&t[i]) &&
			    (best == NULL || quality(&t[i]) > quality(best)))
				best = &t[i];
		}
		if (best != NULL)
			return best;
	}
	return NULL;
}

static enum probe_port25 port25(const struct probe_target *t, size_t n)
{
	bool any = false, server_side = false;

	for (size_t i = 0; i < n; i++) {
		if (t[i].role->port != 25 || t[i].status == PROBE_ST_PENDING)
			continue;
		any = true;
		if (t[i].status == PROBE_ST_OPEN)
			return PROBE_25_USABLE;
		/* A refusal or a silent server: the network let us out. */
		if (t[i].status == PROBE_ST_CLOSED ||
		    t[i].status == PROBE_ST_SILENT ||
		    t[i].status == PROBE_ST_FAILED)
			server_side = true;
	}
	if (!any)
		return PROBE_25_NOT_CHECKED;
	return server_side ? PROBE_25_CLOSED : PROBE_25_BLOCKED;
}

void probe_advise(const struct probe_target *t, size_t n,
		  struct probe_advice *a)
{
	static const int sub[] = {587, 465, 2525};
	static const int imap[] = {993, 143};
	static const int pop3[] = {995, 110};

	memset(a, 0, sizeof(*a));
	a->submission.t = pick(t, n, sub, 3, &a->submission_checked);
	a->imap.t = pick(t, n, imap, 2, &a->imap_checked);
	a->pop3.t = pick(t, n, pop3, 2, &a->pop3_checked);
	a->port25 = port25(t, n);
}

const char *probe_port25_name(enum probe_port25 p)
{
	switch (p) {
	case PROBE_25_USABLE:
		return "usable";
	case PROBE_25_BLOCKED:
		return "blocked";
	case PROBE_25_CLOSED:
		return "closed";
	case PROBE_25_NOT_CHECKED:
		break;
	}
	return "not_checked";
}

void probe_collect_warnings(struct probe_run *run, const struct probe_advice *a,
			    long long now)
{
	probe_list_free(&run->warnings);
	for (size_t i = 0; i < run->n; i++) {
		struct probe_target *t = &run->t[i];

		probe_list_free(&t->warnings);
		probe_target_warnings(t, now);
		for (size_t w = 0; w < t->warnings.n; w++)
			probe_list_addf(&run->warnings, "%s port %d: %s",
					t->host, t->port, t->warnings.v[w]);
	}
	if (a->submission_checked && a->submission.t == NULL)
		probe_list_addf(&run->warnings,
				"no submission port works from here: a mail "
				"client cannot send through this host");
	if (a->port25 == PROBE_25_BLOCKED)
		probe_list_addf(&run->warnings,
				"outbound port 25 seems blocked from this "
				"network");
	if (a->port25 == PROBE_25_CLOSED && run->domain)
		probe_list_addf(&run->warnings,
				"no MX host accepts mail on port 25: the "
				"domain cannot receive mail");
	if (a->imap_checked && a->pop3_checked && a->imap.t == NULL &&
	    a->pop3.t == NULL)
		probe_list_addf(&run->warnings,
				"neither IMAP nor POP3 works from here");
}

int probe_exit_code(const struct probe_run *run)
{
	bool reached = false;

	if (run->error != NULL || run->n == 0)
		return 2;
	for (size_t i = 0; i < run->n; i++) {
		if (run->t[i].status != PROBE_ST_UNREACHABLE &&
		    run->t[i].status != PROBE_ST_PENDING)
			reached = true;
	}
	if (!reached)
		return 2;
	return run->warnings.n > 0 ? 1 : 0;
}

/* "mail.test port 587 with STARTTLS" (the port actually reached). */
static void where(char *out, size_t size, const struct probe_target *t)
{
	snprintf(out, size, "%s port %d with %s", t->host, t->port,
		 t->role->tls == PROBE_IMPLICIT ? "SSL/TLS (implicit TLS)"
						: "STARTTLS");
}

static void advice_sending(const struct probe_advice *a, struct probe_list *out)
{
	char w[PROBE_TEXT_MAX];

	if (a->submission.t != NULL) {
		where(w, sizeof(w), a->submission.t);
		probe_list_addf(out,
				"Sending mail from a mail client: use %s, "
				"and log in with your user name and "
				"password.",
				w);
	} else if (a->submission_checked) {
		probe_list_addf(out, "Sending mail from a mail client: no "
				     "submission port (587, 465, 2525) works "
				     "from here.");
	}
}

static void advice_port25(const struct probe_advice *a, struct probe_list *out)
{
	switch (a->port25) {
	case PROBE_25_USABLE:
		probe_list_addf(out, "Port 25: reachable from this network, "
				     "so a mail server here can deliver to "
				     "other servers directly.");
		break;
	case PROBE_25_BLOCKED:
		probe_list_addf(out,
				"Port 25: probably blocked by your network "
				"(no answer). A mail server here must send "
				"through a relay (smart host) on port 587 "
				"or 465.");
		break;
	case PROBE_25_CLOSED:
		probe_list_addf(out,
				"Port 25: your network lets it through, but "
				"the server did not accept the connection.");
		break;
	case PROBE_25_NOT_CHECKED:
		break;
	}
}

static void advice_reading(const struct probe_advice *a, struct probe_list *out)
{
	char w[PROBE_TEXT_MAX];

	if (a->imap.t != NULL) {
		where(w, sizeof(w), a->imap.t);
		probe_list_addf(out,
				"Reading mail: use IMAP on %s (mail stays "
				"on the server, for several devices).",
				w);
	}
	if (a->pop3.t != NULL) {
		where(w, sizeof(w), a->pop3.t);
		probe_list_addf(out, "%s POP3 on %s.",
				a->imap.t != NULL ? "POP3 works too:"
						  : "Reading mail: use",
				w);
	}
	if (a->imap.t == NULL && a->pop3.t == NULL &&
	    (a->imap_checked || a->pop3_checked))
		probe_list_addf(out, "Reading mail: neither IMAP nor POP3 "
				     "works from here.");
	else if (a->imap.t == NULL && a->imap_checked)
		probe_list_addf(out, "IMAP is not available.");
	else if (a->pop3.t == NULL && a->pop3_checked)
		probe_list_addf(out, "POP3 is not available.");
}

void probe_advice_text(const struct probe_run *run,
		       const struct probe_advice *a, struct probe_list *out)
{
	(void)run;
	advice_sending(a, out);
	advice_port25(a, out);
	advice_reading(a, out);
}
