/* user_identity.h: what running a task as its `user=` means. The user's uid, gid and groups (for
 * process_spawn), its HOME, SHELL, USER and LOGNAME, a PATH for users and its home as the
 * working directory (for the environment), as login(1) or systemd's User= give them, instead of
 * sentryd's own; and reading a file with the user's rights (its env_file), never as root on the
 * user's behalf. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define USER_GROUPS_MAX 256
/* PATH of a task that runs as a user other than root (Debian's ENV_PATH in login.defs). */
#define USER_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

struct user_identity {
    char *name;
    uid_t uid;
    gid_t gid;
    char *home; /* from the user database; may name a directory that does not exist */
    char *shell;
    gid_t groups[USER_GROUPS_MAX];
    int n_groups;
};

/* Looks name up in the user database (getpwnam_r(), getgrouplist()). -ESRCH when there is no such
 * user, -E2BIG when it has more than USER_GROUPS_MAX groups, -ENOMEM. */
int user_identity_resolve(const char *name, struct user_identity *ret);
void user_identity_done(struct user_identity *id);

/* The working directory of the user's processes: its home when that is a directory, else "/". */
const char *user_identity_cwd(const struct user_identity *id);

/* Sets HOME, SHELL, USER, LOGNAME, PWD=cwd and, unless the user is root, PATH=USER_DEFAULT_PATH
 * in *env. 0 or -ENOMEM. */
int user_identity_apply_env(const struct user_identity *id, const char *cwd, char ***env);

/* Reads path, a regular file of at most max bytes, with the rights of id: a short-lived child
 * takes the user's uid, gid and groups, opens the file and sends its bytes, with the fstat() of
 * what it opened (for trusted_file_check()), back through a pipe. *ret is NUL-terminated.
 * -EACCES (and the like) when the user may not read it, -EBADFD when it is not a regular file,
 * -EISDIR, -EFBIG when it is bigger than max. */
int user_read_file(const struct user_identity *id, const char *path, size_t max, char **ret,
                   struct stat *st);
