/* SPDX-License-Identifier: MIT */
/* The vCPU thread: run, classify the exit, dispatch, repeat until the VM stops. */
#ifndef IOREQVM_VCPU_LOOP_H
#define IOREQVM_VCPU_LOOP_H

void *vcpu_thread(void *vcpu);

#endif
