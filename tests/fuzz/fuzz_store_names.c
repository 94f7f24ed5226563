/*
 * libFuzzer target for the store's name parsers: IMAP mailbox names (from
 * clients), Maildir++ folder names and file-name info (from disk), and
 * keyword lists (from clients).
 *
 * Input: byte 0 picks the parser, the rest is the string (cut at the
 * first NUL). The results must keep the store's promises: an accepted
 * mailbox name maps to one directory entry under the Maildir (no '/',
 * no "..", not empty) and back to the same name; a folder name read from
 * disk is accepted as a mailbox name; file info rewritten for some flags
 * reads back as exactly those flags; keyword lists stay within what was
 * given.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "store/store_int.h"
#include "fuzz.h"

static void check_mailbox_name(struct store_user *u, const char *s)
{
	char norm[STORE_NAME_MAX + 1], back[STORE_NAME_MAX + 1];
	char *dir;
	const char *entry;

	if (store_name_norm(u, s, norm) < 0)
		return;
	dir = store_folder_dir(u, norm);
	CHECK(strncmp(dir, u->root, strlen(u->root)) == 0);
	entry = dir + strlen(u->root);
	if (store_name_is_inbox(norm)) {
		CHECK(*entry == '\0');
	} else {
		CHECK(entry[0] == '/' && entry[1] == '.');
		CHECK(strchr(entry + 1, '/') == NULL);
		CHECK(strlen(entry + 1) < STORE_FILE_NAME_SIZE);
		CHECK(strcmp(entry + 1, "..") != 0);
		CHECK(store_name_from_dir(entry + 1, back));
		CHECK(strcmp(back, norm) == 0);
	}
	free(dir);
}

static void check_folder_dir(struct store_user *u, const char *s)
{
	char name[STORE_NAME_MAX + 1], norm[STORE_NAME_MAX + 1];

	if (strlen(s) >= STORE_FILE_NAME_SIZE || !store_name_from_dir(s, name))
		return;
	CHECK(store_name_norm(u, name, norm) == 0);
	CHECK(strcmp(name, norm) == 0);
}

static void check_info(const char *s)
{
	const char *info;
	char made[64];
	size_t base = store_split_name(s, &info);

	CHECK(base <= strlen(s));
	for (unsigned flags = 0; flags < 32; flags += 7) {
		store_info_make(info, flags, made, sizeof(made));
		CHECK(store_info_flags(made) == flags);
		CHECK(strchr(made, '/') == NULL && strchr(made, ':') == NULL);
	}
}

static void check_keywords(struct store_user *u, const char *s)
{
	char *added, *removed;

	if (store_kw_check(u, s) < 0)
		return;
	added = store_kw_apply(NULL, STORE_FLAGS_ADD, s);
	CHECK(added == NULL || strlen(added) <= strlen(s));
	removed = store_kw_apply(added, STORE_FLAGS_REMOVE, s);
	CHECK(removed == NULL);
	free(added);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_user u = {0};
	char root[] = "/m";
	char *s;

	if (size < 1)
		return 0;
	u.root = root;
	s = xstrndup((const char *)data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		check_mailbox_name(&u, s);
		break;
	case 1:
		check_folder_dir(&u, s);
		break;
	case 2:
		check_info(s);
		break;
	default:
		check_keywords(&u, s);
		break;
	}
	free(s);
	return 0;
}
