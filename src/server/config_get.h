/*
 * Internal to the configuration module: the state of one load and the
 * typed getters that check a setting and report a problem as
 * "FILE:LINE: path.key: message". Not for use outside src/server/config*.
 */
#ifndef SERVER_CONFIG_GET_H
#define SERVER_CONFIG_GET_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/config.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One load in progress. */
struct config_loader {
	const char *name;     /* file name in messages */
	const char *base_dir; /* absolute; relative paths start here */
	struct config_errors *errors;
	struct config *cfg;
};

/* Append msg (taken over) to errors. */
void config_errors_add(struct config_errors *errors, char *msg);

/*
 * Make path absolute against base (already absolute) and drop "." parts
 * and repeated slashes. The caller frees the result.
 */
char *config_path_resolve(const char *base, const char *path);

/*
 * Name of the file a setting or error comes from: ld->name for the main
 * file (file NULL), an absolute path for an @include. The caller frees it.
 */
char *config_source_name(const struct config_loader *ld, const char *file);

/*
 * Record "FILE:LINE: parent.key: message" for setting where. parent and
 * key may each be NULL; the root group's errors point at line 1.
 */
void config_report(struct config_loader *ld, const config_setting_t *where,
		   const char *parent, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void config_report_missing(struct config_loader *ld,
			   const config_setting_t *where, const char *path,
			   const char *key);

/* "a string", "an integer", ... for messages. */
const char *config_type_name(const config_setting_t *s);

/* Report every member of group whose name is not in known[]. */
void config_check_keys(struct config_loader *ld, config_setting_t *group,
		       const char *path, const char *const *known, size_t n);

/*
 * Typed getters: 1 when key is present and valid, 0 when absent, -1 when
 * invalid (already reported).
 */
int config_get_string(struct config_loader *ld, config_setting_t *group,
		      const char *path, const char *key, const char **value_r);
/* A non-empty string. */
int config_get_text(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, const char **value_r);
int config_get_int(struct config_loader *ld, config_setting_t *group,
		   const char *path, const char *key, long long min,
		   long long max, int *value_r);
int config_get_bool(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, bool *value_r);
/* A string that must be one of names[]; *value_r gets its index. */
int config_get_enum(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, const char *const *names,
		    size_t n, int *value_r);
/* A non-empty path, made absolute; *value_r is owned by the caller. */
int config_get_path(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, char **value_r);
/*
 * An array of non-empty strings ["a", "b"]; *values_r (a NULL-terminated
 * vector the caller frees with each string) and *count_r.
 */
int config_get_strings(struct config_loader *ld, config_setting_t *group,
		       const char *path, const char *key, char ***values_r,
		       size_t *count_r);
/* A member that must be a group; NULL when absent or not (reported). */
config_setting_t *config_get_group(struct config_loader *ld,
				   config_setting_t *parent, const char *key);
/* A list of groups ( { ... }, ... ); NULL when absent or not. */
config_setting_t *config_get_group_list(struct config_loader *ld,
					config_setting_t *parent,
					const char *path, const char *key);

/* Schema parts kept in their own files (config_outbound.c). */
void config_parse_outbound(struct config_loader *ld, config_setting_t *root);
void config_outbound_defaults(struct config *cfg);
void config_outbound_free(struct config *cfg);

#endif
