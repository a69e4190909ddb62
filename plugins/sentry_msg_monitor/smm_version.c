/* smm_version.c: see smm_version.h. */
#include "smm_version.h"

enum smm_version_verdict smm_version_judge(int r, const struct smh_version_info *v)
{
    if (r < 0)
        return SMM_VERSION_UNKNOWN;
    if (v->major != SMH_VERSION_MAJOR)
        return SMM_VERSION_INCOMPATIBLE;
    if (v->minor != SMH_VERSION_MINOR)
        return SMM_VERSION_OTHER_MINOR;
    return SMM_VERSION_OK;
}
