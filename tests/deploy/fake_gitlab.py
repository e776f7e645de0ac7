#!/usr/bin/python3
"""A minimal stand-in for GitLab on loopback, for the image smoke test and the
RSS measurements (the programmable fake in tests/support is a C++ class, not a
server you can start from a shell).

  GET /api/v4/version  -> {"version": "16.11.0-fake", "revision": "fake"}
  GET /api/v4/sized/<D>ms/<K>kb -> after D ms, a JSON object of about K KiB
  any other GET        -> after --delay-ms, a JSON object of about --body-kb KiB
The delay keeps the gateway's in-flight slots busy under load; the sized path
lets one fake serve several load shapes. Prints "listening on <port>" once
bound; exits after --max-seconds whatever happens, so a forgotten fake never
lingers. Loopback addresses only.
"""
import argparse
import http.server
import json
import re
import socketserver
import sys
import threading
import time

SIZED = re.compile(r"^/api/v4/sized/(\d+)ms/(\d+)kb$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--body-kb", type=int, default=1)
    ap.add_argument("--max-seconds", type=int, default=600)
    # Off by default: the gateway paces itself to GitLab's advertised limit,
    # which would cap a load test at that rate.
    ap.add_argument("--ratelimit-limit", type=int, default=0,
                    help="send RateLimit-Limit/-Remaining headers (per minute)")
    ap.add_argument("--log", action="store_true",
                    help="one line per request on stdout: method, path, "
                         "whether a PRIVATE-TOKEN header came (never its value)")
    args = ap.parse_args()
    if not args.host.startswith("127.") and args.host not in ("::1", "localhost"):
        sys.exit("fake_gitlab: loopback addresses only")

    padding = "x" * max(0, args.body_kb * 1024 - 64)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as GitLab does

        def log_message(self, *unused):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            if args.log:
                print("%s %s private-token=%s" % (
                    self.command, path,
                    "present" if self.headers.get("PRIVATE-TOKEN") else "absent"),
                    flush=True)
            delay_ms, pad = args.delay_ms, padding
            sized = SIZED.match(path)
            if sized:
                delay_ms = int(sized.group(1))
                pad = "x" * max(0, int(sized.group(2)) * 1024 - 64)
            if delay_ms:
                time.sleep(delay_ms / 1000.0)
            if path == "/api/v4/version":
                body = {"version": "16.11.0-fake", "revision": "fake"}
            else:
                body = {"path": path, "padding": pad}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if args.ratelimit_limit:
                self.send_header("RateLimit-Limit", str(args.ratelimit_limit))
                self.send_header("RateLimit-Remaining", str(args.ratelimit_limit - 1))
            self.end_headers()
            self.wfile.write(data)

        do_HEAD = do_GET

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 1024
        allow_reuse_address = True

    server = Server((args.host, args.port), Handler)
    print("listening on %d" % server.server_address[1], flush=True)
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
