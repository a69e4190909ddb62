#!/usr/bin/env python3
"""A minimal alarm consumer in Python, standard library only, speaking sentry's NDJSON protocol.

    ./consumer.py [IDS] [SINCE]        e.g. ./consumer.py 1001-1010 0

Prints every alarm as it arrives; pass the last seq printed as SINCE to resume without gap or
duplicate.
"""
import json
import os
import socket
import sys

path = os.environ.get("SENTRY_SOCKET", "/run/sentry/sentryd.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
stream = sock.makefile("rw", encoding="utf-8")

request = {"id": 1, "verb": "subscribe"}
if len(sys.argv) > 1:
    request["ids"] = sys.argv[1]
if len(sys.argv) > 2:
    request["since"] = int(sys.argv[2])
stream.write(json.dumps(request) + "\n")
stream.flush()

for line in stream:
    msg = json.loads(line)
    if msg.get("id") == 1:  # the answer to subscribe
        if not msg["ok"]:
            sys.exit("subscribe refused: %s" % msg["error"]["message"])
        continue
    a = msg["alarm"]
    print("seq %d id %d %s %s source %s key %s text %s" % (
        msg["seq"], a["id"], a["level"], a["type"], a["source"], a["key"], a["text"]), flush=True)
