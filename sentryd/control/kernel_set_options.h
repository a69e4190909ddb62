/* kernel_set_options.h: what `sentryctl set MODULE --OPTION VALUE ...` may write into the
 * switches of the kernel module (/proc/MODULE/FILE), with the reference's modules, options and
 * rules (its sentryctl / sentry_proc.py): one table, read by sentryctl to check a command line
 * before it is sent and by sentryd to check it again (a client may be anything) and to plan the
 * writes. Pure: no files, no sockets. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum set_kind {
    SET_ON_OFF,     /* "on" or "off" */
    SET_UINT,       /* decimal digits, min..max */
    SET_EID,        /* at most one ';', each part exactly 39 characters */
    SET_OOM_POLICY, /* a JSON object of rate-limit reasons and counts, written as K:V,K:V */
    SET_URMA_EID,   /* at most 2 ';'-separated dies, each a ',' list of 39-character EIDs */
    SET_CNA_LIST,   /* a ';' list of at most 32 entries of 1..22 characters */
};

struct set_option {
    const char *name; /* without the leading "--" */
    const char *file; /* in the module's directory */
    enum set_kind kind;
    uint64_t min, max; /* SET_UINT */
};

struct set_module {
    const char *name;
    const struct set_option *options; /* ends with a NULL name */
};

#define SET_VALUE_MAX   4096 /* longest value taken */
#define SET_OPTIONS_MAX 16   /* more options than any module has */
#define SET_EID_LEN     39

extern const struct set_module set_modules[]; /* ends with a NULL name */

const struct set_module *set_module_find(const char *name);
const struct set_option *set_option_find(const struct set_module *m, const char *name);

/* One write the command makes: text + "\n" into FILE. */
struct set_write {
    const char *option; /* the option it comes from (server_eid for client_info) */
    const char *file;
    char *text; /* owned */
};

struct set_plan {
    const struct set_module *module;
    struct set_write writes[SET_OPTIONS_MAX];
    size_t n;
};

/* Checks n options (names[i] without "--", values[i] as given) of module and plans the writes,
 * in the table's order. -ENOENT for an unknown module ("Unknown task name: X"), -EINVAL for an
 * unknown, repeated, missing or bad option, both with the message in why; -ENOMEM. Free the plan
 * with set_plan_done() in every case. */
int set_plan_build(const char *module, size_t n, const char *const *names,
                   const char *const *values, struct set_plan *plan, char *why, size_t why_size);
void set_plan_done(struct set_plan *plan);
