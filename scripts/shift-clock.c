/* Moves this process's calendar clock (CLOCK_REALTIME) by SHIFT_CLOCK_SECONDS, for running the
 * test suite "on another date" (scripts/on-date.sh loads it with LD_PRELOAD into every process).
 *
 * Only the calendar time moves: the monotonic clock, which every sleep and timed wait of Python
 * (3.11: clock_nanosleep and sem_clockwait on CLOCK_MONOTONIC), Chromium and libpq uses, is left
 * alone. That is why this exists instead of libfaketime 0.9.10, which either hangs
 * threading.Event.wait(timeout) (monotonic faked) or fails time.sleep with EINVAL (not faked). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long shift_seconds;
static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_gettimeofday)(struct timeval *restrict, void *restrict);

__attribute__((constructor)) static void load(void) {
    const char *value = getenv("SHIFT_CLOCK_SECONDS");
    shift_seconds = value ? atoll(value) : 0;
    real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    real_gettimeofday = dlsym(RTLD_NEXT, "gettimeofday");
}

static int is_calendar(clockid_t id) {
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime) load();
    int result = real_clock_gettime(id, ts);
    if (result == 0 && is_calendar(id)) ts->tv_sec += shift_seconds;
    return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    if (!real_gettimeofday) load();
    int result = real_gettimeofday(tv, tz);
    if (result == 0) tv->tv_sec += shift_seconds;
    return result;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}
