/* trace_formats.c: a tep made from the kernel's format files (trace_reader.h). */
#include <errno.h>
#include <event-parse.h>
#include <unistd.h>

#include "trace_reader.h"

struct tep_handle *trace_formats_new(const char *header_page, size_t len)
{
    enum tep_endian endian = tep_is_bigendian() ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN;
    struct tep_handle *tep;

    if (!header_page || len == 0 || len > INT32_MAX) {
        errno = EINVAL;
        return NULL;
    }
    tep = tep_alloc();
    if (!tep) {
        errno = ENOMEM;
        return NULL;
    }
    tep_set_file_bigendian(tep, endian);
    tep_set_local_bigendian(tep, endian);
    tep_set_long_size(tep, sizeof(long));
    tep_set_page_size(tep, getpagesize());
    /* the library's prototype takes a non-const buffer it does not write */
    if (tep_parse_header_page(tep, (char *) header_page, (unsigned long) len, sizeof(long)) < 0) {
        tep_free(tep);
        errno = EBADMSG;
        return NULL;
    }
    return tep;
}

int trace_formats_add(struct tep_handle *tep, const char *system, const char *format, size_t len)
{
    struct tep_event *event = NULL;

    if (!tep || !system || !format || len == 0 || len > INT32_MAX)
        return -EINVAL;
    if (tep_parse_format(tep, &event, format, len, system) != TEP_ERRNO__SUCCESS || !event)
        return -EBADMSG;
    return event->id;
}
