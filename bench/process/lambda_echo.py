#!/usr/bin/python3
"""lambda-echo (Python): a minimal AWS Lambda runtime client for the benchmark.

One keep-alive connection (http.client, TCP_NODELAY) to $AWS_LAMBDA_RUNTIME_API: GET
.../invocation/next, parse the event as a Python runtime would, POST .../invocation/{id}/response
with a fixed decision, forever.
"""

import http.client
import json
import os
import socket

DECISION = json.dumps({"decision": {"score": 0.5, "anomaly": False, "label": "normal",
                                    "detail": "echo"}}).encode()
PREFIX = "/2018-06-01/runtime/invocation/"


def main() -> None:
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {"Content-Type": "application/json"}
    while True:
        conn.request("GET", PREFIX + "next")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            return  # 410: the instance is stopping
        json.loads(body)
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        conn.request("POST", PREFIX + request_id + "/response", body=DECISION, headers=headers)
        conn.getresponse().read()


if __name__ == "__main__":
    try:
        main()
    except (ConnectionError, http.client.HTTPException):
        pass  # the node went away
