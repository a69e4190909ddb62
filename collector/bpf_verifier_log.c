/* bpf_verifier_log.c: the line of a BPF verifier log that says why a program was refused.
 *
 * A refusal log walks the instructions the verifier followed (with the register states and the
 * source lines) and ends with the error, then a summary ("processed N insns ..."). The reason is
 * the last line before the summary that is none of the walk's own lines. Pure text handling: no
 * libbpf here, so it is unit-tested with the logs of real refusals. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "bpf_verifier_log.h"
#include "macro.h"

#define CORE_FAILURE "failed to resolve CO-RE relocation"

/* Lines of the walk and of the summary, which never say why. */
static bool line_is_noise(const char *l, size_t n)
{
    static const char *const prefixes[] = {
        "; ",
        "processed ",
        "verification time",
        "stack depth",
        "mark_precise",
        "last_idx ",
        "regs=",
        "parent ",
        "from ",
        "func#",
        "Func#",
        "caller:",
        "callee:",
        "returning from callee",
        "Validating ",
        "propagating",
    };
    size_t i = 0;

    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (i == n)
        return true; /* blank */
    if (i > 0)
        return true; /* continuation of a state dump */
    /* "12: (79) r3 = ..." or "12: R1=ctx() ..." */
    while (i < n && isdigit((unsigned char) l[i]))
        i++;
    if (i > 0 && i < n && l[i] == ':')
        return true;
    for (size_t p = 0; p < ELEMENTSOF(prefixes); p++) {
        size_t k = strlen(prefixes[p]);
        if (n >= k && memcmp(l, prefixes[p], k) == 0)
            return true;
    }
    return false;
}

void bpf_verifier_log_reason(const char *log, size_t log_size, char *out, size_t size)
{
    const char *end, *summary = NULL, *best = NULL;
    size_t best_len = 0;

    if (size == 0)
        return;
    out[0] = 0;
    if (!log || log_size == 0) {
        snprintf(out, size, "no verifier log");
        return;
    }
    end = memchr(log, 0, log_size);
    if (!end)
        end = log + log_size;

    /* the summary ends the walk: what follows it is not the reason */
    for (const char *l = log; l < end;) {
        const char *nl = memchr(l, '\n', (size_t) (end - l));
        const char *le = nl ? nl : end;

        if ((size_t) (le - l) >= STRLEN("processed ") &&
            memcmp(l, "processed ", STRLEN("processed ")) == 0)
            summary = l;
        l = nl ? nl + 1 : end;
    }
    if (summary)
        end = summary;

    for (const char *l = log; l < end;) {
        const char *nl = memchr(l, '\n', (size_t) (end - l));
        const char *le = nl ? nl : end;
        size_t n = (size_t) (le - l);

        /* libbpf's note on a CO-RE relocation this kernel lacks says more than the verifier's
         * "invalid func unknown#195896080" that follows it */
        if (n >= STRLEN(CORE_FAILURE) && memcmp(l, CORE_FAILURE, STRLEN(CORE_FAILURE)) == 0) {
            best = l;
            best_len = n;
            break;
        }
        if (!line_is_noise(l, n)) {
            best = l;
            best_len = n;
        }
        l = nl ? nl + 1 : end;
    }
    if (!best) {
        snprintf(out, size, "%s",
                 summary ? "the verifier gave no reason" : "verifier log cut short");
        return;
    }
    while (best_len > 0 && isspace((unsigned char) best[best_len - 1]))
        best_len--;
    snprintf(out, size, "%.*s%s", (int) MIN(best_len, 400), best,
             summary ? "" : " (verifier log cut short)");
    /* the log is the kernel's, but what we print must stay one printable line */
    for (char *p = out; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f)
            *p = ' ';
}
