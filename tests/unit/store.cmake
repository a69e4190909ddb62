# Unit tests of the alarm store (sentryd/bus): its state file, damage, restarts, columns.
sentry_unit_test(test_store_state SOURCES test_store_state.c LIBS sentryd_core)
sentry_unit_test(test_alarm_store SOURCES test_alarm_store.c LIBS sentryd_core)
