/* io_source_report.h: what the io sources measure and why, as JSON (docs/protocol.md, io_sources).
 */
#pragma once

#include <json-c/json.h>

#include "io_source_set.h"

/* {"spec", "sources": [{"name", "available", "why", "parts": [{"name", "event", "state",
 * "reason"}]}], "disks": {disk: {stage: {"source", "why_not": {kind: why}}}}}; NULL on OOM. */
json_object *io_source_report(struct io_source_set *set, const struct disk_info *disks, size_t n);
