#!/usr/bin/python3
"""Hostile input against one gateway binary: issue 11, defects 1-3.

Each case starts a fresh gateway (so VmHWM is that case's peak) in front of a
fake GitLab (ThreadingHTTPServer, HTTP/1.1 keep-alive, its own process), then:
an unrelated caller (its own process) loops plain Executes on a fast route;
3 s of that give its baseline p99; then one hostile call runs (60 s deadline)
while the gateway's VmRSS is sampled every 10 ms; the caller's calls that
overlap the hostile call give its p99 and max "during"; RSS is read again 2 s
after the hostile answer.

  1     Execute with 100,000 headers (a ~2 MB message)
  2     GET answered 404 with 45,000 short headers
  3     GraphQL 200 of 30 MB: big "data", a small top-level "errors" at the end
  3b    GraphQL 200 of 30 MB whose top-level "errors" array is the 30 MB

Stubs come from the build (`cmake --build build --target python_stubs`):

  /usr/bin/python3 bench/hostile.py --gateway build/service/gitlab-gateway

Everything listens on 127.0.0.1; every wait is bounded and the whole run stops
itself after --limit seconds; child processes are killed on exit.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST_PATH = "/projects/42"
HOSTILE_DEADLINE_S = 60
CALLER_DEADLINE_S = 90  # longer than the hostile call: a stall is measured whole


def log(message):
    print(f"[hostile {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- fake GitLab (runs as `hostile.py --fake`, prints its port) -----------
def raw_answer(status, reason, body, headers=()):
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def graphql_big_data():
    items = b",".join(b'{"id":%d,"name":"item-%d"}' % (i, i) for i in range(860000))
    errors = b'[{"message":"hostile: query too complex","path":["items"]}]'
    return b'{"data":{"items":[' + items + b']},"errors":' + errors + b"}"


def graphql_big_errors():
    errors = b",".join(b'{"message":"e-%d","path":["q",%d]}' % (i, i)
                       for i in range(700000))
    return b'{"data":null,"errors":[' + errors + b"]}"


def run_fake():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    # Whole answers built once: serving them costs one write, not a Python
    # loop that would hold the GIL while the fast route waits.
    answers = {
        "/api/v4/projects/42": raw_answer(200, "OK", b'{"id":42,"name":"demo"}'),
        # 6 bytes a line: 270 KB, under libcurl's 300 KiB cap on all headers.
        "/api/v4/flood": raw_answer(
            404, "Not Found", b'{"message":"404 Not Found"}', [("X", "v")] * 45000),
        "/api/graphql?data": raw_answer(200, "OK", graphql_big_data()),
        "/api/graphql?errors": raw_answer(200, "OK", graphql_big_errors()),
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            key = self.path.split("?")[0]
            if key == "/api/graphql":
                key += "?errors" if b"errors" in body else "?data"
            self.wfile.write(answers.get(key) or raw_answer(
                404, "Not Found", b'{"message":"404 Not Found"}'))

        do_GET = do_POST = do_HEAD = answer

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # The gateway may drop a connection mid-answer (that is its cap).
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    sizes = [len(answers[f"/api/graphql?{k}"]) for k in ("data", "errors")]
    print(server.server_address[1], *sizes, flush=True)
    server.serve_forever()


# ---- the unrelated caller (runs as `hostile.py --caller PORT`) ------------
def run_caller(port):
    """Loops Executes until stdin closes; prints [[start, latency], ...]."""
    import grpc
    from gitlab.gateway.v1 import gateway_pb2, gateway_pb2_grpc

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    samples, errors = [], {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        request = gateway_pb2.Request(path=FAST_PATH)
        stub.Execute(request, timeout=10)
        print("ready", flush=True)
        while not stop.is_set():
            start = time.monotonic()
            try:
                stub.Execute(request, timeout=CALLER_DEADLINE_S)
            except grpc.RpcError as e:
                elapsed = time.monotonic() - start
                key = f"{e.code().name}/{reason_of(e) or '-'} after {elapsed:.1f} s"
                errors[key] = errors.get(key, 0) + 1
            samples.append([start, time.monotonic() - start])
    print(json.dumps({"samples": samples, "errors": errors}), flush=True)


# ---- the driver -----------------------------------------------------------
def status_of(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024.0  # MiB
    return values


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Run:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="gg-hostile-")
        sys.path.insert(0, args.stubs)
        import grpc  # noqa: F401  (fails early when the stubs are missing)
        from gitlab.gateway.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: F401

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def cleanup(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)  # the gateways' logs

    def start_fake(self):
        log("fake GitLab: building answers")
        self.fake = self.spawn([sys.executable, __file__, "--fake"], stdout=subprocess.PIPE,
                               text=True)
        # The fake prints its port once the answers exist, then their sizes.
        self.fake_port, *sizes = map(int, self.fake.stdout.readline().split())
        self.answer_bytes = dict(zip(("3", "3b"), sizes))

    def start_gateway(self):
        cmd = [self.args.gateway, "--listen", "127.0.0.1:0", "--metrics_listen", "off",
               "--gitlab_url", f"http://127.0.0.1:{self.fake_port}",
               "--rate_limit_per_minute", "0", "--retry_max_attempts", "1",
               "--shutdown_grace", "1s"]
        err = open(os.path.join(self.dir, f"gateway-{len(self.procs)}.log"), "w+")
        p = self.spawn(cmd, stderr=err, env=dict(os.environ, GITLAB_TOKEN="bench-token",
                                                      GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN="true"))
        end = time.monotonic() + 20
        while time.monotonic() < end and p.poll() is None:
            err.seek(0)
            m = re.search(r"serving gRPC on port (\d+)", err.read())
            if m:
                p.port = int(m.group(1))
                return p
            time.sleep(0.05)
        err.seek(0)
        raise RuntimeError(f"gateway did not start: {err.read()[-1000:]}")

    def hostile_request(self, case):
        from gitlab.gateway.v1 import gateway_pb2
        if case == "1":
            request = gateway_pb2.Request(path=FAST_PATH)
            for i in range(100000):
                request.headers.add(name=f"X-Pad-{i:06d}", value="v")
            return request
        if case == "2":
            return gateway_pb2.Request(path="/flood")
        query = "{ items { id name } }" if case == "3" else "{ errors }"
        return gateway_pb2.Request(api=gateway_pb2.API_GRAPHQL,
                                   text=json.dumps({"query": query}))

    def measure(self, case):
        import grpc
        from gitlab.gateway.v1 import gateway_pb2_grpc
        request = self.hostile_request(case)
        gateway = self.start_gateway()
        caller = None
        try:
            with grpc.insecure_channel(
                    f"127.0.0.1:{gateway.port}",
                    options=[("grpc.max_receive_message_length", 256 << 20),
                             ("grpc.max_send_message_length", 256 << 20)]) as channel:
                stub = gateway_pb2_grpc.GatewayStub(channel)
                for _ in range(20):  # warm: connections, allocator
                    stub.Execute(type(request)(path=FAST_PATH), timeout=10)
                caller = self.spawn([sys.executable, __file__, "--caller", str(gateway.port),
                                     "--stubs", self.args.stubs],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                if caller.stdout.readline().strip() != "ready":
                    raise RuntimeError("caller did not start")
                base0 = time.monotonic()
                time.sleep(self.args.baseline_s)
                base1 = time.monotonic()
                rss_before = status_of(gateway.pid)["VmRSS"]

                peak = [rss_before]
                sampling = threading.Event()

                def sample():
                    while not sampling.wait(0.01):
                        try:
                            peak[0] = max(peak[0], status_of(gateway.pid)["VmRSS"])
                        except (OSError, KeyError):
                            return

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                t0 = time.monotonic()
                try:
                    stub.Execute(request, timeout=HOSTILE_DEADLINE_S)
                    code, reason, message = "OK", "", ""
                except grpc.RpcError as e:
                    code, reason, message = e.code().name, reason_of(e), e.details() or ""
                t1 = time.monotonic()
                time.sleep(max(0.0, t1 + 2 - time.monotonic()))
                sampling.set()
                sampler.join()
                after = status_of(gateway.pid)
                # Closing its stdin ends the caller after its call in flight
                # (which a stalled gateway may still hold).
                out, _ = caller.communicate(timeout=CALLER_DEADLINE_S + 10)
        finally:
            if caller is not None and caller.poll() is None:
                caller.kill()
                caller.wait()
            self.stop(gateway)
        result = json.loads(out)
        samples = result["samples"]
        base = [lat for start, lat in samples if start >= base0 and start + lat <= base1]
        during = [lat for start, lat in samples if start <= t1 and start + lat >= t0]
        return {
            "case": case, "bytes": self.answer_bytes.get(case, request.ByteSize()),
            "seconds": t1 - t0, "code": code, "reason": reason, "message": message,
            "base_p99_ms": percentile(base, 0.99) * 1e3,
            "base_max_ms": max(base, default=float("nan")) * 1e3, "base_n": len(base),
            "during_p99_ms": percentile(during, 0.99) * 1e3,
            "during_max_ms": max(during, default=float("nan")) * 1e3, "during_n": len(during),
            "caller_errors": result["errors"], "rss_before": rss_before,
            "rss_peak": max(peak[0], after["VmRSS"]), "hwm": after["VmHWM"],
            "rss_after": after["VmRSS"],
        }


def reason_of(error):
    from google.rpc import error_details_pb2, status_pb2
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info.reason
    return ""


LABELS = {
    "1": "1: Execute with 100,000 headers",
    "2": "2: 404 with 45,000 headers",
    "3": "3: GraphQL 200, small `errors` after a big `data`",
    "3b": "3b: GraphQL 200, all `errors`",
}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def duration(seconds):
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def ms(milliseconds):
    return duration(milliseconds / 1e3)


def table(results):
    rows = ["| case | answer in | code / reason | caller p99 / max before "
            "| caller p99 / max during (calls) | RSS before → peak (VmHWM) → +2 s |",
            "| --- | ---: | --- | ---: | ---: | --- |"]
    for r in results:
        label = LABELS[r["case"]] + (f" ({r['bytes'] / 1e6:.1f} MB)" if r["case"] != "2" else "")
        rows.append(
            f"| {label} | {duration(r['seconds'])} | {r['code']} / {r['reason'] or '–'} "
            f"| {ms(r['base_p99_ms'])} / {ms(r['base_max_ms'])} "
            f"| {ms(r['during_p99_ms'])} / {ms(r['during_max_ms'])} ({r['during_n']}) "
            f"| {r['rss_before']:.0f} → {r['rss_peak']:.0f} ({r['hwm']:.0f}) "
            f"→ {r['rss_after']:.0f} MiB |")
    notes = ["", "Messages (first 120 characters); the caller's calls before the case, "
             "and its errors during the whole case:"]
    for r in results:
        message = r["message"].replace("|", "\\|").replace("\n", " ")[:120]
        notes.append(f"- {r['case']}: \"{message}\"; {r['base_n']} calls, "
                     f"errors {r['caller_errors'] or 'none'}")
    return "\n".join(rows + notes)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", help="gitlab-gateway binary")
    p.add_argument("--stubs", default=os.path.join(ROOT, "build/examples/python/gen"),
                   help="generated Python stubs (target python_stubs)")
    p.add_argument("--cases", default="1,2,3,3b")
    p.add_argument("--baseline_s", type=float, default=3.0)
    p.add_argument("--limit", type=int, default=900, help="whole run, seconds")
    p.add_argument("--fake", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--caller", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.fake:
        return run_fake()
    if args.caller:
        sys.path.insert(0, args.stubs)
        return run_caller(args.caller)
    if not args.gateway:
        p.error("--gateway is required")
    args.gateway = os.path.abspath(args.gateway)

    run = Run(args)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(
        TimeoutError(f"hostile: {args.limit} s limit")))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.alarm(args.limit)
    results = []
    load_before = loadavg()
    try:
        run.start_fake()
        for case in args.cases.split(","):
            log(f"case {case}")
            results.append(run.measure(case))
            log(json.dumps(results[-1]))
    finally:
        signal.alarm(0)
        run.cleanup()
    print(f"_{time.strftime('%Y-%m-%d %H:%M')}, `{args.gateway}`; load average "
          f"{load_before} before, {loadavg()} after; {os.cpu_count()} cores._\n")
    print(table(results))


if __name__ == "__main__":
    main()
