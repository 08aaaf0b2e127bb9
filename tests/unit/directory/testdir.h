/* Temporary directories for the directory tests. */
#ifndef TESTS_UNIT_DIRECTORY_TESTDIR_H
#define TESTS_UNIT_DIRECTORY_TESTDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int testdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* mkdtemp under $TMPDIR or /tmp; the caller frees the result. */
static inline char *testdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *t = malloc(4096);
	snprintf(t, 4096, "%s/hermod-dirtest-XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(t) == NULL)
		abort();
	return t;
}

static inline void testdir_free(char *t)
{
	nftw(t, testdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
}

#endif
