/* xalarm_reference_consumer: a consumer of the handle API written the way a program for today's
 * reference header is written (sysSentry's register_xalarm.h after it changed
 * xalarm_unregister_event() to take the handle's address and xalarm_report_event() to take a
 * length): it builds against <register_xalarm.h> only and uses the reference's names
 * (ALARM_*_EVENT, SYSSENTRY_DOWN_ALARM_ID, RETURN_CODE_*).
 *
 * It registers for the ids on its command line (-A: all MAX_NUM_OF_ALARM_ID of them) and prints
 * "registered R"; then prints each event as "EVENT id text", answers it with
 * xalarm_report_event(ANSWER, "ack <id>", len) when -a ANSWER is given ("answered R"), and stops
 * at an event whose text is "stop" or when xalarm_get_event() fails ("xalarm_get_event returned
 * R"). Then it unregisters with xalarm_unregister_event(&handle) and prints "handle NULL" when
 * the library cleared it ("handle set" otherwise), and unregisters once more, which must do
 * nothing. With -c it first checks xalarm_report_event()'s argument
 * contract and prints "contract ok" or what failed. -i prints the reference's event ids as
 * "NAME=ID" lines and exits, so the test compares them with the reference's header.
 * Exits with RETURN_CODE_SUCCESS when all went as the reference says, 1 otherwise.
 * usage: xalarm_reference_consumer [-c] [-a ANSWER] (-A | ID...)
 *        xalarm_reference_consumer -i */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <register_xalarm.h>

/* The reference's contract of xalarm_report_event(): id in range, text not NULL, len 1..8191 and
 * no NUL in the first len bytes. None of these calls may send anything. */
static int check_contract(void)
{
    static char big[ALARM_INFO_MAX_PARAS_LEN + 1];
    char text[] = "ab";
    struct {
        const char *what;
        int got;
    } cases[] = {
        {"id below the range", xalarm_report_event(MIN_ALARM_ID - 1, text, 2)},
        {"id above the range", xalarm_report_event(MIN_ALARM_ID + MAX_NUM_OF_ALARM_ID, text, 2)},
        {"NULL text", xalarm_report_event(ALARM_REBOOT_ACK_EVENT, NULL, 2)},
        {"len 0", xalarm_report_event(ALARM_REBOOT_ACK_EVENT, text, 0)},
        {"len 8192", xalarm_report_event(ALARM_REBOOT_ACK_EVENT, big, ALARM_INFO_MAX_PARAS_LEN)},
        {"len beyond the text", xalarm_report_event(ALARM_REBOOT_ACK_EVENT, text, 3)},
    };
    int bad = 0;

    memset(big, 'x', ALARM_INFO_MAX_PARAS_LEN);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (cases[i].got != -EINVAL) {
            printf("contract: %s returned %d, not %d\n", cases[i].what, cases[i].got, -EINVAL);
            bad++;
        }
    if (!bad)
        printf("contract ok\n");
    return bad;
}

static void print_ids(void)
{
#define ID(name) printf("%s=%d\n", #name, name)
    ID(MIN_ALARM_ID);
    ID(MAX_NUM_OF_ALARM_ID);
    ID(MEMORY_ALARM_ID);
    ID(ALARM_REBOOT_EVENT);
    ID(ALARM_REBOOT_ACK_EVENT);
    ID(ALARM_OOM_EVENT);
    ID(ALARM_OOM_ACK_EVENT);
    ID(ALARM_PANIC_EVENT);
    ID(ALARM_PANIC_ACK_EVENT);
    ID(ALARM_KERNEL_REBOOT_EVENT);
    ID(ALARM_KERNEL_REBOOT_ACK_EVENT);
    ID(ALARM_UBUS_MEM_EVENT);
    ID(ALARM_RAS_SENTRY_EVENT);
    ID(ALARM_LINK_EVENT);
    ID(SYSSENTRY_DOWN_ALARM_ID);
    ID(RETURN_CODE_SUCCESS);
    ID(RETURN_CODE_FAIL);
    ID(RETURE_CODE_SUCCESS);
    ID(RETURE_CODE_FAIL);
#undef ID
}

int main(int argc, char **argv)
{
    struct alarm_subscription_info filter;
    struct alarm_register *handle = NULL;
    static struct alarm_msg msg;
    int answer = 0, opt, r, failed = 0;
    int all = 0, contract = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "Aa:ci")) != -1) {
        if (opt == 'i') {
            print_ids();
            return RETURN_CODE_SUCCESS;
        } else if (opt == 'A')
            all = 1;
        else if (opt == 'a')
            answer = atoi(optarg);
        else if (opt == 'c')
            contract = 1;
        else
            return 2;
    }
    memset(&filter, 0, sizeof(filter));
    if (all)
        for (int id = MIN_ALARM_ID; id < MIN_ALARM_ID + MAX_NUM_OF_ALARM_ID; id++)
            filter.id_list[filter.len++] = id;
    for (int i = optind; i < argc && filter.len < MAX_NUM_OF_ALARM_ID; i++)
        filter.id_list[filter.len++] = atoi(argv[i]);

    if (contract && check_contract() > 0)
        failed = 1;

    r = xalarm_register_event(&handle, filter);
    printf("registered %d\n", r);
    if (r < 0)
        return 1;

    for (;;) {
        r = xalarm_get_event(&msg, handle);
        if (r < 0) {
            printf("xalarm_get_event returned %d\n", r);
            if (r != -EBADF && r != -ENOTCONN)
                failed = 1;
            break;
        }
        printf("EVENT %u %s\n", msg.usAlarmId, msg.pucParas);
        if (answer > 0) {
            char text[64];
            int n = snprintf(text, sizeof(text), "ack %u", msg.usAlarmId);
            r = xalarm_report_event((unsigned short) answer, text, (size_t) n);
            printf("answered %d\n", r);
            if (r != 0)
                failed = 1;
        }
        if (strcmp(msg.pucParas, "stop") == 0)
            break;
    }

    /* Today's reference: the address of the handle, which the library frees and clears. */
    xalarm_unregister_event(&handle);
    printf("handle %s\n", handle == NULL ? "NULL" : "set");
    if (handle != NULL)
        failed = 1;
    xalarm_unregister_event(&handle); /* NULL now: nothing to do */
    return failed ? 1 : RETURN_CODE_SUCCESS;
}
