/* plugin_args.h: the command line every plugin takes: -c/--config FILE, -h/--help, -V/--version. */
#pragma once

/* about: what the plugin does, for --help (between the usage line and the options). Returns the
 * configuration's path (default <confdir>/plugins/<name>.ini; static storage), or NULL with
 * *exit_code set: 0 after --help or --version, 2 for bad usage (said on stderr). */
const char *plugin_parse_args(const char *name, const char *about, int argc, char **argv,
                              int *exit_code);
