/* heartbeat_client: a plugin-like libsentry program for the tests of what happens when sentryd
 * goes away under a client. SIGPIPE keeps its default action (it would kill the program, as it
 * would a plugin), so a library that lets a send raise it shows as a death by signal.
 *
 * It connects with sentry_connect() (path from $SENTRY_SOCKET) for task TASK, prints "connected
 * R", then runs the commands it reads on stdin, one per line, each printing what it got:
 *   beat             one sentry_heartbeat()           -> "heartbeat R"
 *   loop N MSEC      N heartbeats, MSEC apart         -> "heartbeat R" each, then "loop done"
 *   result           sentry_result(PASS)              -> "result R"
 *   report ID TEXT   sentry_report() of a MINOR OCCUR -> "report R"
 *   subscribe IDS    sentry_subscribe() to new alarms of IDS ("1050", "1001-1003")
 *                                                     -> "subscribe R last SEQ"
 *   resume IDS       the same after sentry_last_seq() -> "resume R last SEQ"
 *   wait N           sentry_run() until N alarms came  -> "alarm SEQ ID TEXT" each, "run R"
 *   quit
 * R is 0 or a negative errno value. Exits with 0 at "quit" or the end of stdin.
 * usage: heartbeat_client TASK */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sentry/sentry.h>

static void sleep_msec(long msec)
{
    struct timespec ts = {.tv_sec = msec / 1000, .tv_nsec = (msec % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long alarms_left;

static int on_alarm(const struct sentry_alarm *a, void *userdata)
{
    (void) userdata;
    printf("alarm %llu %u %s\n", (unsigned long long) a->seq, a->id, a->text);
    return --alarms_left > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    sentry_client *c = NULL;
    char line[1024];
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: heartbeat_client TASK\n");
        return 2;
    }
    /* Whatever the parent left: a SIGPIPE must be able to kill us, as it would a plugin. */
    signal(SIGPIPE, SIG_DFL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    r = sentry_connect(NULL, &c);
    printf("connected %d\n", r);
    if (r < 0)
        return 1;

    while (fgets(line, sizeof(line), stdin)) {
        char text[900];
        long n, msec;
        unsigned id;

        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, "beat") == 0)
            printf("heartbeat %d\n", sentry_heartbeat(c, argv[1]));
        else if (sscanf(line, "loop %ld %ld", &n, &msec) == 2) {
            for (long i = 0; i < n; i++) {
                printf("heartbeat %d\n", sentry_heartbeat(c, argv[1]));
                sleep_msec(msec);
            }
            printf("loop done\n");
        } else if (strcmp(line, "result") == 0)
            printf("result %d\n", sentry_result(c, argv[1], SENTRY_RESULT_PASS, NULL));
        else if (sscanf(line, "report %u %899[^\n]", &id, text) == 2) {
            struct sentry_alarm a = {.id = (uint16_t) id,
                                     .level = SENTRY_ALARM_MINOR,
                                     .type = SENTRY_ALARM_OCCUR,
                                     .text = text};
            printf("report %d\n", sentry_report(c, &a, NULL));
        } else if (sscanf(line, "subscribe %899s", text) == 1 ||
                   sscanf(line, "resume %899s", text) == 1) {
            const struct sentry_filter f = {.ids = text};
            int resume = strncmp(line, "resume", 6) == 0;
            r = sentry_subscribe(c, &f, resume ? sentry_last_seq(c) : SENTRY_SINCE_NOW, on_alarm,
                                 NULL);
            printf("%s %d last %llu\n", resume ? "resume" : "subscribe", r,
                   (unsigned long long) sentry_last_seq(c));
        } else if (sscanf(line, "wait %ld", &alarms_left) == 1)
            printf("run %d\n", sentry_run(c));
        else if (strcmp(line, "quit") == 0)
            break;
        else
            printf("unknown command: %s\n", line);
    }
    sentry_close(c);
    return 0;
}
