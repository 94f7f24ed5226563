/*
 * postern sendmail: the sendmail(8) injector that cron, mail(1) and web
 * applications expect. The message is read from stdin, given the headers
 * it lacks, and committed to the outbound spool; the queue worker delivers
 * it (local domains to their Maildirs, the rest by MX).
 *
 * SECURITY: it writes the spool directly, so only root and the server's
 * account can use it; the envelope sender defaults to the invoking user.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sendmail.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "mail/address.h"
#include "mail/header.h"
#include "mail/received.h"
#include "queue/spool.h"
#include "server/config.h"

static void sendmail_usage(FILE *fp)
{
	fprintf(fp,
		"usage: postern sendmail [-t] [-i] [-f SENDER] [-F NAME] "
		"[-N DSN] [-R RET] [-V ENVID]\n"
		"                        [-B BODY] [-v] [-c FILE] [--] "
		"[RECIPIENT...]\n"
		"       postern sendmail -bp | -q\n\n"
		"Read a message from stdin and queue it, as sendmail(8) does.\n"
		"  -t          take recipients from To:, Cc: and Bcc: too "
		"(Bcc: is always removed)\n"
		"  -i, -oi     a line with a single dot does not end the "
		"message\n"
		"  -f, -r ADDR envelope sender (default: the invoking user)\n"
		"  -F NAME     display name of the From: added when there is "
		"none\n"
		"  -N DSN      never, or success,delay,failure (RFC 3461 "
		"NOTIFY)\n"
		"  -R RET      full or hdrs: what a bounce returns\n"
		"  -V ENVID    envelope id for DSNs\n"
		"  -B BODY     7BIT or 8BITMIME (default: 8BITMIME when the "
		"message has 8-bit octets)\n"
		"  -v          say the queue id\n"
		"  -c, -C FILE the configuration\n"
		"  -bp         list the queue (mailq); -bm (default) queue a "
		"message;\n"
		"              -bs speak SMTP on stdin/stdout (Symfony "
		"Mailer, Laravel);\n"
		"              -bi, -I do nothing (aliases are in the "
		"database)\n"
		"  -q          try every queued message now\n"
		"Accepted and ignored: -oX (-odi, -odb, -oem...), -OX=Y, -G, "
		"-U, -n, -m, -s, -8,\n"
		"-A X, -L X, -X X, -d X, -e X, -h N, -p X.\n\n"
		"Exit status (sysexits.h, as sendmail(8)):\n"
		"  0   queued (-bs: the session ended and nothing was lost)\n"
		"  64  EX_USAGE     bad option, or no recipients\n"
		"  65  EX_DATAERR   malformed message or address, or over "
		"the size limit\n"
		"  70  EX_SOFTWARE  internal error\n"
		"  71  EX_OSERR     out of system resources\n"
		"  73  EX_CANTCREAT the spool file cannot be created\n"
		"  74  EX_IOERR     reading stdin or writing the spool failed\n"
		"  75  EX_TEMPFAIL  temporary failure (spool full...); try "
		"again later\n"
		"                   (-bs: a message could not be queued)\n"
		"  77  EX_NOPERM    no permission to write the spool\n"
		"  78  EX_CONFIG    the configuration is missing or not "
		"usable\n");
}

/*
 * The exit code for a failed system call (errno err) while queueing:
 * what a retry might fix is EX_TEMPFAIL, what the caller cannot fix by
 * retrying is told apart; other errors give dflt.
 */
static int sendmail_errno_exit(int err, int dflt)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return EX_NOPERM;
	case ENOSPC:
	case EDQUOT:
	case EAGAIN:
	case EINTR:
		return EX_TEMPFAIL;
	case ENOMEM:
	case ENFILE:
	case EMFILE:
		return EX_OSERR;
	default:
		return dflt;
	}
}

/*
 * "root" -> "root@hostname": a local name gets our host name. The result
 * must be a valid RFC 5321 4.1.2 Mailbox (UTF-8 allowed, RFC 6531), so
 * that nothing malformed reaches the spool. Returns the address, which
 * the caller frees, or NULL after printing why.
 */
static char *sendmail_address(const struct sendmail *sm, const char *a,
			      const char *what)
{
	struct address addr;
	const char *error;
	char *full = strchr(a, '@') != NULL
			     ? xstrdup(a)
			     : xasprintf("%s@%s", a, sm->cfg->hostname);

	if (address_parse_mailbox(full, strlen(full), ADDRESS_F_UTF8, &addr,
				  &error) < 0) {
		fprintf(stderr, "postern sendmail: bad %s address '%s': %s\n",
			what, a, error);
		free(full);
		return NULL;
	}
	return full;
}

int sendmail_add_rcpt(struct sendmail *sm, const char *a, const char *orcpt,
		      unsigned notify)
{
	char *full = sendmail_address(sm, a, "recipient");
	struct sendmail_rcpt *r;

	if (full == NULL)
		return -1;
	sm->rcpts = xrealloc(sm->rcpts, (sm->nrcpts + 1) * sizeof(*r));
	r = &sm->rcpts[sm->nrcpts++];
	r->address = full;
	r->orcpt = xstrdup(orcpt != NULL ? orcpt : "");
	r->notify = notify;
	return 0;
}

void sendmail_msg_reset(struct sendmail *sm)
{
	for (size_t i = 0; i < sm->nrcpts; i++) {
		free(sm->rcpts[i].address);
		free(sm->rcpts[i].orcpt);
	}
	free(sm->rcpts);
	sm->rcpts = NULL;
	sm->nrcpts = 0;
	buf_reset(&sm->msg);
	buf_reset(&sm->bcc);
	sm->eight_bit = false;
	sm->in_header = true;
	sm->field_seen = sm->in_bcc = false;
}

/* Octets read from stdin at a time. */
#define SENDMAIL_READ_CHUNK ((size_t)64 * 1024)

/* Where the stdin reader is. */
struct sendmail_in {
	struct buf line; /* a line cut by a read, without its LF */
	bool done;	 /* the lone dot was read */
};

/*
 * Whether l[0..n) starts a header field: a name of printable ASCII but
 * the colon (RFC 5322 3.6.8), WSP allowed before the colon (4.5.2);
 * the name's length in *name_len_r.
 */
static bool sendmail_field_start(const char *l, size_t n, size_t *name_len_r)
{
	size_t i = 0, name;

	while (i < n && l[i] > ' ' && l[i] < 0x7f && l[i] != ':')
		i++;
	name = i;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	*name_len_r = name;
	return name > 0 && i < n && l[i] == ':';
}

static int sendmail_too_big(const struct sendmail *sm, const char *what)
{
	fprintf(stderr,
		"postern sendmail: %s is larger than the limit of %d octets "
		"(smtp.max_message_size)\n",
		what, sm->cfg->smtp.max_message_size);
	return EX_DATAERR;
}

int sendmail_msg_line(struct sendmail *sm, const char *l, size_t n)
{
	struct buf *dst = &sm->msg;
	size_t name;

	if (sm->in_header && n == 0) {
		sm->in_header = false;
	} else if (sm->in_header && (l[0] == ' ' || l[0] == '\t') &&
		   sm->field_seen) {
		dst = sm->in_bcc ? &sm->bcc : &sm->msg; /* a fold */
	} else if (sm->in_header && sendmail_field_start(l, n, &name)) {
		sm->field_seen = true;
		/* RFC 5322 3.6.3: Bcc: names recipients that others do
		 * not see; it never reaches them (as Postfix does). */
		sm->in_bcc = name == 3 && strncasecmp(l, "Bcc", 3) == 0;
		dst = sm->in_bcc ? &sm->bcc : &sm->msg;
	} else if (sm->in_header) {
		/* RFC 5322 2.1: a line that is no field starts the body:
		 * the empty line before it was left out. */
		sm->in_header = false;
		if (buf_append(&sm->msg, "\r\n", 2) < 0)
			return sendmail_too_big(sm, "the message");
	}
	for (size_t i = 0; i < n && !sm->eight_bit; i++)
		sm->eight_bit = (unsigned char)l[i] >= 0x80;
	if (buf_append(dst, l, n) < 0 || buf_append(dst, "\r\n", 2) < 0)
		return sendmail_too_big(sm, dst == &sm->bcc ? "the Bcc: header"
							    : "the message");
	return EX_OK;
}

/*
 * One line of stdin, l[0..n) without its LF, into the message. Returns
 * EX_OK or EX_DATAERR.
 */
static int sendmail_line(struct sendmail *sm, struct sendmail_in *in,
			 const char *l, size_t n)
{
	if (n > 0 && l[n - 1] == '\r')
		n--; /* CRLF as well as LF ends a line */
	/* sendmail(8): without -i, a line of one dot ends the message. */
	if (sm->dot_ends && n == 1 && l[0] == '.') {
		in->done = true;
		return EX_OK;
	}
	return sendmail_msg_line(sm, l, n);
}

/*
 * The lines of chunk[0..n): whole ones straight from it, a cut one
 * through in->line (bounded like the message). Returns EX_OK or
 * EX_DATAERR; stops at the lone dot.
 */
static int sendmail_chunk(struct sendmail *sm, struct sendmail_in *in,
			  const char *chunk, size_t n)
{
	int ret = EX_OK;

	while (n > 0 && ret == EX_OK && !in->done) {
		const char *lf = memchr(chunk, '\n', n);
		size_t len = lf != NULL ? (size_t)(lf - chunk) : n;

		if (buf_len(&in->line) > 0 || lf == NULL) {
			if (buf_append(&in->line, chunk, len) < 0)
				return sendmail_too_big(sm, "a line");
			if (lf != NULL) {
				ret = sendmail_line(sm, in, buf_data(&in->line),
						    buf_len(&in->line));
				buf_reset(&in->line);
			}
		} else {
			ret = sendmail_line(sm, in, chunk, len);
		}
		len += lf != NULL;
		chunk += len;
		n -= len;
	}
	return ret;
}

/*
 * stdin into sm->msg: lines of any length up to the message size limit,
 * LF or CRLF ends stored as CRLF, a last line without LF kept (and given
 * its CRLF). Not dot-stuffed: the spool holds the message as it is, the
 * SMTP client stuffs it when sending (RFC 5321 4.5.2).
 */
static int sendmail_read(struct sendmail *sm)
{
	struct sendmail_in in = {.done = false};
	char *chunk = xmalloc(SENDMAIL_READ_CHUNK);
	int ret = EX_OK;
	size_t n;

	buf_init(&in.line, (size_t)sm->cfg->smtp.max_message_size + 1);
	while (ret == EX_OK && !in.done &&
	       (n = fread(chunk, 1, SENDMAIL_READ_CHUNK, stdin)) > 0)
		ret = sendmail_chunk(sm, &in, chunk, n);
	if (ret == EX_OK && !in.done && ferror(stdin)) {
		fprintf(stderr, "postern sendmail: cannot read stdin: %s\n",
			strerror(errno));
		ret = EX_IOERR;
	}
	if (ret == EX_OK && !in.done && buf_len(&in.line) > 0)
		ret = sendmail_line(sm, &in, buf_data(&in.line),
				    buf_len(&in.line));
	buf_fini(&in.line);
	free(chunk);
	return ret;
}

static char *sendmail_default_sender(const struct sendmail *sm);

/* RFC 5322 3.2.3 atext. */
static bool sendmail_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * -F NAME as it can stand in a header: controls (CR, LF...) become
 * spaces, so the name cannot add a field; malformed UTF-8 becomes '?';
 * outer spaces go. Sets *ascii_r and *atoms_r (only atext and spaces:
 * a phrase of atoms, RFC 5322 3.2.5). The caller frees the result.
 */
static char *sendmail_clean_name(const char *name, bool *ascii_r, bool *atoms_r)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name), o = 0;
	char *out = xmalloc(len + 1);

	*ascii_r = *atoms_r = true;
	for (size_t i = 0; i < len; i++) {
		size_t n = p[i] >= 0x80 ? utf8_seq(p + i, len - i) : 1;

		if (n > 1) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n - 1;
			*ascii_r = *atoms_r = false;
			continue;
		}
		if (p[i] >= 0x80)
			out[o] = '?';
		else if (p[i] < 0x20 || p[i] == 0x7f)
			out[o] = ' ';
		else
			out[o] = (char)p[i];
		if (out[o] != ' ' && !sendmail_atext((unsigned char)out[o]))
			*atoms_r = false;
		if (out[o] != ' ' || o > 0)
			o++;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return out;
}

/*
 * The display name of "From: NAME <sender>" with its trailing space, ""
 * for an empty one. RFC 5322 3.4: a phrase, so atoms as they are, other
 * ASCII as a quoted-string (3.2.4); non-ASCII as RFC 2047 B encoded-words
 * of at most 75 characters (2047 2), cut between UTF-8 characters (2047
 * 5, 6.2: a line break between two words is not part of the name).
 */
static int sendmail_display_name(struct buf *b, const char *name)
{
	bool ascii, atoms;
	char *clean = sendmail_clean_name(name, &ascii, &atoms);
	const unsigned char *p = (const unsigned char *)clean;
	size_t len = strlen(clean);
	int r = 0;

	if (len == 0 || atoms) {
		r |= buf_printf(b, "%s%s", clean, len > 0 ? " " : "");
	} else if (ascii) {
		r |= buf_append(b, "\"", 1);
		for (size_t i = 0; i < len; i++) {
			if (clean[i] == '"' || clean[i] == '\\')
				r |= buf_append(b, "\\", 1);
			r |= buf_append(b, clean + i, 1);
		}
		r |= buf_append(b, "\" ", 2);
	} else {
		/* 45 octets are 60 base64 characters: 72 with =?UTF-8?B??= */
		char enc[64];

		for (size_t i = 0, n; i < len; i += n) {
			n = 0;
			while (i + n < len) {
				size_t k = p[i + n] >= 0x80
						   ? utf8_seq(p + i + n,
							      len - i - n)
						   : 1;
				if (n + k > 45)
					break;
				n += k;
			}
			base64_encode(p + i, n, enc);
			r |= buf_printf(b, "%s=?UTF-8?B?%s?=",
					i > 0 ? "\r\n " : "", enc);
		}
		r |= buf_append(b, " ", 1);
	}
	free(clean);
	return r;
}

/* RFC 5322 3.6.2: From: [-F NAME] <sender>, when the message has none. */
static int sendmail_from(const struct sendmail *sm, struct buf *b)
{
	char *dflt = sm->sender[0] == '\0' ? sendmail_default_sender(sm) : NULL;
	int r = buf_append(b, "From: ", 6);

	if (sm->full_name != NULL)
		r |= sendmail_display_name(b, sm->full_name);
	r |= buf_printf(b, "<%s>\r\n", dflt != NULL ? dflt : sm->sender);
	free(dflt);
	return r;
}

/* The trace of the injection and the headers the message lacks. */
static int sendmail_headers(struct sendmail *sm, struct header_scan *h,
			    const char *id, struct buf *b)
{
	char date[HEADER_DATE_SIZE], mid[300];
	int r = 0;

	header_date_format(date, sizeof(date), time(NULL));
	r |= buf_printf(b,
			"Received: by %s (postern) with local id %s\r\n"
			"\t(uid %ld); %s\r\n",
			sm->cfg->hostname, id, (long)getuid(), date);
	if (!header_scan_has(h, "From"))
		r |= sendmail_from(sm, b);
	if (!header_scan_has(h, "Date"))
		r |= buf_printf(b, "Date: %s\r\n", date);
	if (!header_scan_has(h, "Message-ID") &&
	    header_message_id(mid, sizeof(mid), id, sm->cfg->hostname) > 0)
		r |= buf_printf(b, "Message-ID: %s\r\n", mid);
	return r;
}

/* A header block through the scanner; -t takes its recipients. */
static struct header_scan *sendmail_scan_block(struct sendmail *sm,
					       const struct buf *b)
{
	struct header_scan *h = header_scan_new(NULL);
	size_t used;

	int r = header_scan_feed(h, buf_data(b), buf_len(b), &used);

	if (r == 0)
		r = header_scan_finish(h);
	if (r == -2) {
		fprintf(stderr, "postern sendmail: header not read: %s\n",
			header_scan_limit_error(h));
		header_scan_free(&h);
		return NULL;
	}
	if (sm->use_headers) {
		if (header_scan_rcpt_malformed(h))
			fprintf(stderr, "postern sendmail: warning: a "
					"malformed To:/Cc:/Bcc: field was "
					"ignored\n");
		/* Already valid addr-specs (header_scan_rcpt); one that
		 * is not anyway is printed and left out. */
		for (size_t i = 0; i < header_scan_rcpt_count(h); i++)
			if (sendmail_add_rcpt(sm, header_scan_rcpt(h, i), "",
					      sm->notify) < 0)
				continue;
	}
	return h;
}

/* The message's header (what it has, To:/Cc:) and the Bcc: fields;
 * NULL (EX_DATAERR) when either is past the scanner's limits. */
static struct header_scan *sendmail_scan(struct sendmail *sm)
{
	struct header_scan *bcc = sendmail_scan_block(sm, &sm->bcc);

	if (bcc == NULL)
		return NULL;
	header_scan_free(&bcc);
	return sendmail_scan_block(sm, &sm->msg);
}

/* spool_msg_new, or NULL after printing why with the exit code. */
static struct spool_msg *sendmail_spool_new(const struct sendmail *sm,
					    int *exit_r)
{
	const char *error = NULL;
	struct spool_msg *m;

	errno = 0;
	m = spool_msg_new(sm->cfg->data_dir, &error);
	if (m == NULL) {
		*exit_r = sendmail_errno_exit(errno, EX_CANTCREAT);
		fprintf(stderr, "postern sendmail: cannot queue: %s\n", error);
	}
	return m;
}

int sendmail_queue(struct sendmail *sm, char id_r[SPOOL_ID_SIZE])
{
	struct header_scan *h = sendmail_scan(sm);
	struct spool_envelope env;
	struct spool_msg *m = NULL;
	struct buf hdr;
	const char *error = NULL;
	int ret = EX_SOFTWARE;

	buf_init(&hdr, 8192);
	spool_envelope_init(&env);
	if (h == NULL) {
		ret = EX_DATAERR;
		goto out;
	}
	if (sm->nrcpts == 0) {
		fprintf(stderr, "postern sendmail: no recipients\n");
		ret = EX_USAGE;
		goto out;
	}
	if (sm->nrcpts > SPOOL_MAX_RCPTS) {
		fprintf(stderr, "postern sendmail: more than %d recipients\n",
			SPOOL_MAX_RCPTS);
		ret = EX_DATAERR;
		goto out;
	}
	env.sender = xstrdup(sm->sender);
	env.envid = xstrdup(sm->envid);
	env.auth = xstrdup("");
	env.ret = sm->ret;
	env.smtputf8 = sm->smtputf8;
	/* RFC 6152 2: 8-bit octets are sent with BODY=8BITMIME. */
	env.body = sm->body != SPOOL_BODY_DEFAULT ? sm->body
		   : sm->eight_bit		  ? SPOOL_BODY_8BITMIME
						  : SPOOL_BODY_DEFAULT;
	for (size_t i = 0; i < sm->nrcpts; i++)
		spool_envelope_add_rcpt(&env, sm->rcpts[i].address,
					sm->rcpts[i].orcpt,
					sm->rcpts[i].notify);
	m = sendmail_spool_new(sm, &ret);
	if (m == NULL)
		goto out;
	if (sendmail_headers(sm, h, spool_msg_id(m), &hdr) < 0) {
		fprintf(stderr, "postern sendmail: added header too long\n");
		goto out; /* EX_SOFTWARE: the fields we add are bounded */
	}
	errno = 0;
	if (spool_msg_write(m, buf_data(&hdr), buf_len(&hdr), &error) < 0 ||
	    spool_msg_write(m, buf_data(&sm->msg), buf_len(&sm->msg), &error) <
		    0 ||
	    spool_msg_commit(m, &env, &error) < 0) {
		ret = sendmail_errno_exit(errno, EX_IOERR);
		fprintf(stderr, "postern sendmail: cannot queue: %s\n", error);
		goto out;
	}
	if (sm->verbose)
		fprintf(stderr, "postern sendmail: queued as %s\n", env.id);
	memcpy(id_r, env.id, SPOOL_ID_SIZE);
	ret = EX_OK;
out:
	spool_msg_free(&m);
	spool_envelope_fini(&env);
	buf_fini(&hdr);
	header_scan_free(&h);
	return ret;
}

/* The invoking user, as a sender at our host name. */
static char *sendmail_default_sender(const struct sendmail *sm)
{
	struct passwd *pw = getpwuid(getuid());

	return xasprintf("%s@%s", pw != NULL ? pw->pw_name : "nobody",
			 sm->cfg->hostname);
}

/* What the command line asks for besides queueing a message. */
enum sendmail_mode {
	SENDMAIL_QUEUE, /* -bm, the default */
	SENDMAIL_HELP,
	SENDMAIL_MAILQ, /* -bp */
	SENDMAIL_FLUSH, /* -q */
	SENDMAIL_NOOP,	/* -bi, -I: newaliases */
	SENDMAIL_SMTP,	/* -bs: SMTP on stdin/stdout */
};

struct sendmail_args {
	enum sendmail_mode mode;
	const char *config;
	const char *sender;
	int first; /* argv index of the first recipient */
};

/* Flags taking no value; accepted, and for most ignored, as Postfix. */
#define SENDMAIL_FLAGS "8GIUimnstv"
/* Options with a value, attached ("-fSENDER") or the next word. */
#define SENDMAIL_VALUED "ABCFLNORVXbcdefhopr"

static int sendmail_bad(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Print "postern sendmail: ..." for a bad command line; returns -1. */
static int sendmail_bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "postern sendmail: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -1;
}

/* RFC 3461 4.1: NOTIFY=NEVER, or a list of SUCCESS, FAILURE, DELAY. */
static int sendmail_notify(struct sendmail *sm, const char *v)
{
	static const struct {
		const char *name;
		unsigned bit;
	} words[] = {{"never", SPOOL_NOTIFY_NEVER},
		     {"success", SPOOL_NOTIFY_SUCCESS},
		     {"failure", SPOOL_NOTIFY_FAILURE},
		     {"delay", SPOOL_NOTIFY_DELAY}};
	unsigned bits = 0;

	for (const char *p = v; *p != '\0';) {
		size_t n = strcspn(p, ","), k = 0;

		while (k < 4 && (strlen(words[k].name) != n ||
				 strncasecmp(p, words[k].name, n) != 0))
			k++;
		if (k == 4)
			return sendmail_bad("-N %s: not never or a list of "
					    "success,delay,failure",
					    v);
		bits |= words[k].bit;
		p += n + (p[n] == ',');
	}
	if (bits == 0 ||
	    ((bits & SPOOL_NOTIFY_NEVER) != 0 && bits != SPOOL_NOTIFY_NEVER))
		return sendmail_bad("-N %s: never goes alone", v);
	sm->notify = bits;
	return 0;
}

/* RFC 3461 4: xtext, every octet outside "!".."~", "+" and "=" as +XX. */
static int sendmail_envid(struct sendmail *sm, const char *v)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)v; *p != '\0';
	     p++) {
		bool plain = *p >= '!' && *p <= '~' && *p != '+' && *p != '=';

		if (o + (plain ? 1 : 3) > SMTP_ENVID_MAX)
			return sendmail_bad("-V: the envelope id is longer "
					    "than 100 characters of xtext "
					    "(RFC 3461 4.4)");
		if (plain)
			sm->envid[o++] = (char)*p;
		else
			o += (size_t)snprintf(sm->envid + o, 4, "+%02X", *p);
	}
	sm->envid[o] = '\0';
	return 0;
}

/* -b MODE: only what makes sense without a daemon of sendmail's own. */
static int sendmail_mode(struct sendmail_args *a, const char *v)
{
	if (strcmp(v, "m") == 0)
		a->mode = SENDMAIL_QUEUE;
	else if (strcmp(v, "p") == 0)
		a->mode = SENDMAIL_MAILQ;
	else if (strcmp(v, "i") == 0)
		a->mode = SENDMAIL_NOOP;
	else if (strcmp(v, "s") == 0)
		a->mode = SENDMAIL_SMTP;
	else
		return sendmail_bad("-b%s is not supported (postern serve "
				    "is the daemon; -bm, -bs, -bp and -bi "
				    "are known)",
				    v);
	return 0;
}

static int sendmail_valued(struct sendmail *sm, struct sendmail_args *a,
			   char opt, const char *v)
{
	switch (opt) {
	case 'f':
	case 'r':
		a->sender = v;
		return 0;
	case 'F':
		sm->full_name = v;
		return 0;
	case 'c':
	case 'C':
		a->config = v;
		return 0;
	case 'o':
		if (strcmp(v, "i") == 0)
			sm->dot_ends = false;
		return 0; /* -oem, -odi...: delivery is the server's */
	case 'b':
		return sendmail_mode(a, v);
	case 'N':
		return sendmail_notify(sm, v);
	case 'R':
		if (strcasecmp(v, "full") != 0 && strcasecmp(v, "hdrs") != 0)
			return sendmail_bad("-R %s: not full or hdrs", v);
		sm->ret = strcasecmp(v, "full") == 0 ? SPOOL_RET_FULL
						     : SPOOL_RET_HDRS;
		return 0;
	case 'V':
		return sendmail_envid(sm, v);
	case 'B':
		if (strcasecmp(v, "7bit") != 0 &&
		    strcasecmp(v, "8bitmime") != 0)
			return sendmail_bad("-B %s: not 7BIT or 8BITMIME", v);
		sm->body = strcasecmp(v, "7bit") == 0 ? SPOOL_BODY_7BIT
						      : SPOOL_BODY_8BITMIME;
		return 0;
	default: /* -A -L -O -X -d -e -h -p: nothing to do here */
		return 0;
	}
}

static void sendmail_flag(struct sendmail *sm, struct sendmail_args *a,
			  char opt)
{
	if (opt == 't')
		sm->use_headers = true;
	else if (opt == 'i')
		sm->dot_ends = false;
	else if (opt == 'v')
		sm->verbose = true;
	else if (opt == 'I')
		a->mode = SENDMAIL_NOOP;
}

/* One word of options: flags may be grouped ("-ti"), as getopt does. */
static int sendmail_word(struct sendmail *sm, struct sendmail_args *a, int argc,
			 char **argv, int *ip)
{
	const char *w = argv[*ip];

	for (size_t j = 1; w[j] != '\0'; j++) {
		char opt[3] = {'-', w[j], '\0'};
		const char *v = w + j + 1;

		if (strchr(SENDMAIL_FLAGS, w[j]) != NULL) {
			sendmail_flag(sm, a, w[j]);
			continue;
		}
		if (w[j] == 'q') {
			if (*v != '\0')
				return sendmail_bad("-q%s: periodic queue "
						    "runs are the server's",
						    v);
			a->mode = SENDMAIL_FLUSH;
			continue;
		}
		if (strchr(SENDMAIL_VALUED, w[j]) == NULL)
			return sendmail_bad("unknown option '%s'", opt);
		if (*v == '\0' && *ip + 1 < argc)
			v = argv[++*ip];
		else if (*v == '\0' && w[j] == 'h' && argc == 2) {
			a->mode = SENDMAIL_HELP; /* -h N is a hop count */
			return 0;
		} else if (*v == '\0')
			return sendmail_bad("option '%s' needs a value", opt);
		return sendmail_valued(sm, a, w[j], v);
	}
	return 0;
}

/*
 * sendmail's command line: options, then recipients. Returns 0 with a
 * filled, or -1 after printing why (EX_USAGE).
 */
static int sendmail_options(int argc, char **argv, struct sendmail *sm,
			    struct sendmail_args *a)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--help") == 0) {
			a->mode = SENDMAIL_HELP;
			return 0;
		}
		if (sendmail_word(sm, a, argc, argv, &i) < 0)
			return -1;
		if (a->mode == SENDMAIL_HELP)
			return 0;
	}
	a->first = i;
	return 0;
}

/* -bp: the queue as mailq shows it. */
static int sendmail_mailq(const struct sendmail_args *a)
{
	char *args[] = {"mailq", "-c", (char *)a->config, NULL};

	return cmd_mailq(a->config != NULL ? 3 : 1, args);
}

/* -q: every queued message is due now (postern queue flush). */
static int sendmail_flush(const struct config *cfg)
{
	const char *error;
	size_t n;

	if (spool_flush(cfg->data_dir, NULL, &n, &error) < 0) {
		fprintf(stderr, "postern sendmail: -q: %s\n", error);
		return EX_IOERR;
	}
	printf("%zu message%s to try now\n", n, n == 1 ? "" : "s");
	return EX_OK;
}

/* -f SENDER: "" and "<>" are the null sender; NULL after an error. */
static char *sendmail_sender(const struct sendmail *sm, const char *sender)
{
	if (sender == NULL)
		return sendmail_default_sender(sm);
	if (sender[0] == '\0' || strcmp(sender, "<>") == 0)
		return xstrdup("");
	return sendmail_address(sm, sender, "sender");
}

/* -bm: the message on stdin, for the command line's recipients. */
static int sendmail_message(struct sendmail *sm, const struct sendmail_args *a,
			    int argc, char **argv)
{
	char id[SPOOL_ID_SIZE];
	char *owned = sendmail_sender(sm, a->sender);
	int ret = owned != NULL ? EX_OK : EX_DATAERR;

	sm->sender = owned;
	for (int i = a->first; i < argc && ret == EX_OK; i++)
		if (sendmail_add_rcpt(sm, argv[i], "", sm->notify) < 0)
			ret = EX_DATAERR;
	if (ret == EX_OK)
		ret = sendmail_read(sm);
	if (ret == EX_OK)
		ret = sendmail_queue(sm, id);
	sm->sender = NULL;
	free(owned);
	return ret;
}

int cmd_sendmail(int argc, char **argv)
{
	struct sendmail sm = {.dot_ends = true, .in_header = true};
	struct sendmail_args a = {.mode = SENDMAIL_QUEUE};
	int ret = EX_OK;

	if (sendmail_options(argc, argv, &sm, &a) < 0) {
		fprintf(stderr, "Try 'postern sendmail --help'.\n");
		return EX_USAGE;
	}
	if (a.mode == SENDMAIL_HELP) {
		sendmail_usage(stdout);
		return EX_OK;
	}
	if (a.mode == SENDMAIL_MAILQ)
		return sendmail_mailq(&a);
	if (a.mode == SENDMAIL_NOOP) {
		fprintf(stderr, "postern sendmail: aliases live in the "
				"database (postern alias); nothing to do\n");
		return EX_OK;
	}
	if (a.mode == SENDMAIL_SMTP && a.first < argc) {
		fprintf(stderr, "postern sendmail: -bs takes its recipients "
				"from RCPT TO, not from the command line\n");
		return EX_USAGE;
	}
	sm.cfg = cli_config_load("sendmail", cli_config_path(a.config));
	if (sm.cfg == NULL)
		return EX_CONFIG;
	if (a.mode == SENDMAIL_FLUSH) {
		ret = sendmail_flush(sm.cfg);
		config_free(&sm.cfg);
		return ret;
	}
	buf_init(&sm.msg, (size_t)sm.cfg->smtp.max_message_size);
	buf_init(&sm.bcc, HEADER_BLOCK_MAX);
	if (a.mode == SENDMAIL_SMTP) {
		sm.use_headers = false; /* -t: the envelope is MAIL/RCPT's */
		ret = sendmail_bs(&sm);
	} else {
		ret = sendmail_message(&sm, &a, argc, argv);
	}
	sendmail_msg_reset(&sm);
	buf_fini(&sm.msg);
	buf_fini(&sm.bcc);
	config_free(&sm.cfg);
	return ret;
}
