/* SPDX-License-Identifier: MIT */
/*
 * The control socket end to end, through the real socket (argv: BACKEND
 * IMAGE): malformed messages are refused and the connection keeps being
 * served; each DM op through libioreq with its errors (EEXIST overlap,
 * ENOENT, EPERM, ENOSPC past the server limit); servers die with their
 * connection (I5); set/get_mem_type on the wire; claimed pages change only
 * through their claim's owner (R5); guest memory mapping; the Xen
 * libraries' ops (X4: populate and decrease with every refusal of their
 * framing and rules, RAM_RUNS, XEN_INFO); the socket is 0600 and another
 * user is refused.
 */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl/ctl_server.h"
#include "harness.h"
#include "libioreq.h"

static const char *backend, *image;
static struct harness h;
static struct ctl_server cs;
static char path[108];

static int setup(void **state)
{
	char err[256];
	snprintf(path, sizeof(path), "/tmp/ioreqvm-test-%d.sock", (int)getpid());
	if (harness_create(&h, backend, image, "", 1, 64 << 20))
		return -1;
	if (ctl_server_start(&cs, &h.vm, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	ctl_server_stop(&cs);
	harness_destroy(&h);
	return 0;
}

static int raw_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int32_t raw_call(int fd, const void *m, size_t len, char *msg)
{
	assert_int_equal(send(fd, m, len, 0), (ssize_t)len);
	uint8_t buf[8192];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n >= (ssize_t)sizeof(struct ioreqvm_ctl_rep));
	struct ioreqvm_ctl_rep r;
	memcpy(&r, buf, sizeof(r));
	assert_int_equal(r.magic, IOREQVM_CTL_MAGIC);
	if (msg)
		snprintf(msg, 128, "%s", r.msg);
	return r.result;
}

static void test_ctl_malformed_messages_refused_connection_kept(void **state)
{
	int fd = raw_connect();
	char msg[128];
	struct ioreqvm_ctl_req good = { .magic = IOREQVM_CTL_MAGIC, .version = 1,
					.op = IOREQVM_OP_VM_INFO };
	assert_int_equal(raw_call(fd, "abc", 3, msg), -EINVAL); /* short */
	static uint8_t big[6000];
	memcpy(big, &good, sizeof(good));
	((struct ioreqvm_ctl_req *)big)->len = sizeof(big) - sizeof(good);
	assert_int_equal(raw_call(fd, big, sizeof(big), msg), -EINVAL); /* oversized */
	struct ioreqvm_ctl_req bad = good;
	bad.op = 0x4242;
	assert_int_equal(raw_call(fd, &bad, sizeof(bad), msg), -EOPNOTSUPP);
	bad = good;
	bad.op = IOREQVM_OP_DESTROY_IOREQ_SERVER; /* payload missing */
	assert_int_equal(raw_call(fd, &bad, sizeof(bad), msg), -EINVAL);
	assert_non_null(strstr(msg, "destroy_ioreq_server takes 4"));
	/* An fd where none belongs. */
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	union { struct cmsghdr a; char b[CMSG_SPACE(sizeof(int))]; } cb;
	struct iovec iov = { &good, sizeof(good) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pipefd[0], sizeof(int));
	assert_int_equal(sendmsg(fd, &m, 0), (ssize_t)sizeof(good));
	uint8_t rbuf[8192];
	assert_true(recv(fd, rbuf, sizeof(rbuf), 0) >= (ssize_t)sizeof(struct ioreqvm_ctl_rep));
	assert_int_equal(((struct ioreqvm_ctl_rep *)rbuf)->result, -EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
	/* Still served. */
	assert_int_equal(raw_call(fd, &good, sizeof(good), msg), 0);
	close(fd);
}

static void test_ctl_ops_and_their_errors(void **state)
{
	struct libioreq *a, *b;
	assert_int_equal(libioreq_connect(path, &a), 0);
	assert_int_equal(libioreq_connect(path, &b), 0);
	uint16_t s1, s2, sb;
	assert_int_equal(libioreq_create_ioreq_server(a, false, &s1), 0);
	assert_int_equal(libioreq_create_ioreq_server(a, true, &s2), 0);
	assert_int_not_equal(s1, s2);
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x100, 0x10f, 0), 0);
	/* I3: overlap inside one server */
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x10f, 0x110, 0), -EEXIST);
	assert_non_null(strstr(libioreq_error(a), "overlaps"));
	/* another kind, or another server: fine */
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, IOREQVM_IO_RANGE_MEMORY, 0x100, 0x10f, 0), 0);
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s2, IOREQVM_IO_RANGE_PORT, 0x100, 0x10f, 0), 0);
	/* bad values */
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x200, 0x10000, 0), -EINVAL);
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, 3, 0, 1, 0), -EINVAL);
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x20, 0x10, 0), -EINVAL);
	assert_int_equal(libioreq_map_io_range_to_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x300, 0x301, IOREQVM_IO_RANGE_BUFFERED), -EINVAL); /* no ring */
	/* ids: unknown -> ENOENT, another connection's -> EPERM */
	assert_int_equal(libioreq_set_ioreq_server_state(a, 999, true), -ENOENT);
	assert_int_equal(libioreq_set_ioreq_server_state(b, s1, true), -EPERM);
	assert_int_equal(libioreq_destroy_ioreq_server(b, s1), -EPERM);
	assert_int_equal(libioreq_unmap_io_range_from_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x100, 0x10e), -ENOENT);
	assert_int_equal(libioreq_unmap_io_range_from_ioreq_server(a, s1, IOREQVM_IO_RANGE_PORT, 0x100, 0x10f), 0);
	/* I1: the limit (8 by default) gives ENOSPC */
	uint16_t ids[8];
	unsigned made = 2;
	while (made < 8)
		assert_int_equal(libioreq_create_ioreq_server(b, false, &ids[made++]), 0);
	assert_int_equal(libioreq_create_ioreq_server(b, false, &sb), -ENOSPC);
	assert_non_null(strstr(libioreq_error(b), "limit"));
	/* I5: a closed connection takes its servers along */
	libioreq_close(b);
	struct ioreqvm_op_server_list l;
	for (int i = 0; i < 100; i++) {
		ioreq_servers_list(&h.vm.servers, &l);
		if (l.nr == 2)
			break;
		usleep(10000);
	}
	assert_int_equal(l.nr, 2);
	assert_int_equal(libioreq_create_ioreq_server(a, false, &sb), 0);
	assert_int_equal(libioreq_destroy_ioreq_server(a, s1), 0);
	assert_int_equal(libioreq_destroy_ioreq_server(a, s1), -ENOENT);
	/* interrupts: validated, delivered to the backend */
	assert_int_equal(libioreq_set_isa_irq_level(a, 4, 1), 0);
	assert_int_equal(libioreq_set_isa_irq_level(a, 4, 0), 0);
	assert_int_equal(libioreq_set_isa_irq_level(a, 16, 1), -EINVAL);
	assert_int_equal(libioreq_set_pci_intx_level(a, 0, 0, 3, 0, 1), 0);
	assert_int_equal(libioreq_set_pci_intx_level(a, 0, 0, 3, 4, 1), -EINVAL);
	assert_int_equal(libioreq_inject_msi(a, 0xfee00000, 0x30), 0);
	assert_int_equal(libioreq_inject_msi(a, 0x1000, 0x30), -EINVAL);
	libioreq_close(a);
}

static void test_ctl_mem_types_on_the_wire(void **state)
{
	struct libioreq *a;
	assert_int_equal(libioreq_connect(path, &a), 0);
	uint16_t t;
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_RAM_RO, 0x300, 4), 0);
	assert_int_equal(libioreq_get_mem_type(a, 0x301, &t), 0);
	assert_int_equal(t, IOREQVM_MEM_RAM_RO);
	assert_int_equal(libioreq_get_mem_type(a, 0x304, &t), 0);
	assert_int_equal(t, IOREQVM_MEM_RAM_RW);
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_UNUSED, 0x300, 1), -EINVAL);
	assert_non_null(strstr(libioreq_error(a), "M4"));
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_IOREQ_SERVER, 0x300, 1), -EINVAL);
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_RAM_RW, 0x300, 0), -EINVAL);
	assert_int_equal(libioreq_get_mem_type(a, 1ULL << 40, &t), -EINVAL);
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_RAM_RW, 0x300, 4), 0);
	libioreq_close(a);
}

static uint16_t wire_type(struct libioreq *x, uint64_t pfn)
{
	uint16_t t = 99;
	assert_int_equal(libioreq_get_mem_type(x, pfn, &t), 0);
	return t;
}

/*
 * DESIGN R5 (issue 15, defect 7): a connection acts only on what it
 * created. Connection A claims type 4 and gives a page the type; B, even
 * with a claim of its own (type 5), can neither take the page back to
 * ram_rw nor give pages type 4: EPERM naming A's server. A can.
 */
static void test_ctl_r5_claimed_pages_change_only_through_their_owner(void **state)
{
	struct libioreq *a, *b;
	assert_int_equal(libioreq_connect(path, &a), 0);
	assert_int_equal(libioreq_connect(path, &b), 0);
	uint16_t sa, sb;
	assert_int_equal(libioreq_create_ioreq_server(a, false, &sa), 0);
	assert_int_equal(libioreq_create_ioreq_server(b, false, &sb), 0);
	assert_int_equal(libioreq_map_mem_type_to_ioreq_server(a, sa, IOREQVM_MEM_IOREQ_SERVER,
							       IOREQVM_MEM_ACCESS_WRITE), 0);
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_IOREQ_SERVER, 0x800, 1), 0);
	assert_int_equal(wire_type(b, 0x800), IOREQVM_MEM_IOREQ_SERVER);
	char want[64];
	snprintf(want, sizeof(want), "claimed by server %u of another connection", sa);
	for (int round = 0; round < 2; round++) {
		if (round) /* a claim of its own does not make B the owner of type 4 */
			assert_int_equal(libioreq_map_mem_type_to_ioreq_server(
						 b, sb, IOREQVM_MEM_IOREQ_SERVER1,
						 IOREQVM_MEM_ACCESS_WRITE), 0);
		assert_int_equal(libioreq_set_mem_type(b, IOREQVM_MEM_RAM_RW, 0x800, 1), -EPERM);
		assert_non_null(strstr(libioreq_error(b), "pfn 0x800 is ioreq_server"));
		assert_non_null(strstr(libioreq_error(b), want));
		assert_non_null(strstr(libioreq_error(b), "R5"));
		assert_int_equal(wire_type(b, 0x800), IOREQVM_MEM_IOREQ_SERVER);
		assert_int_equal(libioreq_set_mem_type(b, IOREQVM_MEM_IOREQ_SERVER, 0x801, 1), -EPERM);
		assert_non_null(strstr(libioreq_error(b), want));
		assert_int_equal(wire_type(b, 0x801), IOREQVM_MEM_RAM_RW);
	}
	/* Pages of no claimed type stay anyone's. */
	assert_int_equal(libioreq_set_mem_type(b, IOREQVM_MEM_RAM_RO, 0x900, 1), 0);
	assert_int_equal(libioreq_set_mem_type(b, IOREQVM_MEM_RAM_RW, 0x900, 1), 0);
	/* The owner does both. */
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_RAM_RW, 0x800, 1), 0);
	assert_int_equal(wire_type(a, 0x800), IOREQVM_MEM_RAM_RW);
	assert_int_equal(libioreq_set_mem_type(a, IOREQVM_MEM_IOREQ_SERVER, 0x801, 1), 0);
	assert_int_equal(wire_type(a, 0x801), IOREQVM_MEM_IOREQ_SERVER);
	assert_int_equal(libioreq_destroy_ioreq_server(a, sa), 0);
	assert_int_equal(wire_type(b, 0x801), IOREQVM_MEM_RAM_RW); /* C4 */
	assert_int_equal(libioreq_destroy_ioreq_server(b, sb), 0);
	libioreq_close(b);
	libioreq_close(a);
}

static void test_ctl_guest_memory_is_shared(void **state)
{
	struct libioreq *a;
	struct libioreq_guest_memory *m;
	assert_int_equal(libioreq_connect(path, &a), 0);
	assert_int_equal(libioreq_map_guest_memory(a, &m), 0);
	volatile uint64_t *vmm = harness_ram(&h, 0x700000, 8);
	volatile uint64_t *dm = libioreq_guest_ptr(m, 0x700000, 8);
	assert_non_null(dm);
	*vmm = 0x1122334455667788ULL;
	assert_int_equal(*dm, 0x1122334455667788ULL);
	*dm = 42;
	assert_int_equal(*vmm, 42);
	assert_null(libioreq_guest_ptr(m, 64 << 20, 1)); /* past RAM */
	assert_null(libioreq_guest_ptr(m, (64 << 20) - 4, 8)); /* straddles the end */
	libioreq_unmap_guest_memory(m);
	libioreq_close(a);
}

/* A physmap op's payload: @n ranges. */
static struct ioreqvm_op_physmap *physmap(unsigned n, const uint64_t *first, const uint64_t *nr)
{
	static struct ioreqvm_op_physmap op;
	memset(&op, 0, sizeof(op));
	op.nr_ranges = n;
	for (unsigned i = 0; i < n; i++) {
		op.range[i].first_pfn = first[i];
		op.range[i].nr = nr[i];
	}
	return &op;
}

/* X4 on the wire: populate, RAM_RUNS, mapping the frames, decrease, and the refusals. */
static void test_ctl_x4_physmap_ops(void **state)
{
	struct libioreq *a;
	assert_int_equal(libioreq_connect(path, &a), 0);
	struct ioreqvm_op_xen_info xi;
	assert_int_equal(libioreq_xen_info(a, &xi), 0);
	assert_int_equal(xi.ram_pages, 16384 - 32); /* 64 MiB less the VGA window */
	assert_int_equal(xi.max_ram_pages, xi.ram_pages + IOREQVM_POPULATE_MAX_PAGES);
	assert_int_equal(xi.nr_vcpus, 1);
	/* Framing: count, flags, entries past the count. */
	uint64_t f[2] = { 0xD0000, 0xE0000 }, n[2] = { 16, 1 };
	struct ioreqvm_op_physmap *op = physmap(0, f, n);
	assert_int_equal(libioreq_populate_physmap(a, op), -EINVAL);
	assert_non_null(strstr(libioreq_error(a), "nr_ranges"));
	op = physmap(1, f, n);
	op->nr_ranges = IOREQVM_PHYSMAP_MAX_RANGES + 1;
	assert_int_equal(libioreq_populate_physmap(a, op), -EINVAL);
	op = physmap(1, f, n);
	op->flags = 1;
	assert_int_equal(libioreq_populate_physmap(a, op), -EINVAL);
	op = physmap(1, f, n);
	op->range[1].nr = 1; /* past nr_ranges: must be zero */
	assert_int_equal(libioreq_decrease_reservation(a, op), -EINVAL);
	/* The rules: unsorted, RAM already, past the limit. */
	uint64_t back[2] = { 0xE0000, 0xD0000 };
	assert_int_equal(libioreq_populate_physmap(a, physmap(2, back, n)), -EINVAL);
	uint64_t ram = 0x100, one = 1;
	assert_int_equal(libioreq_populate_physmap(a, physmap(1, &ram, &one)), -EEXIST);
	uint64_t big = IOREQVM_POPULATE_MAX_PAGES + 1, base = 0xC0000;
	assert_int_equal(libioreq_populate_physmap(a, physmap(1, &base, &big)), -ENOSPC);
	/* Populated: RAM_RUNS lists it where the memfd has it; a model's write is the VMM's. */
	assert_int_equal(libioreq_populate_physmap(a, physmap(2, f, n)), 0);
	uint16_t t;
	assert_int_equal(libioreq_get_mem_type(a, 0xD000F, &t), 0);
	assert_int_equal(t, IOREQVM_MEM_RAM_RW);
	struct ioreqvm_op_ram_runs *runs = calloc(1, sizeof(*runs));
	assert_int_equal(libioreq_ram_runs(a, 0xC0000, runs), 0);
	assert_int_equal(runs->nr, 2);
	assert_int_equal(runs->run[0].first_pfn, 0xD0000);
	assert_int_equal(runs->run[0].nr, 16);
	assert_int_equal(runs->run[0].offset, 0xD0000000ULL);
	assert_int_equal(runs->run[1].first_pfn, 0xE0000);
	assert_int_equal(runs->next_pfn, runs->nr_pages);
	uint64_t gen = runs->generation;
	struct ioreqvm_op_guest_memory g;
	int fd = -1;
	assert_int_equal(libioreq_guest_memory_fd(a, &g, &fd), 0);
	assert_true(g.memfd_size >= 0xE0001000ULL);
	volatile uint32_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				    (off_t)runs->run[0].offset);
	assert_true(p != MAP_FAILED);
	assert_int_equal(p[0], 0); /* fresh */
	p[0] = 0x5eed;
	assert_int_equal(*(volatile uint32_t *)(h.vm.ram.host + 0xD0000000ULL), 0x5eed);
	assert_int_equal(libioreq_xen_info(a, &xi), 0);
	assert_int_equal(xi.ram_pages, 16384 - 32 + 17);
	/* Given back: a hole, its memory released (the mapping reads zero), gone from RAM_RUNS. */
	assert_int_equal(libioreq_decrease_reservation(a, physmap(2, f, n)), 0);
	assert_int_equal(libioreq_get_mem_type(a, 0xD0000, &t), 0);
	assert_int_equal(t, IOREQVM_MEM_MMIO_DM);
	assert_int_equal(p[0], 0);
	assert_int_equal(libioreq_ram_runs(a, 0xC0000, runs), 0);
	assert_int_equal(runs->nr, 0);
	assert_int_not_equal(runs->generation, gen);
	assert_int_equal(libioreq_decrease_reservation(a, physmap(2, f, n)), -EINVAL);
	munmap((void *)p, 4096);
	close(fd);
	free(runs);
	libioreq_close(a);
}

static void test_ctl_socket_owner_only(void **state)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	if (geteuid() != 0) {
		fprintf(stderr, "not root: cannot try another uid\n");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		struct libioreq *x;
		int rc = libioreq_connect(path, &x);
		_exit(rc == -EACCES || rc == -EPERM ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	harness_args(argc, argv, &backend, &image);
	fprintf(stderr, "backend: %s\n", backend);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_malformed_messages_refused_connection_kept),
		cmocka_unit_test(test_ctl_ops_and_their_errors),
		cmocka_unit_test(test_ctl_mem_types_on_the_wire),
		cmocka_unit_test(test_ctl_r5_claimed_pages_change_only_through_their_owner),
		cmocka_unit_test(test_ctl_guest_memory_is_shared),
		cmocka_unit_test(test_ctl_x4_physmap_ops),
		cmocka_unit_test(test_ctl_socket_owner_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
