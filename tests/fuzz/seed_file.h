/* SPDX-License-Identifier: MIT */
/*
 * What every seed writer (*_seeds.c) shares: its one argument, the corpus
 * directory, and writing one seed file there (perror and 1 on failure).
 */
#ifndef IOREQVM_TESTS_FUZZ_SEED_FILE_H
#define IOREQVM_TESTS_FUZZ_SEED_FILE_H

#include <stddef.h>
#include <stdio.h>

/* The corpus directory from argv, or NULL after printing the usage. */
static inline const char *seed_dir(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return NULL;
	}
	return argv[1];
}

/* Writes size bytes as DIR/NAME; 0, or 1 after perror (an empty seed is an error). */
static inline int seed_file(const char *dir, const char *name, const void *buf, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	int rc = !f || !size || fwrite(buf, 1, size, f) != size;
	if (f && fclose(f))
		rc = 1;
	if (rc)
		perror(path);
	return rc;
}

#endif
