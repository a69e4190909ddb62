/* notify_baseline: the least a notify-type daemon can do: link libsystemd, say READY=1, sleep.
 * The benchmarks measure sentryd against it in the same run. */
#include <signal.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

int main(void)
{
    sd_notify(0, "READY=1");
    for (;;)
        pause();
}
