# sentry-install-config-file.cmake: installs one configuration file the way a package manager
# treats a conffile. Run at install time (install(CODE) in config/CMakeLists.txt) with
#   SENTRY_CONFIG_SOURCE  the file to install
#   SENTRY_CONFIG_DIR     the absolute directory it goes to (DESTDIR is added here)
# A file that is not there yet is installed. One that is there is the operator's and is never
# overwritten: identical, it is left alone; different, the new version goes beside it as
# <name>.new and one line says so.
get_filename_component(_name "${SENTRY_CONFIG_SOURCE}" NAME)
set(_target "$ENV{DESTDIR}${SENTRY_CONFIG_DIR}/${_name}")

if(NOT EXISTS "${_target}" AND NOT IS_SYMLINK "${_target}")
  # file(INSTALL) adds DESTDIR itself and records the file in the install manifest.
  file(INSTALL DESTINATION "${SENTRY_CONFIG_DIR}" TYPE FILE FILES "${SENTRY_CONFIG_SOURCE}")
  return()
endif()

set(_same FALSE)
if(EXISTS "${_target}" AND NOT IS_DIRECTORY "${_target}")
  file(SHA256 "${SENTRY_CONFIG_SOURCE}" _new)
  file(SHA256 "${_target}" _old)
  if(_new STREQUAL _old)
    set(_same TRUE)
  endif()
endif()
if(_same)
  message(STATUS "Up-to-date: ${_target}")
  return()
endif()
file(INSTALL DESTINATION "${SENTRY_CONFIG_DIR}" TYPE FILE RENAME "${_name}.new"
     FILES "${SENTRY_CONFIG_SOURCE}")
message(NOTICE "sentry: kept your ${_target}; the new default is in ${_name}.new")
