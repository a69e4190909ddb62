# Unit tests of plugins/slow_io (libslowio): thresholds, windows, detectors, the reason table
# and the two configuration parsers.
sentry_unit_test(test_threshold SOURCES test_threshold.c LIBS slowio)
sentry_unit_test(test_sliding_window SOURCES test_sliding_window.c LIBS slowio)
sentry_unit_test(test_ai_detector SOURCES test_ai_detector.c LIBS slowio)
sentry_unit_test(test_avg_detector SOURCES test_avg_detector.c LIBS slowio)
sentry_unit_test(test_slow_reason SOURCES test_slow_reason.c LIBS slowio)
sentry_unit_test(test_avg_config SOURCES test_avg_config.c LIBS slowio)
sentry_unit_test(test_ai_config SOURCES test_ai_config.c LIBS slowio)
# The config tests also check that the shipped files parse cleanly.
target_compile_definitions(test_avg_config PRIVATE SENTRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_compile_definitions(test_ai_config PRIVATE SENTRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
