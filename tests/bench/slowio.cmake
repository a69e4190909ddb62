# Slow-io detection: slowdown-to-alarm time and the io collector's CPU (tests/bench/bench_slowio.py).
add_test(NAME bench.slowio COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_slowio.py)
set_tests_properties(bench.slowio PROPERTIES LABELS bench TIMEOUT 900 RUN_SERIAL TRUE
  SKIP_RETURN_CODE 77 ENVIRONMENT "SENTRY_BUILD_DIR=${CMAKE_BINARY_DIR}")
