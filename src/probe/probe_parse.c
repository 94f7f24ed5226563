/*
 * What the probe reads out of capability lists: SMTP EHLO keywords
 * (RFC 5321 4.1.1.1, RFC 4954 3, RFC 1870), IMAP CAPABILITY words
 * (RFC 3501 7.2.1) and POP3 CAPA lines (RFC 2449 5, 6.3). Pure functions
 * over (bytes, length); the results are cut and cleaned by
 * probe_list_add().
 */
#include "probe/probe.h"

#include <string.h>
#include <strings.h>

#include "smtp/reply.h"

/* Each space-separated word of s[0..len) into l. */
static void probe_words(struct probe_list *l, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t b;

		while (i < len && s[i] == ' ')
			i++;
		b = i;
		while (i < len && s[i] != ' ')
			i++;
		if (i > b)
			probe_list_add(l, s + b, i - b);
	}
}

void probe_smtp_keyword(struct probe_target *t, bool tls, const char *text,
			size_t len)
{
	struct smtp_ehlo e = {0};

	probe_list_add(tls ? &t->caps_tls : &t->caps_plain, text, len);
	/* RFC 4954 3; "AUTH=" is what some old servers still say. */
	if (len >= 5 && strncasecmp(text, "AUTH", 4) == 0 &&
	    (text[4] == ' ' || text[4] == '='))
		probe_words(tls ? &t->auth_tls : &t->auth_plain, text + 5,
			    len - 5);
	smtp_ehlo_keyword(&e, text, len);
	if (e.starttls && !tls)
		t->starttls = true;
	/* RFC 1870: the limit after TLS is the one that holds. */
	if (e.size && (tls || !t->tls.done)) {
		t->size = true;
		t->size_max = e.size_max;
	}
}

void probe_imap_capability(struct probe_target *t, bool tls, const char *s,
			   size_t len)
{
	struct probe_list *caps = tls ? &t->caps_tls : &t->caps_plain;
	struct probe_list *auth = tls ? &t->auth_tls : &t->auth_plain;
	size_t from = caps->n;

	probe_words(caps, s, len);
	/* RFC 3501 6.2.2: "AUTH=" names a SASL mechanism */
	for (size_t i = from; i < caps->n; i++) {
		if (strncasecmp(caps->v[i], "AUTH=", 5) == 0 &&
		    caps->v[i][5] != '\0')
			probe_list_add(auth, caps->v[i] + 5,
				       strlen(caps->v[i] + 5));
	}
}

void probe_pop3_capa(struct probe_target *t, bool tls, const char *s,
		     size_t len)
{
	probe_list_add(tls ? &t->caps_tls : &t->caps_plain, s, len);
	/* RFC 2449 6.3: "SASL mech..." */
	if (len > 5 && strncasecmp(s, "SASL ", 5) == 0)
		probe_words(tls ? &t->auth_tls : &t->auth_plain, s + 5,
			    len - 5);
}
