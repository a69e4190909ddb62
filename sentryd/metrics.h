/* metrics.h: the bus's counters and gauges as JSON (`stats` verb) and as a node_exporter
 * textfile (<dir>/sentry.prom, replaced atomically). The file is rewritten at most every
 * `interval` seconds and only after something changed, so an idle sentryd does not wake up. */
#pragma once

#include "json_util.h"

struct daemon;
struct metrics_writer;

json_object *metrics_stats_json(struct daemon *d);
/* Prometheus text exposition of the same figures (malloc'ed). */
char *metrics_textfile(struct daemon *d);

int metrics_writer_new(struct daemon *d, const char *dir, unsigned interval_s,
                       struct metrics_writer **ret);
struct metrics_writer *metrics_writer_free(struct metrics_writer *m);
/* Something changed: make sure a write is scheduled. */
void metrics_writer_touch(struct metrics_writer *m);
