/* smm_sender.h: the sender thread: notices from the channel become alarms (1003, 1005, 1007,
 * 1009, 1013, 1016) on sentryd's xalarm report socket. */
#pragma once

#include "smm_channel.h"
#include "smm_memid_map.h"

/* Runs until a read fails for good; returns that -errno. */
int smm_sender_run(struct smm_channel *c);

/* The devices the SIGBUS search of UB memory faults looks for (NULL: none); call before the
 * thread starts. */
void smm_sender_set_memid_map(const struct smm_memid_map *map);
