/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the VMM's PCI host bridge at 00:00.0 (DESIGN L2:
 * src/dev/pci_host.c): what a kernel's configuration reads of it return at
 * every size, as Linux's pci_sanity_check and bus scan read them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dev/pci_host.h"

static void test_identity_and_class(void **state)
{
	(void)state;
	assert_int_equal(pci_host_config_read(0x00, 4), 0x00081b36);
	assert_int_equal(pci_host_config_read(0x00, 2), 0x1b36); /* vendor */
	assert_int_equal(pci_host_config_read(0x02, 2), 0x0008); /* device */
	assert_int_equal(pci_host_config_read(0x0a, 2), 0x0600); /* PCI_CLASS_BRIDGE_HOST */
	assert_int_equal(pci_host_config_read(0x0b, 1), 0x06);
	assert_int_equal(pci_host_config_read(0x09, 1), 0x00); /* prog-if */
	assert_int_equal(pci_host_config_read(0x08, 1), 0x00); /* revision */
	assert_int_equal(pci_host_config_read(0x08, 4), 0x06000000);
}

static void test_everything_else_reads_zero(void **state)
{
	(void)state;
	assert_int_equal(pci_host_config_read(0x0e, 1), 0); /* header type 0, one function */
	for (unsigned r = 0x10; r < 0x28; r += 4)
		assert_int_equal(pci_host_config_read(r, 4), 0); /* no BARs */
	assert_int_equal(pci_host_config_read(0x34, 1), 0); /* no capabilities */
	assert_int_equal(pci_host_config_read(0x3d, 1), 0); /* no interrupt pin */
	assert_int_equal(pci_host_config_read(0xfc, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_class),
		cmocka_unit_test(test_everything_else_reads_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
