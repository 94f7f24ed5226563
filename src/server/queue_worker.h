/*
 * The queue worker: one process that delivers the outbound spool
 * (DESIGN.md section 3). It learns of new messages from inotify on the
 * spool's env/ folder (the spool, not the notification, is the truth: a
 * rescan at start and every minute catches anything missed), and keeps a
 * schedule of next attempts.
 *
 * SECURITY: runs unprivileged like the front workers; talks to remote
 * servers as a client.
 */
#ifndef SERVER_QUEUE_WORKER_H
#define SERVER_QUEUE_WORKER_H

struct config;

/* Run until SIGTERM; returns the exit status. */
int queue_worker_run(const struct config *cfg);

#endif
