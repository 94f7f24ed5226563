/*
 * lib/fsutil: write_all to a pipe and a file, fsync of a directory and of
 * a path's parent, mkdir -p of deep, existing and impossible paths. Each
 * test works in its own temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/mem.h"

#define BIG_SIZE (200 * 1024 + 17)

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strlcpy_p(f->dir, "/tmp/postern-fsutil-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	umask(022);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* "<dir>/<rel>" in a static buffer (one at a time). */
static const char *at(const struct fixture *f, const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", f->dir, rel);
	return buf;
}

static void assert_dir_0700(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_write_all_pipe(void **state)
{
	static const char msg[] = "hello, pipe\r\n";
	char buf[sizeof(msg)];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fsutil_write_all(fds[1], msg, sizeof(msg)), 0);
	assert_int_equal(fsutil_write_all(fds[1], msg, 0), 0);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), (ssize_t)sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));

	/* No reader left: EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	close(fds[0]);
	errno = 0;
	assert_int_equal(fsutil_write_all(fds[1], msg, sizeof(msg)), -1);
	assert_int_equal(errno, EPIPE);
	close(fds[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_write_all_file(void **state)
{
	struct fixture *f = *state;
	char *data = xmalloc(BIG_SIZE), *back = xmalloc(BIG_SIZE + 1);
	const char *path = at(f, "file");
	int fd;

	for (size_t i = 0; i < BIG_SIZE; i++)
		data[i] = (char)(i * 7 + i / 251);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fsutil_write_all(fd, data, BIG_SIZE), 0);
	assert_int_equal(pread(fd, back, BIG_SIZE + 1, 0), BIG_SIZE);
	assert_memory_equal(back, data, BIG_SIZE);
	close(fd);

	errno = 0;
	assert_int_equal(fsutil_write_all(fd, data, 1), -1);
	assert_int_equal(errno, EBADF);
	free(data);
	free(back);
}

static void test_fsync_dir(void **state)
{
	struct fixture *f = *state;
	int fd;

	assert_int_equal(fsutil_fsync_dir(f->dir), 0);
	errno = 0;
	assert_int_equal(fsutil_fsync_dir(at(f, "missing")), -1);
	assert_int_equal(errno, ENOENT);

	fd = open(at(f, "file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(fsutil_fsync_dir(at(f, "file")), -1);
	assert_int_equal(errno, ENOTDIR);
}

static void test_fsync_parent(void **state)
{
	struct fixture *f = *state;
	char *cwd;
	char long_path[PATH_MAX + 8];

	/* The entry itself need not exist: it may just have been unlinked. */
	assert_int_equal(fsutil_fsync_parent(at(f, "gone")), 0);
	assert_int_equal(fsutil_fsync_parent("/gone"), 0);
	errno = 0;
	assert_int_equal(fsutil_fsync_parent(at(f, "missing/x")), -1);
	assert_int_equal(errno, ENOENT);

	/* No '/': the current directory. */
	cwd = getcwd(NULL, 0);
	assert_non_null(cwd);
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(fsutil_fsync_parent("gone"), 0);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	long_path[sizeof(long_path) - 3] = '/';
	errno = 0;
	assert_int_equal(fsutil_fsync_parent(long_path), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_mkdir_p_deep(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fsutil_mkdir_p(at(f, "a/b/c/d"), 0700), 0);
	assert_dir_0700(at(f, "a"));
	assert_dir_0700(at(f, "a/b"));
	assert_dir_0700(at(f, "a/b/c"));
	assert_dir_0700(at(f, "a/b/c/d"));

	/* A sibling under parents that now exist; trailing '/' ignored. */
	assert_int_equal(fsutil_mkdir_p(at(f, "a/b/e//"), 0700), 0);
	assert_dir_0700(at(f, "a/b/e"));
}

static void test_mkdir_p_existing(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	int fd;

	assert_int_equal(mkdir(at(f, "x"), 0755), 0);
	assert_int_equal(fsutil_mkdir_p(at(f, "x"), 0700), 0);
	/* Left as it was: an existing directory's mode is not changed. */
	assert_int_equal(stat(at(f, "x"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(fsutil_mkdir_p(f->dir, 0700), 0);
	assert_int_equal(fsutil_mkdir_p("/", 0700), 0);

	/* Existing counts whatever its type (the contract in fsutil.h). */
	fd = open(at(f, "file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fsutil_mkdir_p(at(f, "file"), 0700), 0);
}

static void test_mkdir_p_fails(void **state)
{
	struct fixture *f = *state;
	char long_path[PATH_MAX + 8];
	int fd;

	fd = open(at(f, "file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(fsutil_mkdir_p(at(f, "file/sub/dir"), 0700), -1);
	assert_int_equal(errno, ENOTDIR);

	/* A relative path with no existing ancestor cannot be made. */
	errno = 0;
	assert_int_equal(fsutil_mkdir_p("", 0700), -1);
	assert_int_equal(errno, ENOENT);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	errno = 0;
	assert_int_equal(fsutil_mkdir_p(long_path, 0700), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

/* The error-text helpers: bounded, and a path that does not fit is an
 * error with a cut copy of its start, never a cut path used. */
static void test_error_text(void **state)
{
	char err[FSUTIL_ERR_SIZE], buf[PATH_MAX];
	char *big = xmalloc(2 * FSUTIL_ERR_SIZE);

	(void)state;
	fsutil_errf(err, "%s %d", "x", 7);
	assert_string_equal(err, "x 7");
	errno = ENOENT;
	fsutil_errno(err, "open", "/a/b");
	assert_string_equal(err, "open /a/b: No such file or directory");
	memset(big, 'p', 2 * FSUTIL_ERR_SIZE - 1);
	big[2 * FSUTIL_ERR_SIZE - 1] = '\0';
	fsutil_errf(err, "%s", big);
	assert_int_equal(strlen(err), FSUTIL_ERR_SIZE - 1);
	assert_int_equal(fsutil_pathf(buf, err, "%s/%s", "/d", "f"), 0);
	assert_string_equal(buf, "/d/f");
	assert_int_equal(fsutil_pathf(buf, err, "/%s", big), -1);
	assert_int_equal(strncmp(err, "path too long: /ppp", 19), 0);
	assert_int_equal(strlen(err), strlen("path too long: ") + 64 + 3);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_all_pipe),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test_setup_teardown(test_write_all_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fsync_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fsync_parent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_deep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_existing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
