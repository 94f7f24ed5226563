/*
 * postern sendmail -bs: SMTP on stdin/stdout, as Postfix's sendmail -bs
 * runs smtpd. Symfony Mailer and Laravel run "/usr/sbin/sendmail -bs"
 * (or "-bs -i") by default and speak SMTP over the pipe. Each message a
 * client hands over is queued by sendmail_queue(), the function that
 * queues a message read by plain sendmail, and only once it is durable
 * does the client get its 250.
 *
 * SECURITY: the trust of plain sendmail (whoever runs it may write the
 * spool); MAIL FROM counts as -f would. Commands still go through the
 * server's parsers (smtp/parse.h) with bounded lines, so a buggy client
 * cannot put a malformed envelope in the spool. Unlike the server, a LF
 * alone ends a line, as plain sendmail reads its input: the input comes
 * from a local program, not from a relay chain where a bare LF could
 * smuggle a second message (DESIGN.md 7); what is queued has CRLF line
 * ends either way.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/sendmail.h"
#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/mem.h"
#include "mail/address.h"
#include "server/config.h"
#include "smtp/parse.h"
#include "smtp/reply.h"

/* Input buffered at a time; it holds at least one line of either kind. */
#define BS_INPUT_MAX ((size_t)64 * 1024)
/* "local@domain" as address_format() writes it, quoting included. */
#define BS_PATH_SIZE (2 * ADDRESS_LOCAL_MAX + 3 + ADDRESS_DOMAIN_MAX + 1)

_Static_assert(BS_INPUT_MAX >= LIMIT_SMTP_TEXT_LINE &&
		       BS_INPUT_MAX >= LIMIT_SMTP_COMMAND_LINE,
	       "a whole line fits in the input buffer");
/* What the parser gives is stored as it is (smtp/parse.h, spool.h). */
_Static_assert(SMTP_NOTIFY_NEVER == SPOOL_NOTIFY_NEVER &&
		       SMTP_NOTIFY_SUCCESS == SPOOL_NOTIFY_SUCCESS &&
		       SMTP_NOTIFY_FAILURE == SPOOL_NOTIFY_FAILURE &&
		       SMTP_NOTIFY_DELAY == SPOOL_NOTIFY_DELAY,
	       "NOTIFY bits");
_Static_assert((int)SMTP_RET_FULL == (int)SPOOL_RET_FULL &&
		       (int)SMTP_RET_HDRS == (int)SPOOL_RET_HDRS &&
		       (int)SMTP_BODY_7BIT == (int)SPOOL_BODY_7BIT &&
		       (int)SMTP_BODY_8BITMIME == (int)SPOOL_BODY_8BITMIME,
	       "RET and BODY values");

enum bs_state {
	BS_INIT = 0x01, /* before HELO/EHLO */
	BS_HELO = 0x02, /* greeted, no transaction */
	BS_MAIL = 0x04, /* MAIL accepted, no recipient yet */
	BS_RCPT = 0x08, /* at least one recipient accepted */
	BS_QUIT = 0x10, /* the session is over */
};

#define BS_STATES_COMMAND (BS_INIT | BS_HELO | BS_MAIL | BS_RCPT)

enum bs_read {
	BS_READ_LINE, /* a line, without its LF or CRLF */
	BS_READ_LONG, /* a line past the limit, dropped */
	BS_READ_EOF,
	BS_READ_ERROR, /* stdin could not be read (printed) */
};

struct bs {
	struct sendmail *sm;
	enum bs_state state;
	bool esmtp;	   /* EHLO, not HELO: the extensions are on */
	char *sender;	   /* the transaction's MAIL FROM, owned */
	struct buf in;	   /* input not used yet */
	size_t consume;	   /* octets of the line last given out */
	bool skipping;	   /* dropping the rest of an over-long line */
	bool queue_failed; /* a message was answered 451 */
	bool read_failed;
	bool write_failed;
	/* -N -R -V -B of the command line: what MAIL and RCPT do not say */
	unsigned notify;
	enum spool_ret ret;
	enum spool_body body;
	char envid[SMTP_ENVID_MAX + 1];
};

/* The one way the state changes. */
static void bs_set_state(struct bs *bs, enum bs_state state)
{
	bs->state = state;
}

/* One reply line, CRLF added. Output goes out before the next read. */
static void bs_line(struct bs *bs, const char *line)
{
	if (printf("%s\r\n", line) < 0)
		bs->write_failed = true;
}

static void bs_reply(struct bs *bs, int code, const char *status,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "code status text"; RFC 2034 3: every reply has its status but 220
 * and 354 (status NULL). */
static void bs_reply(struct bs *bs, int code, const char *status,
		     const char *fmt, ...)
{
	/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets. */
	char text[SMTP_REPLY_LINE_MAX - 16], line[SMTP_REPLY_LINE_MAX - 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (status != NULL)
		snprintf(line, sizeof(line), "%d %s %s", code, status, text);
	else
		snprintf(line, sizeof(line), "%d %s", code, text);
	bs_line(bs, line);
}

static void bs_reply_parse_error(struct bs *bs, const struct smtp_error *err)
{
	bs_reply(bs, err->code, err->status, "%s", err->text);
}

/*
 * More input. What was answered so far goes out first: replies to a
 * pipelined group are sent together, but never held back past a read
 * that may block (RFC 2920 3.1). Returns 1, 0 at EOF (or when stdout is
 * gone), -1 after a read error.
 */
static int bs_fill(struct bs *bs)
{
	size_t room;
	char *p;
	ssize_t n;

	if (fflush(stdout) != 0) {
		bs->write_failed = true;
		return 0;
	}
	p = buf_space(&bs->in, BS_INPUT_MAX, &room);
	if (p == NULL)
		return 0; /* not reached: a line is looked for first */
	do
		n = read(STDIN_FILENO, p, room);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		fprintf(stderr, "postern sendmail: cannot read stdin: %s\n",
			strerror(errno));
		bs->read_failed = true;
		return -1;
	}
	buf_commit(&bs->in, (size_t)n);
	return n > 0;
}

/*
 * The next line, at most max octets with its CRLF (RFC 5321 4.5.3.1.4
 * and 4.5.3.1.6); LF alone ends a line too, one CR before it is not
 * part of it. The line in *l_r, *n_r stays valid until the next call. A
 * longer line is dropped up to its LF and reported once, at its end. A
 * last line without LF at EOF is not a line.
 */
static enum bs_read bs_read_line(struct bs *bs, size_t max, const char **l_r,
				 size_t *n_r)
{
	buf_consume(&bs->in, bs->consume);
	bs->consume = 0;
	for (;;) {
		const char *d = buf_data(&bs->in);
		size_t len = buf_len(&bs->in);
		size_t scan = bs->skipping || len < max ? len : max;
		const char *lf = scan > 0 ? memchr(d, '\n', scan) : NULL;
		int r;

		if (lf != NULL) {
			size_t n = (size_t)(lf - d);
			bool was_skipping = bs->skipping;

			bs->consume = n + 1;
			bs->skipping = false;
			if (n > 0 && d[n - 1] == '\r')
				n--;
			*l_r = d;
			*n_r = n;
			return was_skipping || n + 2 > max ? BS_READ_LONG
							   : BS_READ_LINE;
		}
		if (bs->skipping) {
			buf_reset(&bs->in);
		} else if (len >= max) {
			bs->skipping = true;
			buf_consume(&bs->in, max);
			continue;
		}
		r = bs_fill(bs);
		if (r <= 0)
			return r == 0 ? BS_READ_EOF : BS_READ_ERROR;
	}
}

/* Extensions advertised, for the parameter checks of MAIL and RCPT. */
static unsigned bs_exts(const struct bs *bs)
{
	const unsigned all = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_DSN |
			     SMTP_EXT_SMTPUTF8;

	return bs->esmtp ? all : 0;
}

/* Forget the transaction; the command line's defaults are back. */
static void bs_txn_reset(struct bs *bs)
{
	struct sendmail *sm = bs->sm;

	sendmail_msg_reset(sm);
	sm->sender = NULL;
	free(bs->sender);
	bs->sender = NULL;
	sm->ret = bs->ret;
	sm->body = bs->body;
	sm->smtputf8 = false;
	memcpy(sm->envid, bs->envid, sizeof(sm->envid));
}

/* HELO and EHLO: start over (RFC 5321 4.1.4). */
static bool bs_greet(struct bs *bs, const char *arg, size_t len, bool esmtp)
{
	struct smtp_error err;

	if (smtp_parse_helo(arg, len, &err) < 0) {
		bs_reply_parse_error(bs, &err);
		return false;
	}
	bs_txn_reset(bs);
	bs->esmtp = esmtp;
	bs_set_state(bs, BS_HELO);
	return true;
}

static void bs_helo(struct bs *bs, const char *arg, size_t len)
{
	if (bs_greet(bs, arg, len, false))
		bs_reply(bs, 250, NULL, "%s", bs->sm->cfg->hostname);
}

static void bs_ehlo(struct bs *bs, const char *arg, size_t len)
{
	char line[SMTP_REPLY_LINE_MAX - 1];

	if (!bs_greet(bs, arg, len, true))
		return;
	/* RFC 5321 4.1.1.1; each keyword from its own RFC. */
	snprintf(line, sizeof(line), "250-%s", bs->sm->cfg->hostname);
	bs_line(bs, line);
	bs_line(bs, "250-PIPELINING"); /* RFC 2920 */
	snprintf(line, sizeof(line), "250-SIZE %d",
		 bs->sm->cfg->smtp.max_message_size); /* RFC 1870 */
	bs_line(bs, line);
	bs_line(bs, "250-8BITMIME");		/* RFC 6152 */
	bs_line(bs, "250-ENHANCEDSTATUSCODES"); /* RFC 2034 */
	bs_line(bs, "250-SMTPUTF8");		/* RFC 6531 */
	bs_line(bs, "250 DSN");			/* RFC 3461 */
}

static void bs_mail(struct bs *bs, const char *arg, size_t len)
{
	struct sendmail *sm = bs->sm;
	struct smtp_mail_params p;
	struct smtp_error err;
	struct address from;
	char path[BS_PATH_SIZE];

	if (smtp_parse_mail(arg, len, bs_exts(bs), &from, &p, &err) < 0) {
		bs_reply_parse_error(bs, &err);
		return;
	}
	/* RFC 1870 6.2 */
	if (p.has_size && p.size > (uint64_t)sm->cfg->smtp.max_message_size) {
		bs_reply(bs, 552, "5.3.4",
			 "Message size exceeds fixed limit of %d octets",
			 sm->cfg->smtp.max_message_size);
		return;
	}
	if (address_format(&from, path, sizeof(path)) >= sizeof(path)) {
		bs_reply(bs, 501, "5.1.7", "Sender address too long");
		return;
	}
	bs->sender = xstrdup(path); /* "" for <> */
	sm->sender = bs->sender;
	if (p.ret != SMTP_RET_DEFAULT)
		sm->ret = (enum spool_ret)p.ret;
	if (p.body != SMTP_BODY_DEFAULT)
		sm->body = (enum spool_body)p.body;
	if (p.envid[0] != '\0')
		memcpy(sm->envid, p.envid, sizeof(sm->envid));
	sm->smtputf8 = p.smtputf8;
	bs_set_state(bs, BS_MAIL);
	bs_reply(bs, 250, "2.1.0", "Ok");
}

static void bs_rcpt(struct bs *bs, const char *arg, size_t len)
{
	struct sendmail *sm = bs->sm;
	struct smtp_rcpt_params p;
	struct smtp_error err;
	struct address to;
	char path[BS_PATH_SIZE];
	size_t max = (size_t)sm->cfg->smtp.max_recipients;

	if (smtp_parse_rcpt(arg, len, bs_exts(bs), sm->smtputf8, &to, &p,
			    &err) < 0) {
		bs_reply_parse_error(bs, &err);
		return;
	}
	/* RFC 5321 4.5.3.1.10: 452 and the client sends the rest later. */
	if (sm->nrcpts >= max || sm->nrcpts >= SPOOL_MAX_RCPTS) {
		bs_reply(bs, 452, "4.5.3", "Too many recipients");
		return;
	}
	/* "<Postmaster>" has no domain: sendmail_add_rcpt gives it ours. */
	if (address_format(&to, path, sizeof(path)) >= sizeof(path) ||
	    sendmail_add_rcpt(sm, path, p.orcpt,
			      p.notify != 0 ? p.notify : bs->notify) < 0) {
		bs_reply(bs, 501, "5.1.3", "Bad recipient address syntax");
		return;
	}
	bs_set_state(bs, BS_RCPT);
	bs_reply(bs, 250, "2.1.5", "Ok");
}

/* The end of DATA: queue the message, durably, then say so. */
static void bs_data_end(struct bs *bs, bool too_big, bool too_long)
{
	char id[SPOOL_ID_SIZE];
	int r;

	if (too_long) {
		/* RFC 5321 4.5.3.1.6 */
		bs_reply(bs, 552, "5.6.0",
			 "Message has a line longer than %d octets",
			 LIMIT_SMTP_TEXT_LINE);
		return;
	}
	if (too_big) {
		bs_reply(bs, 552, "5.3.4",
			 "Message size exceeds fixed limit of %d octets",
			 bs->sm->cfg->smtp.max_message_size);
		return;
	}
	r = sendmail_queue(bs->sm, id);
	if (r == EX_OK) {
		bs_reply(bs, 250, "2.0.0", "Ok: queued as %s", id);
	} else if (r == EX_DATAERR) {
		bs_reply(bs, 554, "5.6.0",
			 "Message header past the limits of what is read");
	} else {
		bs->queue_failed = true;
		bs_reply(bs, 451, "4.3.0",
			 "Message not queued: the spool could not be "
			 "written; try again later");
	}
}

/*
 * DATA: the text up to the line of one dot (RFC 5321 4.1.1.4), with the
 * leading dot of other lines taken off (4.5.2). At EOF the message is
 * dropped, as a server drops one whose connection was cut.
 */
static void bs_data(struct bs *bs, const char *arg, size_t len)
{
	bool too_big = false, too_long = false;
	const char *l;
	size_t n;

	bs_reply(bs, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	for (;;) {
		enum bs_read r = bs_read_line(bs, LIMIT_SMTP_TEXT_LINE, &l, &n);

		if (r == BS_READ_EOF || r == BS_READ_ERROR) {
			bs_set_state(bs, BS_QUIT);
			return;
		}
		if (r == BS_READ_LONG) {
			too_long = true;
			continue;
		}
		if (n == 1 && l[0] == '.')
			break;
		if (n > 0 && l[0] == '.') {
			l++;
			n--;
		}
		/* After a refusal, read on to the dot without keeping. */
		if (!too_big && !too_long &&
		    sendmail_msg_line(bs->sm, l, n) != EX_OK)
			too_big = true;
	}
	bs_data_end(bs, too_big, too_long);
	bs_txn_reset(bs);
	bs_set_state(bs, BS_HELO);
}

static void bs_rset(struct bs *bs, const char *arg, size_t len)
{
	bs_txn_reset(bs);
	if (bs->state != BS_INIT)
		bs_set_state(bs, BS_HELO);
	bs_reply(bs, 250, "2.0.0", "Ok");
}

static void bs_noop(struct bs *bs, const char *arg, size_t len)
{
	bs_reply(bs, 250, "2.0.0", "Ok");
}

static void bs_quit(struct bs *bs, const char *arg, size_t len)
{
	bs_reply(bs, 221, "2.0.0", "%s Bye", bs->sm->cfg->hostname);
	bs_set_state(bs, BS_QUIT);
}

static void bs_vrfy(struct bs *bs, const char *arg, size_t len)
{
	if (len == 0) {
		bs_reply(bs, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	/* RFC 5321 3.5.3: neither confirm nor refuse. */
	bs_reply(bs, 252, "2.5.2",
		 "Cannot VRFY user, but will accept message and attempt "
		 "delivery");
}

static void bs_help(struct bs *bs, const char *arg, size_t len)
{
	bs_reply(bs, 214, "2.0.0",
		 "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY "
		 "HELP; see RFC 5321");
}

#define BS_NO_ARG 0x01 /* the command takes no argument */

/* The commands; a verb not listed here is 502 when smtp_parse_verb
 * knows it (BDAT, EXPN, ETRN, STARTTLS, AUTH), else 500. */
static const struct bs_command {
	enum smtp_verb verb;
	void (*handler)(struct bs *bs, const char *arg, size_t len);
	unsigned states; /* BS_* where it is allowed */
	unsigned flags;	 /* BS_NO_ARG */
} bs_commands[] = {
	{SMTP_VERB_EHLO, bs_ehlo, BS_STATES_COMMAND, 0},
	{SMTP_VERB_HELO, bs_helo, BS_STATES_COMMAND, 0},
	{SMTP_VERB_MAIL, bs_mail, BS_HELO, 0},
	{SMTP_VERB_RCPT, bs_rcpt, BS_MAIL | BS_RCPT, 0},
	{SMTP_VERB_DATA, bs_data, BS_RCPT, BS_NO_ARG},
	{SMTP_VERB_RSET, bs_rset, BS_STATES_COMMAND, BS_NO_ARG},
	{SMTP_VERB_NOOP, bs_noop, BS_STATES_COMMAND, 0},
	{SMTP_VERB_QUIT, bs_quit, BS_STATES_COMMAND, BS_NO_ARG},
	{SMTP_VERB_VRFY, bs_vrfy, BS_STATES_COMMAND, 0},
	{SMTP_VERB_HELP, bs_help, BS_STATES_COMMAND, 0},
};

/* The dispatcher: the table's rules, then the handler. */
static void bs_command(struct bs *bs, const char *l, size_t n)
{
	const struct bs_command *cmd = NULL;
	enum smtp_verb verb;
	const char *arg;
	size_t arg_len;

	if (memchr(l, '\0', n) != NULL) {
		bs_reply(bs, 500, "5.5.2", "NUL in command line");
		return;
	}
	verb = smtp_parse_verb(l, n, &arg, &arg_len);
	for (size_t i = 0; i < sizeof(bs_commands) / sizeof(bs_commands[0]);
	     i++)
		if (bs_commands[i].verb == verb)
			cmd = &bs_commands[i];
	if (cmd == NULL && verb != SMTP_VERB_UNKNOWN) {
		/* RFC 5321 4.2.4 */
		bs_reply(bs, 502, "5.5.1", "Command not implemented");
		return;
	}
	if (cmd == NULL) {
		bs_reply(bs, 500, "5.5.2", "Command not recognized");
		return;
	}
	if ((cmd->states & bs->state) == 0) {
		bs_reply(bs, 503, "5.5.1", "Bad sequence of commands");
		return;
	}
	if ((cmd->flags & BS_NO_ARG) && arg_len > 0) {
		bs_reply(bs, 501, "5.5.4", "Syntax: %s takes no argument",
			 smtp_verb_name(verb));
		return;
	}
	cmd->handler(bs, arg, arg_len);
}

int sendmail_bs(struct sendmail *sm)
{
	struct bs bs = {.sm = sm,
			.state = BS_INIT,
			.notify = sm->notify,
			.ret = sm->ret,
			.body = sm->body};
	const char *l;
	size_t n;

	memcpy(bs.envid, sm->envid, sizeof(bs.envid));
	buf_init(&bs.in, BS_INPUT_MAX);
	/* A client that stops reading ends the session, not the process
	 * in the middle of a queue commit. */
	signal(SIGPIPE, SIG_IGN);
	bs_reply(&bs, 220, NULL, "%s ESMTP postern", sm->cfg->hostname);
	while (bs.state != BS_QUIT && !bs.write_failed) {
		enum bs_read r =
			bs_read_line(&bs, LIMIT_SMTP_COMMAND_LINE, &l, &n);

		if (r == BS_READ_EOF || r == BS_READ_ERROR)
			break;
		if (r == BS_READ_LONG)
			/* RFC 5321 4.5.3.1.4, 4.5.3.1.10 */
			bs_reply(&bs, 500, "5.5.2", "Line too long");
		else
			bs_command(&bs, l, n);
	}
	(void)fflush(stdout);
	bs_txn_reset(&bs);
	buf_fini(&bs.in);
	if (bs.queue_failed)
		return EX_TEMPFAIL;
	return bs.read_failed ? EX_IOERR : EX_OK;
}
