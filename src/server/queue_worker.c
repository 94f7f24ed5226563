#include "server/queue_worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/userdb.h"
#include "dns/resolver.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/tls.h"
#include "queue/spool.h"
#include "server/config.h"
#include "smtp/relay.h"

/* A full rescan of the spool this often, in case a notification was lost. */
#define QUEUE_RESCAN_SECONDS 60
/* Without inotify (fs.inotify.max_user_instances used up): how often the
 * spool directory is looked at instead. */
#define QUEUE_POLL_SECONDS 1

struct queue_item {
	TAILQ_ENTRY(queue_item) entry;
	char id[SPOOL_ID_SIZE];
	time_t when; /* next attempt */
	bool busy;   /* an attempt is running */
	bool held;   /* postern queue hold: not tried until released */
};

struct queue_worker {
	struct event_base *base;
	const struct config *cfg;
	struct relay_ctx relay;
	TAILQ_HEAD(, queue_item) items;
	size_t active;
	bool stopping;
	int inotify_fd;
	struct event *ev_inotify;
	struct event *ev_timer;
	struct event *ev_rescan;
	struct event *ev_poll;	   /* no inotify: env/ looked at instead */
	struct timespec env_mtime; /* ... as it was at the last look */
	char *password;		   /* smart host password, read at start */
	struct relay_port auto_ports[RELAY_AUTO_MAX]; /* relay.auto_ports */
	struct relay_tls_policy *tls_policy;	      /* queue.tls_policy */
	struct sockaddr_storage bind4, bind6; /* queue.bind_address(6) */
};

static struct queue_item *queue_find(struct queue_worker *q, const char *id)
{
	struct queue_item *it;

	TAILQ_FOREACH(it, &q->items, entry)
	{
		if (strcmp(it->id, id) == 0)
			return it;
	}
	return NULL;
}

static void queue_arm(struct queue_worker *q);

/* Learn of a message (again): its next attempt comes from the envelope. */
static void queue_add(struct queue_worker *q, const char *id)
{
	struct spool_envelope env;
	struct queue_item *it;
	const char *error;

	if (!spool_id_valid(id))
		return;
	it = queue_find(q, id);
	if (it != NULL && it->busy)
		return; /* the attempt in flight rewrote it */
	spool_envelope_init(&env);
	if (spool_envelope_read(q->cfg->data_dir, id, &env, &error) < 0) {
		spool_envelope_fini(&env);
		/* postern queue delete: forget it, or it would be tried (and
		 * fail to read) every few minutes for good. */
		if (it != NULL && !spool_queued(q->cfg->data_dir, id)) {
			log_info(id, "gone from the spool", NULL);
			TAILQ_REMOVE(&q->items, it, entry);
			free(it);
		}
		return; /* removed meanwhile, or not ours */
	}
	if (it == NULL) {
		it = xcalloc(1, sizeof(*it));
		strlcpy_p(it->id, id, sizeof(it->id));
		TAILQ_INSERT_TAIL(&q->items, it, entry);
		log_info(id, "queued", "rcpts=%zu size=%llu", env.nrcpts,
			 (unsigned long long)env.size);
	}
	if (env.held != it->held)
		log_info(id, env.held ? "held" : "released", NULL);
	it->held = env.held;
	it->when = env.next_attempt;
	spool_envelope_fini(&env);
}

static int queue_scan_cb(const char *id, void *ctx)
{
	queue_add(ctx, id);
	return 0;
}

static void queue_scan(struct queue_worker *q)
{
	const char *error;
	char qe[300];

	if (spool_list(q->cfg->data_dir, queue_scan_cb, q, &error) < 0)
		log_error(NULL, "cannot list the spool", "error=%s",
			  log_qs(qe, sizeof(qe), error));
	queue_arm(q);
}

static void queue_done(void *arg, const char *id, time_t next)
{
	struct queue_worker *q = arg;
	struct queue_item *it = queue_find(q, id);

	q->active--;
	if (it != NULL) {
		it->busy = false;
		if (next == 0) {
			TAILQ_REMOVE(&q->items, it, entry);
			free(it);
		} else {
			it->when = next;
			queue_add(q, id); /* a hold given meanwhile */
		}
	}
	queue_arm(q);
}

/* Start what is due, up to the concurrency limit. */
static void queue_run(struct queue_worker *q)
{
	time_t now = time(NULL);
	struct queue_item *it;

	TAILQ_FOREACH(it, &q->items, entry)
	{
		if (q->stopping ||
		    q->active >= (size_t)q->cfg->queue.concurrency)
			break;
		if (it->busy || it->held || it->when > now)
			continue;
		it->busy = true;
		q->active++;
		if (relay_message(&q->relay, it->id, queue_done, q) < 0) {
			it->busy = false;
			q->active--;
			it->when = now + 300; /* unreadable: look again later */
		}
	}
}

/* The timer fires at the earliest next attempt. */
static void queue_arm(struct queue_worker *q)
{
	time_t now = time(NULL), first = 0;
	struct queue_item *it;
	struct timeval tv = {0, 0};

	queue_run(q);
	TAILQ_FOREACH(it, &q->items, entry)
	{
		if (!it->busy && !it->held && (first == 0 || it->when < first))
			first = it->when;
	}
	evtimer_del(q->ev_timer);
	if (first == 0 || q->stopping)
		return;
	tv.tv_sec = first > now ? first - now : 0;
	if (tv.tv_sec == 0)
		tv.tv_usec = 100000; /* due now but busy: soon */
	evtimer_add(q->ev_timer, &tv);
}

static void queue_on_timer(evutil_socket_t fd, short what, void *arg)
{
	queue_arm(arg);
}

static void queue_on_rescan(evutil_socket_t fd, short what, void *arg)
{
	queue_scan(arg);
}

/*
 * No inotify: a scan when env/ changed since the last look. Every commit,
 * rewrite (a rename into env/) and removal changes the directory's mtime,
 * and a stat a second costs nothing, unlike reading every envelope.
 */
static void queue_on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct queue_worker *q = arg;
	char *dir = xasprintf("%s/queue/env", q->cfg->data_dir);
	struct stat st;

	if (stat(dir, &st) == 0 &&
	    (st.st_mtim.tv_sec != q->env_mtime.tv_sec ||
	     st.st_mtim.tv_nsec != q->env_mtime.tv_nsec)) {
		q->env_mtime = st.st_mtim;
		queue_scan(q);
	}
	free(dir);
}

/* env/ changed: an envelope was committed, rewritten (by the CLI) or
 * removed. */
static void queue_on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct queue_worker *q = arg;
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len > 0)
				queue_add(q, ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
	queue_arm(q);
}

static void queue_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct queue_worker *q = arg;

	/*
	 * Attempts in flight are dropped, not awaited: the spool still
	 * holds every message and its last recorded state, so the next
	 * start simply tries again.
	 */
	q->stopping = true;
	log_info(NULL, "queue worker stopping", "active=%zu", q->active);
	event_base_loopbreak(q->base);
}

static int queue_watch(struct queue_worker *q)
{
	char *dir = xasprintf("%s/queue/env", q->cfg->data_dir);
	char *parent = xasprintf("%s/queue", q->cfg->data_dir);
	int ret = 0;

	/* The spool creates these too; the watch needs them now. */
	if ((mkdir(parent, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		ret = -1;
	q->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ret == 0 &&
	    (q->inotify_fd < 0 ||
	     inotify_add_watch(q->inotify_fd, dir,
			       IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE) < 0))
		ret = -1;
	if (ret < 0)
		log_error(NULL, "cannot watch the spool", "dir=%s error=%s",
			  log_qs((char[300]){0}, 300, dir),
			  log_qs((char[128]){0}, 128, strerror(errno)));
	free(dir);
	free(parent);
	return ret;
}

/* The smart host password: a file, first line, never the config. */
static char *queue_read_password(const char *path)
{
	char buf[512];
	FILE *fp = fopen(path, "re");
	size_t n;

	if (fp == NULL)
		fatal("cannot read relay.password_file %s: %s", path,
		      strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* queue.bind_address(6), checked at load, into *ss; NULL when unset. */
static const struct sockaddr_storage *
queue_bind_address(const char *text, int family, struct sockaddr_storage *ss)
{
	void *bin = family == AF_INET
			    ? (void *)&((struct sockaddr_in *)ss)->sin_addr
			    : (void *)&((struct sockaddr_in6 *)ss)->sin6_addr;

	if (text == NULL)
		return NULL;
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (inet_pton(family, text, bin) != 1)
		panic("queue bind address %s not checked at load", text);
	return ss;
}

static void queue_setup_relay(struct queue_worker *q, const char *db_path)
{
	const struct config *cfg = q->cfg;
	struct dns_config dc = {cfg->dns.forward, cfg->dns.trust_anchor, 10000};
	struct relay_ctx *r = &q->relay;
	const char *error;

	r->base = q->base;
	r->data_dir = cfg->data_dir;
	r->hostname = cfg->hostname;
	r->tls = tls_ctx_client_new(&error);
	if (r->tls == NULL)
		fatal("cannot create the TLS client context: %s", error);
	r->dns = dns_resolver_new(q->base, &dc, &error);
	if (r->dns == NULL)
		fatal("cannot start the DNS resolver: %s", error);
	r->userdb = userdb_open(db_path, true, &error);
	if (r->userdb == NULL)
		fatal("cannot open user database %s: %s", db_path, error);
	r->pool = relay_pool_new(q->base, cfg->queue.max_connections,
				 cfg->queue.max_per_destination);
	r->mx_port = cfg->queue.mx_port;
	r->bind4 =
		queue_bind_address(cfg->queue.bind_address, AF_INET, &q->bind4);
	r->bind6 = queue_bind_address(cfg->queue.bind_address6, AF_INET6,
				      &q->bind6);
	r->smarthost = cfg->relay.host;
	r->smarthost_port = cfg->relay.port;
	r->smarthost_user = cfg->relay.user;
	if (cfg->relay.password_file != NULL)
		q->password = queue_read_password(cfg->relay.password_file);
	r->smarthost_password = q->password;
	for (size_t i = 0; i < cfg->relay.auto_count && i < RELAY_AUTO_MAX;
	     i++) {
		static const enum smtp_client_tls modes[] = {
			[CONFIG_RELAY_TLS_MAY] = SMTP_TLS_MAY,
			[CONFIG_RELAY_TLS_STARTTLS] = SMTP_TLS_ENCRYPT,
			[CONFIG_RELAY_TLS_IMPLICIT] = SMTP_TLS_IMPLICIT,
		};

		q->auto_ports[i].port = cfg->relay.auto_ports[i].port;
		q->auto_ports[i].tls = modes[cfg->relay.auto_ports[i].tls];
		r->auto_count = i + 1;
	}
	r->auto_ports = q->auto_ports;
	r->auto_known = -1;
	if (r->smarthost != NULL && r->smarthost_port == 0)
		relay_smarthost_remembered(r);
	q->tls_policy = xcalloc(cfg->queue.tls_policy_count + 1,
				sizeof(*q->tls_policy));
	for (size_t i = 0; i < cfg->queue.tls_policy_count; i++) {
		static const enum smtp_client_tls modes[] = {
			[CONFIG_OUT_TLS_NONE] = SMTP_TLS_NONE,
			[CONFIG_OUT_TLS_MAY] = SMTP_TLS_MAY,
			[CONFIG_OUT_TLS_ENCRYPT] = SMTP_TLS_ENCRYPT,
		};

		q->tls_policy[i].domain = cfg->queue.tls_policy[i].domain;
		q->tls_policy[i].tls = modes[cfg->queue.tls_policy[i].tls];
	}
	r->tls_policy = q->tls_policy;
	r->tls_policy_count = cfg->queue.tls_policy_count;
	r->lifetime = cfg->queue.lifetime;
	r->warn_after = cfg->queue.warn_after;
	r->retry = cfg->queue.retry;
	r->retry_count = cfg->queue.retry_count;
}

static void queue_free(struct queue_worker *q)
{
	struct queue_item *it;

	while ((it = TAILQ_FIRST(&q->items)) != NULL) {
		TAILQ_REMOVE(&q->items, it, entry);
		free(it);
	}
	relay_pool_free(&q->relay.pool);
	dns_resolver_free(&q->relay.dns);
	tls_ctx_free(&q->relay.tls);
	userdb_free(&q->relay.userdb);
	if (q->ev_inotify != NULL)
		event_free(q->ev_inotify);
	event_free(q->ev_timer);
	event_free(q->ev_rescan);
	if (q->ev_poll != NULL)
		event_free(q->ev_poll);
	if (q->inotify_fd >= 0)
		close(q->inotify_fd);
	if (q->password != NULL)
		explicit_bzero(q->password, strlen(q->password));
	free(q->password);
	free(q->tls_policy);
	event_base_free(q->base);
}

int queue_worker_run(const struct config *cfg)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT};
	struct timeval rescan = {QUEUE_RESCAN_SECONDS, 0};
	struct event *sev[3];
	struct queue_worker q;
	char *db_path = xasprintf("%s/postern.db", cfg->data_dir);

	memset(&q, 0, sizeof(q));
	TAILQ_INIT(&q.items);
	q.cfg = cfg;
	q.inotify_fd = -1;
	q.base = event_base_new();
	if (q.base == NULL)
		fatal("cannot create event base");
	queue_setup_relay(&q, db_path);
	free(db_path);
	if (queue_watch(&q) == 0) {
		q.ev_inotify =
			event_new(q.base, q.inotify_fd, EV_READ | EV_PERSIST,
				  queue_on_inotify, &q);
		event_add(q.ev_inotify, NULL);
	} else {
		struct timeval poll = {QUEUE_POLL_SECONDS, 0};

		log_warn(NULL, "looking at the spool every second instead",
			 NULL);
		q.ev_poll =
			event_new(q.base, -1, EV_PERSIST, queue_on_poll, &q);
		event_add(q.ev_poll, &poll);
	}
	q.ev_timer = evtimer_new(q.base, queue_on_timer, &q);
	q.ev_rescan = event_new(q.base, -1, EV_PERSIST, queue_on_rescan, &q);
	event_add(q.ev_rescan, &rescan);
	for (size_t i = 0; i < 3; i++) {
		sev[i] = evsignal_new(q.base, sigs[i], queue_on_signal, &q);
		event_add(sev[i], NULL);
	}
	log_info(NULL, "queue worker started",
		 "concurrency=%d max_connections=%d max_per_destination=%d "
		 "bind_address=%s bind_address6=%s",
		 cfg->queue.concurrency, cfg->queue.max_connections,
		 cfg->queue.max_per_destination,
		 cfg->queue.bind_address != NULL ? cfg->queue.bind_address
						 : "any",
		 cfg->queue.bind_address6 != NULL ? cfg->queue.bind_address6
						  : "any");
	queue_scan(&q);
	event_base_dispatch(q.base);
	log_info(NULL, "queue worker stopped", "active=%zu", q.active);
	for (size_t i = 0; i < 3; i++)
		event_free(sev[i]);
	queue_free(&q);
	return 0;
}
