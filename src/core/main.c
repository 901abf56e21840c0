/* SPDX-License-Identifier: MIT */
/*
 * ioreqvm's main: parse the command line, build and boot the VM, wait for
 * it to stop (guest exit, fault, or SIGINT/SIGTERM), tear down, and exit
 * with the documented status. The only place that turns errors into exits.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/boot.h"
#include "core/cli.h"
#include "core/dm_spawn.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/term_guard.h"
#include "core/vm.h"
#include "core/xen_env.h"
#include "core/xen_launch.h"
#include "ctl/ctl_server.h"
#include "xenstore/xs_seed.h"
#include "xenstore/xs_server.h"

#ifndef IOREQVM_VERSION
#define IOREQVM_VERSION "unknown"
#endif

/*
 * A program shipped with ioreqvm: next to the executable (installed), or
 * at @build_rel from it (build tree). 0 with the path, shell-quoted.
 */
static int find_helper(const char *name, const char *build_rel, char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	*slash = 0;
	const char *rels[] = { "", build_rel };
	for (unsigned i = 0; i < 2; i++) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof(p), "%s/%s%s", exe, rels[i], name);
		if (access(p, X_OK) == 0 && !strchr(p, '\'') && strlen(p) + 3 <= len) {
			out[0] = '\'';
			memcpy(out + 1, p, strlen(p));
			memcpy(out + 1 + strlen(p), "'", 2);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Block until the VM stops or a terminating signal arrives. @console_pidfd
 * (or -1): the console model; if it dies while the VM runs, the terminal it
 * had set raw is put back (it could not: SIGKILL), and Ctrl-C works again.
 */
static void wait_for_stop(struct vm *vm, int sfd, int console_pidfd, const struct term_guard *tg)
{
	struct pollfd p[3] = {
		{ .fd = vm->stop_efd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
		{ .fd = console_pidfd, .events = POLLIN },
	};
	while (!atomic_load(&vm->stopping)) {
		int n = poll(p, 3, -1);
		if (n < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			vm_stop(vm, VM_EXIT_INTERNAL);
			return;
		}
		if (n > 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				log_info("stopping on signal %u", si.ssi_signo);
				vm_stop(vm, VM_EXIT_SIGNAL_BASE + (int)si.ssi_signo);
			}
		}
		if (n > 0 && p[2].fd >= 0 && p[2].revents) {
			term_guard_restore(tg);
			if (tg->saved)
				log_err("the console device model exited: terminal restored, no "
					"console (the VM runs on; Ctrl-C stops it)");
			p[2].fd = -1;
		}
	}
}

static void report_unbacked(const struct vm *vm)
{
	uint64_t pr = vm->unbacked_reads[IO_SPACE_PIO], pw = vm->unbacked_writes[IO_SPACE_PIO];
	uint64_t mr = vm->unbacked_reads[IO_SPACE_MMIO], mw = vm->unbacked_writes[IO_SPACE_MMIO];
	if (pr | pw | mr | mw)
		log_info("unbacked accesses: port %" PRIu64 " reads %" PRIu64 " writes, mmio %" PRIu64
			 " reads %" PRIu64 " writes", pr, pw, mr, mw);
}

/*
 * The VM's xenstore (DESIGN X1): seeded with the default keys and the
 * --xenstore ones, its socket in a directory of its own next to the
 * control socket @sock (in the default directory if that makes too long a
 * socket path). 0, or -errno with a message.
 */
static int start_xenstore(struct xs_server *xs, struct vm *vm, const struct cli_opts *o,
			  const char *sock, char *err, size_t errlen)
{
	char name[32], dir[108];
	snprintf(name, sizeof(name), "ioreqvm-%d", (int)getpid());
	struct xs_seed_vm sv = { .domid = o->domid, .name = name, .uuid = vm->xen.uuid,
				 .nr_vcpus = vm->nr_vcpus, .ram_kib = o->memory >> 10 };
	int rc = xs_seed_defaults(&xs->svc, &sv);
	if (rc) {
		snprintf(err, errlen, "xenstore: the default keys: %s", strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < o->nr_xenstore; i++) {
		rc = xs_seed_apply(&xs->svc, o->xenstore[i], o->domid, err, errlen);
		if (rc)
			return rc;
	}
	snprintf(dir, sizeof(dir), "%s", sock);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	rc = xs_server_start(xs, dir, err, errlen);
	if (rc == -ENAMETOOLONG) {
		/* Too deep for a socket path of its own: the default directory then. */
		ctl_default_path(dir, sizeof(dir));
		*strrchr(dir, '/') = 0;
		rc = xs_server_start(xs, dir, err, errlen);
	}
	if (!rc)
		snprintf(vm->xen.xenstore_path, sizeof(vm->xen.xenstore_path), "%s", xs->path);
	return rc;
}

/* Start the --xen-device-model models, after the others. 0 or -errno with a message. */
static int spawn_xen_models(const struct cli_opts *o, struct ctl_server *ctl, const char *sock,
			    const char *xs_path, struct dm_child *dms, unsigned *nr_dms, char *err,
			    size_t errlen)
{
	char compat[PATH_MAX];
	char *vars[XEN_MODEL_ENV_VARS + 1];
	if (!o->nr_xen_device_models)
		return 0;
	int rc = xen_compat_dir(compat, sizeof(compat), err, errlen);
	if (rc)
		return rc;
	if (xen_model_env(compat, xs_path, o->domid, vars)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; !rc && i < o->nr_xen_device_models; i++) {
		const char *cmd = o->xen_device_models[i];
		rc = dm_spawn(ctl, cmd, sock, (const char *const *)vars, &dms[*nr_dms], 10000, err,
			      errlen);
		if (!rc) {
			log_info("Xen device model ready (pid %d): %s", (int)dms[*nr_dms].pid, cmd);
			(*nr_dms)++;
		}
	}
	xen_model_env_free(vars);
	return rc;
}

static int run(const struct cli_opts *o)
{
	char err[512] = "";
	struct vm vm;
	struct vm_config cfg = {
		.memory = o->memory,
		.nr_vcpus = o->cpus,
		.accel = o->accel,
		.accel_device = o->accel_device,
		.console_fd = STDOUT_FILENO,
		.max_servers = o->max_servers,
	};
	struct ctl_server ctl;
	bool ctl_started = false;
	struct xs_server xs;
	bool xs_inited = false;
	struct dm_child dms[DM_MAX];
	unsigned nr_dms = 0;
	char sock[108];

	/* Terminating signals are read from a signalfd by this thread only. */
	sigset_t stop_sigs;
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	int sfd = signalfd(-1, &stop_sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return VM_EXIT_SETUP;
	}

	/* Before any model runs: the state to go back to, whatever they do. */
	struct term_guard tg = { 0 };
	if (!o->no_default_devices && !o->console_none)
		term_guard_save(&tg, STDIN_FILENO);

	int status = VM_EXIT_SETUP;
	if (vm_create(&vm, &cfg, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	log_info("backend %s, %u vCPU(s), %" PRIu64 " MiB RAM", vm.ops->name, vm.nr_vcpus,
		 o->memory >> 20);
	struct boot_files files = { .kernel = o->kernel, .initrd = o->initrd, .cmdline = o->cmdline,
				    .decompress = o->kernel_decompress_guest ? BOOT_DECOMPRESS_GUEST
									     : BOOT_DECOMPRESS_HOST };
	struct boot_report rep;
	if (boot_guest(&vm, &files, &rep, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	if (rep.note[0])
		log_msg(rep.note_level, "%s", rep.note);
	if (o->socket)
		snprintf(sock, sizeof(sock), "%s", o->socket);
	else
		ctl_default_path(sock, sizeof(sock));
	vm.xen.domid = o->domid;
	xs_uuid_new(vm.xen.uuid);
	if (xs_server_init(&xs, o->domid)) {
		log_err("xenstore: out of memory");
		goto out;
	}
	xs_inited = true;
	if (start_xenstore(&xs, &vm, o, sock, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	log_info("xenstore socket: %s", xs.path);
	if (ctl_server_start(&ctl, &vm, sock, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	ctl_started = true;
	log_info("control socket: %s", sock);
	const char *cmds[DM_MAX + 1];
	unsigned nr_cmds = 0;
	char uart_cmd[PATH_MAX + 32];
	if (!o->no_default_devices) {
		if (find_helper("ioreqvm-uart16550", "../dm/uart16550/", uart_cmd, sizeof(uart_cmd) - 24)) {
			log_err("the default UART device model ioreqvm-uart16550 is not installed next "
				"to ioreqvm (use --no-default-devices to run without it)");
			goto out;
		}
		/* The console (L3): stdin in, stdout out; or neither. */
		strcat(uart_cmd, o->console_none ? " --no-output" : " --input -");
		cmds[nr_cmds++] = uart_cmd;
	}
	for (unsigned i = 0; i < o->nr_device_models && nr_cmds < DM_MAX; i++)
		cmds[nr_cmds++] = o->device_models[i];
	for (unsigned i = 0; i < nr_cmds; i++) {
		if (dm_spawn(&ctl, cmds[i], sock, NULL, &dms[nr_dms], 10000, err, sizeof(err))) {
			log_err("%s", err);
			goto out;
		}
		log_info("device model ready (pid %d): %s", (int)dms[nr_dms].pid, cmds[i]);
		nr_dms++;
	}
	if (spawn_xen_models(o, &ctl, sock, xs.path, dms, &nr_dms, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	int console_pidfd = -1;
	if (!o->no_default_devices && tg.saved)
		console_pidfd = (int)syscall(SYS_pidfd_open, dms[0].pid, 0); /* -1: no early restore */
	if (vm_start(&vm, err, sizeof(err))) {
		log_err("%s", err);
		vm_stop(&vm, VM_EXIT_SETUP);
	} else {
		wait_for_stop(&vm, sfd, console_pidfd, &tg);
	}
	if (console_pidfd >= 0)
		close(console_pidfd);
	vm_join(&vm);
	status = vm.exit_status;
	report_unbacked(&vm);
out:
	if (ctl_started)
		ctl_server_stop(&ctl); /* device models see their connection close */
	for (unsigned i = 0; i < nr_dms; i++)
		dm_reap(&dms[i], 2000);
	if (xs_inited)
		xs_server_stop(&xs); /* after the models: they were its clients */
	vm_destroy(&vm);
	close(sfd);
	term_guard_restore(&tg);
	return status;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	char err[256];
	if (cli_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "ioreqvm: %s\n", err);
		return VM_EXIT_USAGE;
	}
	switch (o.action) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("ioreqvm %s\n", IOREQVM_VERSION);
		for (unsigned i = 0; cpu_backends[i]; i++) {
			char what[128];
			if (!cpu_backends[i]->describe)
				continue;
			cpu_backends[i]->describe(what, sizeof(what));
			printf("%s backend: %s\n", cpu_backends[i]->name, what);
		}
		return 0;
	case CLI_XEN_ENV:
		return xen_env_main(&o);
	case CLI_RUN:
		break;
	}
	log_verbosity = o.verbose;
	return run(&o);
}
