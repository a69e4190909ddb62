# Unit tests of sentryctl: its sources are compiled in (sentryctl is a program, not a library).
sentry_unit_test(test_ctl_number SOURCES test_ctl_number.c ${PROJECT_SOURCE_DIR}/sentryctl/ctl_number.c
                 LIBS sentry_common)
target_include_directories(test_ctl_number PRIVATE ${PROJECT_SOURCE_DIR}/sentryctl)
