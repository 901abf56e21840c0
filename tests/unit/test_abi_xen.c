/* SPDX-License-Identifier: MIT */
/*
 * ABI check against Debian's libxen-dev: ioreqvm's shared-memory structs,
 * memory types, claim flags, range kinds and op numbers have Xen's sizes,
 * offsets and values (DESIGN I6, I7, M1-M6, C2; STYLE "bitfields").
 * Bitfield positions are checked by writing through one view and reading
 * through the other.
 */
#define __XEN_TOOLS__ 1
#include <errno.h> /* before xs_wire.h: its error table needs the errno names */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <xen/xen.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/io/xs_wire.h>

#include "ioreqvm/ctl_proto.h"
#include "ioreqvm/ioreq_abi.h"
#include "ioreqvm/memtype.h"
#include "ioreqvm/xs_wire.h"

#define SAME_FIELD(ours, theirs, f) \
	assert_int_equal(offsetof(ours, f), offsetof(theirs, f))

static void test_abi_ioreq_t_layout_matches_xen(void **state)
{
	assert_int_equal(sizeof(struct ioreqvm_ioreq), sizeof(ioreq_t));
	SAME_FIELD(struct ioreqvm_ioreq, ioreq_t, addr);
	SAME_FIELD(struct ioreqvm_ioreq, ioreq_t, data);
	SAME_FIELD(struct ioreqvm_ioreq, ioreq_t, count);
	SAME_FIELD(struct ioreqvm_ioreq, ioreq_t, size);
	SAME_FIELD(struct ioreqvm_ioreq, ioreq_t, vp_eport);
	SAME_FIELD(struct ioreqvm_ioreq, ioreq_t, type);
	/* Bitfields: set each through Xen's view, read through ours. */
	ioreq_t x;
	struct ioreqvm_ioreq o;
	memset(&x, 0, sizeof(x));
	x.state = STATE_IORESP_READY;
	x.dir = IOREQ_READ;
	x.df = 1;
	x.data_is_ptr = 1;
	memcpy(&o, &x, sizeof(o));
	assert_int_equal(o.state, IOREQVM_STATE_IORESP_READY);
	assert_int_equal(o.dir, IOREQVM_IOREQ_READ);
	assert_int_equal(o.df, 1);
	assert_int_equal(o.data_is_ptr, 1);
	assert_int_equal(ioreqvm_ioreq_state(&o), STATE_IORESP_READY);
	/* The byte ioreqvm stores atomically is the one holding Xen's state. */
	memset(&x, 0, sizeof(x));
	x.state = 0xf;
	assert_int_equal(((uint8_t *)&x)[IOREQVM_IOREQ_STATE_BYTE], 0xf);
	/* The whole byte ioreqvm publishes a request with: Xen's state and dir, nothing else. */
	for (uint8_t dir = 0; dir <= 1; dir++) {
		memset(&x, 0, sizeof(x));
		x.state = STATE_IOREQ_READY;
		x.dir = dir;
		assert_int_equal(((uint8_t *)&x)[IOREQVM_IOREQ_STATE_BYTE],
				 ioreqvm_ioreq_state_byte(IOREQVM_STATE_IOREQ_READY, dir));
		memset(&o, 0xff, sizeof(o));
		ioreqvm_ioreq_publish(&o, IOREQVM_STATE_IOREQ_READY, dir);
		assert_int_equal(o.state, STATE_IOREQ_READY);
		assert_int_equal(o.dir, dir);
		assert_int_equal(o.df, 0);
		assert_int_equal(o.data_is_ptr, 0);
	}
}

static void test_abi_ioreq_constants_match_xen(void **state)
{
	assert_int_equal(IOREQVM_IOREQ_READ, IOREQ_READ);
	assert_int_equal(IOREQVM_IOREQ_WRITE, IOREQ_WRITE);
	assert_int_equal(IOREQVM_STATE_IOREQ_NONE, STATE_IOREQ_NONE);
	assert_int_equal(IOREQVM_STATE_IOREQ_READY, STATE_IOREQ_READY);
	assert_int_equal(IOREQVM_STATE_IOREQ_INPROCESS, STATE_IOREQ_INPROCESS);
	assert_int_equal(IOREQVM_STATE_IORESP_READY, STATE_IORESP_READY);
	assert_int_equal(IOREQVM_IOREQ_TYPE_PIO, IOREQ_TYPE_PIO);
	assert_int_equal(IOREQVM_IOREQ_TYPE_COPY, IOREQ_TYPE_COPY);
	assert_int_equal(IOREQVM_IOREQ_TYPE_PCI_CONFIG, IOREQ_TYPE_PCI_CONFIG);
}

static void test_abi_buffered_ring_matches_xen(void **state)
{
	assert_int_equal(sizeof(struct ioreqvm_buf_ioreq), sizeof(buf_ioreq_t));
	assert_int_equal(IOREQVM_BUF_SLOTS, IOREQ_BUFFER_SLOT_NUM);
	assert_int_equal(sizeof(struct ioreqvm_buffered_iopage), sizeof(buffered_iopage_t));
	SAME_FIELD(struct ioreqvm_buffered_iopage, buffered_iopage_t, read_pointer);
	SAME_FIELD(struct ioreqvm_buffered_iopage, buffered_iopage_t, write_pointer);
	SAME_FIELD(struct ioreqvm_buffered_iopage, buffered_iopage_t, buf_ioreq);
	SAME_FIELD(struct ioreqvm_buf_ioreq, buf_ioreq_t, type);
	SAME_FIELD(struct ioreqvm_buf_ioreq, buf_ioreq_t, data);
	buf_ioreq_t x;
	struct ioreqvm_buf_ioreq o;
	memset(&x, 0, sizeof(x));
	x.dir = 1;
	x.size = 3;
	x.addr = 0xabcde;
	memcpy(&o, &x, sizeof(o));
	assert_int_equal(o.dir, 1);
	assert_int_equal(o.size, 3);
	assert_int_equal(o.addr, 0xabcde);
}

static void test_abi_memory_types_match_xen(void **state)
{
	assert_int_equal(IOREQVM_MEM_RAM_RW, HVMMEM_ram_rw);
	assert_int_equal(IOREQVM_MEM_RAM_RO, HVMMEM_ram_ro);
	assert_int_equal(IOREQVM_MEM_MMIO_DM, HVMMEM_mmio_dm);
	assert_int_equal(IOREQVM_MEM_UNUSED, HVMMEM_unused);
	assert_int_equal(IOREQVM_MEM_IOREQ_SERVER, HVMMEM_ioreq_server);
	/* M6: the seven more come right after Xen's. */
	assert_int_equal(IOREQVM_MEM_IOREQ_SERVER1, HVMMEM_ioreq_server + 1);
	assert_int_equal(IOREQVM_MEM_IOREQ_SERVER7, HVMMEM_ioreq_server + 7);
	assert_int_equal(IOREQVM_MEM_ACCESS_READ, XEN_DMOP_IOREQ_MEM_ACCESS_READ);
	assert_int_equal(IOREQVM_MEM_ACCESS_WRITE, XEN_DMOP_IOREQ_MEM_ACCESS_WRITE);
}

static void test_abi_dm_ops_match_xen(void **state)
{
	assert_int_equal(IOREQVM_OP_CREATE_IOREQ_SERVER, XEN_DMOP_create_ioreq_server);
	assert_int_equal(IOREQVM_OP_GET_IOREQ_SERVER_INFO, XEN_DMOP_get_ioreq_server_info);
	assert_int_equal(IOREQVM_OP_MAP_IO_RANGE, XEN_DMOP_map_io_range_to_ioreq_server);
	assert_int_equal(IOREQVM_OP_UNMAP_IO_RANGE, XEN_DMOP_unmap_io_range_from_ioreq_server);
	assert_int_equal(IOREQVM_OP_SET_IOREQ_SERVER_STATE, XEN_DMOP_set_ioreq_server_state);
	assert_int_equal(IOREQVM_OP_DESTROY_IOREQ_SERVER, XEN_DMOP_destroy_ioreq_server);
	assert_int_equal(IOREQVM_OP_SET_PCI_INTX_LEVEL, XEN_DMOP_set_pci_intx_level);
	assert_int_equal(IOREQVM_OP_SET_ISA_IRQ_LEVEL, XEN_DMOP_set_isa_irq_level);
	assert_int_equal(IOREQVM_OP_MODIFIED_MEMORY, XEN_DMOP_modified_memory);
	assert_int_equal(IOREQVM_OP_SET_MEM_TYPE, XEN_DMOP_set_mem_type);
	assert_int_equal(IOREQVM_OP_INJECT_MSI, XEN_DMOP_inject_msi);
	assert_int_equal(IOREQVM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER, XEN_DMOP_map_mem_type_to_ioreq_server);
	assert_int_equal(IOREQVM_IO_RANGE_PORT, XEN_DMOP_IO_RANGE_PORT);
	assert_int_equal(IOREQVM_IO_RANGE_MEMORY, XEN_DMOP_IO_RANGE_MEMORY);
	assert_int_equal(IOREQVM_IO_RANGE_PCI, XEN_DMOP_IO_RANGE_PCI);
	assert_int_equal(IOREQVM_PCI_SBDF(1, 2, 3, 4), XEN_DMOP_PCI_SBDF(1, 2, 3, 4));
	/* set_mem_type and map_mem_type keep Xen's payload layout. */
	assert_int_equal(sizeof(struct ioreqvm_op_set_mem_type), sizeof(struct xen_dm_op_set_mem_type));
	SAME_FIELD(struct ioreqvm_op_set_mem_type, struct xen_dm_op_set_mem_type, nr);
	SAME_FIELD(struct ioreqvm_op_set_mem_type, struct xen_dm_op_set_mem_type, mem_type);
	SAME_FIELD(struct ioreqvm_op_set_mem_type, struct xen_dm_op_set_mem_type, first_pfn);
	assert_int_equal(sizeof(struct ioreqvm_op_map_mem_type),
			 sizeof(struct xen_dm_op_map_mem_type_to_ioreq_server));
	SAME_FIELD(struct ioreqvm_op_map_mem_type, struct xen_dm_op_map_mem_type_to_ioreq_server, flags);
	assert_int_equal(sizeof(struct ioreqvm_op_range), sizeof(struct xen_dm_op_ioreq_server_range));
	SAME_FIELD(struct ioreqvm_op_range, struct xen_dm_op_ioreq_server_range, type);
	SAME_FIELD(struct ioreqvm_op_range, struct xen_dm_op_ioreq_server_range, start);
	SAME_FIELD(struct ioreqvm_op_range, struct xen_dm_op_ioreq_server_range, end);
}

/* X1: the xenstore wire as ioreqvm speaks it is Xen's <xen/io/xs_wire.h>. */
static void test_abi_xenstore_wire_matches_xen(void **state)
{
	assert_int_equal(sizeof(struct ioreqvm_xs_msg), sizeof(struct xsd_sockmsg));
	SAME_FIELD(struct ioreqvm_xs_msg, struct xsd_sockmsg, type);
	SAME_FIELD(struct ioreqvm_xs_msg, struct xsd_sockmsg, req_id);
	SAME_FIELD(struct ioreqvm_xs_msg, struct xsd_sockmsg, tx_id);
	SAME_FIELD(struct ioreqvm_xs_msg, struct xsd_sockmsg, len);
	assert_int_equal(IOREQVM_XS_CONTROL, XS_CONTROL);
	assert_int_equal(IOREQVM_XS_DIRECTORY, XS_DIRECTORY);
	assert_int_equal(IOREQVM_XS_READ, XS_READ);
	assert_int_equal(IOREQVM_XS_GET_PERMS, XS_GET_PERMS);
	assert_int_equal(IOREQVM_XS_WATCH, XS_WATCH);
	assert_int_equal(IOREQVM_XS_UNWATCH, XS_UNWATCH);
	assert_int_equal(IOREQVM_XS_TRANSACTION_START, XS_TRANSACTION_START);
	assert_int_equal(IOREQVM_XS_TRANSACTION_END, XS_TRANSACTION_END);
	assert_int_equal(IOREQVM_XS_INTRODUCE, XS_INTRODUCE);
	assert_int_equal(IOREQVM_XS_RELEASE, XS_RELEASE);
	assert_int_equal(IOREQVM_XS_GET_DOMAIN_PATH, XS_GET_DOMAIN_PATH);
	assert_int_equal(IOREQVM_XS_WRITE, XS_WRITE);
	assert_int_equal(IOREQVM_XS_MKDIR, XS_MKDIR);
	assert_int_equal(IOREQVM_XS_RM, XS_RM);
	assert_int_equal(IOREQVM_XS_SET_PERMS, XS_SET_PERMS);
	assert_int_equal(IOREQVM_XS_WATCH_EVENT, XS_WATCH_EVENT);
	assert_int_equal(IOREQVM_XS_ERROR, XS_ERROR);
	assert_int_equal(IOREQVM_XS_IS_DOMAIN_INTRODUCED, XS_IS_DOMAIN_INTRODUCED);
	assert_int_equal(IOREQVM_XS_RESUME, XS_RESUME);
	assert_int_equal(IOREQVM_XS_SET_TARGET, XS_SET_TARGET);
	assert_int_equal(IOREQVM_XS_RESET_WATCHES, XS_RESET_WATCHES);
	assert_int_equal(IOREQVM_XS_DIRECTORY_PART, XS_DIRECTORY_PART);
	assert_int_equal(IOREQVM_XS_TYPE_COUNT, XS_TYPE_COUNT);
	assert_int_equal(IOREQVM_XS_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX);
	assert_int_equal(IOREQVM_XS_ABS_PATH_MAX, XENSTORE_ABS_PATH_MAX);
	assert_int_equal(IOREQVM_XS_REL_PATH_MAX, XENSTORE_REL_PATH_MAX);
	static const struct ioreqvm_xs_error ours[] = { IOREQVM_XS_ERRORS };
	assert_int_equal(sizeof(ours) / sizeof(ours[0]), IOREQVM_XS_NR_ERRORS);
	assert_int_equal(IOREQVM_XS_NR_ERRORS, sizeof(xsd_errors) / sizeof(xsd_errors[0]));
	for (unsigned i = 0; i < IOREQVM_XS_NR_ERRORS; i++) {
		assert_int_equal(ours[i].err, xsd_errors[i].errnum);
		assert_string_equal(ours[i].name, xsd_errors[i].errstring);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_ioreq_t_layout_matches_xen),
		cmocka_unit_test(test_abi_ioreq_constants_match_xen),
		cmocka_unit_test(test_abi_buffered_ring_matches_xen),
		cmocka_unit_test(test_abi_memory_types_match_xen),
		cmocka_unit_test(test_abi_dm_ops_match_xen),
		cmocka_unit_test(test_abi_xenstore_wire_matches_xen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
