/* clock.h — monotonic and wall time for the daemon (the engine never reads
 * a clock itself: the daemon hands it the time). */
#ifndef PVPN_LIB_CLOCK_H
#define PVPN_LIB_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t clock_mono_ms(void);
/* Seconds since the epoch. */
uint64_t clock_wall_s(void);

#endif
