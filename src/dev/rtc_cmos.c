/* SPDX-License-Identifier: MIT */
/*
 * CMOS RTC (see rtc_cmos.h): the register model over a host time source,
 * and the in-VMM device that puts it at ports 0x70/0x71.
 */
#include "dev/rtc_cmos.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/vm.h"
#include "dev/device.h"
#include "platform/layout.h"

static time_t host_now(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

void rtc_cmos_init(struct rtc_cmos *r, time_t (*now)(void *ctx), void *ctx)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->now = now ? now : host_now;
	r->now_ctx = ctx;
	r->ram[RTC_REG_A] = RTC_A_DEFAULT;
	r->ram[RTC_REG_B] = RTC_B_DEFAULT;
}

void rtc_cmos_destroy(struct rtc_cmos *r)
{
	pthread_mutex_destroy(&r->lock);
}

static bool is_clock(unsigned reg)
{
	switch (reg) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

static void guest_tm(struct rtc_cmos *r, struct tm *tm)
{
	time_t t = (time_t)(r->now(r->now_ctx) + r->offset);
	gmtime_r(&t, tm);
}

/* A binary value 0..99 in the data mode register B selects. */
static uint8_t to_reg(const struct rtc_cmos *r, int v)
{
	if (r->ram[RTC_REG_B] & RTC_B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static int from_reg(const struct rtc_cmos *r, uint8_t v)
{
	if (r->ram[RTC_REG_B] & RTC_B_DM_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t hours_to_reg(const struct rtc_cmos *r, int h)
{
	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return to_reg(r, h);
	int h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(to_reg(r, h12) | (h >= 12 ? RTC_PM_BIT : 0));
}

static int hours_from_reg(const struct rtc_cmos *r, uint8_t v)
{
	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return from_reg(r, v);
	int h = from_reg(r, v & (uint8_t)~RTC_PM_BIT) % 12;
	return h + (v & RTC_PM_BIT ? 12 : 0);
}

static uint8_t clock_read(struct rtc_cmos *r, unsigned reg)
{
	struct tm tm;
	guest_tm(r, &tm);
	switch (reg) {
	case RTC_SECONDS: return to_reg(r, tm.tm_sec > 59 ? 59 : tm.tm_sec);
	case RTC_MINUTES: return to_reg(r, tm.tm_min);
	case RTC_HOURS: return hours_to_reg(r, tm.tm_hour);
	case RTC_DAY_OF_WEEK: return to_reg(r, tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH: return to_reg(r, tm.tm_mday);
	case RTC_MONTH: return to_reg(r, tm.tm_mon + 1);
	case RTC_YEAR: return to_reg(r, (tm.tm_year + 1900) % 100);
	default: return to_reg(r, (tm.tm_year + 1900) / 100); /* century */
	}
}

/* The guest sets one clock field: the others stay, the offset moves. */
static void clock_write(struct rtc_cmos *r, unsigned reg, uint8_t v)
{
	struct tm tm;
	guest_tm(r, &tm);
	int year = tm.tm_year + 1900;
	switch (reg) {
	case RTC_SECONDS: tm.tm_sec = from_reg(r, v); break;
	case RTC_MINUTES: tm.tm_min = from_reg(r, v); break;
	case RTC_HOURS: tm.tm_hour = hours_from_reg(r, v); break;
	case RTC_DAY_OF_WEEK: return; /* follows from the date */
	case RTC_DAY_OF_MONTH: tm.tm_mday = from_reg(r, v); break;
	case RTC_MONTH: tm.tm_mon = from_reg(r, v) - 1; break;
	case RTC_YEAR: year = year / 100 * 100 + from_reg(r, v) % 100; break;
	default: year = from_reg(r, v) * 100 + year % 100; break; /* century */
	}
	tm.tm_year = year - 1900;
	tm.tm_isdst = 0;
	time_t t = timegm(&tm);
	if (t != (time_t)-1)
		r->offset = (int64_t)t - (int64_t)r->now(r->now_ctx);
}

uint8_t rtc_cmos_read(struct rtc_cmos *r, unsigned port)
{
	if (port != PLAT_RTC_DATA_PORT)
		return 0xff; /* the index port is write-only */
	pthread_mutex_lock(&r->lock);
	unsigned reg = r->index;
	uint8_t v;
	if (is_clock(reg))
		v = clock_read(r, reg);
	else if (reg == RTC_REG_A)
		v = r->ram[RTC_REG_A] & (uint8_t)~RTC_A_UIP;
	else if (reg == RTC_REG_C)
		v = 0; /* no interrupt flags */
	else if (reg == RTC_REG_D)
		v = RTC_D_VRT;
	else
		v = r->ram[reg];
	pthread_mutex_unlock(&r->lock);
	return v;
}

void rtc_cmos_write(struct rtc_cmos *r, unsigned port, uint8_t value)
{
	pthread_mutex_lock(&r->lock);
	if (port == PLAT_RTC_INDEX_PORT) {
		r->index = value & 0x7f;
	} else {
		unsigned reg = r->index;
		if (is_clock(reg))
			clock_write(r, reg, value);
		else if (reg == RTC_REG_A)
			r->ram[reg] = value & (uint8_t)~RTC_A_UIP;
		else if (reg != RTC_REG_C && reg != RTC_REG_D)
			r->ram[reg] = value;
	}
	pthread_mutex_unlock(&r->lock);
}

static enum io_result rtc_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	(void)vcpu;
	struct rtc_cmos *r = opaque;
	if (a->is_write)
		rtc_cmos_write(r, (unsigned)a->addr, (uint8_t)a->data);
	else
		a->data = rtc_cmos_read(r, (unsigned)a->addr);
	return IO_DONE;
}

static int rtc_create(struct vm *vm, void **state)
{
	struct rtc_cmos *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	rtc_cmos_init(r, NULL, NULL);
	*state = r;
	return iomap_add(&vm->iomap[IO_SPACE_PIO], PLAT_RTC_INDEX_PORT, 2, rtc_io, r, "rtc-cmos");
}

static void rtc_destroy(void *state)
{
	rtc_cmos_destroy(state);
	free(state);
}

const struct device_desc rtc_cmos_device = {
	.name = "rtc-cmos",
	.create = rtc_create,
	.destroy = rtc_destroy,
};
