/* SPDX-License-Identifier: MIT */
/*
 * The CMOS RTC (MC146818) at ports 0x70/0x71 (DESIGN L2), in the VMM: an
 * index register and 128 bytes behind it. The clock registers read the
 * host's wall-clock time in UTC (as QEMU's default -rtc base=utc), in BCD or
 * binary and 24- or 12-hour form as register B says; the century is at 0x32
 * (the FADT names it). A guest that sets the clock moves its own offset from
 * host time, never the host's clock. Register A never shows an update in
 * progress, register C has no interrupt flags (no periodic, alarm or update
 * interrupts), register D reports valid RAM and time; the other bytes are
 * plain RAM. The model functions are exposed for unit tests; one mutex
 * makes them safe from any vCPU thread.
 */
#ifndef IOREQVM_RTC_CMOS_H
#define IOREQVM_RTC_CMOS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06 /* 1 = Sunday */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32

#define RTC_A_UIP 0x80
#define RTC_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define RTC_B_SET 0x80
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_B_DEFAULT RTC_B_24H /* BCD, 24-hour */
#define RTC_D_VRT 0x80
#define RTC_PM_BIT 0x80 /* hours, 12-hour mode */

struct rtc_cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];    /* registers A, B and the plain bytes; clock bytes unused */
	int64_t offset;      /* guest time = host time + offset, seconds */
	time_t (*now)(void *ctx); /* host wall-clock seconds */
	void *now_ctx;
};

/* Reset state; @now NULL means time(NULL). */
void rtc_cmos_init(struct rtc_cmos *r, time_t (*now)(void *ctx), void *ctx);
void rtc_cmos_destroy(struct rtc_cmos *r);
/* A byte access to port 0x70 (index; bit 7 is the NMI mask, ignored) or 0x71 (data). */
uint8_t rtc_cmos_read(struct rtc_cmos *r, unsigned port);
void rtc_cmos_write(struct rtc_cmos *r, unsigned port, uint8_t value);

#endif
