/* smm_answer.h: an answer alarm (1004, 1006, 1008, 1010) read back into the record that goes to
 * the kernel with SMH_MSG_ACK. The formats are the reference's:
 *
 *   1004, 1006  "MSGID_RES"                       (power off, OOM)
 *   1008, 1010  "MSGID_{cna:CNA,eid:EID}_RES"     (panic, kernel reboot)
 *
 * and the whole text must be one of them. Texts come from any xalarm reporter, so the parser is
 * strict where sscanf is not: decimal digits only (no sign, blank or "0x"), each number within
 * its type, EID up to 39 bytes of anything but '}' and control characters. A pure function. */
#pragma once

#include <stddef.h>

#include "sentry_msg_helper.h"

/* Fills *ret (zeroed first: type, msgid, res, and cna / eid for 1008 and 1010) from the answer
 * alarm id with text[0..len). 0 on success; -EINVAL with *ret_reason (a constant string saying
 * what is wrong) otherwise; ret untouched then. */
int smm_answer_parse(unsigned id, const char *text, size_t len, struct sentry_msg_helper_msg *ret,
                     const char **ret_reason);
