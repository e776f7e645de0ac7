#!/usr/bin/env python3
"""Download throughput and CPU per GB: gateway vs curl, same run.

An nginx (one worker, sendfile) serves one file as a job's artifacts. In
alternating rounds:
  - gateway: `gitlab-gateway-cli download PATH -o /dev/null` through a
    gitlab-gateway process (Download RPC, streamed);
  - reference: `curl -o /dev/null` straight from nginx.
Reported: wall-clock throughput of each, the gateway process's CPU
(utime+stime of all its threads, /proc/<pid>/stat) per GiB, curl's CPU per
GiB (the curl process alone), the CLI's CPU per GiB, and the gateway's peak
RSS (VmHWM). Medians over the rounds. Loopback only; every step has a time
limit and the whole run stops itself.

  bench/download.py --gateway build/service/gitlab-gateway \\
                    --cli build/client/gitlab-gateway-cli --size-mb 1024
"""
import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ARTIFACT = "/api/v4/projects/1/jobs/1/artifacts"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp-body;
  proxy_temp_path {dir}/tmp-proxy;
  fastcgi_temp_path {dir}/tmp-fastcgi;
  uwsgi_temp_path {dir}/tmp-uwsgi;
  scgi_temp_path {dir}/tmp-scgi;
  sendfile on;
  keepalive_requests 1000;
  server {{
    listen 127.0.0.1:{port};
    location = {path} {{
      types {{ }}
      default_type application/zip;
      alias {file};
    }}
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    give_up = time.time() + timeout
    while time.time() < give_up:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def hwm_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def timed_child(argv, timeout):
    """Runs argv; returns (wall seconds, child CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(argv, check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--gateway", default="build/service/gitlab-gateway")
    p.add_argument("--cli", default="build/client/gitlab-gateway-cli")
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    deadline = time.time() + 600
    size = args.size_mb << 20
    gib = size / (1 << 30)
    work = tempfile.mkdtemp(prefix="gg-download-bench-")
    os.chmod(work, 0o755)  # nginx's worker may run as another user
    procs = []
    try:
        body = os.path.join(work, "artifacts.zip")
        with open(body, "wb") as f:  # real bytes, not a sparse hole
            chunk = os.urandom(1 << 20)
            for _ in range(args.size_mb):
                f.write(chunk)
        nginx_port, grpc_port = free_port(), free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=work, port=nginx_port,
                                      path=ARTIFACT, file=body))
        os.chmod(body, 0o644)
        procs.append(subprocess.Popen(["nginx", "-c", conf, "-p", work,
                                       "-e", os.path.join(work, "err.log")],
                                      stderr=subprocess.DEVNULL))
        wait_port(nginx_port)
        env = dict(os.environ, GITLAB_TOKEN="bench-token")
        gateway = subprocess.Popen(
            [args.gateway, f"--listen=127.0.0.1:{grpc_port}",
             "--metrics_listen=off",
             f"--gitlab_url=http://127.0.0.1:{nginx_port}",
             "--rate_limit_per_minute=0", "--default_timeout=10m"],
            env=env, stderr=subprocess.DEVNULL)
        procs.append(gateway)
        wait_port(grpc_port)
        url = f"http://127.0.0.1:{nginx_port}{ARTIFACT}"
        cli = [args.cli, "download", ARTIFACT.removeprefix("/api/v4"),
               "-o", "/dev/null", "--target", f"127.0.0.1:{grpc_port}",
               "--timeout", "10m"]
        curl = ["curl", "-sS", "--fail", "-o", "/dev/null", url]
        # Warm up both paths (page cache, connections, allocator).
        timed_child(curl, 120)
        timed_child(cli, 120)
        rows = {"gw_wall": [], "gw_cpu": [], "cli_cpu": [], "curl_wall": [],
                "curl_cpu": []}
        for _ in range(args.rounds):
            if time.time() > deadline:
                break
            before = cpu_seconds(gateway.pid)
            wall, cli_cpu = timed_child(cli, 300)
            rows["gw_cpu"].append(cpu_seconds(gateway.pid) - before)
            rows["gw_wall"].append(wall)
            rows["cli_cpu"].append(cli_cpu)
            wall, curl_cpu = timed_child(curl, 300)
            rows["curl_wall"].append(wall)
            rows["curl_cpu"].append(curl_cpu)
        med = {k: statistics.median(v) for k, v in rows.items()}
        load = os.getloadavg()
        gw_mbs = args.size_mb / med["gw_wall"]
        curl_mbs = args.size_mb / med["curl_wall"]
        print(f"{args.size_mb} MiB x {len(rows['gw_wall'])} rounds, "
              f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        print(f"gateway download: {gw_mbs:.0f} MiB/s, gateway CPU "
              f"{med['gw_cpu'] / gib:.2f} s/GiB, CLI CPU "
              f"{med['cli_cpu'] / gib:.2f} s/GiB, gateway peak RSS "
              f"{hwm_bytes(gateway.pid) / (1 << 20):.1f} MiB")
        print(f"curl direct:      {curl_mbs:.0f} MiB/s, curl CPU "
              f"{med['curl_cpu'] / gib:.2f} s/GiB")
        print(f"ratio: throughput {gw_mbs / curl_mbs:.2f} x curl, gateway CPU "
              f"{med['gw_cpu'] / med['curl_cpu']:.2f} x curl's")
        print("| download (stream) | "
              f"{gw_mbs:.0f} MiB/s | {curl_mbs:.0f} MiB/s | "
              f"{med['gw_cpu'] / gib:.2f} s | {med['curl_cpu'] / gib:.2f} s | "
              f"{med['cli_cpu'] / gib:.2f} s | "
              f"{hwm_bytes(gateway.pid) / (1 << 20):.1f} MiB | "
              f"{load[0]:.1f} |")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
