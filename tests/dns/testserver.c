#include "testserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_ATTEMPTS 3
#define READY_WAIT_MS 5000

static char ts_error[2048];

static int find_unbound(char *path, size_t size)
{
	const char *env = getenv("PATH");
	const char *dirs = "/usr/sbin:/sbin:/usr/local/sbin";

	/* PATH first, then the sbin directories a user's PATH may lack. */
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass == 0 ? env : dirs;

		while (p != NULL && *p != '\0') {
			size_t len = strcspn(p, ":");

			if (len > 0 && len < size - sizeof("/unbound") &&
			    snprintf(path, size, "%.*s/unbound", (int)len, p) >
				    0 &&
			    access(path, X_OK) == 0)
				return 0;
			p += len + (p[len] == ':');
		}
	}
	return -1;
}

/* A port free for both UDP and TCP on 127.0.0.1 (the server binds both). */
static int free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = -1, port = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (u < 0 || bind(u, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(u, (struct sockaddr *)&sin, &len) != 0)
		goto out;
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (t >= 0 && bind(t, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		port = ntohs(sin.sin_port);
out:
	if (u >= 0)
		close(u);
	if (t >= 0)
		close(t);
	return port;
}

static int write_config(const struct dns_testserver *s, const char *zone)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/unbound.conf", s->dir);
	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	fprintf(fp,
		"server:\n"
		"\tinterface: 127.0.0.1@%d\n"
		"\tport: %d\n"
		"\tdo-daemonize: no\n"
		"\tchroot: \"\"\n"
		"\tusername: \"\"\n"
		"\tdirectory: \"%s\"\n"
		"\tpidfile: \"\"\n"
		"\tuse-syslog: no\n"
		"\tlogfile: \"\"\n"
		"\tverbosity: 1\n"
		"\tnum-threads: 1\n"
		"\tdo-ip6: no\n"
		"\taccess-control: 127.0.0.0/8 allow\n"
		"\tmodule-config: \"iterator\"\n"
		"\t# Every name outside the test zones: NXDOMAIN, never\n"
		"\t# a query to the Internet.\n"
		"\tlocal-zone: \".\" static\n"
		"%s\n"
		"remote-control:\n"
		"\tcontrol-enable: no\n",
		s->port, s->port, s->dir, zone);
	return fclose(fp) == 0 ? 0 : -1;
}

static pid_t spawn(const struct dns_testserver *s, const char *unbound)
{
	char conf[128], log[128];
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/unbound.conf", s->dir);
	snprintf(log, sizeof(log), "%s/unbound.log", s->dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(unbound, "unbound", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Does the server answer a query for "ready.test" A? */
static bool probe(int port)
{
	static const unsigned char query[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1,	0,   0,	  0,   0, 0, 0, 5, 'r',
		'e',  'a',  'd',  'y',	4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct pollfd pfd;
	unsigned char reply[512];
	bool ok = false;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	pfd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	pfd.events = POLLIN;
	if (pfd.fd < 0)
		return false;
	if (connect(pfd.fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    send(pfd.fd, query, sizeof(query), 0) == (ssize_t)sizeof(query) &&
	    poll(&pfd, 1, 100) == 1 &&
	    recv(pfd.fd, reply, sizeof(reply), 0) >= 12 && reply[0] == 0x12)
		ok = true;
	close(pfd.fd);
	return ok;
}

static void log_tail(const struct dns_testserver *s, const char *what)
{
	char path[128], buf[1500] = "";
	FILE *fp;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/unbound.log", s->dir);
	fp = fopen(path, "r");
	if (fp != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	snprintf(ts_error, sizeof(ts_error), "%s; unbound log:\n%s", what, buf);
}

/* Wait until the server answers: 0, or -1 when it exited or never did. */
static int wait_ready(struct dns_testserver *s)
{
	for (int waited = 0; waited < READY_WAIT_MS; waited += 100) {
		int status;

		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			log_tail(s, "unbound exited at start");
			return -1;
		}
		if (probe(s->port))
			return 0;
		if (waited > 0)
			nanosleep(&(struct timespec){0, 20L * 1000 * 1000},
				  NULL);
	}
	log_tail(s, "unbound does not answer");
	return -1;
}

int dns_testserver_start(struct dns_testserver *s, const char *zone,
			 const char **error_r)
{
	char unbound[512];

	memset(s, 0, sizeof(*s));
	if (find_unbound(unbound, sizeof(unbound)) != 0) {
		*error_r = "unbound(8) not found: install the Debian package "
			   "'unbound' (scripts/deps.sh does)";
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/postern-dns-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		s->dir[0] = '\0';
		*error_r = "cannot create a temporary directory";
		return -1;
	}
	for (int i = 0; i < START_ATTEMPTS; i++) {
		s->port = free_port();
		if (s->port < 0 || write_config(s, zone) != 0) {
			*error_r = "cannot find a port or write the config";
			return -1;
		}
		s->pid = spawn(s, unbound);
		if (s->pid < 0) {
			s->pid = 0;
			*error_r = "fork failed";
			return -1;
		}
		if (wait_ready(s) == 0) {
			snprintf(s->forward, sizeof(s->forward), "127.0.0.1@%d",
				 s->port);
			return 0;
		}
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
		}
	}
	*error_r = ts_error;
	return -1;
}

void dns_testserver_stop(struct dns_testserver *s)
{
	static const char *const files[] = {"unbound.conf", "unbound.log"};
	char path[128];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
		unlink(path);
	}
	rmdir(s->dir);
	s->dir[0] = '\0';
}
