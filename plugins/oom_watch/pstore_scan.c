/* pstore_scan.c: at start, the kmsg dumps in the pstore directory that hold a panic or an oops
 * and were not reported before become alarm 1019 (CRITICAL), one per record; compressed ones
 * (".enc.z", which this kernel could not decompress) are reported as such, unread. What was
 * reported is written to the state file before the records may be removed, so neither a
 * restart nor a crash in between reports one twice. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "json_util.h"
#include "log.h"
#include "oom_watch.h"
#include "pstore_record.h"
#include "pstore_state.h"

/* A ramoops record is a few tens of KiB; EFI variables less. More is not a pstore record. */
#define RECORD_MAX  (4 * 1024 * 1024)
#define STATE_MAX   (PSTORE_STATE_MAX * (PSTORE_RECORD_NAME_MAX + 64) + 64)
#define RECORDS_MAX 256

static void state_load(const char *path, struct pstore_state *s)
{
    _cleanup_free_ char *text = NULL;
    size_t len, skipped = 0;
    int r = read_file_bounded(AT_FDCWD, path, O_NOFOLLOW, STATE_MAX, &text, &len, NULL);

    if (r == -ENOENT)
        return;
    if (r >= 0)
        r = pstore_state_parse(s, text, len, &skipped);
    if (r < 0)
        log_warning_errno(r, "%s: cannot read it (%m): records found now are reported again", path);
    else if (skipped > 0)
        log_warning("%s: %zu damaged line(s) skipped", path, skipped);
}

static int state_save(const char *path, const struct pstore_state *s)
{
    _cleanup_free_ char *text = pstore_state_format(s);
    _cleanup_free_ char *dir = strdup(path);
    char *slash;
    int r;

    if (!text || !dir)
        return log_oom();
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir_parents(dir, 0755);
    }
    r = write_file_durable(path, text, strlen(text), 0644);
    if (r < 0)
        return log_error_errno(r, "cannot write %s: %m", path);
    return 0;
}

static int report(struct oom_watch *w, const char *name, const struct pstore_seen *seen,
                  enum pstore_name_kind kind, const char *backend,
                  const struct pstore_classification *cl)
{
    json_object *t = oom_watch_text_new(w, "pstore");
    char key[PSTORE_RECORD_NAME_MAX + 16];

    json_object_object_add(t, "record", json_object_new_string(name));
    json_object_object_add(t, "backend", json_object_new_string(backend));
    json_object_object_add(t, "size", json_object_new_uint64(seen->size));
    json_object_object_add(t, "mtime", json_object_new_int64(seen->mtime));
    if (kind == PSTORE_NAME_DMESG_COMPRESSED) {
        json_object_object_add(t, "finding", json_object_new_string("compressed"));
        json_object_object_add(t, "message",
                               json_object_new_string("a compressed kernel log dump of an "
                                                      "earlier boot; this kernel could not "
                                                      "decompress it"));
    } else {
        json_object_object_add(t, "finding",
                               json_object_new_string(pstore_finding_to_string(cl->finding)));
        if (*cl->header)
            json_object_object_add(t, "header", json_object_new_string(cl->header));
        if (*cl->line)
            json_object_object_add(t, "line", json_object_new_string(cl->line));
    }
    snprintf(key, sizeof(key), "pstore:%s", name);
    return oom_watch_alarm(w, SENTRY_ALARM_ID_PSTORE_PANIC, SENTRY_ALARM_CRITICAL, key, t);
}

/* One record: 1 when reported, 0 when not ours or seen before, -errno. */
static int record_handle(struct oom_watch *w, int dfd, const char *name, struct pstore_state *s)
{
    char backend[64] = "";
    enum pstore_name_kind kind = pstore_name_classify(name, backend, sizeof(backend));
    _cleanup_free_ char *data = NULL;
    struct pstore_classification cl = {0};
    struct pstore_seen seen = {0};
    struct stat st;
    size_t len;
    int r;

    if (kind == PSTORE_NAME_OTHER || !pstore_record_name_valid(name))
        return 0;
    r = read_file_bounded(dfd, name, O_NOFOLLOW, RECORD_MAX, &data, &len, &st);
    if (r < 0)
        return log_warning_errno(r, "pstore record %s: cannot read it: %m", name);
    snprintf(seen.name, sizeof(seen.name), "%s", name);
    seen.mtime = st.st_mtime;
    seen.size = len;
    seen.hash = pstore_hash(data, len);
    if (pstore_state_contains(s, &seen))
        return 0;
    if (kind == PSTORE_NAME_DMESG) {
        pstore_record_classify(data, len, &cl);
        if (cl.finding == PSTORE_FINDING_NONE) {
            log_info("pstore record %s: no panic or oops in it", name);
            return 0;
        }
    }
    /* not stored by sentryd: not remembered, so the next start tries again */
    r = report(w, name, &seen, kind, backend, &cl);
    if (r < 0)
        return r;
    r = pstore_state_add(s, &seen);
    return r < 0 ? r : 1;
}

int pstore_scan(struct oom_watch *w)
{
    const struct oom_config *c = w->cfg;
    _cleanup_(pstore_state_done) struct pstore_state s = {0};
    char *reported[RECORDS_MAX];
    size_t n_reported = 0;
    DIR *d;
    struct dirent *de;
    int r = 0;

    d = opendir(c->pstore_dir);
    if (!d)
        return log_warning_errno(errno, "%s: %m; pstore off", c->pstore_dir);
    state_load(c->state_file, &s);
    while ((de = readdir(d)) && n_reported < RECORDS_MAX) {
        int k = record_handle(w, dirfd(d), de->d_name, &s);
        if (k > 0 && (reported[n_reported] = strdup(de->d_name)))
            n_reported++;
    }
    if (n_reported > 0)
        r = state_save(c->state_file, &s);
    log_info("pstore %s: %zu new record(s) reported", c->pstore_dir, n_reported);
    for (size_t i = 0; i < n_reported; i++) {
        /* only once the state file holds it: a crash here cannot report it again */
        if (r >= 0 && c->remove_after_report) {
            if (unlinkat(dirfd(d), reported[i], 0) < 0)
                log_warning_errno(errno, "cannot remove pstore record %s: %m", reported[i]);
            else
                log_info("pstore record %s removed", reported[i]);
        }
        free(reported[i]);
    }
    closedir(d);
    return r;
}
