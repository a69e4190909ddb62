/* xalarm_reporter: a producer written against the sysSentry header only. It reports one alarm
 * and prints the return value; the library prints its own messages (on stderr for reports).
 * usage: xalarm_reporter ID LEVEL TYPE TEXT      xalarm_Report()        -> "xalarm_Report returned
 * R" xalarm_reporter -e ID TEXT [LEN]        xalarm_report_event()  -> "xalarm_report_event
 * returned R" Exits with 0 when the call returned 0, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <register_xalarm.h>

int main(int argc, char **argv)
{
    int r;

    if (argc >= 4 && strcmp(argv[1], "-e") == 0) {
        size_t len = argc > 4 ? strtoul(argv[4], NULL, 10) : strlen(argv[3]);
        r = xalarm_report_event((unsigned short) atoi(argv[2]), argv[3], len);
        printf("xalarm_report_event returned %d\n", r);
        return r == 0 ? 0 : 1;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: xalarm_reporter ID LEVEL TYPE TEXT | -e ID TEXT [LEN]\n");
        return 2;
    }
    /* Converted as a C caller would pass them: values out of the types' range wrap. */
    r = xalarm_Report((unsigned short) atoi(argv[1]), (unsigned char) atoi(argv[2]),
                      (unsigned char) atoi(argv[3]),
                      strcmp(argv[4], "-NULL-") == 0 ? NULL : argv[4]);
    printf("xalarm_Report returned %d\n", r);
    return r == 0 ? 0 : 1;
}
