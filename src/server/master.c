#include "server/master.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/scram.h"
#include "auth/throttle.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/listener.h"
#include "net/tls.h"
#include "server/config.h"
#include "server/privdrop.h"
#include "server/queue_worker.h"
#include "server/worker.h"
#include "store/store.h"

/* A worker that dies younger than this is restarted after a pause. */
#define MASTER_RESPAWN_MIN_AGE 2
#define MASTER_RESPAWN_DELAY 1
/* Grace past shutdown_timeout before stragglers get SIGKILL. */
#define MASTER_KILL_GRACE 5

struct master_socket {
	char *address;
	int port;
	int fd;
};

struct master {
	char *config_path;
	struct config *cfg;
	struct tls_ctx *tls;
	struct throttle *throttle; /* shared by every generation of workers */
	struct store_counters *counters; /* the same */
	struct privdrop priv;
	struct event_base *base;

	struct master_socket *socks; /* parallel to cfg->listeners */
	size_t nsocks;

	/* Current generation: cfg->workers front workers, then the queue
	 * worker in the last slot; 0 where none runs. */
	pid_t *workers;
	time_t *started;
	pid_t *retired; /* older generations, finishing their sessions */
	size_t nretired;

	bool stopping;
	struct event *ev_respawn;
	struct event *ev_kill;
};

static void master_sigs_default(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGHUP, SIG_IGN); /* the master alone reloads */
}

/* Front workers plus the one queue worker. */
static size_t master_slots(const struct master *m)
{
	return (size_t)m->cfg->workers + 1;
}

static int *master_fds(const struct master *m)
{
	int *fds = xcalloc(m->nsocks, sizeof(*fds));

	for (size_t i = 0; i < m->nsocks; i++)
		fds[i] = m->socks[i].fd;
	return fds;
}

static void master_spawn(struct master *m, size_t slot)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error(NULL, "fork failed", "error=%s",
			  log_qs((char[128]){0}, 128, strerror(errno)));
		return;
	}
	if (pid == 0) {
		int *fds = master_fds(m);
		int status;

		/*
		 * The master's event base shares its epoll and signal pipe
		 * with the parent: give the child its own copy, then drop it.
		 */
		event_reinit(m->base);
		event_base_free(m->base);
		m->base = NULL;
		master_sigs_default();
		privdrop_apply(&m->priv);
		if (slot == (size_t)m->cfg->workers) {
			/* It accepts nothing: the listeners are not its. */
			for (size_t i = 0; i < m->nsocks; i++)
				close(fds[i]);
			log_set_process("queue");
			status = queue_worker_run(m->cfg);
		} else {
			log_set_process("worker");
			status = worker_run(m->cfg, m->tls, m->throttle,
					    m->counters, fds, (int)slot);
		}
		free(fds);
		_exit(status);
	}
	m->workers[slot] = pid;
	m->started[slot] = time(NULL);
	log_info(NULL, "worker spawned", "worker=%zu child=%ld", slot,
		 (long)pid);
}

static void master_spawn_missing(struct master *m)
{
	for (size_t i = 0; i < master_slots(m); i++) {
		if (m->workers[i] == 0)
			master_spawn(m, i);
	}
}

static void master_on_respawn(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	(void)fd;
	(void)what;
	if (!m->stopping)
		master_spawn_missing(m);
}

static size_t master_alive(const struct master *m)
{
	size_t n = m->nretired;

	for (size_t i = 0; i < master_slots(m); i++)
		n += m->workers[i] != 0;
	return n;
}

static void master_log_exit(pid_t pid, int status, const char *which)
{
	if (WIFEXITED(status))
		log_event(WEXITSTATUS(status) == 0 ? LOG_LEVEL_INFO
						   : LOG_LEVEL_WARN,
			  NULL, "worker exited", "child=%ld status=%d gen=%s",
			  (long)pid, WEXITSTATUS(status), which);
	else if (WIFSIGNALED(status))
		log_warn(NULL, "worker killed", "child=%ld signal=%d gen=%s",
			 (long)pid, WTERMSIG(status), which);
}

/* A child is gone: restart it if it belonged to the current generation. */
static void master_reap(struct master *m, pid_t pid, int status)
{
	for (size_t i = 0; i < m->nretired; i++) {
		if (m->retired[i] == pid) {
			master_log_exit(pid, status, "retired");
			m->retired[i] = m->retired[--m->nretired];
			return;
		}
	}
	for (size_t i = 0; i < master_slots(m); i++) {
		struct timeval tv = {MASTER_RESPAWN_DELAY, 0};

		if (m->workers[i] != pid)
			continue;
		master_log_exit(pid, status, "current");
		m->workers[i] = 0;
		if (m->stopping)
			return;
		if (time(NULL) - m->started[i] < MASTER_RESPAWN_MIN_AGE)
			evtimer_add(m->ev_respawn, &tv); /* crash loop brake */
		else
			master_spawn(m, i);
		return;
	}
}

static void master_on_sigchld(struct master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		master_reap(m, pid, status);
	if (m->stopping && master_alive(m) == 0)
		event_base_loopbreak(m->base);
}

static void master_signal_all(struct master *m, int sig)
{
	for (size_t i = 0; i < master_slots(m); i++) {
		if (m->workers[i] != 0)
			kill(m->workers[i], sig);
	}
	for (size_t i = 0; i < m->nretired; i++)
		kill(m->retired[i], sig);
}

static void master_on_kill(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	(void)fd;
	(void)what;
	log_warn(NULL, "workers did not stop in time, killing", "alive=%zu",
		 master_alive(m));
	master_signal_all(m, SIGKILL);
}

static void master_stop(struct master *m)
{
	struct timeval tv = {
		m->cfg->limits.shutdown_timeout + MASTER_KILL_GRACE, 0};

	if (m->stopping)
		return;
	m->stopping = true;
	log_info(NULL, "shutting down", "workers=%zu", master_alive(m));
	master_signal_all(m, SIGTERM);
	evtimer_add(m->ev_kill, &tv);
	if (master_alive(m) == 0)
		event_base_loopbreak(m->base);
}

static void master_error(struct config_errors *errors, char *msg)
{
	errors->msgs = xrealloc(errors->msgs,
				(errors->count + 1) * sizeof(*errors->msgs));
	errors->msgs[errors->count++] = msg;
}

static bool master_needs_tls(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->listener_count; i++) {
		if (cfg->listeners[i].tls != CONFIG_TLS_NONE)
			return true;
	}
	return cfg->tls.cert != NULL;
}

/* Configuration, certificates and the worker account, all or nothing. */
static int master_load(const char *path, struct config **cfg_r,
		       struct tls_ctx **tls_r, struct privdrop *priv,
		       struct config_errors *errors)
{
	struct config *cfg = config_load(path, errors);
	const char *error;

	*tls_r = NULL;
	if (cfg == NULL)
		return -1;
	if (master_needs_tls(cfg)) {
		struct tls_sni_cert *sni =
			xcalloc(cfg->tls.sni_count, sizeof(*sni));
		struct tls_server_params p = {cfg->tls.cert, cfg->tls.key,
					      cfg->tls.min_version, sni,
					      cfg->tls.sni_count};

		for (size_t i = 0; i < cfg->tls.sni_count; i++)
			sni[i] = (struct tls_sni_cert){cfg->tls.sni[i].name,
						       cfg->tls.sni[i].cert,
						       cfg->tls.sni[i].key};
		*tls_r = tls_ctx_server_new(&p, &error);
		free(sni);
		if (*tls_r == NULL)
			master_error(errors, xasprintf("%s:%d: tls: %s", path,
						       cfg->tls.line, error));
	}
	if (errors->count == 0 && privdrop_init(priv, cfg->user, &error) < 0)
		master_error(errors, xasprintf("%s: user: %s", path, error));
	if (errors->count > 0) {
		tls_ctx_free(tls_r);
		config_free(&cfg);
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

/*
 * Sockets for cfg's listeners, reusing the master's current ones where the
 * address and port are unchanged, so a reload never refuses connections.
 */
static struct master_socket *master_bind(struct master *m,
					 const struct config *cfg,
					 struct config_errors *errors)
{
	struct master_socket *s = xcalloc(cfg->listener_count, sizeof(*s));

	for (size_t i = 0; i < cfg->listener_count; i++) {
		const struct config_listener *l = &cfg->listeners[i];
		const char *error;

		s[i].address = xstrdup(l->address);
		s[i].port = l->port;
		s[i].fd = -1;
		for (size_t j = 0; j < m->nsocks; j++) {
			if (m->socks[j].fd >= 0 &&
			    m->socks[j].port == l->port &&
			    strcmp(m->socks[j].address, l->address) == 0) {
				s[i].fd = m->socks[j].fd;
				m->socks[j].fd = -1; /* moved */
			}
		}
		if (s[i].fd < 0)
			s[i].fd = listener_bind(l->address, l->port, &error);
		if (s[i].fd < 0)
			master_error(errors,
				     xasprintf("%s:%d: listeners: %s",
					       m->config_path, l->line, error));
	}
	return s;
}

static void master_close_socks(struct master_socket **sp, size_t n)
{
	struct master_socket *s = *sp;

	for (size_t i = 0; s != NULL && i < n; i++) {
		if (s[i].fd >= 0)
			close(s[i].fd);
		free(s[i].address);
	}
	free(s);
	*sp = NULL;
}

/* Give the sockets taken over by the new set back to the old set's list. */
static void master_unbind(struct master *m, struct master_socket *news,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < m->nsocks && news[i].fd >= 0; j++) {
			if (m->socks[j].fd < 0 &&
			    m->socks[j].port == news[i].port &&
			    strcmp(m->socks[j].address, news[i].address) == 0) {
				m->socks[j].fd = news[i].fd;
				news[i].fd = -1;
			}
		}
	}
	master_close_socks(&news, n);
}

static void master_log_errors(struct config_errors *errors)
{
	char q[600];

	for (size_t i = 0; i < errors->count; i++)
		log_error(NULL, "reload failed", "error=%s",
			  log_qs(q, sizeof(q), errors->msgs[i]));
}

static void master_start_generation(struct master *m)
{
	m->workers = xcalloc(master_slots(m), sizeof(*m->workers));
	m->started = xcalloc(master_slots(m), sizeof(*m->started));
	master_spawn_missing(m);
}

static void master_retire_generation(struct master *m)
{
	for (size_t i = 0; i < master_slots(m); i++) {
		if (m->workers[i] == 0)
			continue;
		kill(m->workers[i], SIGQUIT);
		m->retired = xrealloc(m->retired,
				      (m->nretired + 1) * sizeof(*m->retired));
		m->retired[m->nretired++] = m->workers[i];
	}
	xfree(&m->workers);
	xfree(&m->started);
}

static void master_reload(struct master *m)
{
	struct config_errors errors = {0};
	struct config *cfg;
	struct tls_ctx *tls;
	struct privdrop priv;
	struct master_socket *socks;
	const char *error;

	log_info(NULL, "reloading", "config=%s",
		 log_qs((char[300]){0}, 300, m->config_path));
	if (master_load(m->config_path, &cfg, &tls, &priv, &errors) < 0) {
		master_log_errors(&errors);
		config_errors_fini(&errors);
		return;
	}
	socks = master_bind(m, cfg, &errors);
	if (errors.count > 0) {
		master_log_errors(&errors);
		config_errors_fini(&errors);
		master_unbind(m, socks, cfg->listener_count);
		tls_ctx_free(&tls);
		privdrop_fini(&priv);
		config_free(&cfg);
		return;
	}
	if (log_open(cfg->log_file, cfg->log_level, &error) < 0)
		log_error(NULL, "cannot reopen log", "error=%s",
			  log_qs((char[128]){0}, 128, error));
	master_retire_generation(m);
	master_close_socks(&m->socks, m->nsocks);
	m->socks = socks;
	m->nsocks = cfg->listener_count;
	tls_ctx_free(&m->tls);
	config_free(&m->cfg);
	privdrop_fini(&m->priv);
	m->cfg = cfg;
	m->tls = tls;
	m->priv = priv;
	master_start_generation(m);
	log_info(NULL, "reloaded", "workers=%d listeners=%zu retiring=%zu",
		 cfg->workers, cfg->listener_count, m->nretired);
}

static void master_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	(void)what;
	switch (sig) {
	case SIGCHLD:
		master_on_sigchld(m);
		break;
	case SIGHUP:
		if (!m->stopping)
			master_reload(m);
		break;
	default:
		master_stop(m);
		break;
	}
}

static void master_print_errors(struct config_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		fprintf(stderr, "%s\n", errors->msgs[i]);
}

static void master_free(struct master *m)
{
	master_close_socks(&m->socks, m->nsocks);
	tls_ctx_free(&m->tls);
	throttle_free(&m->throttle);
	store_counters_free(&m->counters);
	config_free(&m->cfg);
	privdrop_fini(&m->priv);
	free(m->workers);
	free(m->started);
	free(m->retired);
	if (m->ev_respawn != NULL)
		event_free(m->ev_respawn);
	if (m->ev_kill != NULL)
		event_free(m->ev_kill);
	if (m->base != NULL)
		event_base_free(m->base);
	free(m->config_path);
}

int master_run(const char *config_path)
{
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT};
	struct event *sev[5];
	struct config_errors errors = {0};
	struct master m;
	const char *error;

	memset(&m, 0, sizeof(m));
	m.config_path = xstrdup(config_path);
	log_set_process("master");
	if (master_load(config_path, &m.cfg, &m.tls, &m.priv, &errors) == 0)
		m.socks = master_bind(&m, m.cfg, &errors);
	if (errors.count > 0) {
		master_print_errors(&errors);
		config_errors_fini(&errors);
		master_free(&m);
		return 1;
	}
	m.nsocks = m.cfg->listener_count;
	m.throttle = throttle_new();
	m.counters = store_counters_new();
	/* One SCRAM secret for all workers: made-up salts stay consistent. */
	if (scram_init(&error) < 0) {
		fprintf(stderr, "postern: %s\n", error);
		master_free(&m);
		return 2;
	}
	if (log_open(m.cfg->log_file, m.cfg->log_level, &error) < 0) {
		fprintf(stderr, "%s: log.file: %s\n", config_path, error);
		master_free(&m);
		return 1;
	}
	m.base = event_base_new();
	if (m.base == NULL)
		fatal("cannot create event base");
	m.ev_respawn = evtimer_new(m.base, master_on_respawn, &m);
	m.ev_kill = evtimer_new(m.base, master_on_kill, &m);
	for (size_t i = 0; i < 5; i++) {
		sev[i] = evsignal_new(m.base, sigs[i], master_on_signal, &m);
		event_add(sev[i], NULL);
	}
	master_start_generation(&m);
	log_info(NULL, "ready", "workers=%d listeners=%zu config=%s",
		 m.cfg->workers, m.cfg->listener_count,
		 log_qs((char[300]){0}, 300, config_path));
	event_base_dispatch(m.base);
	log_info(NULL, "stopped", "status=%d", 0);
	for (size_t i = 0; i < 5; i++)
		event_free(sev[i]);
	master_free(&m);
	return 0;
}
