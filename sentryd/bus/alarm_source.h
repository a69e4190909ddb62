/* alarm_source.h: who may put alarms on the bus under a task's name. The source of an alarm
 * names the task it comes from; consumers (get_alarm, the reference's plugins) trust it, so a
 * reporter may claim it only if it is root or the user the task runs as (`user=` in its .mod).
 * One rule for every way in: the native `report` verb and the xalarm report socket, where a
 * sender that may not claim the name its text gives is stored as "uid:<uid>". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct task_manager;

/* May uid report alarms for source (a task name)? Root may for any; another uid only for a task
 * that runs as that uid. */
bool alarm_source_may_claim(const struct task_manager *tasks, uid_t uid, const char *source);

/* The source that names the sender itself: "uid:<uid>". Returns buf. */
const char *alarm_source_of_uid(char *buf, size_t size, uid_t uid);
