/* disk.c: disk type classification and name checks (see disk.h). */
#include <ctype.h>
#include <errno.h>

#include "disk.h"
#include "macro.h"

enum disk_type disk_type_classify(const char *name, bool rotational)
{
    if (!name)
        return DISK_VIRTUAL;
    if (startswith(name, "nvme"))
        return DISK_NVME_SSD;
    if (startswith(name, "sd"))
        return rotational ? DISK_SATA_HDD : DISK_SATA_SSD;
    return DISK_VIRTUAL;
}

bool disk_name_is_valid(const char *name)
{
    size_t n = 0;

    if (!name || streq(name, ".") || streq(name, ".."))
        return false;
    for (const char *p = name; *p; p++, n++) {
        if (n >= DISK_NAME_MAX - 1)
            return false;
        if (!isalnum((unsigned char) *p) && !strchr("_.:!+-", *p))
            return false;
    }
    return n > 0;
}
