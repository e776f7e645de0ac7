"""The httpx references, for context: the design this gateway replaces.

  per_request: a new httpx.AsyncClient per request (new connection, new TLS
               context and handshake each time), as the source document did.
  shared:      one AsyncClient shared by all requests (pooled keep-alive).

Runs --concurrency workers for --seconds or --requests, whichever comes first,
and prints one line of key=value results (CPU is this process's own).
Needs Debian's python3-httpx (and python3-h2 for --http2): /usr/bin/python3.
"""
import argparse
import asyncio
import sys
import time

import httpx


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


async def run(args):
    verify = args.cacert or True
    headers = {"PRIVATE-TOKEN": "bench-token"}
    latencies, errors = [], []
    deadline = time.monotonic() + args.seconds
    budget = [args.requests if args.requests > 0 else float("inf")]
    shared = None
    if args.mode == "shared":
        limits = httpx.Limits(max_connections=args.concurrency,
                              max_keepalive_connections=args.concurrency)
        shared = httpx.AsyncClient(verify=verify, http2=args.http2,
                                   limits=limits, headers=headers)

    async def one():
        if shared is not None:
            return await shared.get(args.url)
        async with httpx.AsyncClient(verify=verify, http2=args.http2,
                                     headers=headers) as client:
            return await client.get(args.url)

    async def worker():
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.monotonic()
            try:
                response = await one()
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
                    continue
                latencies.append((time.monotonic() - started) * 1e6)
            except Exception as e:  # counted, first one printed
                errors.append(repr(e))

    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    if shared is not None:
        await shared.aclose()
    done = len(latencies) + len(errors)
    print(f"requests={done} errors={len(errors)} seconds={wall:.3f} "
          f"rps={done / wall:.1f} p50_us={percentile(latencies, 0.5):.1f} "
          f"p99_us={percentile(latencies, 0.99):.1f} "
          f"cpu_us_per_req={cpu * 1e6 / max(1, len(latencies)):.2f}", flush=True)
    if errors:
        print(f"httpx: first error: {errors[0]}", file=sys.stderr)
    return 0 if not errors else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=["per_request", "shared"], required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--cacert", default="")
    parser.add_argument("--http2", action="store_true")
    raise SystemExit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
