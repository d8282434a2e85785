#!/usr/bin/env python3
"""A webhook endpoint for tests: records every POST (headers and body) as a JSON line.

usage: webhook_receiver.py PORT LOG [FAIL_FIRST [CERT KEY CA]]
Answers 503 to the first FAIL_FIRST requests, 400 to bodies containing "reject-me", else 204.
With CERT KEY CA it serves TLS 1.3 only and requires a client certificate signed by CA; the
client's certificate subject is recorded with each request."""
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log, fail_first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0
seen = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global seen
        seen += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if seen <= fail_first:
            status = 503
        elif "reject-me" in body:
            status = 400
        else:
            status = 204
            peer = self.connection.getpeercert() if tls else None
            with open(log, "a") as out:
                out.write(json.dumps({"headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body,
                                      "peer": peer.get("subjectAltName") if peer else None})
                          + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


tls = len(sys.argv) > 6
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
if tls:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(sys.argv[4], sys.argv[5])
    context.load_verify_locations(sys.argv[6])
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
