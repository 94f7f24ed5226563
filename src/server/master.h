/*
 * The master process of `postern serve`: reads the configuration, binds
 * the listeners, loads TLS, forks the workers and supervises them.
 *
 * SECURITY: may run as root; it never reads from the network. It keeps
 * root only to bind ports and read the private key on reload.
 *
 * Signals: SIGTERM/SIGINT drain the workers and exit 0; SIGHUP reloads the
 * configuration and certificates: a new generation of workers takes the
 * listeners while the old one finishes its sessions undisturbed.
 */
#ifndef SERVER_MASTER_H
#define SERVER_MASTER_H

/* Run until stopped. Returns the process exit status (0, 1 or 2). */
int master_run(const char *config_path);

#endif
