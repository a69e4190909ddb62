/* daemon_lifecycle.h: the three steps main() takes. */
#pragma once

#include "daemon.h"

/* Directories, lock, loop, tasks, socket, signals. Negative errno (logged) on failure; -EEXIST
 * when another sentryd holds the root. */
int daemon_setup(struct daemon *d);
/* READY, onstart tasks, then the loop until shutdown. Returns the exit code of the loop. */
int daemon_run(struct daemon *d);
void daemon_teardown(struct daemon *d);
