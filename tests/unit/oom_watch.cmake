# Unit tests of plugins/oom_watch: PSI text and triggers, memcg counters and their growth, pstore
# records and the state file, the OOM victim's fields and cgroup mounts, the alarm gate, the
# configuration.
sentry_unit_test(test_oom_watch_psi SOURCES test_oom_watch_psi.c LIBS oom_watch_core)
sentry_unit_test(test_oom_watch_memcg SOURCES test_oom_watch_memcg.c LIBS oom_watch_core)
sentry_unit_test(test_oom_watch_pstore SOURCES test_oom_watch_pstore.c LIBS oom_watch_core)
sentry_unit_test(test_oom_watch_victim_fields SOURCES test_oom_watch_victim_fields.c LIBS oom_watch_core)
sentry_unit_test(test_oom_watch_config SOURCES test_oom_watch_config.c LIBS oom_watch_core)
