/* mod_file.c: see mod_file.h. The validation follows the reference key by key (its messages are
 * kept inside ours so that existing log checks still match); sentry's deviations are listed in
 * docs/compat.md. A task file and its env_file say what runs as root: both must be owned by root
 * and writable by nobody else (trusted_file.h), or the task is not loaded; the env_file is read
 * with the rights of the user the task runs as (user_identity.h). */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "env_file.h"
#include "fileio.h"
#include "ini_file.h"
#include "sentry/sentry.h"
#include "mod_file.h"
#include "names.h"
#include "parse_number.h"
#include "split_words.h"
#include "strv.h"
#include "trusted_file.h"
#include "user_identity.h"

#define SECTION "common"

struct mod_ctx {
    const char *path; /* for messages */
    const char *name;
    struct ini_file *ini;
    char **warnings;
    char *error;
};

static void _printf_(2, 3) mod_warn(struct mod_ctx *m, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL, *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0 || asprintf(&line, "%s: %s", m->path, msg) < 0)
        return;
    (void) strv_consume(&m->warnings, TAKE_PTR(line));
}

static int _printf_(2, 3) mod_fail(struct mod_ctx *m, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    free(m->error);
    m->error = NULL;
    if (r < 0 || asprintf(&m->error, "%s: %s; mod %s load failed", m->path, msg, m->name) < 0)
        m->error = NULL;
    return -EINVAL;
}

static const char *mod_get(struct mod_ctx *m, const char *key)
{
    return ini_file_get(m->ini, SECTION, key);
}

int mod_file_task_name(const char *filename, char *buf, size_t size)
{
    size_t n = strlen(filename);

    if (!endswith(filename, MOD_SUFFIX) || n == STRLEN(MOD_SUFFIX))
        return -EINVAL;
    n -= STRLEN(MOD_SUFFIX);
    if (n >= size)
        return -ENOTNAM;
    memcpy(buf, filename, n);
    buf[n] = 0;
    return task_name_is_valid(buf) ? 0 : -ENOTNAM;
}

/* A command line that must split into at least one word. */
static int mod_check_command(struct mod_ctx *m, const char *key, const char *cmd)
{
    _cleanup_strv_free_ char **argv = NULL;
    const char *err;

    if (split_words(cmd, &argv, &err) < 0)
        return mod_fail(m, "%s = '%s': %s", key, cmd, err ? err : "cannot split");
    if (strv_length(argv) == 0)
        return mod_fail(m, "%s is empty", key);
    return 0;
}

static int mod_required_command(struct mod_ctx *m, const char *key, char **ret)
{
    const char *v = mod_get(m, key);
    int r;

    if (!v)
        return mod_fail(m, "%s not in this mod file", key);
    r = mod_check_command(m, key, v);
    if (r < 0)
        return r;
    *ret = strdup(v);
    return *ret ? 0 : -ENOMEM;
}

/* task_pre / task_post: ';'-separated commands, each checked. */
static int mod_command_list(struct mod_ctx *m, const char *key, char ***ret)
{
    const char *v = mod_get(m, key);
    _cleanup_strv_free_ char **cmds = NULL;
    _cleanup_free_ char *copy = NULL;
    char *save = NULL;

    *ret = NULL;
    if (!v)
        return 0;
    copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        if (!*tok)
            continue;
        int r = mod_check_command(m, key, tok);
        if (r < 0)
            return r;
        if (strv_extend(&cmds, tok) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(cmds);
    return 0;
}

static void mod_interval(struct mod_ctx *m, struct task_config *c, const struct mod_defaults *d)
{
    const char *v = mod_get(m, "interval");
    int64_t i;

    c->interval = d->interval;
    if (c->type != TASK_PERIOD || !v)
        return;
    if (parse_int_python(v, &i) < 0 || i <= 0 || i > UINT32_MAX)
        mod_warn(m, "period delay is invalid: interval = '%s' (must be an integer > 0); using %u",
                 v, d->interval);
    else
        c->interval = (unsigned) i;
}

static void mod_heartbeat(struct mod_ctx *m, struct task_config *c)
{
    const char *v = mod_get(m, "heartbeat_interval");
    int64_t i;

    c->heartbeat_interval = 0;
    if (!v)
        return;
    if (parse_int_python(v, &i) < 0)
        mod_warn(m,
                 "heartbeat interval is invalid: heartbeat_interval = '%s' (must be an "
                 "integer > 0); heartbeat disabled",
                 v);
    else if (i <= 0 || i > UINT32_MAX)
        mod_warn(m,
                 "heartbeat interval %s is invalid (heartbeat_interval must be > 0); "
                 "heartbeat disabled",
                 v);
    else
        c->heartbeat_interval = (unsigned) i;
}

static void mod_alarm(struct mod_ctx *m, struct task_config *c)
{
    const char *v = mod_get(m, "alarm_id"), *t;
    int64_t i;

    c->alarm_id = 0;
    c->alarm_clear_time = ALARM_CLEAR_TIME_DEFAULT;
    if (!v)
        return;
    if (parse_int_python(v, &i) == -EINVAL) {
        mod_warn(m, "mod %s: alarm_id must be an integer, got '%s'; the task raises no alarms",
                 m->name, v);
        return;
    }
    if (parse_int_python(v, &i) < 0 || i < SENTRY_ALARM_ID_MIN || i > SENTRY_ALARM_ID_MAX) {
        mod_warn(m, "mod %s: alarm_id must be in [%d, %d], got '%s'; the task raises no alarms",
                 m->name, SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX, v);
        return;
    }
    c->alarm_id = (unsigned) i;

    t = mod_get(m, "alarm_clear_time");
    if (!t || isempty(t) || strspn(t, " \t") == strlen(t)) {
        mod_warn(m, "mod %s: alarm_clear_time not set, use %d as default", m->name,
                 ALARM_CLEAR_TIME_DEFAULT);
        return;
    }
    if (parse_int_python(t, &i) == -EINVAL)
        mod_warn(m, "mod %s: alarm_clear_time must be an integer, got '%s'; using %d", m->name, t,
                 ALARM_CLEAR_TIME_DEFAULT);
    else if (parse_int_python(t, &i) < 0 || i < 0 || i > UINT32_MAX)
        mod_warn(m, "mod %s: alarm_clear_time must be a positive integer, got '%s'; using %d",
                 m->name, t, ALARM_CLEAR_TIME_DEFAULT);
    else
        c->alarm_clear_time = (unsigned) i;
}

/* Whether the task's user can read the env_file: 0, or -errno. Root's own tasks: access(); a
 * user's: a read with its rights (never root's on its behalf). */
static int mod_env_file_readable(const struct task_config *c, const char *path)
{
    _cleanup_(user_identity_done) struct user_identity user = {0};
    _cleanup_free_ char *text = NULL;
    int r;

    if (!c->user)
        return access(path, R_OK) < 0 ? -errno : 0;
    r = user_identity_resolve(c->user, &user);
    if (r < 0)
        return r;
    return user_read_file(&user, path, ENV_FILE_SIZE_MAX, &text, NULL);
}

/* After mod_user(): who may own the file depends on the user the task runs as. */
static int mod_env_file(struct mod_ctx *m, struct task_config *c)
{
    const char *v = mod_get(m, "env_file");
    struct stat st;
    char why[128];
    int r;

    c->env_file = NULL;
    if (!v)
        return 0;
    if (isempty(v)) {
        mod_warn(m, "mod %s: env_file is empty; no environment file is used", m->name);
        return 0;
    }
    if (stat(v, &st) < 0)
        mod_warn(m, "mod %s: env_file '%s' does not exist; no environment file is used", m->name,
                 v);
    else if (!S_ISREG(st.st_mode))
        mod_warn(m, "mod %s: env_file '%s' is not a regular file; no environment file is used",
                 m->name, v);
    else if (trusted_file_check(&st, c->user ? c->uid : TRUSTED_FILE_NO_OWNER, why, sizeof(why)) <
             0)
        /* Its variables (PATH, LD_PRELOAD...) reach commands that run as root. */
        return mod_fail(m,
                        "env_file '%s' refused: %s (it sets the environment of the task's "
                        "commands; only root%s may be able to change it)",
                        v, why, c->user ? " or the task's user" : "");
    else if ((r = mod_env_file_readable(c, v)) < 0)
        mod_warn(m, "mod %s: env_file '%s' is not readable%s%s (%s); no environment file is used",
                 m->name, v, c->user ? " by user " : "", c->user ? c->user : "", strerror(-r));
    else {
        c->env_file = strdup(v);
        if (!c->env_file)
            return -ENOMEM;
    }
    return 0;
}

static void mod_conflict(struct mod_ctx *m, struct task_config *c)
{
    const char *v = mod_get(m, "conflict");
    int k;

    c->conflict = CONFLICT_UP;
    if (!v)
        return;
    k = task_conflict_from_string(v);
    if (k < 0)
        mod_warn(m, "mod %s: conflict must be one of 'up', 'down', 'kill', got '%s'; using up",
                 m->name, v);
    else
        c->conflict = (enum task_conflict) k;
}

static int mod_user(struct mod_ctx *m, struct task_config *c)
{
    const char *v = mod_get(m, "user");
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (!v)
        return 0;
    if (isempty(v) || !string_is_printable(v, 64))
        return mod_fail(m, "user = '%s': not a user name", v);
    if (getpwnam_r(v, &pw, buf, sizeof(buf), &res) != 0 || !res)
        return mod_fail(m, "user = '%s': no such user", v);
    c->user = strdup(v);
    if (!c->user)
        return -ENOMEM;
    c->uid = pw.pw_uid;
    c->gid = pw.pw_gid;
    return 0;
}

/* An optional number of seconds >= min (sentry's own keys). */
static void mod_seconds(struct mod_ctx *m, const char *key, unsigned min, unsigned def,
                        unsigned *ret)
{
    const char *v = mod_get(m, key);
    int64_t i;

    *ret = def;
    if (!v)
        return;
    if (parse_int_python(v, &i) < 0 || i < min || i > UINT32_MAX)
        mod_warn(m, "%s = '%s': must be an integer >= %u (seconds); using %u", key, v, min, def);
    else
        *ret = (unsigned) i;
}

static void mod_unknown_keys(struct mod_ctx *m)
{
    static const char *const known[] = {
        "enabled",          "type",      "task_start", "task_stop",
        "task_pre",         "task_post", "interval",   "heartbeat_interval",
        "onstart",          "env_file",  "conflict",   "alarm_id",
        "alarm_clear_time", "user",      "timeout",    "stop_timeout",
    };
    for (size_t i = 0; i < m->ini->n_entries; i++) {
        const struct ini_entry *e = &m->ini->entries[i];
        bool found = false;

        if (!streq(e->section, SECTION)) {
            /* Warn once per section. */
            if (i == 0 || !streq(m->ini->entries[i - 1].section, e->section))
                mod_warn(m, "unknown section [%s] ignored (keys belong in [common])", e->section);
            continue;
        }
        for (size_t k = 0; k < ELEMENTSOF(known) && !found; k++)
            found = strcasecmp(e->key, known[k]) == 0;
        if (!found)
            mod_warn(m, "unknown key '%s' in [common] ignored", e->key);
    }
}

static int mod_parse(struct mod_ctx *m, const struct mod_defaults *d, struct task_config *c)
{
    const char *v;
    int r, k;

    if (!ini_file_has_section(m->ini, SECTION))
        return mod_fail(m, "common not in this mod file");
    mod_unknown_keys(m);

    v = mod_get(m, "enabled");
    if (!v)
        return mod_fail(m, "enabled not in this mod file");
    if (!streq(v, "yes") && !streq(v, "no"))
        return mod_fail(m, "enabled conf error %s (key enabled must be yes or no)", v);
    c->enabled = streq(v, "yes");

    v = mod_get(m, "type");
    k = v ? task_type_from_string(v) : -EINVAL;
    if (k < 0)
        return mod_fail(m, "mod %s: type conf is invalid, got '%s' (must be oneshot or period)",
                        m->name, v ? v : "");
    c->type = (enum task_type) k;

    r = mod_required_command(m, "task_start", &c->task_start);
    if (r < 0)
        return r;
    r = mod_required_command(m, "task_stop", &c->task_stop);
    if (r < 0)
        return r;
    r = mod_command_list(m, "task_pre", &c->task_pre);
    if (r < 0)
        return r;
    r = mod_command_list(m, "task_post", &c->task_post);
    if (r < 0)
        return r;

    mod_interval(m, c, d);
    mod_heartbeat(m, c);
    mod_alarm(m, c);

    v = mod_get(m, "onstart");
    c->onstart = c->type == TASK_ONESHOT ? streq_ptr(v, "yes") : !streq_ptr(v, "no");

    mod_conflict(m, c);
    r = mod_user(m, c);
    if (r < 0)
        return r;
    r = mod_env_file(m, c);
    if (r < 0)
        return r;
    mod_seconds(m, "timeout", 0, 0, &c->timeout);
    mod_seconds(m, "stop_timeout", 1, d->stop_timeout, &c->stop_timeout);
    return 0;
}

/* The reader's errors without the path each starts with (ours says it once), joined. */
static char *mod_parse_errors(const struct config_msgs *msgs, const char *path)
{
    _cleanup_strv_free_ char **l = NULL;

    for (size_t i = 0; i < msgs->n_items; i++) {
        const char *text = msgs->items[i].text, *rest = startswith(text, path);

        if (msgs->items[i].level != CONFIG_MSG_ERROR)
            continue;
        rest = rest ? startswith(rest, ": ") : NULL;
        if (strv_extend(&l, rest ? rest : text) < 0)
            return NULL;
    }
    return strv_join(l, "; ");
}

int mod_file_load(int dirfd, const char *dir_path, const char *filename,
                  const struct mod_defaults *defaults, struct task_config **ret, char ***warnings,
                  char **error)
{
    _cleanup_(task_config_freep) struct task_config *c = NULL;
    _cleanup_(ini_file_done) struct ini_file ini = {};
    _cleanup_(config_msgs_done) struct config_msgs msgs = {};
    _cleanup_free_ char *path = NULL, *perr = NULL, *text = NULL;
    char name[SENTRY_TASK_NAME_MAX + 1], unsafe[128];
    struct mod_ctx m = {0};
    struct stat st;
    size_t len = 0;
    int r;

    *warnings = NULL;
    *error = NULL;
    if (asprintf(&path, "%s/%s", dir_path, filename) < 0)
        return -ENOMEM;
    m.path = path;

    r = mod_file_task_name(filename, name, sizeof(name));
    if (r < 0) {
        if (asprintf(error,
                     "%s: mod name invalid: %s (a task name is 1-%d characters of "
                     "A-Z a-z 0-9 _)",
                     path, filename, SENTRY_TASK_NAME_MAX) < 0)
            *error = NULL;
        return -EINVAL;
    }
    m.name = name;

    /* A symlink could point a task file anywhere: refused. The file is judged by the fstat() of
     * what was read, and only then parsed. */
    r = read_file_bounded(dirfd, filename, O_NOFOLLOW, MOD_FILE_SIZE_MAX, &text, &len, &st);
    if (r >= 0 && trusted_file_check(&st, TRUSTED_FILE_NO_OWNER, unsafe, sizeof(unsafe)) < 0) {
        if (asprintf(error,
                     "%s: unsafe task file, refused: %s (its commands run as root: only root may "
                     "be able to change it); mod %s load failed",
                     path, unsafe, name) < 0)
            *error = NULL;
        return -EPERM;
    }
    if (r >= 0)
        r = ini_file_parse_string(&ini, path, text, INI_FILE_MERGE_SECTIONS, &msgs);
    if (r >= 0 && strlen(text) != len) {
        /* A text file has none; the parser saw the text up to it. */
        unsigned line = 1;
        for (const char *p = text; *p; p++)
            line += *p == '\n';
        r = config_msgs_add(&msgs, CONFIG_MSG_ERROR, "%s: line %u: NUL byte, the rest is not read",
                            path, line);
    }
    if (r >= 0 && msgs.n_errors > 0) {
        perr = mod_parse_errors(&msgs, path);
        if (!perr)
            return -ENOMEM;
        r = -EBADMSG;
    }
    if (r < 0) {
        const char *why = perr           ? perr
                          : r == -ELOOP  ? "is a symlink, refused"
                          : r == -EBADFD ? "is not a regular file"
                          : r == -EFBIG  ? "is too big"
                                         : strerror(-r);
        if (r == -ELOOP || r == -EISDIR || r == -EBADFD) {
            if (asprintf(error, "%s: mod name invalid: %s %s", path, filename, why) < 0)
                *error = NULL;
        } else if (asprintf(error, "%s: config parse failed: %s", path, why) < 0)
            *error = NULL;
        return r;
    }
    m.ini = &ini;
    for (size_t i = 0; i < msgs.n_items; i++)
        if (msgs.items[i].level == CONFIG_MSG_WARNING &&
            strv_extend(&m.warnings, msgs.items[i].text) < 0) {
            strv_free(m.warnings);
            return -ENOMEM;
        }

    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->name = strdup(name);
    c->path = strdup(path);
    if (!c->name || !c->path)
        return -ENOMEM;

    r = mod_parse(&m, defaults, c);
    *warnings = m.warnings;
    if (r < 0) {
        *error = m.error;
        return r;
    }
    free(m.error);
    *ret = TAKE_PTR(c);
    return 0;
}
