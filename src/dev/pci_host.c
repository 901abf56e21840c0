/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge's configuration space (see pci_host.h): a type 0
 * header with vendor, device, class and nothing else; every other byte 0.
 */
#include "dev/pci_host.h"

uint32_t pci_host_config_read(unsigned reg, unsigned size)
{
	uint32_t dword = 0;
	switch (reg & 0xfc) {
	case 0x00: dword = PCI_HOST_VENDOR | (uint32_t)PCI_HOST_DEVICE << 16; break;
	case 0x08: dword = (uint32_t)PCI_HOST_CLASS << 8; break; /* revision 0 */
	default: break; /* command, status, header type 0, no BARs, no capabilities */
	}
	uint32_t v = dword >> (8 * (reg & 3));
	return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}
