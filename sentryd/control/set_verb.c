/* set_verb.c: the `set` verb (root only): writes the kernel module's switches, as the
 * reference's `sentryctl set`. Every member is checked (kernel_set_options.h) before anything is
 * written; then every write is made, and the answer names each one that failed and why. */
#include <fcntl.h>
#include <inttypes.h>

#include "daemon.h"
#include "errno_name.h"
#include "fileio.h"
#include "kernel_set_options.h"
#include "log.h"

#define FAILURES_MAX 2048 /* bytes of the failure list in the answer */

/* A value as text: a string; an integer for a number option; an object for oom_policy. NULL
 * (with the request answered) when it has another type. */
static const char *option_value(struct request *r, const struct set_option *o, json_object *v,
                                char *buf, size_t size)
{
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    if (o && o->kind == SET_UINT && json_object_is_type(v, json_type_int)) {
        int64_t s = json_object_get_int64(v);
        if (s >= 0) {
            snprintf(buf, size, "%" PRId64, s);
            return buf;
        }
    }
    if (o && o->kind == SET_OOM_POLICY && json_object_is_type(v, json_type_object))
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    request_reply_error(r, EINVAL, "option '%.64s' must be a string%s", o ? o->name : "?",
                        o && o->kind == SET_UINT         ? " or a non-negative integer"
                        : o && o->kind == SET_OOM_POLICY ? " or an object"
                                                         : "");
    return NULL;
}

/* Writes text + "\n" to dir/module/file in one write. -errno. */
static int switch_file_write(const char *dir, const char *module, const char *file,
                             const char *text)
{
    _cleanup_free_ char *path = NULL, *line = NULL;
    _cleanup_close_ int fd = -EBADF;

    if (asprintf(&path, "%s/%s/%s", dir, module, file) < 0 || asprintf(&line, "%s\n", text) < 0)
        return -ENOMEM;
    /* O_NONBLOCK: whatever sits at the path, the loop does not wait for it */
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    return write_all(fd, line, strlen(line));
}

static int verb_set(struct request *r)
{
    static const char *const members[] = {"module", "options", NULL};
    struct daemon *d = r->userdata;
    const char *names[SET_OPTIONS_MAX], *values[SET_OPTIONS_MAX];
    char numbers[SET_OPTIONS_MAX][24], why[512], failed[FAILURES_MAX] = "";
    json_object *options = NULL;
    const char *module = NULL;
    struct set_plan plan;
    size_t n = 0, flen = 0;
    int k, first_err = 0;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = request_get_string(r, "module", true, 256, &module)) < 0 ||
        (k = request_get_object(r, "options", true, &options)) < 0)
        return k;
    const struct set_module *m = set_module_find(module);
    if (!m)
        return request_reply_error(r, ENOENT, "Unknown task name: %s", module);
    if (json_object_object_length(options) > SET_OPTIONS_MAX)
        return request_reply_error(r, EINVAL, "more than %d options", SET_OPTIONS_MAX);
    json_object_object_foreach(options, key, val)
    {
        names[n] = key;
        values[n] = option_value(r, set_option_find(m, key), val, numbers[n], sizeof(numbers[n]));
        if (!values[n])
            return -EINVAL;
        n++;
    }
    k = set_plan_build(module, n, names, values, &plan, why, sizeof(why));
    if (k < 0) {
        set_plan_done(&plan);
        return request_reply_error(r, -k, "%s", why);
    }
    json_object *written = json_object_new_array();
    for (size_t i = 0; i < plan.n; i++) {
        const struct set_write *w = &plan.writes[i];
        k = switch_file_write(d->config.kernel_switch_dir, m->name, w->file, w->text);
        if (k < 0) {
            log_warning_errno(k, "set %s --%s: cannot write %s/%s/%s: %m", m->name, w->option,
                              d->config.kernel_switch_dir, m->name, w->file);
            first_err = first_err ? first_err : -k;
            int c = snprintf(failed + flen, sizeof(failed) - flen, "; --%s (%s/%s): %s (%s)",
                             w->option, m->name, w->file, strerror(-k), errno_to_name(-k));
            flen = c < 0 ? flen : MIN(flen + (size_t) c, sizeof(failed) - 1);
            continue;
        }
        log_info("set by uid %u (pid %d): %s/%s/%s = %s", (unsigned) request_uid(r),
                 (int) request_pid(r), d->config.kernel_switch_dir, m->name, w->file, w->text);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "option", json_object_new_string(w->option));
        json_object_object_add(o, "file", json_object_new_string(w->file));
        json_object_object_add(o, "value", json_object_new_string(w->text));
        json_object_array_add(written, o);
    }
    set_plan_done(&plan);
    if (first_err) {
        json_object_put(written);
        return request_reply_error(r, first_err, "Some parameters failed to set%s", failed);
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "module", json_object_new_string(m->name));
    json_object_object_add(res, "written", written);
    return request_reply(r, res);
}

const struct verb set_verbs[] = {
    {"set", verb_set, VERB_ROOT, "write the kernel module's switches (sentryctl set)"},
    {NULL, NULL, 0, NULL},
};
