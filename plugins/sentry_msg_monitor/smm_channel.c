/* smm_channel.c: what both kinds of channel share (see smm_channel.h). */
#include <unistd.h>

#include "smm_channel.h"

void smm_channel_close(struct smm_channel *c)
{
    if (c->ack_fd >= 0 && c->ack_fd != c->read_fd)
        close(c->ack_fd);
    if (c->read_fd >= 0)
        close(c->read_fd);
    c->read_fd = c->ack_fd = -1;
}
