/* alarm_filter.h: which alarms a subscriber or a query wants: id list and ranges, minimum
 * level, sources, types. An empty part matches everything. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "alarm.h"

#define ALARM_FILTER_RANGES_MAX  64
#define ALARM_FILTER_SOURCES_MAX 64

struct alarm_filter {
    struct {
        uint16_t lo, hi;
    } ranges[ALARM_FILTER_RANGES_MAX];
    unsigned n_ranges; /* 0: every id */
    uint8_t min_level; /* 0: every level */
    uint8_t types;     /* bit per alarm type; 0: every type */
    char **sources;    /* NULL: every source */
    bool none;         /* matches nothing (an xalarm client that registered no id) */
};

void alarm_filter_done(struct alarm_filter *f);
/* Adds the ids of a spec such as "1001-1003,1007". */
int alarm_filter_add_ids(struct alarm_filter *f, const char *spec, const char **why);
/* Reads the members "ids", "min_level", "sources", "types" of a request object. */
int alarm_filter_from_json(json_object *req, struct alarm_filter *f, const char **why);
bool alarm_filter_match(const struct alarm_filter *f, const struct alarm *a);
/* The filter as {"ids":[...],"min_level":...,"types":[...],"sources":[...]}. */
json_object *alarm_filter_to_json(const struct alarm_filter *f);
