/* xalarm_consumer: a subscriber written against the sysSentry header only, as a sysSentry
 * consumer would be. It registers with xalarm_Register() for the ids on its command line and
 * prints every alarm as "ALARM id level type text", one line each. It ends on SIGTERM, at end of
 * input or after -n N alarms, and prints "done" then.
 *
 * Commands on stdin, one per line, each answered with one line of its return value (the
 * library prints its own messages on stdout too):
 *   upgrade ID...      xalarm_Upgrade(ids, 0)       -> "upgrade returned 1"
 *   register ID...     xalarm_Register(cb, ids)     -> "register returned -1"
 *   unregister [CID]   xalarm_UnRegister(CID or 0)  -> "unregister done"
 * usage: xalarm_consumer [-n N] [-k] ID...   (-k: keep running when stdin ends) */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <register_xalarm.h>

static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t alarms_left = -1;

static void wake_main(void)
{
    char c = 1;
    /* Nothing to do if the pipe is full: the main loop is woken already. */
    if (write(stop_pipe[1], &c, 1) < 0 && errno != EAGAIN)
        _exit(2);
}

static void on_sigterm(int sig)
{
    (void) sig;
    wake_main();
}

static void on_alarm(struct alarm_info *a)
{
    printf("ALARM %u %u %u %s\n", xalarm_getid(a), xalarm_getlevel(a), xalarm_gettype(a),
           xalarm_getdesc(a));
    fflush(stdout);
    if (alarms_left > 0 && --alarms_left == 0)
        wake_main();
}

/* Fills f from words (ids as given, no checks: the library checks them). */
static void parse_ids(char **words, int n, struct alarm_subscription_info *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < n && i < MAX_NUM_OF_ALARM_ID + 1; i++) {
        if (i < MAX_NUM_OF_ALARM_ID)
            f->id_list[i] = atoi(words[i]);
        f->len = (unsigned) i + 1;
    }
}

static void run_command(char *line)
{
    char *words[MAX_NUM_OF_ALARM_ID + 2];
    struct alarm_subscription_info f;
    int n = 0;

    for (char *w = strtok(line, " \t\r\n"); w && n < (int) (sizeof(words) / sizeof(words[0]));
         w = strtok(NULL, " \t\r\n"))
        words[n++] = w;
    if (n == 0)
        return;
    if (strcmp(words[0], "upgrade") == 0) {
        parse_ids(words + 1, n - 1, &f);
        printf("upgrade returned %d\n", xalarm_Upgrade(f, 0) ? 1 : 0);
    } else if (strcmp(words[0], "register") == 0) {
        parse_ids(words + 1, n - 1, &f);
        printf("register returned %d\n", xalarm_Register(on_alarm, f));
    } else if (strcmp(words[0], "unregister") == 0) {
        xalarm_UnRegister(n > 1 ? atoi(words[1]) : 0);
        printf("unregister done\n");
    } else {
        printf("unknown command %s\n", words[0]);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct alarm_subscription_info f;
    bool keep = false, stdin_open = true;
    char buf[4096];
    size_t have = 0;
    int opt, r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "n:k")) != -1) {
        if (opt == 'n')
            alarms_left = atoi(optarg);
        else if (opt == 'k')
            keep = true;
        else
            return 2;
    }
    if (pipe(stop_pipe) < 0)
        return 2;
    struct sigaction sa = {.sa_handler = on_sigterm};
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return 2;

    parse_ids(argv + optind, argc - optind, &f);
    r = xalarm_Register(on_alarm, f);
    printf("xalarm_Register returned %d\n", r);
    if (r != 0)
        return 1;

    for (;;) {
        struct pollfd p[2] = {{.fd = stop_pipe[0], .events = POLLIN},
                              {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 2;
        }
        if (p[0].revents)
            break;
        if (!p[1].revents)
            continue;
        ssize_t n = read(STDIN_FILENO, buf + have, sizeof(buf) - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            stdin_open = false;
            if (!keep)
                break;
            continue;
        }
        have += (size_t) n;
        buf[have] = 0;
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = 0;
            run_command(buf);
            have -= (size_t) (nl + 1 - buf);
            memmove(buf, nl + 1, have + 1);
        }
        if (have == sizeof(buf) - 1)
            have = 0; /* an over-long line: dropped */
    }

    xalarm_UnRegister(0);
    printf("done\n");
    return 0;
}
