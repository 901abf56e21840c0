/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics of the VMM process: one line per message on stderr, prefixed
 * with "ioreqvm:". Verbosity is process-wide; below main only the vCPU loop
 * and dispatchers print (STYLE 12), everything else returns -errno.
 */
#ifndef IOREQVM_LOG_H
#define IOREQVM_LOG_H

extern int log_verbosity;

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_ERR 0
#define LOG_INFO 1  /* shown with -v */
#define LOG_DEBUG 2 /* shown with -vv */

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
