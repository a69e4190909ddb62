# example.mod: a documented task file (docs/tasks.md). Disabled: copy it to write your own.
# The file name (example) is the task name: 1-251 characters of A-Z a-z 0-9 _.
[common]
# yes or no (required). A disabled task is hidden from `sentryctl list` (see --all).
enabled = no
# oneshot (runs once per start) or period (runs every interval seconds) (required)
type = period
# The checker. Split into words like a shell would, never run through a shell (required).
task_start = /bin/sh -c "echo example check"
# How to stop it; $pid is the task's process id (required).
task_stop = kill $pid
# Seconds between starts of a period task.
interval = 60
# Start with sentryd (period tasks default to yes, oneshot tasks to no).
onstart = yes
# Seconds within which a running task must send a heartbeat, else it is failed and stopped.
#heartbeat_interval = 30
# Commands (';'-separated) run before the first start and after the task stops for good.
#task_pre = /usr/sbin/modprobe some_module
#task_post = /usr/sbin/modprobe -r some_module
# KEY=VALUE lines added to the task's environment.
#env_file = /etc/sysconfig/example.env
# When a process running task_start already exists: up (start anyway), down (refuse), kill.
#conflict = up
# Alarm id (1001-1128) the task reports, and seconds its alarms stay in get_alarm history.
#alarm_id = 1002
#alarm_clear_time = 15
# sentry's own keys: run as this user, limit one run to N seconds, SIGKILL N s after a stop.
#user = nobody
#timeout = 0
#stop_timeout = 10
