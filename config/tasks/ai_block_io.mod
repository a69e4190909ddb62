# ai_block_io: slow io detection with learned thresholds (docs/plugins/ai_block_io.md). Until it
# has train_data_duration of history it judges by the absolute limits of the disk's type only;
# beside avg_block_io it gives a second opinion (its alarms name it as their source). Set
# onstart = no (or enabled = no) where only one of the two is wanted.
[common]
enabled = yes
type = oneshot
onstart = yes
task_start = @SENTRY_PLUGIN_DIR@/ai_block_io --config @SENTRY_SYSCONFDIR@/plugins/ai_block_io.ini
task_stop = kill $pid
heartbeat_interval = 60
alarm_id = 1002
alarm_clear_time = 5
