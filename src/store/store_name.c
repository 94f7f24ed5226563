/*
 * Names in the mail store: IMAP mailbox names and their Maildir++
 * directories, Maildir file names and their ":2," info (system flags), and
 * keyword lists.
 *
 * SECURITY: a mailbox name becomes one directory entry ".A.B" under the
 * user's Maildir; '.', '/' at either end, empty levels and control
 * characters are refused, so no name can reach "..", another user or a
 * path with more than one component. Names read from disk go through the
 * same checks before any path is built from them.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/mem.h"

/* Maildir info letters (the Maildir convention, as mutt and Dovecot read
 * them) and the flag each one stands for. */
static const struct {
	char letter;
	unsigned flag;
} store_letters[] = {
	{'D', STORE_F_DRAFT}, {'F', STORE_F_FLAGGED}, {'R', STORE_F_ANSWERED},
	{'S', STORE_F_SEEN},  {'T', STORE_F_DELETED},
};

#define N_LETTERS (sizeof(store_letters) / sizeof(store_letters[0]))

/* A process-wide counter for unique names (the Q part). */
static unsigned long store_name_counter;

bool store_name_is_inbox(const char *name)
{
	return strcmp(name, "INBOX") == 0;
}

/* The checks shared by names from clients and from disk. */
static const char *store_name_problem(const char *name, size_t len)
{
	size_t depth = 1;

	if (len == 0)
		return "empty mailbox name";
	if (len > STORE_NAME_MAX || len + 1 >= STORE_FILE_NAME_SIZE)
		return "mailbox name too long";
	if (name[0] == '/' || name[len - 1] == '/')
		return "mailbox name starts or ends with '/'";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return "control character in mailbox name";
		if (c == '.')
			return "'.' in mailbox name";
		/* LIST wildcards could never be matched literally. */
		if (c == '*' || c == '%')
			return "wildcard in mailbox name";
		if (c == '/') {
			if (name[i + 1] == '/')
				return "empty level in mailbox name";
			depth++;
		}
	}
	if (depth > STORE_DEPTH_MAX)
		return "mailbox name nested too deep";
	return NULL;
}

/* Does name begin with the level "INBOX" in any case? */
static bool store_inbox_level(const char *name)
{
	return strncasecmp(name, "INBOX", 5) == 0 &&
	       (name[5] == '\0' || name[5] == '/');
}

int store_name_norm(struct store_user *u, const char *name, char *out)
{
	const char *problem;
	size_t len;

	if (name == NULL)
		return store_fail(u, STORE_ERR_NAME, "no mailbox name");
	len = strlen(name);
	problem = store_name_problem(name, len);
	if (problem != NULL)
		return store_fail(u, STORE_ERR_NAME, "%s", problem);
	memcpy(out, name, len + 1);
	/* RFC 3501 5.1: INBOX is case-insensitive. */
	if (store_inbox_level(out))
		memcpy(out, "INBOX", 5);
	return 0;
}

char *store_folder_dir(const struct store_user *u, const char *name)
{
	size_t off = strlen(u->root) + 2;
	char *dir;

	if (store_name_is_inbox(name))
		return xstrdup(u->root);
	dir = xasprintf("%s/.%s", u->root, name);
	for (char *p = dir + off; *p != '\0'; p++) {
		if (*p == '/')
			*p = '.';
	}
	return dir;
}

bool store_name_from_dir(const char *entry, char *out)
{
	size_t len;

	if (entry[0] != '.' || entry[1] == '\0')
		return false;
	len = strlen(entry + 1);
	if (len > STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++)
		out[i] = entry[1 + i] == '.' ? '/' : entry[1 + i];
	if (store_name_problem(out, len) != NULL)
		return false;
	/* ".INBOX" would be the root; ".inbox.x" would not map back. */
	if (store_inbox_level(out) &&
	    (out[5] == '\0' || strncmp(out, "INBOX", 5) != 0))
		return false;
	return true;
}

bool store_file_name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	       strchr(name, '/') == NULL;
}

/* ---- Maildir file names ---- */

size_t store_split_name(const char *name, const char **info_r)
{
	const char *colon = strchr(name, ':');

	if (colon == NULL) {
		*info_r = "";
		return strlen(name);
	}
	*info_r = colon + 1;
	return (size_t)(colon - name);
}

unsigned store_info_flags(const char *info)
{
	unsigned flags = 0;

	if (strncmp(info, "2,", 2) != 0)
		return 0;
	for (const char *p = info + 2; *p != '\0'; p++) {
		for (size_t i = 0; i < N_LETTERS; i++) {
			if (*p == store_letters[i].letter)
				flags |= store_letters[i].flag;
		}
	}
	return flags;
}

static bool store_is_flag_letter(char c)
{
	for (size_t i = 0; i < N_LETTERS; i++) {
		if (c == store_letters[i].letter)
			return true;
	}
	return false;
}

void store_info_make(const char *old_info, unsigned flags, char *out,
		     size_t size)
{
	bool have[128] = {false};
	size_t n = 0;

	/* Letters we do not know (P "passed", Dovecot's keyword letters)
	 * stay: another tool set them. */
	if (old_info != NULL && strncmp(old_info, "2,", 2) == 0) {
		for (const char *p = old_info + 2; *p != '\0'; p++) {
			unsigned char c = (unsigned char)*p;

			/* Only letters: anything else is not Maildir info
			 * and must not grow into the new file name. */
			if (((c >= 'A' && c <= 'Z') ||
			     (c >= 'a' && c <= 'z')) &&
			    !store_is_flag_letter((char)c))
				have[c] = true;
		}
	}
	for (size_t i = 0; i < N_LETTERS; i++) {
		if (flags & store_letters[i].flag)
			have[(unsigned char)store_letters[i].letter] = true;
	}
	if (size < 3)
		return;
	out[n++] = '2';
	out[n++] = ',';
	/* The Maildir convention wants the letters in ASCII order. */
	for (int c = 0; c < 128 && n + 1 < size; c++) {
		if (have[c])
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

void store_unique_name(struct store_user *u, uint64_t size, char *out)
{
	struct timeval tv;
	unsigned int rnd = 0;

	gettimeofday(&tv, NULL);
	/* The random part keeps names apart from maildir.c's, which share the
	 * time, pid and a counter of their own. */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned int)tv.tv_usec ^ (unsigned int)getpid();
	snprintf(out, STORE_FILE_NAME_SIZE, "%lld.M%ldP%ldQ%luR%08x.%s,S=%llu",
		 (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		 ++store_name_counter, rnd, u->host, (unsigned long long)size);
}

/* ---- keywords ---- */

/* RFC 3501 9: flag-keyword = atom. */
static bool store_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* Next token of a space-separated list: *p advanced, length in *len_r. */
static const char *store_kw_next(const char **p, size_t *len_r)
{
	const char *s = *p, *start;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	start = s;
	while (*s != '\0' && *s != ' ')
		s++;
	*len_r = (size_t)(s - start);
	*p = s;
	return start;
}

int store_kw_check(struct store_user *u, const char *list)
{
	const char *p = list, *kw;
	size_t len;

	if (list == NULL)
		return 0;
	while ((kw = store_kw_next(&p, &len)) != NULL) {
		if (len > STORE_KEYWORD_LEN_MAX)
			return store_fail(u, STORE_ERR_NAME,
					  "keyword too long");
		for (size_t i = 0; i < len; i++) {
			if (!store_atom_char((unsigned char)kw[i]))
				return store_fail(u, STORE_ERR_NAME,
						  "invalid keyword");
		}
	}
	return 0;
}

/* The token of list equal to kw (case-insensitive), or NULL. */
static const char *store_kw_find(const char *list, const char *kw, size_t len,
				 size_t *len_r)
{
	const char *p = list, *t;
	size_t tlen;

	if (list == NULL)
		return NULL;
	while ((t = store_kw_next(&p, &tlen)) != NULL) {
		if (tlen == len && strncasecmp(t, kw, len) == 0) {
			*len_r = tlen;
			return t;
		}
	}
	return NULL;
}

bool store_kw_has(const char *list, const char *kw, size_t len)
{
	size_t tlen;

	return store_kw_find(list, kw, len, &tlen) != NULL;
}

/* Append kw to out (capacity checked by the caller's sizing). */
static void store_kw_put(char *out, size_t *n, const char *kw, size_t len)
{
	if (*n > 0)
		out[(*n)++] = ' ';
	memcpy(out + *n, kw, len);
	*n += len;
	out[*n] = '\0';
}

char *store_kw_apply(const char *old, enum store_flag_mode mode,
		     const char *list)
{
	size_t cap = (old != NULL ? strlen(old) : 0) +
		     (list != NULL ? strlen(list) : 0) + 2;
	char *out = xmalloc(cap);
	const char *p, *kw;
	size_t n = 0, len;

	out[0] = '\0';
	if (mode != STORE_FLAGS_SET && old != NULL) {
		p = old;
		while ((kw = store_kw_next(&p, &len)) != NULL) {
			if (mode == STORE_FLAGS_REMOVE &&
			    store_kw_has(list, kw, len))
				continue;
			if (!store_kw_has(out, kw, len))
				store_kw_put(out, &n, kw, len);
		}
	}
	if (mode != STORE_FLAGS_REMOVE && list != NULL) {
		p = list;
		while ((kw = store_kw_next(&p, &len)) != NULL) {
			if (!store_kw_has(out, kw, len))
				store_kw_put(out, &n, kw, len);
		}
	}
	if (n == 0)
		xfree(&out);
	return out;
}

int store_kw_merge(struct store_user *u, char **mbkw, const char *list,
		   bool force)
{
	const char *p = list, *kw;
	size_t len, count = 0, added = 0;
	char *grown;

	if (list == NULL)
		return 0;
	for (const char *q = *mbkw; store_kw_next(&q, &len) != NULL;)
		count++;
	grown = store_kw_apply(*mbkw, STORE_FLAGS_ADD, list);
	while ((kw = store_kw_next(&p, &len)) != NULL) {
		if (!store_kw_has(*mbkw, kw, len))
			added++;
	}
	if (added == 0) {
		free(grown);
		return 0;
	}
	if (!force && count + added > STORE_KEYWORDS_MAX) {
		free(grown);
		return store_fail(u, STORE_ERR_NOPERM,
				  "too many keywords in this mailbox");
	}
	free(*mbkw);
	*mbkw = grown;
	return 1;
}

char *store_kw_canon(const char *mbkw, const char *list)
{
	size_t cap = (list != NULL ? strlen(list) : 0) + 2;
	char *out = xmalloc(cap);
	const char *p = list, *kw, *spelled;
	size_t n = 0, len, slen;

	out[0] = '\0';
	while (list != NULL && (kw = store_kw_next(&p, &len)) != NULL) {
		spelled = store_kw_find(mbkw, kw, len, &slen);
		if (spelled == NULL) {
			spelled = kw;
			slen = len;
		}
		if (!store_kw_has(out, spelled, slen))
			store_kw_put(out, &n, spelled, slen);
	}
	if (n == 0)
		xfree(&out);
	return out;
}
