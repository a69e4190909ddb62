/* errno_name.h: errno values as their symbolic names ("EPERM"), the error codes of the native
 * protocol. */
#pragma once

/* "EPERM" for EPERM or -EPERM; "EIO" for unknown values. */
const char *errno_to_name(int e);
/* The positive errno for a name, or 0 when unknown. */
int errno_from_name(const char *name);
