# sentry-install-group.cmake: creates the system group whose members may use sentryd's sockets,
# at install time (install(CODE) in config/CMakeLists.txt) with
#   SENTRY_GROUP           the group name
#   SENTRY_SYSUSERS_FILE   the installed sysusers.d file that declares it
# Only for a real installation by root: with DESTDIR (a package or an image being built) or as
# an ordinary user nothing is created, and one line says what to run on the target instead.
# systemd-sysusers is used where present (it also works without systemd running), else
# groupadd --system. No shell runs; every command gets its arguments as a list.
set(_how "systemd-sysusers ${SENTRY_SYSUSERS_FILE}, or groupadd --system ${SENTRY_GROUP}")

if(NOT "$ENV{DESTDIR}" STREQUAL "")
  message(NOTICE "sentry: DESTDIR is set, so the system group '${SENTRY_GROUP}' is not created; "
                 "on the target run: ${_how}")
  return()
endif()
execute_process(COMMAND id -u OUTPUT_VARIABLE _uid OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE _rc ERROR_QUIET)
if(NOT _rc EQUAL 0 OR NOT _uid STREQUAL "0")
  message(NOTICE "sentry: not root, so the system group '${SENTRY_GROUP}' is not created; "
                 "as root run: ${_how}")
  return()
endif()

find_program(_getent getent)
if(_getent)
  execute_process(COMMAND "${_getent}" group "${SENTRY_GROUP}" RESULT_VARIABLE _rc OUTPUT_QUIET
                  ERROR_QUIET)
  if(_rc EQUAL 0)
    message(STATUS "sentry: the system group '${SENTRY_GROUP}' exists")
    return()
  endif()
endif()

find_program(_sysusers systemd-sysusers PATHS /usr/bin /bin /usr/sbin /sbin)
find_program(_groupadd groupadd PATHS /usr/sbin /sbin /usr/bin /bin)
if(_sysusers AND EXISTS "${SENTRY_SYSUSERS_FILE}")
  execute_process(COMMAND "${_sysusers}" "${SENTRY_SYSUSERS_FILE}" RESULT_VARIABLE _rc)
elseif(_groupadd)
  execute_process(COMMAND "${_groupadd}" --system "${SENTRY_GROUP}" RESULT_VARIABLE _rc)
  if(_rc EQUAL 9) # groupadd: the group exists already
    set(_rc 0)
  endif()
else()
  set(_rc "neither systemd-sysusers nor groupadd found")
endif()
if(NOT _rc EQUAL 0)
  message(WARNING "sentry: cannot create the system group '${SENTRY_GROUP}' (${_rc}); "
                  "sentryd's sockets stay root-only until it exists: ${_how}")
else()
  message(NOTICE "sentry: created the system group '${SENTRY_GROUP}'; its members may use "
                 "sentryctl without root (usermod -aG ${SENTRY_GROUP} USER, then restart sentryd)")
endif()
