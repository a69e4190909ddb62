/* cpu_policy.c: see cpu_policy.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_policy.h"
#include "macro.h"

int cpu_policy_init(struct cpu_policy *p, const struct mem_config *cfg)
{
    const struct mem_threshold *t = &cfg->cpu_threshold;

    *p = (struct cpu_policy){
        .on = t->on, .offline = cfg->cpu_offline, .max_offline = cfg->cpu_max_offline};
    if (!p->on)
        return 0;
    int r = leaky_rate_init(&p->rate, t->n, t->window_s * NSEC_PER_SEC_U64);
    if (r < 0)
        return r;
    p->buckets = calloc(CPU_POLICY_MAX_CPUS, sizeof(*p->buckets));
    p->crossed = calloc(CPU_POLICY_MAX_CPUS, sizeof(*p->crossed));
    if (!p->buckets || !p->crossed) {
        cpu_policy_done(p);
        return -ENOMEM;
    }
    return 0;
}

void cpu_policy_done(struct cpu_policy *p)
{
    free(p->buckets);
    free(p->crossed);
    p->buckets = NULL;
    p->crossed = NULL;
}

enum cpu_decision cpu_policy_ce(struct cpu_policy *p, unsigned cpu, uint64_t now_ns)
{
    if (!p->on || cpu >= CPU_POLICY_MAX_CPUS)
        return CPU_DECISION_NONE;
    if (!leaky_bucket_add(&p->buckets[cpu], &p->rate, now_ns))
        return CPU_DECISION_NONE;
    leaky_bucket_hold(&p->buckets[cpu], &p->rate, now_ns);
    if (p->crossed[cpu])
        return CPU_DECISION_NONE; /* said once, until it drains */
    p->crossed[cpu] = 1;
    p->n_crossed++;
    if (!p->offline)
        return CPU_DECISION_THRESHOLD;
    if (p->offlined >= p->max_offline)
        return CPU_DECISION_LIMIT;
    p->offlined++;
    return CPU_DECISION_OFFLINE;
}

bool cpu_policy_tick(struct cpu_policy *p, uint64_t now_ns, unsigned *cursor, unsigned *ret_cpu)
{
    if (!p->on || p->n_crossed == 0)
        return false;
    for (unsigned c = *cursor; c < CPU_POLICY_MAX_CPUS; c++)
        if (p->crossed[c] && leaky_bucket_drained(&p->buckets[c], now_ns)) {
            p->crossed[c] = 0;
            p->n_crossed--;
            *cursor = c + 1;
            *ret_cpu = c;
            return true;
        }
    *cursor = CPU_POLICY_MAX_CPUS;
    return false;
}

int cpu_offline(const char *sysfs, unsigned cpu)
{
    char path[256], state[8] = "";
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%u/online", sysfs, cpu);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, "0\n", 2) != 2) {
        int e = errno ? errno : EIO;
        close(fd);
        return -e;
    }
    n = pread(fd, state, sizeof(state) - 1, 0);
    close(fd);
    if (n < 0)
        return -errno;
    return state[0] == '0' ? 0 : -EIO;
}
