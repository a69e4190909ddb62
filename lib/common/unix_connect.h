/* unix_connect.h: a connected AF_UNIX stream socket to a path. */
#pragma once

/* *ret_fd (O_CLOEXEC) connected to path; -ENAMETOOLONG when path does not fit sun_path, or the
 * -errno of socket() / connect(). */
int unix_connect(const char *path, int *ret_fd);
