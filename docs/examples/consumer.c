/* consumer.c: a minimal alarm consumer on libsentry.
 *
 *   cc consumer.c -o consumer -lsentry
 *   ./consumer [IDS] [SINCE]        e.g. ./consumer 1001-1010 0
 *
 * Prints every alarm as it arrives; remembers the last seq so that a restart with SINCE = that
 * seq continues without gap or duplicate. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <sentry/sentry.h>

static int on_alarm(const struct sentry_alarm *a, void *userdata)
{
    printf("seq %" PRIu64 " id %u level %d type %d source %s key %s text %s\n", a->seq, a->id,
           a->level, a->type, a->source, a->key, a->text);
    fflush(stdout);
    return 0; /* < 0 would stop sentry_run() */
}

int main(int argc, char **argv)
{
    struct sentry_filter filter = {.ids = argc > 1 ? argv[1] : NULL};
    uint64_t since = argc > 2 ? strtoull(argv[2], NULL, 10) : SENTRY_SINCE_NOW;
    sentry_client *c;
    int r;

    r = sentry_connect(NULL, &c); /* $SENTRY_SOCKET or /run/sentry/sentryd.sock */
    if (r < 0) {
        fprintf(stderr, "cannot connect to sentryd: %d\n", r);
        return 1;
    }
    r = sentry_subscribe(c, &filter, since, on_alarm, NULL);
    if (r < 0) {
        fprintf(stderr, "subscribe refused: %s\n", sentry_error_message(c));
        sentry_close(c);
        return 1;
    }
    /* Blocks; with your own loop, poll sentry_fd(c) and call sentry_dispatch(c) instead. */
    r = sentry_run(c);
    fprintf(stderr, "stopped after seq %" PRIu64 ": %d\n", sentry_last_seq(c), r);
    sentry_close(c);
    return r < 0 ? 1 : 0;
}
