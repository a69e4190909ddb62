/* instance_lock.h: one sentryd per root: an flock()ed pid file in the run directory. */
#pragma once

#include <sys/types.h>

/* 0 and *ret_fd (keep it open while running), -EEXIST with *holder set to the pid of the
 * running instance (0 if unknown) when another sentryd holds the lock, or -errno. */
int instance_lock_acquire(const char *path, int *ret_fd, pid_t *holder);
