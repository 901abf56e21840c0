/* SPDX-License-Identifier: MIT */
/* Unit tests of the command line: sizes, counts, options, errors that name the option. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/cli.h"
#include "xenstore/xs_tree.h"

static int parse(struct cli_opts *o, char *err, int argc, char **argv)
{
	return cli_parse(argc, argv, o, err, 256);
}

#define PARSE(o, err, ...)                                              \
	({                                                                \
		char *argv_[] = { "ioreqvm", __VA_ARGS__, NULL };          \
		parse(o, err, (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_); \
	})

static void test_cli_size_suffixes(void **state)
{
	uint64_t v;
	assert_int_equal(cli_parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(cli_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(cli_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(cli_parse_size("64K", &v), 0);
	assert_int_equal(v, 64ULL << 10);
	assert_int_equal(cli_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(cli_parse_size("4096B", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cli_parse_size("512MiB", &v), 0);
	assert_int_equal(v, 512ULL << 20);
}

static void test_cli_size_bare_number_is_mib(void **state)
{
	uint64_t v;
	assert_int_equal(cli_parse_size("128", &v), 0);
	assert_int_equal(v, 128ULL << 20);
}

static void test_cli_size_rejects_garbage_and_overflow(void **state)
{
	uint64_t v;
	assert_int_equal(cli_parse_size("", &v), -EINVAL);
	assert_int_equal(cli_parse_size("M", &v), -EINVAL);
	assert_int_equal(cli_parse_size("-1G", &v), -EINVAL);
	assert_int_equal(cli_parse_size("12X", &v), -EINVAL);
	assert_int_equal(cli_parse_size("1GG", &v), -EINVAL);
	assert_int_equal(cli_parse_size(" 1G", &v), -EINVAL);
	assert_int_equal(cli_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(cli_parse_size("17179869184T", &v), -ERANGE);
}

static void test_cli_run_defaults(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "run", "--kernel", "k.elf"), 0);
	assert_int_equal(o.action, CLI_RUN);
	assert_string_equal(o.kernel, "k.elf");
	assert_int_equal(o.memory, CLI_DEFAULT_MEMORY);
	assert_int_equal(o.cpus, 1);
	assert_string_equal(o.accel, "auto");
	assert_null(o.initrd);
	assert_null(o.cmdline);
	assert_false(o.kernel_decompress_guest); /* DESIGN L1: decompressed on the host */
	assert_false(o.console_none); /* L3: the console is stdio unless asked */
}

/* DESIGN L1: who decompresses a bzImage's kernel. */
static void test_cli_kernel_decompress(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--kernel-decompress", "guest"), 0);
	assert_true(o.kernel_decompress_guest);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--kernel-decompress", "host"), 0);
	assert_false(o.kernel_decompress_guest);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--kernel-decompress", "qemu"), -EINVAL);
	assert_non_null(strstr(err, "--kernel-decompress 'qemu': expected host or guest"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--kernel-decompress"), -EINVAL);
}

static void test_cli_run_all_options(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "run", "--kernel", "k", "--initrd", "i", "--cmdline",
			       "a b", "--memory", "2G", "--cpus", "4", "--socket", "/tmp/s",
			       "--accel", "kvm", "-v", "-v"), 0);
	assert_string_equal(o.initrd, "i");
	assert_string_equal(o.cmdline, "a b");
	assert_int_equal(o.memory, 2ULL << 30);
	assert_int_equal(o.cpus, 4);
	assert_string_equal(o.socket, "/tmp/s");
	assert_string_equal(o.accel, "kvm");
	assert_int_equal(o.verbose, 2);
}

static void test_cli_command_word_is_optional(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "-k", "k.elf", "-m", "64M"), 0);
	assert_string_equal(o.kernel, "k.elf");
	assert_int_equal(o.memory, 64ULL << 20);
}

static void test_cli_help_and_version(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE(&o, err, "run", "--version"), 0);
	assert_int_equal(o.action, CLI_VERSION);
}

static void test_cli_errors_name_the_option(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "run"), -EINVAL);
	assert_non_null(strstr(err, "--kernel"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--memory", "lots"), -EINVAL);
	assert_non_null(strstr(err, "--memory"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--memory", "1M"), -EINVAL);
	assert_non_null(strstr(err, "--memory"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--memory", "2049K"), -EINVAL);
	assert_non_null(strstr(err, "4K"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--memory", "2T"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--cpus", "0"), -EINVAL);
	assert_non_null(strstr(err, "--cpus"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--cpus", "65"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--cpus", "2x"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--accel", "xen"), -EINVAL);
	assert_non_null(strstr(err, "--accel"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(PARSE(&o, err, "run", "-k"), -EINVAL);
	assert_non_null(strstr(err, "-k"));
	assert_int_equal(PARSE(&o, err, "start", "-k", "k"), -EINVAL);
	assert_non_null(strstr(err, "start"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "extra"), -EINVAL);
	assert_non_null(strstr(err, "extra"));
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--socket", longpath), -EINVAL);
	assert_non_null(strstr(err, "--socket"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--device-model", ""), -EINVAL);
	assert_non_null(strstr(err, "--device-model"));
}

/* A device-model command holds paths of a build tree plus options: CI's paths
 * made one 260 bytes long, so the limit is a page, and past it a clear error. */
static void test_cli_device_model_long_commands(void **state)
{
	(void)state;
	struct cli_opts o;
	char err[256];
	static char cmd[CLI_DM_CMD_MAX + 2];
	memset(cmd, 'a', CLI_DM_CMD_MAX);
	cmd[CLI_DM_CMD_MAX] = 0;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--device-model", cmd), 0);
	assert_int_equal(o.nr_device_models, 1);
	assert_int_equal(strlen(o.device_models[0]), CLI_DM_CMD_MAX);
	cmd[CLI_DM_CMD_MAX] = 'a';
	cmd[CLI_DM_CMD_MAX + 1] = 0;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--device-model", cmd), -EINVAL);
	assert_non_null(strstr(err, "--device-model"));
	assert_non_null(strstr(err, "4096"));
}

/* X1, X5: Xen device models, the domid and xenstore seeds; checked at parse time. */
static void test_cli_xen_options(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "run", "-k", "k"), 0);
	assert_int_equal(o.domid, CLI_DEFAULT_DOMID);
	assert_int_equal(o.nr_xen_device_models, 0);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--domid", "5", "--xen-device-model", "a",
			       "--xenstore", "k1=v1", "--xen-device-model", "b", "--xenstore",
			       "/abs/k=", "--device-model", "c"), 0);
	assert_int_equal(o.domid, 5);
	assert_int_equal(o.nr_xen_device_models, 2);
	assert_string_equal(o.xen_device_models[1], "b");
	assert_int_equal(o.nr_device_models, 1);
	assert_int_equal(o.nr_xenstore, 2);
	assert_string_equal(o.xenstore[1], "/abs/k=");
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--domid", "0"), -EINVAL);
	assert_non_null(strstr(err, "--domid"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--domid", "32752"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--domid", "32751"), 0);
	const char *bad[] = { "novalue", "=v", "a//b=v", "a b=v", "a/=v" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--xenstore", (char *)bad[i]),
				 -EINVAL);
		assert_non_null(strstr(err, "--xenstore"));
	}
	static char big[XS_MAX_VALUE + 8] = "k=";
	memset(big + 2, 'v', XS_MAX_VALUE + 1);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--xenstore", big), -EINVAL);
	big[XS_MAX_VALUE + 2] = 0;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--xenstore", big), 0);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--xen-device-model", ""), -EINVAL);
	assert_non_null(strstr(err, "--xen-device-model"));
	char *argv[3 + 2 * (CLI_MAX_DMS + 1) + 1] = { "ioreqvm", "-k", "k" };
	int argc = 3;
	for (unsigned i = 0; i <= CLI_MAX_DMS; i++) {
		argv[argc++] = "--xen-device-model";
		argv[argc++] = "m";
	}
	argv[argc] = NULL;
	assert_int_equal(parse(&o, err, argc, argv), -EINVAL);
	assert_non_null(strstr(err, "at most 16"));
}

static void test_cli_xen_env(void **state)
{
	struct cli_opts o;
	char err[256];
	/* xen_env_cmd points into argv: the arrays outlive the checks. */
	char *a1[] = { "ioreqvm", "xen-env", "--", "model", "--opt", "x", NULL };
	assert_int_equal(parse(&o, err, 6, a1), 0);
	assert_int_equal(o.action, CLI_XEN_ENV);
	assert_null(o.socket);
	assert_string_equal(o.xen_env_cmd[0], "model");
	assert_string_equal(o.xen_env_cmd[1], "--opt");
	assert_null(o.xen_env_cmd[3]);
	char *a2[] = { "ioreqvm", "xen-env", "--socket", "/tmp/vm.sock", "model", NULL };
	assert_int_equal(parse(&o, err, 5, a2), 0);
	assert_string_equal(o.socket, "/tmp/vm.sock");
	assert_string_equal(o.xen_env_cmd[0], "model");
	/* The model's own options are its own, -- or not. */
	char *a3[] = { "ioreqvm", "xen-env", "model", "--socket", "x", NULL };
	assert_int_equal(parse(&o, err, 5, a3), 0);
	assert_null(o.socket);
	assert_ptr_equal(o.xen_env_cmd, &a3[2]);
	assert_int_equal(PARSE(&o, err, "xen-env"), -EINVAL);
	assert_non_null(strstr(err, "no command"));
	assert_int_equal(PARSE(&o, err, "xen-env", "--"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "xen-env", "--bogus", "m"), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(PARSE(&o, err, "xen-env", "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
}

/* L3: --console stdio|none; anything else names the option and the choices. */
static void test_cli_console(void **state)
{
	struct cli_opts o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--console", "none"), 0);
	assert_true(o.console_none);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--console", "none", "--console", "stdio"), 0);
	assert_false(o.console_none);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--console", "tty"), -EINVAL);
	assert_non_null(strstr(err, "--console 'tty'"));
	assert_non_null(strstr(err, "stdio or none"));
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--console"), -EINVAL);
	assert_non_null(strstr(err, "--console"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_size_suffixes),
		cmocka_unit_test(test_cli_size_bare_number_is_mib),
		cmocka_unit_test(test_cli_size_rejects_garbage_and_overflow),
		cmocka_unit_test(test_cli_run_defaults),
		cmocka_unit_test(test_cli_xen_options),
		cmocka_unit_test(test_cli_xen_env),
		cmocka_unit_test(test_cli_run_all_options),
		cmocka_unit_test(test_cli_kernel_decompress),
		cmocka_unit_test(test_cli_command_word_is_optional),
		cmocka_unit_test(test_cli_help_and_version),
		cmocka_unit_test(test_cli_errors_name_the_option),
		cmocka_unit_test(test_cli_device_model_long_commands),
		cmocka_unit_test(test_cli_console),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
