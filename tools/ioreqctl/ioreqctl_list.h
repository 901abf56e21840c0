/* SPDX-License-Identifier: MIT */
/* Stopgap list calls until libioreq exports them (see ioreqctl_list.c). */
#ifndef IOREQCTL_LIST_H
#define IOREQCTL_LIST_H

#include "libioreq.h"

int ioreqctl_list_servers(struct libioreq *x, struct ioreqvm_op_server_list *out);
int ioreqctl_list_ranges(struct libioreq *x, uint16_t id, struct ioreqvm_op_range_list *out);

#endif
