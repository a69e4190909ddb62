[common]
enabled = yes
task_start = /bin/echo hello
task_stop = kill $pid
type = period
interval = 10
onstart = no
heartbeat_interval = 60
env_file = /etc/sentry/env
conflict = down
alarm_id = 1002
alarm_clear_time = 5
task_pre = /bin/true; /bin/true
user = nobody
