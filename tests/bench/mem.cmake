# mem_sentry's policy under a storm of 10 million corrected errors over 1 million pages:
# events/s against a baseline loop, memory per tracked page, resident set growth.
add_executable(bench_mem_policy bench_mem_policy.c)
target_link_libraries(bench_mem_policy PRIVATE mem_sentry_core)
add_test(NAME bench.mem_policy COMMAND bench_mem_policy)
set_tests_properties(bench.mem_policy PROPERTIES LABELS bench TIMEOUT 600 RUN_SERIAL TRUE)
# The RAS event path: mce:mce_record and ras:mc_event records under Debian 6.1's formats through
# mem_event_parse() and the policy, then the same storm of 10 million CEs through parse + policy.
add_executable(bench_mem_events bench_mem_events.c)
target_link_libraries(bench_mem_events PRIVATE mem_sentry_core)
# trace_fixture.h: the saved formats and byte-exact records, shared with the unit tests
target_include_directories(bench_mem_events PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
target_compile_definitions(bench_mem_events PRIVATE
                           SENTRY_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
add_test(NAME bench.mem_events COMMAND bench_mem_events)
set_tests_properties(bench.mem_events PROPERTIES LABELS bench TIMEOUT 600 RUN_SERIAL TRUE)
