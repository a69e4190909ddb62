# Unit tests of lib/common.
sentry_unit_test(test_split_words SOURCES test_split_words.c LIBS sentry_common)
sentry_unit_test(test_parse_number SOURCES test_parse_number.c LIBS sentry_common)
sentry_unit_test(test_line_buffer SOURCES test_line_buffer.c LIBS sentry_common)
sentry_unit_test(test_ini_file SOURCES test_ini_file.c LIBS sentry_common)
sentry_unit_test(test_alarm_vocab SOURCES test_alarm_vocab.c LIBS sentry_common)
sentry_unit_test(test_terminal_escape SOURCES test_terminal_escape.c LIBS sentry_common)
