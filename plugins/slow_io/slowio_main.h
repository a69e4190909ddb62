/* slowio_main.h: the program around a slow-IO detector, shared by avg_block_io and
 * ai_block_io: the command line, logging, connecting to sentryd, loading the configuration
 * (errors become the task result FAIL), choosing the disks, the period loop, and the result
 * PASS when SIGTERM ends it. A plugin only says how to load its file, build its detectors and
 * judge one period. */
#pragma once

#include "config_msg.h"
#include "slowio_runtime.h"

struct slowio_plugin_ops {
    enum slowio_plugin plugin;
    /* Loads path into the plugin's configuration; as avg_config_load(). */
    int (*load)(void *cfg, const char *path, struct config_msgs *msgs);
    const struct slowio_common *(*common)(const void *cfg);
    /* Makes the detectors of every disk of rt. */
    int (*build)(void *state, struct slowio_runtime *rt, const void *cfg);
    /* Feeds one period and raises or clears alarms. */
    void (*period)(void *state, struct slowio_runtime *rt, const void *cfg,
                   const struct slowio_period *p);
    void (*done)(void *state, void *cfg);
};

/* Runs the plugin; returns the process exit code. cfg and state are the plugin's own. */
int slowio_main(const struct slowio_plugin_ops *ops, void *cfg, void *state, int argc, char **argv);
