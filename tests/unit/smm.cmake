# Unit tests of plugins/sentry_msg_monitor: the notice texts, the answer parser, the version rule.
sentry_unit_test(test_smm_notice SOURCES test_smm_notice.c LIBS smm_core)
sentry_unit_test(test_smm_answer SOURCES test_smm_answer.c LIBS smm_core)
sentry_unit_test(test_smm_version SOURCES test_smm_version.c LIBS smm_core)
# The SIGBUS search: maps lines, pagemap entries and addresses; the memid devices; who was told.
sentry_unit_test(test_smm_sigbus_maps SOURCES test_smm_sigbus_maps.c LIBS smm_core)
sentry_unit_test(test_smm_sigbus_memid SOURCES test_smm_sigbus_memid.c LIBS smm_core)
sentry_unit_test(test_smm_sigbus_text SOURCES test_smm_sigbus_text.c LIBS smm_core)
