# oom_watch: OOM early warning and panics of earlier boots without sentry's kernel module
# (docs/plugins/oom_watch.md): PSI triggers and memory cgroup counters raise alarm 1017 before
# an OOM kill, OOM kills raise 1018, panics and oopses kept in pstore raise 1019 (once each).
# A source this kernel lacks is off alone, and the task result says which are on.
[common]
enabled = yes
type = oneshot
onstart = yes
task_start = @SENTRY_PLUGIN_DIR@/oom_watch --config @SENTRY_SYSCONFDIR@/plugins/oom_watch.ini
task_stop = kill $pid
heartbeat_interval = 60
alarm_id = 1017
alarm_clear_time = 60
