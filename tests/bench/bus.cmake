# The alarm bus under load (native and xalarm paths), against a relay without storage.
add_test(NAME bench.bus COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bus_bench.py)
set_tests_properties(bench.bus PROPERTIES LABELS bench TIMEOUT 1800 RUN_SERIAL TRUE
  ENVIRONMENT "SENTRY_BUILD_DIR=${CMAKE_BINARY_DIR}")
