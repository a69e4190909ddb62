/* smm_sigbus_text.c: who was told, as members of the 1013 JSON (see smm_sigbus.h). Printed with
 * snprintf in json-c's spaced layout, like the rest of that text (smm_notice.c): the sender
 * formats it with no allocation. A unit test pins it to json-c's own output. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "smm_sigbus.h"

/* Appends to buf at *o; false when it did not fit. */
static bool put(char *buf, size_t size, size_t *o, int n)
{
    if (n < 0 || (size_t) n >= size - *o)
        return false;
    *o += (size_t) n;
    return true;
}

int smm_sigbus_result_format(const struct smm_sigbus_result *r, char *buf, size_t size,
                             size_t *ret_len)
{
    size_t o = 0;
    unsigned n = r->n_listed < SMM_SIGBUS_LISTED_MAX ? r->n_listed : SMM_SIGBUS_LISTED_MAX;
    bool ok = size > 0;

    /* json-c writes an empty array as "[ ]", a full one as "[ a, b ]". */
    ok = ok && put(buf, size, &o, snprintf(buf + o, size - o, ", \"pids\": ["));
    for (unsigned i = 0; ok && i < n; i++)
        ok = put(buf, size, &o,
                 snprintf(buf + o, size - o, "%s %d", i ? "," : "", (int) r->hits[i].pid));
    ok = ok && put(buf, size, &o, snprintf(buf + o, size - o, " ], \"vaddrs\": ["));
    for (unsigned i = 0; ok && i < n; i++)
        ok = put(
            buf, size, &o,
            snprintf(buf + o, size - o, "%s \"0x%" PRIx64 "\"", i ? "," : "", r->hits[i].vaddr));
    ok = ok && put(buf, size, &o,
                   snprintf(buf + o, size - o, " ], \"signalled\": %u, \"truncated\": %s",
                            r->n_signalled, r->n_signalled > n || r->stopped ? "true" : "false"));
    if (!ok)
        return -EMSGSIZE;
    *ret_len = o;
    return 0;
}
