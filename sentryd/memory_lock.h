/* memory_lock.h: sentryd's memory kept in RAM ([daemon] lock_memory).
 *
 * When a node runs out of memory, the kernel module asks for an answer before it kills anything,
 * and that answer passes through sentryd (the notice to the pool manager, the answer back). A
 * sentryd whose pages were reclaimed, or that needs new ones, would wait for memory that only the
 * answer frees: so its memory is locked (mlockall: what is mapped now, and later pages as they are
 * touched) and the heap is not given back to the kernel, so that what was freed is reused without a
 * page fault. */
#pragma once

#include <stdbool.h>

/* Locks sentryd's memory when enabled; says once why it could not. */
void memory_lock_apply(bool enabled);
