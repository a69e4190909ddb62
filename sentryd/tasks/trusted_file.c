/* trusted_file.c: see trusted_file.h. */
#include <stdio.h>
#include <unistd.h>

#include "macro.h"
#include "trusted_file.h"

int trusted_file_check(const struct stat *st, uid_t also_owner, char *why, size_t size)
{
    uid_t self = geteuid();

    if (st->st_uid != 0 && st->st_uid != self &&
        (also_owner == TRUSTED_FILE_NO_OWNER || st->st_uid != also_owner)) {
        if (also_owner != TRUSTED_FILE_NO_OWNER && also_owner != 0)
            snprintf(why, size, "owned by uid %u, not by root or uid %u", (unsigned) st->st_uid,
                     (unsigned) also_owner);
        else
            snprintf(why, size, "owned by uid %u, not by root", (unsigned) st->st_uid);
        return -EPERM;
    }
    if (st->st_mode & S_IWGRP) {
        snprintf(why, size, "writable by its group (mode %04o)", (unsigned) (st->st_mode & 07777));
        return -EPERM;
    }
    if (st->st_mode & S_IWOTH) {
        snprintf(why, size, "writable by others (mode %04o)", (unsigned) (st->st_mode & 07777));
        return -EPERM;
    }
    return 0;
}
