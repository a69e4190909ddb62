/* kernel_set_options.c: see kernel_set_options.h. Messages name the option and the value; the
 * reference's wording is kept where it has one. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "json_util.h"
#include "kernel_set_options.h"
#include "macro.h"
#include "parse_number.h"

#define OOM_RATE_MAX 2147483647 /* an int in the module */
#define CNA_MAX      16777215   /* 24 bits */
#define TIMEOUT_MAX  3600000    /* ms, the module's limit */
#define DIES_MAX     2
#define NODES_MAX    32
#define UVB_CNA_LEN  22
#define JETTY_ID_MIN 3
#define JETTY_ID_MAX 1023

static const struct set_option reporter_options[] = {
    {"ub_mem_fault_with_kill", "ub_mem_fault_with_kill", SET_ON_OFF, 0, 0},
    {"ub_mem_fault", "ub_mem_fault", SET_ON_OFF, 0, 0},
    {"power_off", "power_off", SET_ON_OFF, 0, 0},
    {"oom", "oom", SET_ON_OFF, 0, 0},
    {"oom_policy", "oom_rate_limit", SET_OOM_POLICY, 0, 0},
    {NULL, NULL, 0, 0, 0},
};

static const struct set_option remote_reporter_options[] = {
    {"cna", "cna", SET_UINT, 0, CNA_MAX},
    {"eid", "eid", SET_EID, 0, 0},
    {"uvb_comm", "uvb_comm", SET_ON_OFF, 0, 0},
    {"urma_comm", "urma_comm", SET_ON_OFF, 0, 0},
    {"panic", "panic", SET_ON_OFF, 0, 0},
    {"panic_timeout_ms", "panic_timeout", SET_UINT, 0, TIMEOUT_MAX},
    {"kernel_reboot", "kernel_reboot", SET_ON_OFF, 0, 0},
    {"kernel_reboot_timeout_ms", "kernel_reboot_timeout", SET_UINT, 0, TIMEOUT_MAX},
    {NULL, NULL, 0, 0, 0},
};

/* server_eid and client_jetty_id are one write: "<server_eid> <client_jetty_id>" */
static const struct set_option urma_options[] = {
    {"server_eid", "client_info", SET_URMA_EID, 0, 0},
    {"client_jetty_id", "client_info", SET_UINT, JETTY_ID_MIN, JETTY_ID_MAX},
    {"heartbeat", "heartbeat", SET_ON_OFF, 0, 0},
    {NULL, NULL, 0, 0, 0},
};

static const struct set_option uvb_options[] = {
    {"server_cna", "server_cna", SET_CNA_LIST, 0, 0},
    {NULL, NULL, 0, 0, 0},
};

const struct set_module set_modules[] = {
    {"sentry_reporter", reporter_options},
    {"sentry_remote_reporter", remote_reporter_options},
    {"sentry_urma_comm", urma_options},
    {"sentry_uvb_comm", uvb_options},
    {NULL, NULL},
};

static const char *const oom_reasons[] = {"RR_KSWAPD", "RR_DIRECT_RECLAIM", "RR_HUGEPAGE_RECLAIM"};

const struct set_module *set_module_find(const char *name)
{
    for (const struct set_module *m = set_modules; name && m->name; m++)
        if (streq(m->name, name))
            return m;
    return NULL;
}

const struct set_option *set_option_find(const struct set_module *m, const char *name)
{
    for (const struct set_option *o = m->options; name && o->name; o++)
        if (streq(o->name, name))
            return o;
    return NULL;
}

_printf_(3, 4) static int fail(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Visible ASCII only: a value goes into a kernel file as one word, and into messages. */
static bool value_is_word(const char *v)
{
    for (; *v; v++)
        if (*v < 0x21 || *v > 0x7e)
            return false;
    return true;
}

/* The length of each sep-separated part of v (from *p on): advances *p past it. */
static size_t part_len(const char **p, char sep)
{
    const char *e = strchr(*p, sep);
    size_t n = e ? (size_t) (e - *p) : strlen(*p);
    *p += n + (e ? 1 : 0);
    return n;
}

static size_t count_char(const char *v, char c)
{
    size_t n = 0;
    for (; *v; v++)
        n += *v == c;
    return n;
}

static int check_eid(const struct set_option *o, const char *v, char *why, size_t size)
{
    if (count_char(v, ';') > 1)
        return fail(why, size, "--%s '%s': invalid value for extraneous semicolon.", o->name, v);
    for (const char *p = v;;) {
        bool last = !strchr(p, ';');
        size_t n = part_len(&p, ';');
        if (n != SET_EID_LEN)
            return fail(why, size,
                        "--%s '%s': The length of eid must be %d, but the detected input length "
                        "is %zu.",
                        o->name, v, SET_EID_LEN, n);
        if (last)
            return 0;
    }
}

static int check_urma_eid(const struct set_option *o, const char *v, char *why, size_t size)
{
    if (count_char(v, ';') >= DIES_MAX)
        return fail(why, size, "--%s '%s': at most %d dies separated by ';'", o->name, v, DIES_MAX);
    for (const char *p = v;;) {
        bool last_die = !strchr(p, ';');
        const char *die_end = last_die ? p + strlen(p) : strchr(p, ';');
        if (die_end == p)
            return fail(why, size, "--%s '%s': a die has no EID", o->name, v);
        while (p < die_end) {
            const char *c = memchr(p, ',', (size_t) (die_end - p));
            size_t n = c ? (size_t) (c - p) : (size_t) (die_end - p);
            if (n != SET_EID_LEN)
                return fail(why, size,
                            "--%s '%s': the length of each EID must be %d, got one of %zu", o->name,
                            v, SET_EID_LEN, n);
            p += n + (c ? 1 : 0);
            if (c && p == die_end)
                return fail(why, size, "--%s '%s': an empty EID after ','", o->name, v);
        }
        if (last_die)
            return 0;
        p = die_end + 1;
    }
}

static int check_cna_list(const struct set_option *o, const char *v, char *why, size_t size)
{
    if (count_char(v, ';') >= NODES_MAX)
        return fail(why, size, "--%s '%s': Exceeded the maximum number (%d) of nodes supported.",
                    o->name, v, NODES_MAX);
    for (const char *p = v;;) {
        bool last = !strchr(p, ';');
        size_t n = part_len(&p, ';');
        if (n == 0 || n > UVB_CNA_LEN)
            return fail(why, size, "--%s '%s': each cna must have 1 to %d characters", o->name, v,
                        UVB_CNA_LEN);
        if (last)
            return 0;
    }
}

/* {"RR_KSWAPD": 5, ...} -> "RR_KSWAPD:5,..." in *ret. */
static int oom_policy_text(const struct set_option *o, const char *v, char **ret, char *why,
                           size_t size)
{
    _cleanup_json_ json_object *j = NULL;
    _cleanup_free_ char *text = NULL;
    json_tokener *tok = json_tokener_new();
    size_t len = 0;

    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    j = json_tokener_parse_ex(tok, v, (int) strlen(v) + 1);
    bool parsed = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    if (!parsed || !json_object_is_type(j, json_type_object) || json_object_object_length(j) == 0)
        return fail(why, size,
                    "--%s '%s': must be a JSON object such as {\"RR_DIRECT_RECLAIM\": 3}", o->name,
                    v);
    text = calloc(1, SET_VALUE_MAX);
    if (!text)
        return -ENOMEM;
    json_object_object_foreach(j, key, val)
    {
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(oom_reasons); i++)
            known = known || streq(key, oom_reasons[i]);
        if (!known)
            return fail(why, size,
                        "--%s: unknown key '%.64s' (RR_KSWAPD, RR_DIRECT_RECLAIM or "
                        "RR_HUGEPAGE_RECLAIM)",
                        o->name, key);
        int64_t n = json_object_get_int64(val);
        if (!json_object_is_type(val, json_type_int) || n < 0 || n > OOM_RATE_MAX)
            return fail(why, size, "--%s: %s must be an integer in 0..%d", o->name, key,
                        OOM_RATE_MAX);
        len += (size_t) snprintf(text + len, SET_VALUE_MAX - len, "%s%s:%" PRId64, len ? "," : "",
                                 key, n);
    }
    *ret = TAKE_PTR(text);
    return 0;
}

/* Checks one value; *ret gets the text to write (NULL for client_jetty_id, written with
 * server_eid). */
static int check_value(const struct set_option *o, const char *v, char **ret, char *why,
                       size_t size)
{
    uint64_t u;
    int r = 0;

    *ret = NULL;
    if (strlen(v) > SET_VALUE_MAX)
        return fail(why, size, "--%s: value longer than %d bytes", o->name, SET_VALUE_MAX);
    if (o->kind == SET_OOM_POLICY)
        return oom_policy_text(o, v, ret, why, size);
    if (!*v || !value_is_word(v))
        return fail(why, size, "--%s '%s': must be a non-empty word of visible characters", o->name,
                    v);
    switch (o->kind) {
    case SET_ON_OFF:
        if (!streq(v, "on") && !streq(v, "off"))
            return fail(why, size, "--%s '%s': must be on or off", o->name, v);
        break;
    case SET_UINT:
        if (parse_uint_digits(v, &u) < 0 || u < o->min || u > o->max)
            return fail(why, size, "--%s '%s': must be an integer in %" PRIu64 "..%" PRIu64,
                        o->name, v, o->min, o->max);
        break;
    case SET_EID:
        r = check_eid(o, v, why, size);
        break;
    case SET_URMA_EID:
        r = check_urma_eid(o, v, why, size);
        break;
    case SET_CNA_LIST:
        r = check_cna_list(o, v, why, size);
        break;
    case SET_OOM_POLICY:
        break;
    }
    if (r < 0)
        return r;
    if (streq(o->file, "client_info") && o->kind == SET_UINT)
        return 0;
    *ret = strdup(v);
    return *ret ? 0 : -ENOMEM;
}

/* The module's own rules: urma's pair, uvb's required option. */
static int check_module(const struct set_module *m, const char *const *given, char *why,
                        size_t size)
{
    const struct set_option *eid = set_option_find(m, "server_eid");
    const struct set_option *cna = set_option_find(m, "server_cna");

    if (eid && !given[eid - m->options] != !given[eid - m->options + 1])
        return fail(why, size,
                    "Options --server_eid and --client_jetty_id need to be used together");
    if (cna && !given[cna - m->options])
        return fail(why, size, "--server_cna is required");
    return 0;
}

int set_plan_build(const char *module, size_t n, const char *const *names,
                   const char *const *values, struct set_plan *plan, char *why, size_t why_size)
{
    const char *given[SET_OPTIONS_MAX] = {NULL};
    const struct set_module *m = set_module_find(module);
    int r;

    *plan = (struct set_plan){.module = m};
    if (!m) {
        snprintf(why, why_size, "Unknown task name: %.256s", module ? module : "(none)");
        return -ENOENT;
    }
    if (n == 0)
        return fail(why, why_size, "no option given: nothing to set for %s", m->name);
    for (size_t i = 0; i < n; i++) {
        const struct set_option *o = set_option_find(m, names[i]);
        if (!o)
            return fail(why, why_size, "unknown option --%.64s for %s", names[i], m->name);
        if (given[o - m->options])
            return fail(why, why_size, "--%s given twice", o->name);
        if (!values[i])
            return fail(why, why_size, "--%s needs a value", o->name);
        given[o - m->options] = values[i];
    }
    r = check_module(m, given, why, why_size);
    if (r < 0)
        return r;
    for (const struct set_option *o = m->options; o->name; o++) {
        char *text;
        if (!given[o - m->options])
            continue;
        r = check_value(o, given[o - m->options], &text, why, why_size);
        if (r < 0)
            return r;
        if (!text)
            continue;
        if (o->kind == SET_URMA_EID) {
            char *pair;
            int k = asprintf(&pair, "%s %s", text, given[o - m->options + 1]);
            free(text);
            if (k < 0)
                return -ENOMEM;
            text = pair;
        }
        plan->writes[plan->n++] =
            (struct set_write){.option = o->name, .file = o->file, .text = text};
    }
    return 0;
}

void set_plan_done(struct set_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++)
        free(plan->writes[i].text);
    plan->n = 0;
}
