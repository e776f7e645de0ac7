"""gitlab-gateway benchmarks, measured against references in the same run.

Starts on loopback only: a fake GitLab (nginx: HTTP/1.1 keep-alive and HTTP/2
over TLS with a self-signed certificate), nginx as a reverse proxy in front of
it, a delaying and a stalling upstream (gg_delay_server), and the gateway.
Drives them with wrk, gg_curl_direct, the httpx clients and gg_loadgen, reads
CPU from /proc/<pid>/stat (utime+stime) and RSS from /proc/<pid>/status,
prints the tables and writes them into bench/README.md between the markers.

Every step has its own time limit; the whole run takes about three minutes
and stops by itself. Run it through bench/run.sh (installs, builds) or:

  /usr/bin/python3 bench/run.py --gateway build/service/gitlab-gateway \
      --tools build-bench/bench
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TICK = os.sysconf("SC_CLK_TCK")
PROJECT_PATH = "/projects/42"

# Targets from issue 8: (key, label, limit, unit).
TARGETS = [
    ("cpu_execute_floor_ratio", "CPU per Execute / floor (bare gRPC Execute + direct curl-multi "
     "request)", 1.25, "x"),
    ("cpu_batch_floor_ratio", "CPU per BatchExecute item / floor (bare gRPC stream message + "
     "direct curl-multi request)", 1.25, "x"),
    ("ctx_per_execute", "context switches per Execute (perf stat, gateway process)", 0.5, ""),
    ("futex_per_execute", "futex calls per Execute (perf stat, gateway process)", 0.5, ""),
    ("cpu_execute_ratio", "CPU per Execute / nginx CPU per proxied request", 2.0, "x"),
    ("cpu_batch_ratio", "CPU per BatchExecute item / nginx CPU per proxied request", 1.5, "x"),
    ("fanout_ratio", "fan-out wall time / ideal (2,000 items, 20 ms, 100 at once)", 1.05, "x"),
    ("rss_idle_mb", "idle RSS", 30.0, "MB"),
    ("rss_hold_delta_mb", "RSS added with 10,000 calls in flight (stalled upstream)", 100.0, "MB"),
]


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def median_run(runs, key):
    """The run whose `key` is the median (the upper one of an even count)."""
    return dict(sorted(runs, key=lambda x: x.get(key, 0.0))[len(runs) // 2])


def fmt_list(values):
    return "/".join(f"{v:.0f}" for v in values)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def kv(line):
    return {k: float(v) if re.fullmatch(r"-?[0-9.]+", v) else v
            for k, v in re.findall(r"(\w+)=(\S+)", line)}


class PerfCounts:
    """`perf stat` on a running process (all its threads) while `fn` runs:
    context switches and futex system calls. Empty when perf is missing or
    not permitted (the report then shows n/a)."""
    EVENTS = ("context-switches", "syscalls:sys_enter_futex")

    def __init__(self, pid):
        self.pid, self.proc, self.counts = pid, None, {}
        if shutil.which("perf"):
            self.proc = subprocess.Popen(
                ["perf", "stat", "-x", ",", "-e", ",".join(self.EVENTS), "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)  # attached before the load starts

    def stop(self):
        if self.proc is None:
            return self.counts
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.counts
        for line in err.splitlines():
            fields = line.split(",")
            if len(fields) >= 3 and fields[2] in self.EVENTS:
                try:
                    self.counts[fields[2]] = float(fields[0])
                except ValueError:
                    pass
        return self.counts


class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="gg-bench-")
        os.chmod(self.dir, 0o755)  # nginx workers run as nobody when root
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.results = {}
        self.pin = (os.cpu_count() or 1) >= 2 and not args.no_pin and shutil.which("taskset")

    # ---- processes -------------------------------------------------------
    def cpu_prefix(self, role):
        """The proxy under test gets core 0; load and upstreams core 1."""
        if not self.pin:
            return []
        return ["taskset", "-c", "0" if role == "sut" else "1"]

    def spawn(self, cmd, role="load", **kw):
        p = subprocess.Popen(self.cpu_prefix(role) + cmd, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def run(self, cmd, timeout, role="load"):
        out = subprocess.run(self.cpu_prefix(role) + cmd, capture_output=True,
                             text=True, timeout=timeout)
        if out.returncode != 0:
            log(f"{os.path.basename(cmd[0])} exited {out.returncode}: "
                f"{out.stderr.strip()[-400:]}")
        return out.stdout

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                self.stop(p, timeout=5)
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- fixtures --------------------------------------------------------
    def start_upstreams(self):
        d = self.dir
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{d}/key.pem",
             "-out", f"{d}/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=30)
        os.chmod(f"{d}/key.pem", 0o644)
        self.cert = f"{d}/cert.pem"
        self.ports = {k: free_port() for k in
                      ("H1_PORT", "TLS_PORT", "H1_PROXY_PORT", "TLS_PROXY_PORT")}
        subst = dict(self.ports, DIR=d, FIXTURES=os.path.join(BENCH, "fixtures"))
        for name in ("fake-gitlab", "proxy"):
            with open(os.path.join(BENCH, "fixtures", f"{name}.conf.in")) as f:
                text = f.read()
            for key, value in subst.items():
                text = text.replace(f"@{key}@", str(value))
            with open(f"{d}/{name}.conf", "w") as f:
                f.write(text)
        self.fake = self.spawn(["nginx", "-p", d, "-c", f"{d}/fake-gitlab.conf"],
                               role="load")
        self.proxy = self.spawn(["nginx", "-p", d, "-c", f"{d}/proxy.conf"], role="sut")
        for port in self.ports.values():
            wait_port(port)
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proxy.pid)],
                             capture_output=True, text=True).stdout.split()
        if len(out) != 1:
            raise RuntimeError(f"expected one proxy worker, found {out}")
        self.proxy_worker = int(out[0])
        self.delay = self.start_delay_server(20)
        self.stall = self.start_delay_server(-1)

    def start_delay_server(self, delay_ms):
        p = self.spawn([os.path.join(self.args.tools, "gg_delay_server"), "--port", "0",
                        "--delay_ms", str(delay_ms), "--body",
                        os.path.join(BENCH, "fixtures", "project.json")],
                       stdout=subprocess.PIPE, text=True)
        port = int(p.stdout.readline().split()[1])
        return port

    def start_bare_server(self):
        p = self.spawn([os.path.join(self.args.tools, "gg_bare_server"), "--port", "0",
                        "--body", os.path.join(BENCH, "fixtures", "project.json")],
                       role="sut", stdout=subprocess.PIPE, text=True)
        p.grpc_port = int(p.stdout.readline().split()[1])
        return p

    def upstream(self, mode):
        """(base URL for the gateway, full URL for direct clients, proxy URL)."""
        if mode == "h1":
            base = f"http://127.0.0.1:{self.ports['H1_PORT']}"
            proxy = f"http://127.0.0.1:{self.ports['H1_PROXY_PORT']}"
        else:
            base = f"https://127.0.0.1:{self.ports['TLS_PORT']}"
            proxy = f"http://127.0.0.1:{self.ports['TLS_PROXY_PORT']}"
        return base, base + "/api/v4" + PROJECT_PATH, proxy + "/api/v4" + PROJECT_PATH

    def gateway_flags(self):
        """Flags that keep the gateway's own policies out of the measurement:
        the per-credential rate limit (GitLab.com's 2,000/min by default)
        would otherwise be what the benchmark measures."""
        if not hasattr(self, "_gateway_flags"):
            helpfull = subprocess.run([self.args.gateway, "--helpfull"], capture_output=True,
                                      text=True, timeout=30)
            text = helpfull.stdout + helpfull.stderr
            self._gateway_flags = []
            if "--rate_limit_per_minute" in text:
                self._gateway_flags += ["--rate_limit_per_minute", "0"]
        return self._gateway_flags

    def start_gateway(self, base_url, *extra):
        cmd = [self.args.gateway, "--listen", "127.0.0.1:0",
               "--metrics_listen", "127.0.0.1:0", "--gitlab_url", base_url,
               "--ca_file", self.cert, *self.gateway_flags(), *extra]
        env = dict(os.environ, GITLAB_TOKEN="bench-token",
                   GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN="true")
        log_path = os.path.join(self.dir, f"gateway-{len(self.procs)}.log")
        err = open(log_path, "w+")
        p = self.spawn(cmd, role="sut", stderr=err, env=env)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            err.seek(0)
            m = re.search(r"serving gRPC on port (\d+), metrics on port (\d+)", err.read())
            if m:
                p.grpc_port, p.metrics_port = int(m.group(1)), int(m.group(2))
                p.log_path = log_path
                return p
            if p.poll() is not None:
                break
            time.sleep(0.05)
        err.seek(0)
        raise RuntimeError(f"gateway did not start: {err.read()[-1000:]}")

    def metrics(self, gateway):
        url = f"http://127.0.0.1:{gateway.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
        values = {}
        for name in ("gitlab_gateway_upstream_in_flight", "gitlab_gateway_upstream_queue_depth"):
            m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
            values[name] = float(m.group(1)) if m else 0.0
        return values

    # ---- drivers ---------------------------------------------------------
    def loadgen(self, target_port, *args, timeout=120):
        out = self.run([os.path.join(self.args.tools, "gg_loadgen"), "--target",
                        f"127.0.0.1:{target_port}", *args], timeout)
        result = {}
        for line in out.splitlines():
            result.update(kv(line))
        return result

    def direct(self, url, *args):
        out = self.run([os.path.join(self.args.tools, "gg_curl_direct"), "--url", url,
                        "--cacert", self.cert, *args], 120)
        return kv(out)

    def wrk(self, url, connections, seconds):
        out = self.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                        url], seconds + 30)
        units = {"us": 1.0, "ms": 1e3, "s": 1e6}
        result = {"requests": 0.0, "rps": 0.0, "errors": 0.0}
        for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M):
            result[f"p{pct}_us"] = float(value) * units[unit]
        m = re.search(r"(\d+) requests in", out)
        if m:
            result["requests"] = float(m.group(1))
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        if m:
            result["rps"] = float(m.group(1))
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if m:
            result["errors"] = float(m.group(1))
        return result

    def httpx(self, url, mode, h2, concurrency, seconds, requests=0):
        cmd = ["/usr/bin/python3", os.path.join(BENCH, "httpx_client.py"), "--url", url,
               "--mode", mode, "--concurrency", str(concurrency), "--seconds",
               str(seconds), "--requests", str(requests), "--cacert", self.cert]
        if h2:
            cmd.append("--http2")
        return kv(self.run(cmd, seconds + 60))

    # ---- benchmarks ------------------------------------------------------
    def measure_mode(self, mode):
        a, r = self.args, {}
        base, url, proxy_url = self.upstream(mode)
        h2 = mode == "h2tls"
        n_lat, secs, conc = a.latency_requests, a.seconds, a.concurrency

        log(f"{mode}: direct curl-multi client")
        r["direct_lat"] = self.direct(url, "--concurrency", "1", "--requests", str(n_lat),
                                      "--seconds", "20")
        r["direct"] = self.direct(url, "--concurrency", str(conc), "--seconds", str(secs))

        log(f"{mode}: nginx reverse proxy (wrk) and gateway (gg_loadgen), "
            f"{a.rounds} interleaved rounds")
        self.wrk(proxy_url, conc, 1)  # warm the upstream keep-alive pool
        r["nginx_lat"] = self.wrk(proxy_url, 1, a.latency_seconds)
        gw = self.start_gateway(base)
        time.sleep(1.0)
        r["gw_rss_idle_mb"] = rss_mb(gw.pid)
        self.loadgen(gw.grpc_port, "--mode", "unary", "--concurrency", "8", "--seconds", "1")
        r["gw_lat"] = self.loadgen(gw.grpc_port, "--mode", "unary", "--concurrency", "1",
                                   "--requests", str(n_lat), "--seconds", "20")
        bare = self.start_bare_server()
        self.loadgen(bare.grpc_port, "--mode", "unary", "--concurrency", "8", "--seconds", "1")
        rounds = {"nginx": [], "gw": [], "gw_batch": [], "bare": [], "bare_batch": []}
        unary = ["--mode", "unary", "--concurrency", str(conc), "--seconds", str(secs),
                 "--channels", str(a.channels)]
        batch = ["--mode", "batch", "--streams", str(a.batch_streams), "--items",
                 str(a.batch_items)]

        def measured(server, args, perf_key=None):
            """One loadgen run against `server`, with its CPU seconds (and, when
            `perf_key` is given, perf stat counts stored under it)."""
            perf = PerfCounts(server.pid) if perf_key else None
            before = cpu_seconds(server.pid)
            x = self.loadgen(server.grpc_port, *args)
            x["cpu_s"] = cpu_seconds(server.pid) - before
            if perf is not None:
                r[perf_key] = dict(perf.stop(), requests=x.get("requests", 0))
            return x

        for i in range(a.rounds):
            before = cpu_seconds(self.proxy_worker)
            x = self.wrk(proxy_url, conc, secs)
            x["cpu_s"] = cpu_seconds(self.proxy_worker) - before
            x["seconds"] = float(secs)
            rounds["nginx"].append(x)
            first = i == 0  # perf stat in the first round only
            rounds["gw"].append(measured(gw, unary, "gw_perf" if first else None))
            rounds["bare"].append(measured(bare, unary, "bare_perf" if first else None))
            rounds["bare_batch"].append(measured(bare, batch))
            rounds["gw_batch"].append(measured(gw, batch))
        for key, runs in rounds.items():
            for x in runs:
                x["cpu_us_per_req"] = x["cpu_s"] * 1e6 / max(1.0, x.get("requests", 0))
                x["core_util"] = x["cpu_s"] / max(1e-9, x.get("seconds", secs))
            r[key] = median_run(runs, "cpu_us_per_req")
            r[key]["cpu_rounds"] = [x["cpu_us_per_req"] for x in runs]
        r["gw_rss_loaded_mb"] = rss_mb(gw.pid)
        r["gw_exit"] = self.stop(gw)
        self.stop(bare)

        log(f"{mode}: httpx references")
        hs = a.httpx_seconds
        r["httpx_per_lat"] = self.httpx(url, "per_request", h2, 1, hs, a.httpx_latency_requests)
        r["httpx_per"] = self.httpx(url, "per_request", h2, conc, hs)
        r["httpx_shared_lat"] = self.httpx(url, "shared", h2, 1, hs, a.httpx_latency_requests)
        r["httpx_shared"] = self.httpx(url, "shared", h2, conc, hs)
        self.results[mode] = r

    def measure_fanout(self):
        log("fan-out: 2,000 BatchExecute items, upstream delay 20 ms, 100 at once")
        base = f"http://127.0.0.1:{self.delay}"
        gw = self.start_gateway(base, "--max_in_flight", "100")
        # The first batch opens the 100 upstream connections.
        self.loadgen(gw.grpc_port, "--mode", "batch", "--items", "200")
        runs = [self.loadgen(gw.grpc_port, "--mode", "batch", "--items", "2000")
                for _ in range(self.args.fanout_runs)]
        self.stop(gw)
        walls = sorted(x.get("wall_ms", 0.0) for x in runs)
        url = base + "/api/v4" + PROJECT_PATH
        direct = self.direct(url, "--concurrency", "100", "--requests", "2000",
                             "--seconds", "30", "--warmup", "200")
        # The harness floor: wrk's lean closed loop, 100 connections on the
        # same delaying upstream; 2,000 requests at its rate.
        floor = self.wrk(url, 100, 3)
        self.results["fanout"] = {
            "wall_ms": walls[len(walls) // 2], "walls": walls, "errors": sum(
                x.get("errors", 1) for x in runs),
            "direct_wall_ms": direct.get("seconds", 0) * 1e3,
            "floor_ms": 2000 / floor["rps"] * 1e3 if floor.get("rps") else float("nan")}

    def measure_hold(self):
        calls = self.args.hold_calls
        log(f"memory: {calls} calls in flight to a stalled upstream")
        gw = self.start_gateway(f"http://127.0.0.1:{self.stall}", "--default_timeout", "120s")
        time.sleep(1.0)
        idle = rss_mb(gw.pid)
        lg = self.spawn([os.path.join(self.args.tools, "gg_loadgen"), "--target",
                         f"127.0.0.1:{gw.grpc_port}", "--mode", "hold", "--calls", str(calls),
                         "--hold_seconds", str(self.args.hold_seconds)],
                        stdout=subprocess.PIPE, text=True)
        peak, seen, end = idle, 0.0, time.monotonic() + self.args.hold_seconds + 30
        while lg.poll() is None and time.monotonic() < end:
            peak = max(peak, rss_mb(gw.pid))
            try:
                m = self.metrics(gw)
                seen = max(seen, m["gitlab_gateway_upstream_in_flight"] +
                           m["gitlab_gateway_upstream_queue_depth"])
            except OSError:
                pass
            time.sleep(0.1)
        out, _ = lg.communicate(timeout=30)
        time.sleep(1.0)
        after = rss_mb(gw.pid)
        self.stop(gw)
        # The floor: a bare gRPC server holding the same calls (no gateway code).
        bare = self.spawn([os.path.join(self.args.tools, "gg_bare_server"), "--port", "0",
                           "--hold", "1", "--body",
                           os.path.join(BENCH, "fixtures", "project.json")],
                          role="sut", stdout=subprocess.PIPE, text=True)
        bare_port = int(bare.stdout.readline().split()[1])
        time.sleep(1.0)
        bare_idle = rss_mb(bare.pid)
        lg = self.spawn([os.path.join(self.args.tools, "gg_loadgen"), "--target",
                         f"127.0.0.1:{bare_port}", "--mode", "hold", "--calls", str(calls),
                         "--hold_seconds", str(self.args.hold_seconds)],
                        stdout=subprocess.PIPE, text=True)
        bare_peak, end = bare_idle, time.monotonic() + self.args.hold_seconds + 30
        while lg.poll() is None and time.monotonic() < end:
            bare_peak = max(bare_peak, rss_mb(bare.pid))
            time.sleep(0.1)
        lg.communicate(timeout=30)
        self.stop(bare)
        self.results["hold"] = {"idle_mb": idle, "peak_mb": peak, "after_mb": after,
                                "in_flight_seen": seen, "loadgen": out.strip(),
                                "bare_idle_mb": bare_idle, "bare_peak_mb": bare_peak}

    # ---- report ----------------------------------------------------------
    def report(self, seconds_taken):
        modes = [m for m in ("h1", "h2tls") if m in self.results]
        h1 = self.results[modes[0]]  # targets: HTTP/1.1 unless only TLS ran
        fan, hold = self.results["fanout"], self.results["hold"]
        ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
        floor = h1["bare"]["cpu_us_per_req"] + h1["direct"].get("cpu_us_per_req", 0.0)
        floor_batch = h1["bare_batch"]["cpu_us_per_req"] + h1["direct"].get("cpu_us_per_req", 0.0)
        per_call = lambda perf, event: (perf.get(event, float("nan")) /  # noqa: E731
                                        max(1.0, perf.get("requests", 0)))
        gw_perf = h1.get("gw_perf", {})
        values = {
            "cpu_execute_floor_ratio": ratio(h1["gw"]["cpu_us_per_req"], floor),
            "cpu_batch_floor_ratio": ratio(h1["gw_batch"]["cpu_us_per_req"], floor_batch),
            "ctx_per_execute": per_call(gw_perf, "context-switches"),
            "futex_per_execute": per_call(gw_perf, "syscalls:sys_enter_futex"),
            "cpu_execute_ratio": ratio(h1["gw"]["cpu_us_per_req"], h1["nginx"]["cpu_us_per_req"]),
            "cpu_batch_ratio": ratio(h1["gw_batch"]["cpu_us_per_req"],
                                     h1["nginx"]["cpu_us_per_req"]),
            "fanout_ratio": fan["wall_ms"] / 400.0,
            "rss_idle_mb": hold["idle_mb"],
            "rss_hold_delta_mb": hold["peak_mb"] - hold["idle_mb"],
        }
        lines = []
        add = lines.append
        add(f"### Targets ({'HTTP/1.1 keep-alive' if modes[0] == 'h1' else 'HTTP/2 TLS'} "
            "upstream)\n")
        add("| target | measured | limit | verdict |")
        add("| --- | ---: | ---: | --- |")
        for key, label, limit, unit in TARGETS:
            v = values[key]
            verdict = "n/a" if v != v else ("pass" if v <= limit else "**MISS**")
            add(f"| {label} | {v:.2f} {unit} | ≤ {limit:g} {unit} | {verdict} |")
        add(f"\nFloor (issue #12), same run: bare gRPC callback server (`gg_bare_server`) "
            f"{h1['bare']['cpu_us_per_req']:.1f} µs per Execute and "
            f"{h1['bare_batch']['cpu_us_per_req']:.1f} µs per BatchExecute message, plus "
            f"direct curl-multi {h1['direct'].get('cpu_us_per_req', 0):.1f} µs per request: "
            f"{floor:.1f} µs per Execute, {floor_batch:.1f} µs per item. perf stat per "
            f"Execute under the {self.args.concurrency}-call load: gateway "
            f"{values['ctx_per_execute']:.2f} context switches and "
            f"{values['futex_per_execute']:.2f} futex calls; bare gRPC server "
            f"{per_call(h1.get('bare_perf', {}), 'context-switches'):.2f} and "
            f"{per_call(h1.get('bare_perf', {}), 'syscalls:sys_enter_futex'):.2f}.")
        titles = {"h1": "HTTP/1.1 keep-alive upstream",
                  "h2tls": "HTTP/2 over TLS upstream (nginx proxies with HTTP/1.1 over TLS)"}
        for mode in modes:
            r, title = self.results[mode], titles[mode]
            add(f"\n### {title}\n")
            add(f"Throughput columns: {self.args.concurrency} requests in flight for "
                f"{self.args.seconds} s (nginx and gateway: median of {self.args.rounds} "
                f"interleaved rounds; CPU µs/req per round: nginx "
                f"{fmt_list(r['nginx']['cpu_rounds'])}, Execute "
                f"{fmt_list(r['gw']['cpu_rounds'])}, BatchExecute "
                f"{fmt_list(r['gw_batch']['cpu_rounds'])}, bare Execute "
                f"{fmt_list(r['bare']['cpu_rounds'])}). `@1` columns: one request "
                "at a time; `added` is over the direct client. CPU is the process's "
                "utime+stime over the run divided by the requests it served "
                "(10 ms ticks); `core` is that CPU over wall time.\n")
            add("| client → path | req/s | CPU µs/req | CPU vs nginx | p50 ms | p99 ms "
                "| p50 ms @1 | p99 ms @1 | added p50 @1 | added p99 @1 |")
            add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            base = r["direct_lat"]
            ng = r["nginx"]["cpu_us_per_req"]

            def row(label, thr, lat, cpu_key="cpu_us_per_req", vs=True, note=""):
                cpu = thr.get(cpu_key, 0.0)
                core = f" (core {thr['core_util']:.2f})" if "core_util" in thr else ""
                add(f"| {label} | {thr.get('rps', 0):,.0f} | {cpu:.1f}{core}{note} | "
                    f"{(f'{cpu / ng:.2f}x' if vs and ng else '')} | "
                    f"{thr.get('p50_us', 0) / 1e3:.2f} | {thr.get('p99_us', 0) / 1e3:.2f} | "
                    + (f"{lat.get('p50_us', 0) / 1e3:.3f} | {lat.get('p99_us', 0) / 1e3:.3f} | "
                       f"{(lat.get('p50_us', 0) - base.get('p50_us', 0)) / 1e3:+.3f} | "
                       f"{(lat.get('p99_us', 0) - base.get('p99_us', 0)) / 1e3:+.3f} |"
                       if lat else "– | – | – | – |"))

            row("direct curl-multi → fake", r["direct"], r["direct_lat"], vs=False,
                note=" (client)")
            row("wrk → **nginx proxy** → fake", r["nginx"], r["nginx_lat"])
            row("gg_loadgen → **gateway** Execute → fake", r["gw"], r["gw_lat"])
            row("gg_loadgen → **gateway** BatchExecute items → fake", r["gw_batch"], None)
            row("gg_loadgen → bare gRPC server Execute (no upstream; floor part)", r["bare"],
                None)
            row("gg_loadgen → bare gRPC server BatchExecute messages (floor part)",
                r["bare_batch"], None)
            row("httpx, AsyncClient per request", r["httpx_per"], r["httpx_per_lat"],
                vs=False, note=" (client)")
            row("httpx, shared AsyncClient", r["httpx_shared"], r["httpx_shared_lat"],
                vs=False, note=" (client)")
            gw_rps = r["gw"].get("rps", 0)
            add(f"\nGateway Execute vs httpx: {ratio(gw_rps, r['httpx_per'].get('rps', 0)):.1f}x "
                f"the requests/s of a client per request, "
                f"{ratio(gw_rps, r['httpx_shared'].get('rps', 0)):.1f}x a shared client; "
                f"gateway CPU per call is "
                f"{ratio(r['gw']['cpu_us_per_req'], r['httpx_per'].get('cpu_us_per_req', 0)):.2f}x "
                f"and {ratio(r['gw']['cpu_us_per_req'], r['httpx_shared'].get('cpu_us_per_req', 0)):.2f}x "
                f"their client CPU per request. Gateway RSS after the load: "
                f"{r['gw_rss_loaded_mb']:.1f} MB; exit code on SIGTERM: {r['gw_exit']}. "
                f"Errors: direct {r['direct'].get('errors', 0):.0f}, nginx non-2xx "
                f"{r['nginx'].get('errors', 0):.0f}, gateway {r['gw'].get('errors', 0):.0f} + "
                f"{r['gw_batch'].get('errors', 0):.0f} (batch), httpx "
                f"{r['httpx_per'].get('errors', 0):.0f} / {r['httpx_shared'].get('errors', 0):.0f}.")
        add("\n### Fan-out and memory\n")
        add("| measurement | value |")
        add("| --- | ---: |")
        add(f"| BatchExecute 2,000 items, upstream delay 20 ms, --max_in_flight 100: "
            f"wall (median of {len(fan['walls'])}) | {fan['wall_ms']:.1f} ms = "
            f"{values['fanout_ratio']:.3f}x ideal 400 ms (runs: "
            f"{', '.join(f'{w:.0f}' for w in fan['walls'])} ms; errors {fan['errors']:.0f}) |")
        add(f"| direct curl-multi client (warm), same 2,000 GETs, 100 at once | "
            f"{fan['direct_wall_ms']:.1f} ms = {fan['direct_wall_ms'] / 400:.3f}x ideal |")
        add(f"| harness floor: wrk, 100 connections to the same 20 ms upstream, time for "
            f"2,000 at its rate | {fan['floor_ms']:.1f} ms = {fan['floor_ms'] / 400:.3f}x ideal;"
            f" gateway / floor = {fan['wall_ms'] / fan['floor_ms']:.3f}x |")
        add(f"| gateway RSS idle (stalled-upstream instance, before any call) | "
            f"{hold['idle_mb']:.1f} MB |")
        add(f"| gateway RSS peak, {self.args.hold_calls:,} Execute calls in flight "
            f"(gauges saw {hold['in_flight_seen']:,.0f} in flight + queued) | "
            f"{hold['peak_mb']:.1f} MB (+{values['rss_hold_delta_mb']:.1f} MB) |")
        add(f"| gateway RSS 1 s after those calls were cancelled | {hold['after_mb']:.1f} MB |")
        bare_delta = hold["bare_peak_mb"] - hold["bare_idle_mb"]
        add(f"| floor: bare gRPC server (`gg_bare_server --hold 1`) holding the same "
            f"{self.args.hold_calls:,} calls | +{bare_delta:.1f} MB; the gateway's own share "
            f"+{values['rss_hold_delta_mb'] - bare_delta:.1f} MB |")
        add("| gateway RSS idle, " + " / ".join(titles[m].split(" upstream")[0] for m in modes)
            + " instances | " + " / ".join(f"{self.results[m]['gw_rss_idle_mb']:.1f}"
                                           for m in modes) + " MB |")
        add(f"\nRun took {seconds_taken:.0f} s.")
        return "\n".join(lines), values

    def machine(self):
        cpu = "unknown CPU"
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            if m:
                cpu = m.group(1)
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        versions = []
        for cmd, words in ((["nginx", "-v"], 3), (["curl", "--version"], 2), (["wrk", "-v"], 2)):
            out = subprocess.run(cmd, capture_output=True, text=True)
            text = (out.stdout + out.stderr).strip().splitlines()
            versions.append(" ".join(text[0].split()[:words]) if text else "?")
        return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Linux "
                f"{platform.release()}; {'; '.join(versions)}; pinning: "
                f"{'proxy under test on core 0, load and upstreams on core 1' if self.pin else 'none'}")


def write_readme(table, command, machine):
    path = os.path.join(BENCH, "README.md")
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    block = (f"{begin}\n_Generated by `{command}` on "
             f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}; {machine}._\n\n"
             f"{table}\n{end}")
    text = open(path).read() if os.path.exists(path) else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", default=os.path.join(ROOT, "build/service/gitlab-gateway"))
    p.add_argument("--tools", default=os.path.join(ROOT, "build-bench/bench"))
    p.add_argument("--seconds", type=int, default=4, help="each throughput run")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--channels", type=int, default=1, help="gRPC connections for Execute load")
    p.add_argument("--latency_requests", type=int, default=3000)
    p.add_argument("--latency_seconds", type=int, default=3)
    p.add_argument("--batch_streams", type=int, default=2)
    p.add_argument("--batch_items", type=int, default=5000, help="per stream")
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved nginx/gateway throughput rounds; medians reported")
    p.add_argument("--httpx_seconds", type=int, default=3)
    p.add_argument("--httpx_latency_requests", type=int, default=300)
    p.add_argument("--fanout_runs", type=int, default=3)
    p.add_argument("--hold_calls", type=int, default=10000)
    p.add_argument("--hold_seconds", type=int, default=5)
    p.add_argument("--modes", default="h1,h2tls")
    p.add_argument("--no_pin", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    p.add_argument("--no_readme", action="store_true")
    args = p.parse_args()
    args.gateway = os.path.abspath(args.gateway)
    args.tools = os.path.abspath(args.tools)

    bench = Bench(args)
    started = time.monotonic()
    load_before = loadavg()
    # A hard stop for the whole run, whatever hangs.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("bench: 10 min limit")))
    signal.alarm(600)
    try:
        bench.start_upstreams()
        for mode in args.modes.split(","):
            bench.measure_mode(mode)
        bench.measure_fanout()
        bench.measure_hold()
    finally:
        signal.alarm(0)
        bench.cleanup()
    table, values = bench.report(time.monotonic() - started)
    machine = (f"{bench.machine()}; load average {load_before} before, {loadavg()} "
               "after (other work on the machine skews absolute numbers; ratios "
               "are measured in the same run)")
    print(f"\n{table}\n\nMachine: {machine}")
    if not args.no_readme:
        write_readme(table, os.environ.get("GG_BENCH_COMMAND", "make bench"), machine)
        log("results written to bench/README.md")
    missed = [label for key, label, limit, _ in TARGETS if values[key] > limit]  # nan: not missed
    if missed:
        log("targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
