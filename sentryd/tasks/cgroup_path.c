/* cgroup_path.c: see cgroup_path.h. Lines are walked in place; nothing is allocated. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "cgroup_path.h"
#include "macro.h"

/* The next line of text (without its '\n'): *line and *len; false at the end. */
static bool next_line(const char **p, const char **line, size_t *len)
{
    const char *s = *p, *nl;

    if (!*s)
        return false;
    nl = strchr(s, '\n');
    *line = s;
    *len = nl ? (size_t) (nl - s) : strlen(s);
    *p = nl ? nl + 1 : s + *len;
    return true;
}

int cgroup_self_from_proc(const char *proc_cgroup, char *buf, size_t size)
{
    const char *p = proc_cgroup, *line;
    size_t len;

    while (next_line(&p, &line, &len)) {
        /* hierarchy-ID:controller-list:cgroup-path; v2 is "0::PATH" */
        if (len < STRLEN("0::") || memcmp(line, "0::", STRLEN("0::")) != 0)
            continue;
        line += STRLEN("0::");
        len -= STRLEN("0::");
        if (len == 0 || line[0] != '/')
            return -EBADMSG;
        if (len >= size)
            return -ENAMETOOLONG;
        memcpy(buf, line, len);
        buf[len] = 0;
        return 0;
    }
    return -ENOMEDIUM;
}

/* Copies the space-separated field at *p into out (size), undoing mountinfo's octal escapes
 * ("\040" blank, "\011" tab, "\012" newline, "\134" backslash); *p moves past it. */
static int mountinfo_field(const char **p, const char *end, char *out, size_t size)
{
    const char *s = *p;
    size_t o = 0;

    while (s < end && *s == ' ')
        s++;
    if (s >= end)
        return -EBADMSG;
    while (s < end && *s != ' ') {
        char c = *s++;
        if (c == '\\' && end - s >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
            s[2] >= '0' && s[2] <= '7') {
            c = (char) ((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
            s += 3;
        }
        if (o + 1 >= size)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    out[o] = 0;
    *p = s;
    return 0;
}

/* The mount root and mount point of one mountinfo line when its file system is cgroup2:
 * 1 with both, 0 for another file system, -errno for a malformed line. Fields: ID PARENT
 * MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS. */
static int mountinfo_cgroup2(const char *line, size_t len, char *root, size_t root_size,
                             char *point, size_t point_size)
{
    const char *end = line + len, *p = line, *sep;
    char skip[64];
    int r;

    /* " - " ends the optional fields; the file system type follows. */
    sep = NULL;
    for (const char *s = line; s + 3 <= end; s++)
        if (memcmp(s, " - ", 3) == 0) {
            sep = s;
            break;
        }
    if (!sep)
        return -EBADMSG;
    const char *fs = sep + 3;
    size_t fl = strcspn(fs, " \n");
    if (fs + fl > end)
        fl = (size_t) (end - fs);
    if (fl != STRLEN("cgroup2") || memcmp(fs, "cgroup2", fl) != 0)
        return 0;

    for (int i = 0; i < 3; i++) { /* ID, PARENT, MAJ:MIN */
        r = mountinfo_field(&p, sep, skip, sizeof(skip));
        if (r < 0)
            return -EBADMSG;
    }
    r = mountinfo_field(&p, sep, root, root_size);
    if (r < 0)
        return r;
    r = mountinfo_field(&p, sep, point, point_size);
    if (r < 0)
        return r;
    return 1;
}

int cgroup_dir_from_mountinfo(const char *mountinfo, const char *cgroup, char *buf, size_t size)
{
    const char *p = mountinfo, *line;
    size_t len;
    bool any = false;

    if (!cgroup || cgroup[0] != '/')
        return -EINVAL;
    while (next_line(&p, &line, &len)) {
        char root[4096], point[4096];
        const char *rest;
        int r = mountinfo_cgroup2(line, len, root, sizeof(root), point, sizeof(point));

        if (r < 0)
            return r;
        if (r == 0)
            continue;
        any = true;
        /* The mount shows the subtree below its root: the cgroup must lie inside it, at a '/'
         * boundary ("/a" holds "/a" and "/a/b", not "/ab"). */
        if (streq(root, "/"))
            rest = cgroup;
        else {
            rest = startswith(cgroup, root);
            if (!rest || (*rest && *rest != '/'))
                continue;
        }
        if (streq(rest, "/"))
            rest = "";
        int n = snprintf(buf, size, "%s%s", point, rest);
        if (n < 0 || (size_t) n >= size)
            return -ENAMETOOLONG;
        return 0;
    }
    return any ? -EXDEV : -ENOMEDIUM;
}

int cgroup_tasks_dir_name(const char *root, char *buf, size_t size)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    int n;

    if (streq(root, "/"))
        n = snprintf(buf, size, "%s", CGROUP_TASKS_DIR);
    else {
        for (const unsigned char *s = (const unsigned char *) root; *s; s++) {
            h ^= *s;
            h *= UINT64_C(0x100000001b3);
        }
        n = snprintf(buf, size, "%s-%016" PRIx64, CGROUP_TASKS_DIR, h);
    }
    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}
