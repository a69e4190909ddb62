/* sentry_msg_monitor: the reader of /dev/sentry_msg_helper (kmod/; the reference's plugin of the
 * same name, docs/plugins/sentry_msg_monitor.md). Two threads: the sender turns each kernel
 * notice into an alarm, the receiver turns each answer alarm into SMH_MSG_ACK. The main thread
 * sets up (log, locked memory, channel, version check), then only waits: for SIGTERM (exit 0)
 * or for a thread that ended (exit 1, so the task framework starts the plugin again).
 * With --sigbus PA it only runs the SIGBUS search for PA once, prints who was told, and exits. */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "log.h"
#include "sentry-build-config.h"
#include "smm_memid_map.h"
#include "smm_notice.h"
#include "smm_channel.h"
#include "smm_receiver.h"
#include "smm_sender.h"
#include "smm_sigbus.h"
#include "smm_version.h"

#define SMM_DEVICE_DEFAULT "/dev/" SMH_DEVICE_NAME
#define SMM_CONFIG_DEFAULT SENTRY_CONFDIR "/plugins/sentry_msg_monitor.ini"
/* Both threads need little stack; a small one keeps the locked memory small. */
#define SMM_THREAD_STACK (512 * 1024)

enum {
    EXIT_THREAD_ENDED = 1, /* a thread ended: the plugin must be started again */
    EXIT_USAGE = 2,        /* bad options or environment */
    EXIT_INCOMPATIBLE = 3, /* the device speaks another major version of the ABI */
};

struct options {
    const char *device;  /* the device, or the records of the test backend */
    const char *answers; /* the test backend's answers; NULL with the device */
    const char *version; /* the test backend's version */
    const char *config;  /* the [memid] devices */
    const char *sigbus;  /* one-shot mode: the physical address, or NULL */
};

struct worker {
    const char *name;
    int (*run)(struct smm_channel *c);
    struct smm_channel *channel;
    pthread_t main_thread;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sentry_msg_monitor [--device PATH] [--answers PATH] "
               "[--device-version MAJOR.MINOR|fail]\n"
               "                          [--config PATH]\n"
               "       sentry_msg_monitor --sigbus PA [--config PATH]\n"
               "  --device PATH   the device (default " SMM_DEVICE_DEFAULT "), or, for the test\n"
               "                  backend, a FIFO, unix socket or file of 88-byte records\n"
               "  --answers PATH  test backend: where answers go (file, FIFO or unix socket)\n"
               "  --device-version MAJOR.MINOR|fail  test backend: its version answer\n"
               "  --config PATH   the memid devices (default " SMM_CONFIG_DEFAULT ")\n"
               "  --sigbus PA     SIGBUS to every process mapping physical address PA (decimal or\n"
               "                  0x hex), print who was told as JSON, and exit\n"
               "environment: LOG_LEVEL (debug, info, warning, error), SENTRY_MSG_MONITOR_DEVICE,\n"
               "  SENTRY_MSG_MONITOR_ANSWERS, SENTRY_MSG_MONITOR_DEVICE_VERSION,\n"
               "  SENTRY_MSG_MONITOR_CONFIG\n");
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return isempty(v) ? fallback : v;
}

/* 0, 1 for --help, -EINVAL for bad usage. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"device", required_argument, NULL, 'd'},
        {"answers", required_argument, NULL, 'a'},
        {"device-version", required_argument, NULL, 'v'},
        {"config", required_argument, NULL, 'c'},
        {"sigbus", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {},
    };
    int c;

    o->device = env_or("SENTRY_MSG_MONITOR_DEVICE", SMM_DEVICE_DEFAULT);
    o->answers = env_or("SENTRY_MSG_MONITOR_ANSWERS", NULL);
    o->version = env_or("SENTRY_MSG_MONITOR_DEVICE_VERSION", NULL);
    o->config = env_or("SENTRY_MSG_MONITOR_CONFIG", SMM_CONFIG_DEFAULT);
    o->sigbus = NULL;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->device = optarg;
            break;
        case 'a':
            o->answers = optarg;
            break;
        case 'v':
            o->version = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->sigbus = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -EINVAL;
        }
    }
    return optind == argc ? 0 : -EINVAL;
}

static void setup_log(void)
{
    const char *s = getenv("LOG_LEVEL");
    int level = isempty(s) ? LOG_INFO : log_level_from_string(s);

    /* stderr: the task's log. The journal path allocates for every message. */
    log_setup("sentry_msg_monitor", LOG_TARGET_STDERR, level < 0 ? LOG_INFO : level);
    if (level < 0)
        log_warning("LOG_LEVEL=%s is not one of debug, info, warning, error; using info", s);
}

/* The [memid] devices. A bad line is logged and left out, and the plugin goes on: the other
 * devices, the frame search and every other notice still work. */
static void load_memid_map(const char *path, struct smm_memid_map *map)
{
    struct config_msgs msgs = {};
    int r = smm_memid_map_load(map, path, &msgs);

    config_msgs_log(&msgs);
    config_msgs_done(&msgs);
    if (r < 0)
        log_warning_errno(r, "cannot read %s (%m): no memid devices", path);
    else
        log_debug("%s: %zu memid device(s)", path, map->n_ranges);
}

/* One-shot mode: the search for pa, and who was told on stdout as one JSON object. */
static int run_sigbus_once(const char *arg, const struct smm_memid_map *map)
{
    char members[SMM_TEXT_MAX];
    struct smm_sigbus_result res;
    uint64_t pa;
    size_t len;
    int r;

    if (smm_memid_parse_u64(arg, &pa) < 0) {
        log_error("--sigbus %s: not a physical address (decimal or 0x hex)", arg);
        return EXIT_USAGE;
    }
    r = smm_sigbus_deliver(map, pa, &res);
    if (r < 0) {
        log_error_errno(r, "cannot list the processes: %m");
        return EXIT_FAILURE;
    }
    if (smm_sigbus_result_format(&res, members, sizeof(members), &len) < 0)
        return EXIT_FAILURE;
    printf("{ \"pa\": \"0x%" PRIx64 "\", \"memid\": %d%s }\n", pa, res.memid, members);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Everything the process has and will map stays in RAM: under an OOM the kernel waits for our
 * answer and must not wait for our pages too. */
static void lock_memory(void)
{
#if defined(__SANITIZE_ADDRESS__)
    /* The sanitizer's shadow memory is terabytes of reserved address space. */
    log_warning("built with AddressSanitizer: memory not locked");
#else
    if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        log_warning_errno(errno, "cannot lock memory (%m): under memory pressure notices may "
                                 "wait for paging");
#endif
}

static int open_channel(const struct options *o, struct smm_channel *c)
{
    struct stat st;
    int r;

    if (stat(o->device, &st) == 0 && S_ISCHR(st.st_mode)) {
        r = smm_channel_open_device(c, o->device);
        if (r < 0)
            return log_error_errno(r, "cannot open %s: %m", o->device);
        return 0;
    }
    if (!o->answers) {
        if (streq(o->device, SMM_DEVICE_DEFAULT))
            return log_error_errno(ENODEV,
                                   "%s is not there: is the sentry_msg_helper module "
                                   "loaded?",
                                   o->device);
        return log_error_errno(EINVAL,
                               "%s is no character device, and the test backend "
                               "needs --answers",
                               o->device);
    }
    r = smm_channel_open_backend(c, o->device, o->answers, o->version);
    if (r < 0)
        return log_error_errno(r, "cannot open the test backend (%s, %s, version %s): %m",
                               o->device, o->answers, strna(o->version));
    log_info("test backend: notices from %s, answers to %s", o->device, o->answers);
    return 0;
}

/* false when the plugin must not start. */
static bool check_version(struct smm_channel *c)
{
    struct smh_version_info v = {};
    int r = smm_channel_version(c, &v);

    switch (smm_version_judge(r, &v)) {
    case SMM_VERSION_OK:
        log_info("%s version %u.%u", SMH_DEVICE_NAME, v.major, v.minor);
        return true;
    case SMM_VERSION_OTHER_MINOR:
        log_warning("%s version %u.%u, built for %u.%u: notices of other kinds are skipped",
                    SMH_DEVICE_NAME, v.major, v.minor, SMH_VERSION_MAJOR, SMH_VERSION_MINOR);
        return true;
    case SMM_VERSION_UNKNOWN:
        log_warning_errno(r, "cannot ask %s its version (%m); going on as if it were %u.%u",
                          SMH_DEVICE_NAME, SMH_VERSION_MAJOR, SMH_VERSION_MINOR);
        return true;
    case SMM_VERSION_INCOMPATIBLE:
    default:
        log_error("%s version %u.%u is incompatible: this plugin reads version %u records; "
                  "refusing to start",
                  SMH_DEVICE_NAME, v.major, v.minor, SMH_VERSION_MAJOR);
        return false;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int r = w->run(w->channel);

    log_error_errno(r, "the %s thread ended: %m", w->name);
    /* Tells the main thread, which exits: the other thread is useless alone. */
    pthread_kill(w->main_thread, SIGUSR1);
    return NULL;
}

static int start_worker(struct worker *w, pthread_t *ret)
{
    pthread_attr_t attr;
    int r;

    r = pthread_attr_init(&attr);
    if (r != 0)
        return -r;
    r = pthread_attr_setstacksize(&attr, SMM_THREAD_STACK);
    if (r == 0)
        r = pthread_create(ret, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    return -r;
}

int main(int argc, char **argv)
{
    static struct smm_channel channel;
    static struct smm_memid_map memid_map;
    static struct worker sender = {.name = "sender", .run = smm_sender_run};
    static struct worker receiver = {.name = "receiver", .run = smm_receiver_run};
    struct options o;
    pthread_t t;
    sigset_t set;
    int r, sig;

    setup_log();
    r = parse_options(argc, argv, &o);
    if (r != 0) {
        usage(r > 0 ? stdout : stderr);
        return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    load_memid_map(o.config, &memid_map);
    if (o.sigbus) {
        r = run_sigbus_once(o.sigbus, &memid_map);
        smm_memid_map_done(&memid_map);
        return r;
    }
    smm_sender_set_memid_map(&memid_map);
    lock_memory();
    /* A closed answer socket is an error to report, not a reason to die. */
    signal(SIGPIPE, SIG_IGN);
    if (open_channel(&o, &channel) < 0)
        return EXIT_USAGE;
    if (!check_version(&channel))
        return EXIT_INCOMPATIBLE;

    /* The threads inherit the mask: only the main thread takes these signals, in sigwait(). */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    sender.channel = receiver.channel = &channel;
    sender.main_thread = receiver.main_thread = pthread_self();
    r = start_worker(&sender, &t);
    if (r >= 0)
        r = start_worker(&receiver, &t);
    if (r < 0) {
        log_error_errno(r, "cannot start a thread: %m");
        return EXIT_THREAD_ENDED;
    }
    log_info("started");

    while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT && sig != SIGUSR1))
        ;
    if (sig == SIGUSR1)
        return EXIT_THREAD_ENDED;
    log_info("stopping on signal %d", sig);
    return EXIT_SUCCESS;
}
