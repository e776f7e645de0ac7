#!/usr/bin/python3
"""RSS of gitlab-gateway in issue 11's two byte-budget scenarios (defect 5).

  /usr/bin/python3 bench/budget_rss.py GATEWAY_BINARY {bodies|unread} [flags...]

bodies: one BatchExecute stream sends 16 POSTs with 40 MB bodies to an
        upstream that reads them and never answers (within the run).
unread: one stream sends 300 GETs answered with 4 MiB each and never reads.
Prints the gateway's VmRSS before the stream and its peak (sampled every
50 ms for 15 s). Requests are hand-encoded protobuf (no stubs needed); the
fake upstream is a ThreadingHTTPServer in this process. Loopback only; the
gateway is killed when the run ends, whatever happens.
"""
import http.server, os, re, socketserver, subprocess, sys, threading, time
import grpc

def field(num, data):
    out = bytes([num << 3 | 2])
    n = len(data)
    while n >= 0x80:
        out += bytes([n & 0x7f | 0x80]); n >>= 7
    return out + bytes([n]) + data

class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 20)))
        time.sleep(30)  # never answers within the measurement
    def do_GET(self):
        body = b'"' + b"a" * (4 << 20) + b'"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address): pass  # aborted transfers

def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024

def main():
    binary, scenario, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    up = Server(("127.0.0.1", 0), Upstream)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    gw = subprocess.Popen([binary, "--listen=127.0.0.1:0", "--metrics_listen=off",
                           f"--gitlab_url=http://127.0.0.1:{up.server_port}",
                           "--rate_limit_per_minute=0", "--default_timeout=60s"] + flags,
                          stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "GITLAB_TOKEN": "t",
                               "GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN": "true"})
    try:
        port = None
        for line in gw.stderr:
            m = re.search(r"gRPC on port (\d+)", line)
            if m: port = int(m.group(1)); break
        threading.Thread(target=lambda: [None for _ in gw.stderr], daemon=True).start()
        time.sleep(1)
        base = rss(gw.pid)
        ch = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_send_message_length", 64 << 20),
            ("grpc.max_receive_message_length", 64 << 20)])
        call = ch.stream_stream("/gitlab.gateway.v1.Gateway/BatchExecute")
        if scenario == "bodies":
            item = field(2, b"POST") + field(3, b"/projects") + field(6, b"x" * 40_000_000)
            items = [item] * 16
        else:
            items = [field(3, b"/projects")] * 300
        stream = call(iter(items), timeout=40)  # never read
        peak, end = base, time.time() + 15
        while time.time() < end:
            peak = max(peak, rss(gw.pid)); time.sleep(0.05)
        print(f"{scenario} {' '.join(flags) or '(defaults)'}: baseline {base} MiB, "
              f"peak {peak} MiB (+{peak - base} MiB)")
        stream.cancel()
    finally:
        gw.kill(); gw.wait(); up.shutdown()

main()
