/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_bzimage into the directory given as its
 * argument: synthetic bzImages (bz_build.h) the loader accepts, in the
 * shapes real kernels have. The committed tests/fuzz/corpus/bzimage/ was
 * made with it; xz_vmlinux and gzip_vmlinux (the vmlinux seed compressed
 * into the payload) by payload_seeds.py.
 */
#include <stdio.h>

#include "bz_build.h"
#include "seed_file.h"

static uint8_t buf[0x4000];

static int put(const char *dir, const char *name, const struct bzb_opts *o)
{
	return seed_file(dir, name, buf, bzb_image(buf, sizeof(buf), o));
}

int main(int argc, char **argv)
{
	const char *d = seed_dir(argc, argv);
	if (!d)
		return 2;
	int rc = 0;
	struct bzb_opts o = bzb_defaults();
	rc |= put(d, "relocatable", &o);
	o.trailer = 0x41; /* odd size: the target adds an initrd; a signature's bytes */
	rc |= put(d, "signed_initrd", &o);
	o = bzb_defaults();
	o.relocatable = 0;
	o.pref_address = 0x100000;
	o.setup_sects = 0;
	rc |= put(d, "fixed_1m_setup4", &o);
	o = bzb_defaults();
	o.pref_address = 0x300000;
	o.kernel_alignment = 0x1000;
	o.initrd_addr_max = 0x37FFFFF;
	o.version = 0x020c;
	o.cmdline_size = 255;
	rc |= put(d, "v212_low_initrd_max", &o);
	return rc;
}
