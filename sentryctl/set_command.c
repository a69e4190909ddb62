/* set_command.c: `sentryctl set MODULE --OPTION VALUE ...`, the reference's command that writes
 * the kernel module's switches. The options and their rules are one table shared with sentryd
 * (kernel_set_options.h): a bad command line is refused here with the option and value named,
 * and sentryd checks again before it writes. */
#include <stdio.h>
#include <string.h>

#include "kernel_set_options.h"
#include "sentryctl.h"

static const char set_help[] =
    "Usage: sentryctl set MODULE --OPTION VALUE [--OPTION VALUE ...] [--json]\n"
    "\n"
    "Writes switches of the kernel module, /proc/MODULE/FILE (root only). Every option is\n"
    "checked before anything is written; then each is written, and every one that fails is\n"
    "named with the reason (\"Some parameters failed to set\", exit status 1).\n"
    "\n"
    "sentry_reporter:\n"
    "  --power_off on|off  --oom on|off  --ub_mem_fault on|off  --ub_mem_fault_with_kill on|off\n"
    "  --oom_policy JSON   {\"RR_KSWAPD\":N, \"RR_DIRECT_RECLAIM\":N, \"RR_HUGEPAGE_RECLAIM\":N},\n"
    "                      N >= 0, written to oom_rate_limit as RR_KSWAPD:N,...\n"
    "sentry_remote_reporter:\n"
    "  --cna N (0..16777215)  --eid EID[;EID] (each exactly 39 characters)\n"
    "  --panic on|off  --kernel_reboot on|off  --uvb_comm on|off  --urma_comm on|off\n"
    "  --panic_timeout_ms MS  --kernel_reboot_timeout_ms MS (0..3600000)\n"
    "sentry_urma_comm:\n"
    "  --server_eid EIDS --client_jetty_id N (together; at most 2 ';'-separated dies, each a\n"
    "                      ','-list of 39-character EIDs; N in 3..1023; written to client_info)\n"
    "  --heartbeat on|off\n"
    "sentry_uvb_comm:\n"
    "  --server_cna CNA[;CNA...] (required; at most 32, each 1..22 characters)\n"
    "\n"
    "Options may also be written --OPTION=VALUE.\n";

static int set_print(struct ctl *ctl, json_object *res)
{
    json_object *written = NULL, *module = NULL;

    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    json_object_object_get_ex(res, "module", &module);
    if (!json_object_object_get_ex(res, "written", &written) ||
        !json_object_is_type(written, json_type_array))
        return EXIT_OK;
    for (size_t i = 0; i < json_object_array_length(written); i++) {
        json_object *w = json_object_array_get_idx(written, i), *file = NULL, *value = NULL;
        json_object_object_get_ex(w, "file", &file);
        json_object_object_get_ex(w, "value", &value);
        ctl_print_line("%s/%s: %s", json_object_get_string(module), json_object_get_string(file),
                       json_object_get_string(value));
    }
    return EXIT_OK;
}

static void names_free(char *(*names)[SET_OPTIONS_MAX + 1])
{
    for (size_t i = 0; i < ELEMENTSOF(*names); i++)
        free((*names)[i]);
}

static int cmd_set(struct ctl *ctl, int argc, char **argv)
{
    const char *names[SET_OPTIONS_MAX + 1], *values[SET_OPTIONS_MAX + 1], *module = NULL;
    _cleanup_(names_free) char *copies[SET_OPTIONS_MAX + 1] = {NULL};
    char why[512];
    size_t n = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (streq(a, "-h") || streq(a, "--help"))
            return ctl_command_help(set_help);
        if (streq(a, "-j") || streq(a, "--json")) {
            ctl->json = true;
            continue;
        }
        if (!startswith(a, "--")) {
            if (module)
                return ctl_usage_error(argv[0], "unrecognized arguments: %s", a);
            module = a;
            continue;
        }
        if (n >= SET_OPTIONS_MAX)
            return ctl_usage_error(argv[0], "too many options");
        const char *eq = strchr(a, '=');
        if (eq) {
            copies[n] = strndup(a + 2, (size_t) (eq - a - 2));
            if (!copies[n])
                return EXIT_FAILED;
            names[n] = copies[n];
            values[n] = eq + 1;
        } else {
            names[n] = a + 2;
            values[n] = i + 1 < argc ? argv[++i] : NULL;
        }
        n++;
    }
    if (!module)
        return ctl_usage_error(argv[0], "missing MODULE");
    if (ctl_check_task_arg(argv[0], module) != EXIT_OK)
        return EXIT_USAGE;

    struct set_plan plan;
    int r = set_plan_build(module, n, names, values, &plan, why, sizeof(why));
    set_plan_done(&plan);
    if (r < 0)
        return ctl_usage_error(argv[0], "%s", why);

    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    json_object *options = json_object_new_object();
    json_object_object_add(args, "module", json_object_new_string(module));
    for (size_t i = 0; i < n; i++)
        json_object_object_add(options, names[i], json_object_new_string(values[i]));
    json_object_object_add(args, "options", options);
    r = ctl_call(ctl, "set", args, &res);
    if (r != EXIT_OK)
        return r;
    return set_print(ctl, res);
}

const struct ctl_command set_commands[] = {
    {"set", cmd_set, "MODULE --OPTION VALUE...", "write the kernel module's switches (root)"},
    {NULL, NULL, NULL, NULL},
};
