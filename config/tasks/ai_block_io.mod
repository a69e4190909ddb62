# ai_block_io: slow io detection with learned thresholds (docs/plugins/ai_block_io.md). It
# needs train_data_duration of history before it judges; start it with `sentryctl start
# ai_block_io` where learned thresholds are wanted instead of, or beside, avg_block_io.
[common]
enabled = yes
type = oneshot
onstart = no
task_start = @SENTRY_PLUGIN_DIR@/ai_block_io --config @SENTRY_SYSCONFDIR@/plugins/ai_block_io.ini
task_stop = kill $pid
heartbeat_interval = 60
alarm_id = 1002
alarm_clear_time = 5
