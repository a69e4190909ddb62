/* smm_receiver.h: the receiver thread: answers (1004, 1006, 1008, 1010) read from sentryd's
 * xalarm stream go back to the kernel through the channel. */
#pragma once

#include "smm_channel.h"

/* Runs until registering or answering fails for good; returns that -errno. */
int smm_receiver_run(struct smm_channel *c);
