/* task_manager.c: see task_manager.h. Tasks are kept in an array sorted by name; the set is
 * small (tens) and read only on the main thread. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "log.h"
#include "names.h"
#include "sentry/sentry.h"
#include "strv.h"
#include "task_cgroup.h"
#include "task_log.h"
#include "terminal_escape.h"
#include "task_manager.h"

struct task_manager {
    struct task_context ctx;
    char *tasks_dir;
    struct mod_defaults defaults;
    struct task **tasks;
    size_t n_tasks;
    bool shutting_down;
    bool all_idle_notified;
    char **removing;        /* tasks whose .mod is gone, dropped once idle */
    sd_event_source *sweep; /* deferred drop of those (never inside a task's callback) */
    char *cgroup_base;      /* the tasks' cgroups go below it; NULL: none */
    bool cgroup_base_made;  /* made by this sentryd: removed at exit */
    bool cgroup_base_given; /* the operator named it ([tasks] cgroup = PATH) */
    char *cgroup_why;       /* why there is no cgroup_base */
    void (*on_all_idle)(void *userdata);
    void *userdata;
};

static void task_manager_on_idle(struct task *t, void *userdata);

/* Where the tasks' cgroups go, said once in the log; what an earlier sentryd left there (it was
 * killed before it could stop its tasks) is ended. */
static int task_manager_setup_cgroups(struct task_manager *m, const char *setting, const char *root)
{
    int r = task_cgroup_setup(setting, root ? root : "/", &m->cgroup_base, &m->cgroup_why,
                              &m->cgroup_base_made);
    if (r < 0)
        return r;
    m->cgroup_base_given = !streq(setting, "auto");
    if (!m->cgroup_base) {
        log_notice("tasks are not put into cgroups: %s. A task's processes are followed by "
                   "process group instead: one that leaves its group (setsid) is not stopped "
                   "with the task",
                   m->cgroup_why);
        return 0;
    }
    log_info("each task runs in a cgroup of its own under %s", m->cgroup_base);
    r = task_cgroup_sweep(m->cgroup_base);
    if (r > 0)
        log_warning("ended the processes an earlier sentryd left in %d task cgroup(s) under %s", r,
                    m->cgroup_base);
    else if (r < 0)
        log_warning_errno(r, "cannot look for cgroups left under %s: %m", m->cgroup_base);
    return 0;
}

int task_manager_new(const struct task_manager_params *p, struct task_manager **ret)
{
    struct task_manager *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->tasks_dir = strdup(p->tasks_dir);
    if (!m->tasks_dir) {
        free(m);
        return -ENOMEM;
    }
    m->defaults = p->defaults;
    m->on_all_idle = p->on_all_idle;
    m->userdata = p->userdata;
    if (p->event) {
        int r = task_manager_setup_cgroups(m, p->cgroup ? p->cgroup : "off", p->root);
        if (r < 0) {
            task_manager_free(m);
            return r;
        }
    }
    m->ctx = (struct task_context){
        .event = p->event,
        .log_dir = p->log_dir,
        .socket_path = p->socket_path,
        .base_env = p->base_env,
        .hook_timeout = p->hook_timeout,
        .proc_root = p->proc_root,
        .cgroup_base = m->cgroup_base,
        .cgroup_why = m->cgroup_why,
        .log_max_size = p->log_max_size,
        .log_max_files = p->log_max_files,
        .on_idle = task_manager_on_idle,
        .userdata = m,
    };
    *ret = m;
    return 0;
}

struct task_manager *task_manager_free(struct task_manager *m)
{
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n_tasks; i++)
        task_free(m->tasks[i]);
    free(m->tasks);
    free(m->tasks_dir);
    strv_free(m->removing);
    sd_event_source_disable_unref(m->sweep);
    /* The auto directory is sentryd's alone; a path the operator gave stays unless made here. */
    if (m->cgroup_base && (m->cgroup_base_made || !m->cgroup_base_given) &&
        rmdir(m->cgroup_base) < 0 && errno != ENOENT)
        log_debug_errno(errno, "cannot remove %s: %m", m->cgroup_base);
    free(m->cgroup_base);
    free(m->cgroup_why);
    free(m);
    return NULL;
}

static ssize_t task_manager_index(const struct task_manager *m, const char *name)
{
    size_t lo = 0, hi = m->n_tasks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(task_name(m->tasks[mid]), name);
        if (c == 0)
            return (ssize_t) mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(ssize_t) lo - 1;
}

struct task *task_manager_find(const struct task_manager *m, const char *name)
{
    ssize_t i = name ? task_manager_index(m, name) : -1;
    return i >= 0 ? m->tasks[i] : NULL;
}

const char *task_not_found_message(char *buf, size_t size, const char *name)
{
    char escaped[TASK_NOT_FOUND_MESSAGE_MAX - 64];

    if (!name)
        name = "";
    terminal_escape(escaped, sizeof(escaped), name, strlen(name));
    snprintf(buf, size, "cannot find task by name %s: task not exist", escaped);
    return buf;
}

size_t task_manager_count(const struct task_manager *m)
{
    return m->n_tasks;
}

struct task *task_manager_get(const struct task_manager *m, size_t i)
{
    return i < m->n_tasks ? m->tasks[i] : NULL;
}

size_t task_manager_count_active(const struct task_manager *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_tasks; i++)
        n += task_is_active(m->tasks[i]);
    return n;
}

static int task_manager_insert(struct task_manager *m, struct task *t)
{
    ssize_t i = task_manager_index(m, task_name(t));
    struct task **n;

    if (i >= 0)
        return -EEXIST;
    size_t at = (size_t) (-i - 1);
    n = realloc(m->tasks, (m->n_tasks + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    m->tasks = n;
    memmove(m->tasks + at + 1, m->tasks + at, (m->n_tasks - at) * sizeof(*n));
    m->tasks[at] = t;
    m->n_tasks++;
    return 0;
}

static void task_manager_remove_at(struct task_manager *m, size_t i)
{
    task_free(m->tasks[i]);
    memmove(m->tasks + i, m->tasks + i + 1, (m->n_tasks - i - 1) * sizeof(*m->tasks));
    m->n_tasks--;
}

static void log_warnings(char *const *warnings)
{
    for (char *const *w = warnings; w && *w; w++)
        log_warning("%s", *w);
}

/* Loads one file into a task_config; logs its messages. */
static int task_manager_load_file(struct task_manager *m, int dirfd, const char *filename,
                                  struct task_config **ret, char ***warnings, char **error)
{
    int r = mod_file_load(dirfd, m->tasks_dir, filename, &m->defaults, ret, warnings, error);
    log_warnings(*warnings);
    if (r < 0)
        log_error("%s", *error ? *error : "cannot load task");
    return r;
}

static void task_start_onstart(struct task *t)
{
    const char *msg;
    const struct task_config *c = task_get_config(t);

    if (!c->enabled || !c->onstart)
        return;
    if (task_start(t, NULL, NULL, &msg) < 0)
        log_task_warning(task_name(t), "onstart: %s", msg);
}

static int task_manager_add(struct task_manager *m, struct task_config *cfg, char **warnings)
{
    struct task *t = task_new(&m->ctx, cfg);
    int r;

    if (!t) {
        strv_free(warnings);
        return -ENOMEM;
    }
    task_set_warnings(t, warnings);
    r = task_manager_insert(m, t);
    if (r < 0)
        task_free(t);
    return r;
}

static int scandir_filter_visible(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

int task_manager_load_all(struct task_manager *m)
{
    _cleanup_close_ int dirfd = open(m->tasks_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct dirent **list = NULL;
    int n, loaded = 0;

    if (dirfd < 0)
        return log_error_errno(errno, "tasks directory %s: %m", m->tasks_dir);
    n = scandirat(dirfd, ".", &list, scandir_filter_visible, alphasort);
    if (n < 0)
        return log_error_errno(errno, "cannot list %s: %m", m->tasks_dir);
    for (int i = 0; i < n; i++) {
        struct task_config *cfg = NULL;
        char **warnings = NULL, *error = NULL;

        if (endswith(list[i]->d_name, MOD_SUFFIX) &&
            task_manager_load_file(m, dirfd, list[i]->d_name, &cfg, &warnings, &error) >= 0 &&
            task_manager_add(m, cfg, TAKE_PTR(warnings)) >= 0)
            loaded++;
        strv_free(warnings);
        free(error);
        free(list[i]);
    }
    free(list);
    log_info("loaded %d task(s) from %s", loaded, m->tasks_dir);
    return loaded;
}

void task_manager_start_onstart(struct task_manager *m)
{
    for (size_t i = 0; i < m->n_tasks; i++)
        task_start_onstart(m->tasks[i]);
}

/* Reloads NAME.mod from an open tasks directory. */
static int task_manager_reload_one(struct task_manager *m, int dirfd, const char *name,
                                   char **message, char ***warnings)
{
    _cleanup_free_ char *filename = NULL, *error = NULL;
    struct task_config *cfg = NULL;
    struct task *t = task_manager_find(m, name);
    const char *msg;
    int r;

    if (asprintf(&filename, "%s%s", name, MOD_SUFFIX) < 0)
        return -ENOMEM;
    if (faccessat(dirfd, filename, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
        char nf[TASK_NOT_FOUND_MESSAGE_MAX];
        /* No such task either: the answer of every verb, with the reference's reload reply. */
        if (asprintf(message, "%s%smod name invalid: %s/%s does not exist%s",
                     t ? "" : task_not_found_message(nf, sizeof(nf), name), t ? "" : " (",
                     m->tasks_dir, filename, t ? "" : ")") < 0)
            *message = NULL;
        return -ENOENT;
    }
    r = task_manager_load_file(m, dirfd, filename, &cfg, warnings, &error);
    if (r < 0) {
        /* The reference's three replies: name, syntax, content. */
        const char *kind = strstr(error ? error : "", "mod name invalid") ? NULL
                           : r == -EBADMSG ? "config parse failed"
                                           : "parse mod conf failed";
        if (asprintf(message, "%s%s%s", kind ? kind : "", kind ? ": " : "", error ? error : "") < 0)
            *message = NULL;
        return r == -EBADMSG ? -EBADMSG : -EINVAL;
    }
    if (t) {
        char **w = strv_copy(*warnings);
        strv_remove(m->removing, name);
        r = task_reconfigure(t, cfg, &msg);
        if (r < 0) {
            strv_free(w);
            *message = strdup(msg);
            return r;
        }
        task_set_warnings(t, w);
        log_task_info(name, "reloaded from %s/%s", m->tasks_dir, filename);
        *message = strdup("");
        return 0;
    }
    strv_remove(m->removing, name);
    r = task_manager_add(m, cfg, strv_copy(*warnings));
    if (r < 0)
        return r;
    log_task_info(name, "loaded from %s/%s", m->tasks_dir, filename);
    /* Without an event loop (sentryd --check) nothing is started. */
    if (m->ctx.event)
        task_start_onstart(task_manager_find(m, name));
    *message = strdup("");
    return 0;
}

static int task_manager_reload_all(struct task_manager *m, int dirfd, char **message,
                                   char ***warnings)
{
    struct dirent **list = NULL;
    _cleanup_strv_free_ char **seen = NULL;
    int n, failed = 0, loaded = 0;

    n = scandirat(dirfd, ".", &list, scandir_filter_visible, alphasort);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        char name[SENTRY_TASK_NAME_MAX + 1];
        const char *fn = list[i]->d_name;

        if (endswith(fn, MOD_SUFFIX) && mod_file_task_name(fn, name, sizeof(name)) >= 0) {
            _cleanup_free_ char *msg = NULL;
            _cleanup_strv_free_ char **w = NULL;
            if (task_manager_reload_one(m, dirfd, name, &msg, &w) < 0) {
                failed++;
                if (msg)
                    (void) strv_extend(warnings, msg);
            } else
                loaded++;
            for (char **p = w; p && *p; p++)
                (void) strv_extend(warnings, *p);
            (void) strv_extend(&seen, name);
        } else if (endswith(fn, MOD_SUFFIX)) {
            char *e = NULL;
            if (asprintf(&e, "%s/%s: mod name invalid: %s", m->tasks_dir, fn, fn) >= 0) {
                log_error("%s", e);
                (void) strv_consume(warnings, e);
            }
            failed++;
        }
        free(list[i]);
    }
    free(list);

    /* Tasks whose file is gone: stop them; they are dropped once idle. */
    for (size_t i = m->n_tasks; i-- > 0;) {
        struct task *t = m->tasks[i];
        bool found = false;
        for (char **p = seen; p && *p && !found; p++)
            found = streq(*p, task_name(t));
        if (found)
            continue;
        log_task_notice(task_name(t), "its .mod file is gone: task removed");
        if (task_is_active(t) || task_get_state(t) == TASK_WAITING) {
            if (task_shutdown(t))
                task_manager_remove_at(m, i);
            else
                (void) strv_extend(&m->removing, task_name(t));
        } else
            task_manager_remove_at(m, i);
    }
    if (asprintf(message, "reloaded %d task(s), %d failed", loaded, failed) < 0)
        *message = NULL;
    return failed ? -EINVAL : 0;
}

int task_manager_reload(struct task_manager *m, const char *name, char **message, char ***warnings)
{
    _cleanup_close_ int dirfd = -EBADF;

    *message = NULL;
    *warnings = NULL;
    if (name && !task_name_is_valid(name)) {
        *message = strdup("mod name invalid");
        return -EINVAL;
    }
    dirfd = open(m->tasks_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        int r = -errno;
        if (asprintf(message, "conf dir not exist: %s: %s", m->tasks_dir, strerror(-r)) < 0)
            *message = NULL;
        return r;
    }
    if (name)
        return task_manager_reload_one(m, dirfd, name, message, warnings);
    return task_manager_reload_all(m, dirfd, message, warnings);
}

static void task_manager_check_all_idle(struct task_manager *m)
{
    if (!m->shutting_down || m->all_idle_notified || task_manager_count_active(m) > 0)
        return;
    m->all_idle_notified = true;
    if (m->on_all_idle)
        m->on_all_idle(m->userdata);
}

static int task_manager_sweep(sd_event_source *s, void *userdata)
{
    struct task_manager *m = userdata;

    for (size_t i = m->n_tasks; i-- > 0;) {
        for (char **p = m->removing; p && *p; p++)
            if (streq(*p, task_name(m->tasks[i])) && !task_is_active(m->tasks[i])) {
                strv_remove(m->removing, task_name(m->tasks[i]));
                task_manager_remove_at(m, i);
                break;
            }
    }
    return 0;
}

static void task_manager_on_idle(struct task *t, void *userdata)
{
    struct task_manager *m = userdata;

    for (char **p = m->removing; p && *p; p++)
        if (streq(*p, task_name(t))) {
            /* Freeing the task here would pull it from under its own callback. */
            if (m->sweep)
                sd_event_source_set_enabled(m->sweep, SD_EVENT_ONESHOT);
            else if (sd_event_add_defer(m->ctx.event, &m->sweep, task_manager_sweep, m) >= 0)
                sd_event_source_set_enabled(m->sweep, SD_EVENT_ONESHOT);
            break;
        }
    task_manager_check_all_idle(m);
}

void task_manager_shutdown(struct task_manager *m)
{
    m->shutting_down = true;
    for (size_t i = 0; i < m->n_tasks; i++)
        task_shutdown(m->tasks[i]);
    task_manager_check_all_idle(m);
}
