/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <time.h>

/* The clock in microseconds (CLOCK_MONOTONIC for intervals, CLOCK_REALTIME for timestamps). */
uint64_t now_usec(clockid_t clock);
