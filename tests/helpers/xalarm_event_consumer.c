/* xalarm_event_consumer: a subscriber of the handle API written against the sysSentry header
 * only (as sentry_msg_monitor is). It registers with xalarm_register_event() for the ids on its
 * command line, prints "registered R", then each event as "EVENT id sec text", and ends after
 * -n N events or when xalarm_get_event() fails, printing "xalarm_get_event returned R".
 * With -a ID it answers every event with xalarm_report_event(ID, "ack <id>") and prints
 * "answered R". usage: xalarm_event_consumer [-n N] [-a ID] ID... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <register_xalarm.h>

int main(int argc, char **argv)
{
    struct alarm_subscription_info f;
    struct alarm_register *h = NULL;
    static struct alarm_msg msg;
    int left = -1, answer = 0, opt, r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "n:a:")) != -1) {
        if (opt == 'n')
            left = atoi(optarg);
        else if (opt == 'a')
            answer = atoi(optarg);
        else
            return 2;
    }
    memset(&f, 0, sizeof(f));
    for (int i = optind; i < argc && f.len < MAX_NUM_OF_ALARM_ID; i++)
        f.id_list[f.len++] = atoi(argv[i]);

    r = xalarm_register_event(&h, f);
    printf("registered %d\n", r);
    if (r < 0)
        return 1;

    while (left != 0) {
        r = xalarm_get_event(&msg, h);
        if (r < 0)
            break;
        printf("EVENT %u %lld %s\n", msg.usAlarmId, (long long) msg.AlarmTime.tv_sec, msg.pucParas);
        if (answer > 0) {
            char text[64];
            snprintf(text, sizeof(text), "ack %u", msg.usAlarmId);
            printf("answered %d\n",
                   xalarm_report_event((unsigned short) answer, text, strlen(text)));
        }
        if (left > 0)
            left--;
    }
    printf("xalarm_get_event returned %d\n", left == 0 ? 0 : r);
    xalarm_unregister_event(&h);
    return 0;
}
