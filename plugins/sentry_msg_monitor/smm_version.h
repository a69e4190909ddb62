/* smm_version.h: what the reader makes of the device's SMH_VERSION_CHECK answer. The record
 * layout is fixed by the major version; a minor version only adds kinds of notice. */
#pragma once

#include "sentry_msg_helper.h"

enum smm_version_verdict {
    SMM_VERSION_OK,           /* major and minor as built */
    SMM_VERSION_OTHER_MINOR,  /* same layout, other kinds of notice: warn, go on */
    SMM_VERSION_UNKNOWN,      /* the ioctl failed: warn, go on (the reference's rule) */
    SMM_VERSION_INCOMPATIBLE, /* another major: refuse to start */
};

/* r: the ioctl's result (0 or -errno), v: what it returned when r is 0. */
enum smm_version_verdict smm_version_judge(int r, const struct smh_version_info *v);
