/*
 * SMTP command line parsing: verbs, MAIL/RCPT with ESMTP parameters,
 * BDAT, HELO/EHLO.
 *
 * SECURITY: the argument comes straight from the network. Every value is
 * checked against its grammar and copied only into fixed fields after its
 * length is checked; numbers are checked for overflow digit by digit.
 *
 * Reply codes (RFC 5321 4.2.3, enhanced codes RFC 3463 3):
 *   501 5.5.4  command or parameter syntax ("invalid command arguments")
 *   501 5.1.7  bad MAIL path (X.1.7 "bad sender's mailbox address syntax")
 *   501 5.1.3  bad RCPT path (X.1.3 "bad destination mailbox address
 *              syntax"); an over-long path is 501 too, as in the
 *              example of RFC 5321 4.5.3.1.9 ("501 Path too long")
 *   555 5.5.4  parameter unknown, not advertised or repeated (RFC 5321
 *              4.1.1.11 and 4.2.3: "parameters not recognized")
 *   550 5.6.7  UTF-8 sender without SMTPUTF8 (RFC 6531 3.5: 550 for MAIL)
 *   553 5.6.7  UTF-8 recipient without SMTPUTF8 (RFC 6531 3.5: RCPT 553)
 */
#include "smtp/parse.h"

#include "lib/utf8.h"

#include <string.h>
#include <strings.h>

/* RFC 1870 4 and RFC 3030 2: sizes are at most 20 digits. */
#define SIZE_DIGITS_MAX 20

static const char *const verb_names[] = {
	[SMTP_VERB_UNKNOWN] = "UNKNOWN",   [SMTP_VERB_HELO] = "HELO",
	[SMTP_VERB_EHLO] = "EHLO",	   [SMTP_VERB_MAIL] = "MAIL",
	[SMTP_VERB_RCPT] = "RCPT",	   [SMTP_VERB_DATA] = "DATA",
	[SMTP_VERB_BDAT] = "BDAT",	   [SMTP_VERB_RSET] = "RSET",
	[SMTP_VERB_NOOP] = "NOOP",	   [SMTP_VERB_QUIT] = "QUIT",
	[SMTP_VERB_VRFY] = "VRFY",	   [SMTP_VERB_EXPN] = "EXPN",
	[SMTP_VERB_HELP] = "HELP",	   [SMTP_VERB_ETRN] = "ETRN",
	[SMTP_VERB_STARTTLS] = "STARTTLS", [SMTP_VERB_AUTH] = "AUTH",
};

#define NVERBS (sizeof(verb_names) / sizeof(verb_names[0]))

/* The parameters this server knows, and the extension each needs. */
enum param_id {
	P_SIZE,	    /* RFC 1870 */
	P_BODY,	    /* RFC 6152 */
	P_SMTPUTF8, /* RFC 6531 3.4 */
	P_RET,	    /* RFC 3461 4.3 */
	P_ENVID,    /* RFC 3461 4.4 */
	P_AUTH,	    /* RFC 4954 5 */
	P_NOTIFY,   /* RFC 3461 4.1 */
	P_ORCPT,    /* RFC 3461 4.2 */
};

static const struct {
	const char *name;
	unsigned ext;
	bool rcpt; /* a RCPT parameter, else a MAIL one */
} param_defs[] = {
	[P_SIZE] = {"SIZE", SMTP_EXT_SIZE, false},
	[P_BODY] = {"BODY", SMTP_EXT_8BITMIME, false},
	[P_SMTPUTF8] = {"SMTPUTF8", SMTP_EXT_SMTPUTF8, false},
	[P_RET] = {"RET", SMTP_EXT_DSN, false},
	[P_ENVID] = {"ENVID", SMTP_EXT_DSN, false},
	[P_AUTH] = {"AUTH", SMTP_EXT_AUTH, false},
	[P_NOTIFY] = {"NOTIFY", SMTP_EXT_DSN, true},
	[P_ORCPT] = {"ORCPT", SMTP_EXT_DSN, true},
};

#define NPARAMS (sizeof(param_defs) / sizeof(param_defs[0]))

/* One esmtp-param as sent: keyword and value (NULL when no "="). */
struct param {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

static int set_error(struct smtp_error *err, int code, const char *status,
		     const char *text)
{
	err->code = code;
	err->status = status;
	err->text = text;
	return -1;
}

static int syntax_error(struct smtp_error *err, const char *text)
{
	return set_error(err, 501, "5.5.4", text);
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5322 3.2.3 atext (ASCII). */
static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* s[0..len) equals the ASCII word w, ignoring case. */
static bool word_eq(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

static size_t skip_sp(const char *s, size_t len, size_t pos)
{
	while (pos < len && s[pos] == ' ')
		pos++;
	return pos;
}

/* Length of s[0..len) without trailing SP. */
static size_t trim_sp(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == ' ')
		len--;
	return len;
}

enum smtp_verb smtp_parse_verb(const char *line, size_t len, const char **arg_r,
			       size_t *arg_len_r)
{
	const char *sp = memchr(line, ' ', len);
	size_t n = sp != NULL ? (size_t)(sp - line) : len;

	*arg_r = sp != NULL ? sp + 1 : line + len;
	*arg_len_r = sp != NULL ? len - n - 1 : 0;
	for (size_t v = SMTP_VERB_UNKNOWN + 1; v < NVERBS; v++) {
		if (word_eq(line, n, verb_names[v]))
			return (enum smtp_verb)v;
	}
	return SMTP_VERB_UNKNOWN;
}

const char *smtp_verb_name(enum smtp_verb verb)
{
	if ((size_t)verb >= NVERBS)
		return verb_names[SMTP_VERB_UNKNOWN];
	return verb_names[verb];
}

/*
 * Digits of a SIZE (RFC 1870 4: 1*20DIGIT) or a BDAT chunk-size (RFC 3030
 * 2: 1*DIGIT, bounded the same way); false on overflow of uint64_t.
 */
static bool parse_size(const char *s, size_t len, uint64_t *size_r)
{
	uint64_t v = 0;

	if (len == 0 || len > SIZE_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (!is_digit((unsigned char)s[i]) || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*size_r = v;
	return true;
}

/*
 * RFC 3461 4 (and RFC 4954 5): 1*( xchar / hexchar ), xchar = "!".."~"
 * but "+" and "=", hexchar = "+" 2(upper-case HEXDIG). With utf8, also
 * UTF8-non-ascii (RFC 6531 3.3 esmtp-value; RFC 6533 3 utf-8-addr).
 */
static bool is_upper_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'F');
}

static bool is_xtext(const char *s, size_t len, bool utf8)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = 1;

		if (u[i] == '+') {
			if (len - i < 3 || !is_upper_hex(u[i + 1]) ||
			    !is_upper_hex(u[i + 2]))
				return false;
			n = 3;
		} else if (u[i] >= 0x80) {
			n = utf8 ? utf8_seq(u + i, len - i) : 0;
			if (n == 0)
				return false;
		} else if (u[i] < 33 || u[i] == '=' || u[i] == 127) {
			return false;
		}
		i += n;
	}
	return true;
}

/*
 * The next esmtp-param (RFC 5321 4.1.2): esmtp-keyword ["=" esmtp-value],
 * separated by SP (runs of SP tolerated). Only the keyword is checked
 * here; each value has its own, narrower grammar. Returns 1 with *p set,
 * 0 at the end, -1 on a syntax error.
 */
static int next_param(const char *s, size_t len, size_t *pos, struct param *p,
		      struct smtp_error *err)
{
	size_t i = skip_sp(s, len, *pos), end;
	const char *eq;

	if (i == len)
		return 0;
	for (end = i; end < len && s[end] != ' '; end++)
		;
	*pos = end;
	memset(p, 0, sizeof(*p));
	p->key = s + i;
	eq = memchr(p->key, '=', end - i);
	p->key_len = eq != NULL ? (size_t)(eq - p->key) : end - i;
	if (eq != NULL) {
		p->val = eq + 1;
		p->val_len = (size_t)(s + end - p->val);
	}
	/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
	if (p->key_len == 0 || !is_alnum((unsigned char)p->key[0]))
		return syntax_error(err, "Bad parameter syntax");
	for (size_t k = 1; k < p->key_len; k++) {
		if (!is_alnum((unsigned char)p->key[k]) && p->key[k] != '-')
			return syntax_error(err, "Bad parameter syntax");
	}
	return 1;
}

/*
 * Which known parameter p is: refused with 555 when unknown, belonging to
 * the other command, of an extension not advertised, or repeated.
 */
static int param_lookup(const struct param *p, bool rcpt, unsigned exts,
			unsigned *seen, struct smtp_error *err)
{
	for (size_t id = 0; id < NPARAMS; id++) {
		if (!word_eq(p->key, p->key_len, param_defs[id].name))
			continue;
		if (param_defs[id].rcpt != rcpt || !(exts & param_defs[id].ext))
			break;
		if (*seen & (1u << id))
			return set_error(err, 555, "5.5.4",
					 rcpt ? "RCPT parameter repeated"
					      : "MAIL parameter repeated");
		*seen |= 1u << id;
		return (int)id;
	}
	return set_error(err, 555, "5.5.4",
			 rcpt ? "RCPT parameter not recognized"
			      : "MAIL parameter not recognized");
}

/* Copy an xtext value of at most max octets into dst[max + 1]. */
static bool copy_xtext(const struct param *p, char *dst, size_t max)
{
	if (p->val == NULL || p->val_len > max ||
	    !is_xtext(p->val, p->val_len, false))
		return false;
	memcpy(dst, p->val, p->val_len);
	dst[p->val_len] = '\0';
	return true;
}

static int mail_param(const struct param *p, enum param_id id,
		      struct smtp_mail_params *mp, struct smtp_error *err)
{
	const char *v = p->val;
	size_t n = p->val_len;

	switch (id) {
	case P_SIZE: /* RFC 1870 4: "SIZE=" 1*20DIGIT */
		mp->has_size = v != NULL && parse_size(v, n, &mp->size);
		return mp->has_size ? 0 : syntax_error(err, "Bad SIZE value");
	case P_BODY: /* RFC 6152 2: "7BIT" / "8BITMIME" */
		if (v != NULL && word_eq(v, n, "7BIT"))
			mp->body = SMTP_BODY_7BIT;
		else if (v != NULL && word_eq(v, n, "8BITMIME"))
			mp->body = SMTP_BODY_8BITMIME;
		else
			return syntax_error(err, "Bad BODY value");
		return 0;
	case P_SMTPUTF8: /* RFC 6531 3.4: "MUST not accept a value" */
		if (v != NULL)
			return syntax_error(err, "SMTPUTF8 takes no value");
		mp->smtputf8 = true;
		return 0;
	case P_RET: /* RFC 3461 4.3: "FULL" / "HDRS" */
		if (v != NULL && word_eq(v, n, "FULL"))
			mp->ret = SMTP_RET_FULL;
		else if (v != NULL && word_eq(v, n, "HDRS"))
			mp->ret = SMTP_RET_HDRS;
		else
			return syntax_error(err, "Bad RET value");
		return 0;
	case P_ENVID: /* RFC 3461 4.4: xtext, up to 100 characters */
		if (!copy_xtext(p, mp->envid, SMTP_ENVID_MAX))
			return syntax_error(err, "Bad ENVID value");
		return 0;
	case P_AUTH: /* RFC 4954 5: xtext of a mailbox, or "<>" */
		if (!copy_xtext(p, mp->auth, ADDRESS_PATH_MAX))
			return syntax_error(err, "Bad AUTH value");
		return 0;
	default:
		return syntax_error(err, "Bad parameter syntax");
	}
}

/*
 * RFC 3461 4.1: "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ), NEVER
 * alone. Words are matched without case, as ESMTP keywords are.
 */
static bool parse_notify(const char *v, size_t n, unsigned *notify_r)
{
	unsigned notify = 0;
	size_t i = 0;

	while (i <= n) {
		const char *comma = memchr(v + i, ',', n - i);
		size_t end = comma != NULL ? (size_t)(comma - v) : n;

		if (word_eq(v + i, end - i, "NEVER"))
			notify |= SMTP_NOTIFY_NEVER;
		else if (word_eq(v + i, end - i, "SUCCESS"))
			notify |= SMTP_NOTIFY_SUCCESS;
		else if (word_eq(v + i, end - i, "FAILURE"))
			notify |= SMTP_NOTIFY_FAILURE;
		else if (word_eq(v + i, end - i, "DELAY"))
			notify |= SMTP_NOTIFY_DELAY;
		else
			return false;
		i = end + 1;
	}
	if ((notify & SMTP_NOTIFY_NEVER) && notify != SMTP_NOTIFY_NEVER)
		return false;
	*notify_r = notify;
	return true;
}

/*
 * RFC 3461 4.2: addr-type ";" xtext, addr-type an atom (RFC 5322 3.2.3),
 * the whole up to 500 characters. UTF-8 in the address part only in an
 * SMTPUTF8 transaction with the "utf-8" type (RFC 6533 3).
 */
static bool parse_orcpt(const char *v, size_t n, bool utf8, char *orcpt)
{
	const char *semi = memchr(v, ';', n);
	size_t type_len = semi != NULL ? (size_t)(semi - v) : 0;

	if (semi == NULL || type_len == 0 || n > SMTP_ORCPT_MAX)
		return false;
	for (size_t i = 0; i < type_len; i++) {
		if (!is_atext((unsigned char)v[i]))
			return false;
	}
	utf8 = utf8 && word_eq(v, type_len, "utf-8");
	if (!is_xtext(semi + 1, n - type_len - 1, utf8))
		return false;
	memcpy(orcpt, v, n);
	orcpt[n] = '\0';
	return true;
}

static int rcpt_param(const struct param *p, enum param_id id, bool utf8,
		      struct smtp_rcpt_params *rp, struct smtp_error *err)
{
	if (id == P_NOTIFY) {
		if (p->val == NULL ||
		    !parse_notify(p->val, p->val_len, &rp->notify))
			return syntax_error(err, "Bad NOTIFY value");
		return 0;
	}
	if (p->val == NULL || !parse_orcpt(p->val, p->val_len, utf8, rp->orcpt))
		return syntax_error(err, "Bad ORCPT value");
	return 0;
}

/*
 * "FROM:" / "TO:" (any case, RFC 5321 2.4), optional spaces, then the
 * path, which must start with "<": *pos_r is its offset. Returns 0 or -1.
 */
static int path_start(const char *arg, size_t len, const char *word,
		      size_t *pos_r, struct smtp_error *err, const char *usage)
{
	size_t wlen = strlen(word);
	size_t i = skip_sp(arg, len, 0);

	if (len - i < wlen || strncasecmp(arg + i, word, wlen) != 0)
		return syntax_error(err, usage);
	i = skip_sp(arg, len, i + wlen);
	if (i == len || arg[i] != '<')
		return syntax_error(err, usage);
	*pos_r = i;
	return 0;
}

/* What follows the path: the end or SP and the parameters. */
static int after_path(const char *arg, size_t len, size_t pos,
		      struct smtp_error *err, const char *usage)
{
	if (pos < len && arg[pos] != ' ')
		return syntax_error(err, usage);
	return 0;
}

int smtp_parse_mail(const char *arg, size_t len, unsigned exts,
		    struct address *from_r, struct smtp_mail_params *params_r,
		    struct smtp_error *err_r)
{
	static const char usage[] = "Syntax: MAIL FROM:<address>";
	struct param p;
	size_t pos, used;
	unsigned seen = 0;
	const char *error;
	int ret, id;

	memset(from_r, 0, sizeof(*from_r));
	memset(params_r, 0, sizeof(*params_r));
	if (path_start(arg, len, "FROM:", &pos, err_r, usage) < 0)
		return -1;
	/* UTF-8 is checked below, once the SMTPUTF8 parameter is known. */
	ret = address_parse_path(arg + pos, len - pos,
				 ADDRESS_F_ALLOW_NULL | ADDRESS_F_UTF8, from_r,
				 &used, &error);
	if (ret == -1)
		return set_error(err_r, 501, "5.1.7",
				 "Bad sender address syntax");
	if (ret < 0)
		return set_error(err_r, 501, "5.1.7", error);
	pos += used;
	if (after_path(arg, len, pos, err_r, usage) < 0)
		return -1;
	while ((ret = next_param(arg, len, &pos, &p, err_r)) > 0) {
		id = param_lookup(&p, false, exts, &seen, err_r);
		if (id < 0 ||
		    mail_param(&p, (enum param_id)id, params_r, err_r) < 0)
			return -1;
	}
	if (ret < 0)
		return -1;
	/* RFC 6531 3.4, 3.5: a UTF-8 sender needs the SMTPUTF8 parameter */
	if (from_r->utf8 && !params_r->smtputf8)
		return set_error(err_r, 550, "5.6.7",
				 "Non-ASCII addresses not permitted for that "
				 "sender");
	return 0;
}

/* RFC 5321 4.1.1.3: "<Postmaster>" without a domain, any case. */
static bool is_postmaster(const char *s, size_t len, struct address *to)
{
	static const char pm[] = "<Postmaster>";

	if (len < sizeof(pm) - 1 || strncasecmp(s, pm, sizeof(pm) - 1) != 0)
		return false;
	memcpy(to->local, "Postmaster", sizeof("Postmaster"));
	return true;
}

/* The RCPT path; *used_r is how much of s it took. */
static int rcpt_path(const char *s, size_t len, bool utf8, struct address *to,
		     size_t *used_r, struct smtp_error *err)
{
	const char *error;
	int ret;

	if (is_postmaster(s, len, to)) {
		*used_r = sizeof("<Postmaster>") - 1;
		return 0;
	}
	ret = address_parse_path(s, len, utf8 ? ADDRESS_F_UTF8 : 0, to, used_r,
				 &error);
	if (ret == -1)
		return set_error(err, 501, "5.1.3",
				 "Bad recipient address syntax");
	if (ret == -2)
		return set_error(err, 501, "5.1.3", error);
	if (ret < 0) /* RFC 6531 3.5 */
		return set_error(err, 553, "5.6.7",
				 "Non-ASCII addresses not permitted for that "
				 "recipient");
	return 0;
}

int smtp_parse_rcpt(const char *arg, size_t len, unsigned exts, bool utf8,
		    struct address *to_r, struct smtp_rcpt_params *params_r,
		    struct smtp_error *err_r)
{
	static const char usage[] = "Syntax: RCPT TO:<address>";
	struct param p;
	size_t pos, used;
	unsigned seen = 0;
	int ret, id;

	memset(to_r, 0, sizeof(*to_r));
	memset(params_r, 0, sizeof(*params_r));
	if (path_start(arg, len, "TO:", &pos, err_r, usage) < 0 ||
	    rcpt_path(arg + pos, len - pos, utf8, to_r, &used, err_r) < 0 ||
	    after_path(arg, len, pos + used, err_r, usage) < 0)
		return -1;
	pos += used;
	while ((ret = next_param(arg, len, &pos, &p, err_r)) > 0) {
		id = param_lookup(&p, true, exts, &seen, err_r);
		if (id < 0 || rcpt_param(&p, (enum param_id)id, utf8, params_r,
					 err_r) < 0)
			return -1;
	}
	return ret;
}

int smtp_parse_bdat(const char *arg, size_t len, uint64_t *size_r, bool *last_r,
		    struct smtp_error *err_r)
{
	static const char usage[] = "Syntax: BDAT size [LAST]";
	size_t start = skip_sp(arg, len, 0), end = start, rest;

	*size_r = 0;
	*last_r = false;
	while (end < len && arg[end] != ' ')
		end++;
	/* RFC 3030 2: chunk-size ::= 1*DIGIT */
	if (!parse_size(arg + start, end - start, size_r))
		return syntax_error(err_r, usage);
	rest = skip_sp(arg, len, end);
	len = trim_sp(arg, len);
	if (rest >= len)
		return 0;
	/* end-marker ::= "LAST" */
	if (!word_eq(arg + rest, len - rest, "LAST"))
		return syntax_error(err_r, usage);
	*last_r = true;
	return 0;
}

/*
 * RFC 5321 4.1.1.1: Domain / address-literal, checked by the Mailbox
 * parser behind a dummy local part. Surrounding spaces are tolerated;
 * UTF-8 is not (RFC 6531 gives EHLO no U-labels).
 */
int smtp_parse_helo(const char *arg, size_t len, struct smtp_error *err_r)
{
	char mailbox[2 + ADDRESS_DOMAIN_MAX];
	struct address addr;
	size_t start = skip_sp(arg, len, 0);
	const char *error;

	len = trim_sp(arg, len);
	if (start >= len)
		return syntax_error(err_r, "Syntax: EHLO hostname");
	if (len - start > ADDRESS_DOMAIN_MAX)
		return syntax_error(err_r, "Invalid EHLO hostname");
	mailbox[0] = 'x';
	mailbox[1] = '@';
	memcpy(mailbox + 2, arg + start, len - start);
	if (address_parse_mailbox(mailbox, 2 + len - start, 0, &addr, &error) !=
	    0)
		return syntax_error(err_r, "Invalid EHLO hostname");
	return 0;
}
