"""Where the gateway's instructions go, per call: the gateway under callgrind.

Starts the same loopback fixtures as run.py, runs the gateway under
`valgrind --tool=callgrind`, warms it up, zeroes the counters, drives
--calls Execute calls (or BatchExecute items), dumps, and prints instructions
per call with the top functions (inclusive and self). Instruction counts are
repeatable whatever else the machine is doing, unlike CPU time.

  /usr/bin/python3 bench/profile.py --gateway build/service/gitlab-gateway \
      --tools build-bench/bench [--mode unary|batch] [--upstream h1|h2tls]

Also reports nginx's instructions per proxied request the same way (nginx
with master_process off under callgrind, driven by gg_curl_direct), so the
two can be compared like for like. Takes about a minute; loopback only.
"""
import argparse
import glob
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


def shorten(name):
    name = re.sub(r"std::__cxx11::basic_string<char, std::char_traits<char>, "
                  r"std::allocator<char> >", "std::string", name)
    name = re.sub(r"absl::debian3::", "absl::", name)
    return name if len(name) < 150 else name[:147] + "..."


def top(path, calls, inclusive, n):
    out = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                          "--threshold=100", path], capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        ir = int(m.group(1).replace(",", ""))
        where = re.sub(r"^\S*?:", "", m.group(2), count=1)  # drop the file part
        rows.append((ir, shorten(where)))
    # Thread entry frames: callgrind books the counts of frames still active
    # when the counters were zeroed to them, also as "self".
    skip = ("clone", "start_thread", "0x00000000000d4490", "::_M_run()",
            "0x000000000000ae30 [/usr/lib/x86_64-linux-gnu/libgpr")
    rows = [r for r in rows if not any(s in r[1] for s in skip)]
    return [f"{ir / calls / 1000:8.1f}k  {name}" for ir, name in rows[:n]]


def nginx_ir(bench, mode, requests):
    """nginx proxy instructions per request: (Ir(N+200) - Ir(200)) / N."""
    d = bench.dir
    conf = open(f"{d}/proxy.conf").read().replace("daemon off;", "daemon off;\nmaster_process off;")
    results = {}
    for n in (200, 200 + requests):
        ports = {k: run.free_port() for k in ("H1_PROXY_PORT", "TLS_PROXY_PORT")}
        text = conf.replace("proxy.pid", "proxy-cg.pid")
        for key, port in ports.items():
            text = text.replace(f"listen 127.0.0.1:{bench.ports[key]};", f"listen 127.0.0.1:{port};")
        with open(f"{d}/proxy-cg.conf", "w") as f:
            f.write(text)
        out = f"{d}/nginx-cg-{n}"
        p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                              "nginx", "-p", d, "-c", f"{d}/proxy-cg.conf"],
                             stderr=subprocess.DEVNULL)
        port = ports["H1_PROXY_PORT" if mode == "h1" else "TLS_PROXY_PORT"]
        run.wait_port(port, 60)
        subprocess.run([os.path.join(bench.args.tools, "gg_curl_direct"), "--url",
                        f"http://127.0.0.1:{port}/api/v4{run.PROJECT_PATH}", "--concurrency",
                        "16", "--requests", str(n), "--seconds", "120"],
                       capture_output=True, timeout=300)
        p.send_signal(signal.SIGQUIT)
        p.wait(timeout=120)
        results[n] = total_ir(out)
    return (results[200 + requests] - results[200]) / requests


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", default=os.path.join(run.ROOT, "build/service/gitlab-gateway"))
    p.add_argument("--tools", default=os.path.join(run.ROOT, "build-bench/bench"))
    p.add_argument("--mode", choices=["unary", "batch"], default="unary")
    p.add_argument("--upstream", choices=["h1", "h2tls"], default="h1")
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--no_nginx", action="store_true")
    args = p.parse_args()
    args.gateway, args.tools = os.path.abspath(args.gateway), os.path.abspath(args.tools)
    args.no_pin, args.keep = True, False
    bench = run.Bench(args)
    gateway = args.gateway
    spawn = bench.spawn

    def spawn_under_callgrind(cmd, role="load", **kw):
        if cmd[0] == gateway:
            cmd = ["valgrind", "--tool=callgrind",
                   f"--callgrind-out-file={bench.dir}/gateway-cg.%p"] + cmd
        return spawn(cmd, role, **kw)

    bench.spawn = spawn_under_callgrind
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("profile: 10 min")))
    signal.alarm(600)
    try:
        bench.start_upstreams()
        base, _, _ = bench.upstream(args.upstream)
        gw = bench.start_gateway(base)
        time.sleep(1)
        bench.loadgen(gw.grpc_port, "--mode", "unary", "--concurrency", "16", "--requests", "300",
                      "--seconds", "120")
        if args.mode == "batch":
            bench.loadgen(gw.grpc_port, "--mode", "batch", "--items", "300")
        subprocess.run(["callgrind_control", "-z", str(gw.pid)], capture_output=True, timeout=60)
        if args.mode == "unary":
            r = bench.loadgen(gw.grpc_port, "--mode", "unary", "--concurrency", "16",
                              "--requests", str(args.calls), "--seconds", "300", timeout=400)
        else:
            r = bench.loadgen(gw.grpc_port, "--mode", "batch", "--items", str(args.calls),
                              timeout=400)
        subprocess.run(["callgrind_control", "-d", str(gw.pid)], capture_output=True, timeout=60)
        time.sleep(1)
        bench.stop(gw, timeout=60)
        dumps = sorted(glob.glob(f"{bench.dir}/gateway-cg.*.1"))
        if not dumps or r.get("errors", 1) != 0:
            raise RuntimeError(f"no profile (loadgen said {r})")
        gateway_ir = total_ir(dumps[0]) / args.calls
        print(f"gateway ({args.mode}, {args.upstream} upstream): "
              f"{gateway_ir / 1000:.1f}k instructions per call (user space)")
        if not args.no_nginx:
            ng = nginx_ir(bench, args.upstream, args.calls)
            print(f"nginx proxy: {ng / 1000:.1f}k instructions per proxied request; "
                  f"gateway / nginx = {gateway_ir / ng:.2f}x")
        print("\nTop functions, inclusive (k instructions per call):")
        print("\n".join(top(dumps[0], args.calls, True, args.top)))
        print("\nTop functions, self:")
        print("\n".join(top(dumps[0], args.calls, False, args.top)))
    finally:
        signal.alarm(0)
        bench.cleanup()


if __name__ == "__main__":
    main()
