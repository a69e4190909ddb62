# Unit tests of the kernel module's switches: the event switches that follow xalarm
# subscribers, and the options of `sentryctl set` (one table, read by sentryd and sentryctl).
sentry_unit_test(test_event_switches SOURCES test_event_switches.c LIBS sentryd_core)
sentry_unit_test(test_set_options SOURCES test_set_options.c LIBS sentryd_core)
