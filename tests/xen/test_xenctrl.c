/* SPDX-License-Identifier: MIT */
/*
 * ioreqvm's libxenctrl.so.4.17 (compat/xen/xenctrl.c, DESIGN X1) loaded on
 * its own, without a VM:
 *  - every stub of xenctrl_enosys.c (read from the file: the list is the
 *    generator's) returns -1, or NULL for a pointer, with errno ENOSYS, and
 *    xc_get_last_error() names it: none pretends;
 *  - the pure helpers Debian's library exports do their jobs (CPU maps,
 *    ffs, bitmap conversions, read/write_exact, error descriptions, the
 *    exported HYPERCALL_BUFFER_NULL initialised as Xen's);
 *  - populate_physmap and decrease_reservation refuse before asking the VM:
 *    another domid (ESRCH, X5), misaligned or repeated extents (EINVAL),
 *    more runs than one call takes (E2BIG), populate-on-demand (EINVAL);
 *    xc_domain_getinfo from above the VM's domid: ESRCH.
 * Usage: test_xenctrl LIBXENCTRL XENCTRL_ENOSYS_C
 */
#define __XEN_TOOLS__ 1
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenctrl.h>

static const char *lib_path, *stubs_path;
static void *lib;

static void *sym(const char *name)
{
	void *p = dlsym(lib, name);
	if (!p)
		fail_msg("%s is not in %s: %s", name, lib_path, dlerror());
	return p;
}

static void test_xenctrl_every_stub_is_enosys(void **state)
{
	FILE *f = fopen(stubs_path, "r");
	assert_non_null(f);
	const xc_error *(*last)(xc_interface *) = (const xc_error *(*)(xc_interface *))sym("xc_get_last_error");
	char line[256], name[200];
	unsigned ints = 0, ptrs = 0;
	while (fgets(line, sizeof(line), f)) {
		bool ptr = sscanf(line, "ENOSYS_PTR(%199[A-Za-z0-9_])", name) == 1;
		if (!ptr && sscanf(line, "ENOSYS_INT(%199[A-Za-z0-9_])", name) != 1)
			continue;
		errno = 0;
		if (ptr) {
			void *(*fn)(void) = (void *(*)(void))sym(name);
			if (fn() != NULL)
				fail_msg("%s returned a pointer", name);
			ptrs++;
		} else {
			long (*fn)(void) = (long (*)(void))sym(name);
			long rc = fn();
			if ((int)rc != -1)
				fail_msg("%s returned %ld", name, rc);
			ints++;
		}
		if (errno != ENOSYS)
			fail_msg("%s: errno %d, not ENOSYS", name, errno);
		if (!strstr(last(NULL)->message, name))
			fail_msg("%s: last error '%s' does not name it", name, last(NULL)->message);
	}
	fclose(f);
	assert_int_equal(ints + ptrs, 356); /* Debian's 393 functions less xenctrl.c's 37 */
	assert_true(ptrs > 0);
}

static void test_xenctrl_helpers(void **state)
{
	uint8_t map[4] = { 0 };
	((void (*)(int, xc_cpumap_t))sym("xc_cpumap_setcpu"))(9, map);
	((void (*)(int, xc_cpumap_t))sym("xc_cpumap_setcpu"))(31, map);
	assert_int_equal(map[1], 0x02);
	assert_int_equal(map[3], 0x80);
	int (*test)(int, xc_cpumap_t) = (int (*)(int, xc_cpumap_t))sym("xc_cpumap_testcpu");
	assert_int_equal(test(9, map), 1);
	assert_int_equal(test(8, map), 0);
	((void (*)(int, xc_cpumap_t))sym("xc_cpumap_clearcpu"))(9, map);
	assert_int_equal(test(9, map), 0);
	assert_int_equal(((int (*)(uint8_t))sym("xc_ffs8"))(0x40), 7);
	assert_int_equal(((int (*)(uint16_t))sym("xc_ffs16"))(0), 0);
	assert_int_equal(((int (*)(uint32_t))sym("xc_ffs32"))(0x80000000u), 32);
	assert_int_equal(((int (*)(uint64_t))sym("xc_ffs64"))(1ULL << 63), 64);
	/* Bitmaps: 64-bit words to bytes and back, little-endian, nbits rounded up to bytes. */
	uint64_t words[2] = { 0x0807060504030201ULL, 0x0a09 }, back[2] = { 0, 0 };
	uint8_t bytes[10];
	((void (*)(uint8_t *, const uint64_t *, int))sym("bitmap_64_to_byte"))(bytes, words, 80);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(bytes[i], i + 1);
	((void (*)(uint64_t *, const uint8_t *, int))sym("bitmap_byte_to_64"))(back, bytes, 80);
	assert_memory_equal(back, words, sizeof(words));
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct iovec iov[2] = { { "abc", 3 }, { "defg", 4 } };
	assert_int_equal(((int (*)(int, const struct iovec *, int))sym("writev_exact"))(p[1], iov, 2), 0);
	assert_int_equal(((int (*)(int, const void *, size_t))sym("write_exact"))(p[1], "h", 1), 0);
	close(p[1]);
	char got[9] = { 0 };
	int (*rd)(int, void *, size_t) = (int (*)(int, void *, size_t))sym("read_exact");
	assert_int_equal(rd(p[0], got, 8), 0);
	assert_string_equal(got, "abcdefgh");
	errno = 5;
	assert_int_equal(rd(p[0], got, 1), -1); /* end of file: errno 0, as Xen's */
	assert_int_equal(errno, 0);
	close(p[0]);
	const char *(*desc)(int) = (const char *(*)(int))sym("xc_error_code_to_desc");
	assert_string_equal(desc(XC_INVALID_PARAM), "Invalid configuration");
	assert_string_equal(desc(77), "Unknown error code");
	const char *(*se)(xc_interface *, int) = (const char *(*)(xc_interface *, int))sym("xc_strerror");
	assert_string_equal(se(NULL, ENOENT), strerror(ENOENT));
	const xc_hypercall_buffer_t *null_buf = sym("xc__hypercall_buffer_HYPERCALL_BUFFER_NULL");
	assert_null(null_buf->hbuf);
	assert_ptr_equal(null_buf->ubuf, (void *)-1);
	((void (*)(xc_interface *))sym("xc_clear_last_error"))(NULL);
	assert_int_equal(((const xc_error *(*)(xc_interface *))sym("xc_get_last_error"))(NULL)->code,
			 XC_ERROR_NONE);
}

typedef int (*populate_fn)(xc_interface *, uint32_t, unsigned long, unsigned int, unsigned int,
			   xen_pfn_t *);
typedef int (*decrease_fn)(xc_interface *, uint32_t, unsigned long, unsigned int, xen_pfn_t *);

/* X4, X5: what is refused before the VM is asked (IOREQVM_XEN_DOMID: 1 here). */
static void test_xenctrl_physmap_refusals(void **state)
{
	populate_fn pop = (populate_fn)sym("xc_domain_populate_physmap_exact");
	decrease_fn dec = (decrease_fn)sym("xc_domain_decrease_reservation");
	xen_pfn_t f[300];
	f[0] = 0xD0000;
	errno = 0;
	assert_int_equal(pop(NULL, 2, 1, 0, 0, f), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(dec(NULL, 0, 1, 0, f), -1);
	assert_int_equal(errno, ESRCH);
	f[0] = 0xD0001; /* an order-1 extent must start on an even frame */
	assert_int_equal(pop(NULL, 1, 1, 1, 0, f), -1);
	assert_int_equal(errno, EINVAL);
	f[0] = f[1] = 0xD0000;
	assert_int_equal(pop(NULL, 1, 2, 0, 0, f), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dec(NULL, 1, 1, 0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pop(NULL, 1, 1, 0, XENMEMF_populate_on_demand, f), -1);
	assert_int_equal(errno, EINVAL);
	for (unsigned i = 0; i < 300; i++)
		f[i] = 0xD0000 + 2 * i; /* 300 runs: more than one call takes */
	assert_int_equal(pop(NULL, 1, 300, 0, 0, f), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(pop(NULL, 1, 0, 0, 0, f), 0); /* nothing to do */
	int (*getinfo)(xc_interface *, uint32_t, unsigned, xc_dominfo_t *) =
		(int (*)(xc_interface *, uint32_t, unsigned, xc_dominfo_t *))sym("xc_domain_getinfo");
	xc_dominfo_t info;
	assert_int_equal(getinfo((xc_interface *)&info, 2, 1, &info), -1);
	assert_int_equal(errno, ESRCH);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_xenctrl LIBXENCTRL XENCTRL_ENOSYS_C\n");
		return 2;
	}
	lib_path = argv[1];
	stubs_path = argv[2];
	setenv("IOREQVM_XEN_DOMID", "1", 1);
	lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "dlopen %s: %s\n", lib_path, dlerror());
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xenctrl_every_stub_is_enosys),
		cmocka_unit_test(test_xenctrl_helpers),
		cmocka_unit_test(test_xenctrl_physmap_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
