/* xalarm_server.h: sysSentry's xalarm sockets, served by sentryd so that sysSentry plugins and
 * consumers work unchanged: `report` (datagrams of the fixed 8216-byte record, validated as the
 * reference does) puts alarms on the bus; `alarm` (stream) sends the raw records to each client,
 * filtered on the server by the ids the client registered (sentry's libxalarm sends them; a
 * client that sends nothing gets every id of 1001..1128 and is never dropped). When sentryd
 * stops, every client gets alarm 1128 "sysSentry service is down". */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "alarm_bus.h"

struct xalarm_server;

struct xalarm_server_params {
    sd_event *event;
    struct alarm_bus *bus;
    const char *dir;      /* holds `report` and `alarm` */
    const char *id_mask;  /* the reference's [filter] id_mask: which ids the report socket takes */
    unsigned max_clients; /* the reference allows 100 */
    unsigned socket_mode;
    const char *socket_group;
    size_t queue_limit;
    int sndbuf;
};

int xalarm_server_new(const struct xalarm_server_params *p, struct xalarm_server **ret);
/* Tells every stream client that the service is going down (alarm 1128), then closes. */
struct xalarm_server *xalarm_server_free(struct xalarm_server *s);
/* Stops / resumes reading the report socket (backpressure from the store). */
void xalarm_server_pause(struct xalarm_server *s, bool paused);
unsigned xalarm_server_clients(const struct xalarm_server *s);

/* Parses the reference's id_mask ("1001-1128", "1001,1003-1005") into a 128-entry mask, with
 * its rules and messages ("invalid alarm id X, ignored"). All invalid: everything passes (the
 * reference then drops everything). Returns the number of valid items; messages are logged. */
int xalarm_id_mask_parse(const char *spec, bool mask[128]);
