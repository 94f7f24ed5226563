#include "server/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/throttle.h"
#include "auth/userdb.h"
#include "imap/session.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/offload.h"
#include "pop3/session.h"
#include "server/config.h"
#include "smtp/session.h"
#include "store/store.h"

/* Connections taken per readiness event, so one listener cannot starve. */
#define WORKER_ACCEPT_BATCH 32
/* How often a draining worker looks whether its sessions are gone. */
#define WORKER_DRAIN_POLL_MS 100

struct worker;

struct worker_listener {
	struct worker *w;
	const struct config_listener *lc;
	int fd;
	struct event *ev;
	struct smtp_server smtp;
	struct imap_server imap;
	struct pop3_server pop3;
};

struct worker {
	struct event_base *base;
	const struct config *cfg;
	struct tls_ctx *tls;
	struct userdb *userdb;
	struct throttle *throttle;
	struct store_counters *counters;
	struct store_watch *watch; /* IMAP IDLE's notifications, or NULL */
	struct event *ev_watch;
	struct conn_set conns;
	struct worker_listener *ls;
	size_t nls;
	bool draining;
	struct event *ev_poll;
};

static void worker_start_session(struct worker_listener *l, struct conn *c)
{
	switch (l->lc->service) {
	case SERVICE_SMTP:
	case SERVICE_SUBMISSION:
		smtp_session_start(c, &l->smtp);
		break;
	case SERVICE_IMAP:
		imap_session_start(c, &l->imap);
		break;
	case SERVICE_POP3:
		pop3_session_start(c, &l->pop3);
		break;
	}
}

static void worker_refuse(struct worker_listener *l, struct conn *c,
			  const char *why)
{
	log_info(conn_sid(c), "connection refused", "peer=%s reason=%s",
		 conn_peer_ip(c), log_qs((char[128]){0}, 128, why));
	if (l->lc->tls == CONFIG_TLS_IMPLICIT) {
		/* No plaintext on a TLS port: just close. */
		conn_free(&c);
		return;
	}
	switch (l->lc->service) {
	case SERVICE_SMTP:
	case SERVICE_SUBMISSION:
		smtp_session_refuse(c, &l->smtp, why);
		break;
	case SERVICE_IMAP:
		imap_session_refuse(c, &l->imap, why);
		break;
	case SERVICE_POP3:
		pop3_session_refuse(c, &l->pop3, why);
		break;
	}
}

/* Implicit TLS: the session starts once the handshake is done. */
static void worker_on_tls(struct conn *c, enum conn_event ev, void *arg)
{
	struct worker_listener *l = arg;

	switch (ev) {
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(c), "tls", "version=%s cipher=%s",
			 conn_tls_version(c), conn_tls_cipher(c));
		worker_start_session(l, c);
		break;
	case CONN_EV_CLOSED:
	case CONN_EV_SHUTDOWN:
	case CONN_EV_TIMEOUT:
		conn_free(&c);
		break;
	case CONN_EV_DATA:
	case CONN_EV_FLUSHED:
	case CONN_EV_WAKE:
		break;
	}
}

static void worker_accept_one(struct worker_listener *l, int fd)
{
	struct worker *w = l->w;
	const struct config *cfg = w->cfg;
	struct conn *c = conn_new(w->base, fd, &w->conns, 512);

	log_info(conn_sid(c), "connect", "peer=%s port=%d service=%s tls=%s",
		 conn_peer_ip(c), conn_local_port(c),
		 config_service_name(l->lc->service),
		 config_tls_mode_name(l->lc->tls));
	if (w->conns.count > (size_t)cfg->limits.max_connections) {
		worker_refuse(l, c, "Too many connections");
		return;
	}
	if (conn_set_count_ip(&w->conns, conn_peer_ip(c)) >
	    (size_t)cfg->limits.max_connections_per_ip) {
		worker_refuse(l, c, "Too many connections from your address");
		return;
	}
	if (l->lc->tls == CONFIG_TLS_IMPLICIT) {
		conn_set_callback(c, worker_on_tls, l);
		conn_set_timeout(c, cfg->limits.idle_timeout);
		conn_start_tls(c, w->tls, NULL);
		return;
	}
	worker_start_session(l, c);
}

static void worker_on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct worker_listener *l = arg;

	(void)what;
	for (int i = 0; i < WORKER_ACCEPT_BATCH && !l->w->draining; i++) {
		int cfd = listener_accept(fd);

		if (cfd < 0)
			return;
		worker_accept_one(l, cfd);
	}
}

static void worker_close_listeners(struct worker *w)
{
	for (size_t i = 0; i < w->nls; i++) {
		if (w->ls[i].ev != NULL)
			event_free(w->ls[i].ev);
		w->ls[i].ev = NULL;
		if (w->ls[i].fd >= 0)
			close(w->ls[i].fd);
		w->ls[i].fd = -1;
	}
}

static void worker_on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (w->conns.count == 0)
		event_base_loopbreak(w->base);
}

static void worker_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	log_warn(NULL, "drain deadline reached, closing sessions",
		 "sessions=%zu", w->conns.count);
	event_base_loopbreak(w->base);
}

static void worker_drain(struct worker *w, bool ask_sessions, int deadline)
{
	struct timeval poll = {0, WORKER_DRAIN_POLL_MS * 1000};

	if (!w->draining) {
		w->draining = true;
		worker_close_listeners(w);
		w->ev_poll =
			event_new(w->base, -1, EV_PERSIST, worker_on_poll, w);
		event_add(w->ev_poll, &poll);
	}
	if (ask_sessions)
		conn_set_shutdown(&w->conns);
	if (deadline >= 0) {
		struct timeval tv = {deadline, 0};

		event_base_once(w->base, -1, EV_TIMEOUT, worker_on_deadline, w,
				&tv);
	}
	log_info(NULL, ask_sessions ? "draining" : "retiring", "sessions=%zu",
		 w->conns.count);
}

static void worker_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	if (sig == SIGQUIT)
		worker_drain(w, false, -1);
	else
		worker_drain(w, true, w->cfg->limits.shutdown_timeout);
}

static void worker_setup_listener(struct worker *w, struct worker_listener *l,
				  const struct config_listener *lc, int fd)
{
	const struct config *cfg = w->cfg;
	bool starttls = lc->tls == CONFIG_TLS_STARTTLS;

	l->w = w;
	l->lc = lc;
	l->fd = fd;
	l->smtp = (struct smtp_server){
		.hostname = cfg->hostname,
		.data_dir = cfg->data_dir,
		.userdb = w->userdb,
		.tls = w->tls,
		.starttls = starttls,
		.submission = lc->service == SERVICE_SUBMISSION,
		.idle_timeout = cfg->limits.idle_timeout,
		.data_timeout = cfg->smtp.data_timeout,
		.max_message_size = (size_t)cfg->smtp.max_message_size,
		.max_recipients = (size_t)cfg->smtp.max_recipients,
		.max_errors = cfg->smtp.max_errors,
		.vrfy = cfg->smtp.vrfy,
		.expn = cfg->smtp.expn,
		.etrn_domains = cfg->smtp.etrn_domains,
		.etrn_networks = cfg->smtp.etrn_networks,
		.etrn_net_count = cfg->smtp.etrn_net_count,
		.auth = lc->service == SERVICE_SUBMISSION || cfg->smtp.mx_auth,
		.hide_client_ip = cfg->smtp.hide_client_ip &&
				  lc->service == SERVICE_SUBMISSION,
		.throttle = w->throttle,
		.relay_networks = cfg->smtp.relay_networks,
		.relay_count = cfg->smtp.relay_count,
	};
	l->imap = (struct imap_server){
		.hostname = cfg->hostname,
		.tls = w->tls,
		.starttls = starttls,
		.idle_timeout = cfg->limits.idle_timeout,
		.data_dir = cfg->data_dir,
		.userdb = w->userdb,
		.throttle = w->throttle,
		.counters = w->counters,
		.watch = w->watch,
		.max_message_size = (size_t)cfg->smtp.max_message_size,
	};
	l->pop3 = (struct pop3_server){
		.hostname = cfg->hostname,
		.tls = w->tls,
		.starttls = starttls,
		.idle_timeout = cfg->limits.idle_timeout,
		.data_dir = cfg->data_dir,
		.userdb = w->userdb,
		.throttle = w->throttle,
		.counters = w->counters,
	};
	l->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, worker_on_accept,
			  l);
	event_add(l->ev, NULL);
}

static void worker_on_watch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	store_watch_read(arg);
}

/* IMAP IDLE learns of changes from inotify; without it, IDLE polls. */
static void worker_open_watch(struct worker *w)
{
	w->watch = store_watch_new();
	if (w->watch == NULL) {
		log_warn(NULL, "no inotify: IMAP IDLE polls twice a second",
			 "error=%s", strerror(errno));
		return;
	}
	w->ev_watch =
		event_new(w->base, store_watch_fd(w->watch),
			  EV_READ | EV_PERSIST, worker_on_watch, w->watch);
	event_add(w->ev_watch, NULL);
}

/* Each worker has its own handle: SQLite handles do not cross fork. */
static struct userdb *worker_open_userdb(const struct config *cfg)
{
	char *path = xasprintf("%s/postern.db", cfg->data_dir);
	const char *error;
	struct userdb *db = userdb_open(path, true, &error);

	if (db == NULL)
		fatal("cannot open user database %s: %s", path, error);
	free(path);
	return db;
}

int worker_run(const struct config *cfg, struct tls_ctx *tls,
	       struct throttle *throttle, struct store_counters *counters,
	       const int *fds, int index)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT};
	struct event *sev[3];
	struct worker w;

	memset(&w, 0, sizeof(w));
	w.base = event_base_new();
	if (w.base == NULL)
		fatal("cannot create event base");
	/* Password checks leave the loop; threads start at the first one,
	 * here in the worker, after fork. */
	offload_default_init(w.base);
	w.cfg = cfg;
	w.tls = tls;
	conn_set_init(&w.conns);
	w.userdb = worker_open_userdb(cfg);
	w.throttle = throttle;
	w.counters = counters;
	worker_open_watch(&w);
	w.nls = cfg->listener_count;
	w.ls = xcalloc(w.nls, sizeof(*w.ls));
	for (size_t i = 0; i < w.nls; i++)
		worker_setup_listener(&w, &w.ls[i], &cfg->listeners[i], fds[i]);
	for (size_t i = 0; i < 3; i++) {
		sev[i] = evsignal_new(w.base, sigs[i], worker_on_signal, &w);
		event_add(sev[i], NULL);
	}
	log_info(NULL, "worker started", "worker=%d listeners=%zu", index,
		 w.nls);
	event_base_dispatch(w.base);

	log_info(NULL, "worker stopped", "worker=%d sessions=%zu", index,
		 w.conns.count);
	worker_close_listeners(&w);
	while (!TAILQ_EMPTY(&w.conns.head)) {
		struct conn *c = TAILQ_FIRST(&w.conns.head);

		conn_free(&c); /* past the deadline: sessions are cut */
	}
	for (size_t i = 0; i < 3; i++)
		event_free(sev[i]);
	if (w.ev_poll != NULL)
		event_free(w.ev_poll);
	if (w.ev_watch != NULL)
		event_free(w.ev_watch);
	store_watch_free(&w.watch);
	free(w.ls);
	userdb_free(&w.userdb);
	offload_default_free(); /* checks of cut sessions are dropped */
	event_base_free(w.base);
	return 0;
}
