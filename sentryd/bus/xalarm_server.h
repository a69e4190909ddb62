/* xalarm_server.h: sysSentry's xalarm sockets, served by sentryd so that sysSentry plugins and
 * consumers work unchanged: `report` (datagrams of the fixed 8216-byte record, validated as the
 * reference does, plus the time's range) puts alarms on the bus under the task the text names
 * when the sender may claim it, else under "uid:N"; `alarm` (stream) sends the raw records to
 * each client, filtered on the server by the ids the client registered (xalarm_ids.h; sentry's
 * libxalarm sends them; a client that sends nothing gets every id of 1001..1128 and is never
 * dropped). Connection limits as the control socket's (socket_listener.h). The kernel event
 * switches follow the "event_ids" the clients register (event_switches.h): a client holds each
 * id once, and gives its ids back when it unregisters them or leaves. When sentryd stops, every
 * client gets alarm 1128 "sysSentry service is down" and leaves like any other. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "alarm_bus.h"
#include "xalarm_ids.h"

struct xalarm_server;
struct task_manager;

struct xalarm_server_params {
    sd_event *event;
    struct alarm_bus *bus;
    const struct task_manager *tasks; /* who may report under which task's name */
    const char *dir;                  /* holds `report` and `alarm` */
    const char *id_mask;  /* the reference's [filter] id_mask: which ids the report socket takes */
    unsigned max_clients; /* the reference allows 100 */
    unsigned max_clients_per_uid;
    unsigned reserved_clients; /* kept for root and sentryd's tasks (client_limits.h) */
    unsigned socket_mode;
    const char *socket_group;
    size_t queue_limit;
    int sndbuf;
    const char *kernel_switch_dir; /* the kernel module's /proc, under sentryd's root */
    const char *module_loader;     /* modprobe; NULL or "": never load the module */
};

int xalarm_server_new(const struct xalarm_server_params *p, struct xalarm_server **ret);
/* Tells every stream client that the service is going down (alarm 1128), then closes. */
struct xalarm_server *xalarm_server_free(struct xalarm_server *s);
/* Stops / resumes reading the report socket (backpressure from the store). */
void xalarm_server_pause(struct xalarm_server *s, bool paused);
unsigned xalarm_server_clients(const struct xalarm_server *s);
/* Clients subscribed to kernel event id (0 for an id that switches nothing). */
unsigned xalarm_server_event_clients(const struct xalarm_server *s, unsigned id);
