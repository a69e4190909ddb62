/* slowio_main.h: the command line every slow-IO plugin program has. */
#pragma once

#include "slowio_types.h"

/* Parses --config/--help/--version; returns the config path, or NULL with *exit_code set when
 * the program must end (help shown or bad usage). */
const char *slowio_parse_args(enum slowio_plugin plugin, int argc, char **argv, int *exit_code);
/* The messages of a config load to the log; the errors joined into *errors (malloc'ed). */
struct config_msgs;
void slowio_log_config_msgs(const struct config_msgs *msgs, char **errors);
