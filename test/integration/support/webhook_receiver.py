#!/usr/bin/env python3
"""A webhook endpoint for tests: records every POST (headers and body) as a JSON line.

usage: webhook_receiver.py PORT LOG [FAIL_FIRST]
Answers 503 to the first FAIL_FIRST requests, 400 to bodies containing "reject-me", else 204."""
import json
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
            with open(log, "a") as out:
                out.write(json.dumps({"headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
