#!/usr/bin/python3
"""Calls a running gitlab-gateway over gRPC from Debian's python3-grpcio,
without generated stubs: Request/Response are encoded by hand (only the few
scalar fields used here; see proto/gitlab/gateway/v1/gateway.proto).

  gateway_call.py health  --target 127.0.0.1:50051
  gateway_call.py execute --target 127.0.0.1:50051 --path /version
  gateway_call.py load    --target 127.0.0.1:50051 --concurrency 64 --seconds 20

Exit status 0 only when the call(s) succeeded with HTTP 200.
"""
import argparse
import sys
import threading
import time

import grpc

EXECUTE = "/gitlab.gateway.v1.Gateway/Execute"
HEALTH = "/grpc.health.v1.Health/Check"
SERVING = 1


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def encode_request(req_id, method, path):
    # Request: id = 1, method = 2, path = 3 (all strings).
    return (field_bytes(1, req_id.encode()) + field_bytes(2, method.encode())
            + field_bytes(3, path.encode()))


def decode(data):
    """Top-level fields of a message: {number: [value, ...]} (varint or bytes)."""
    fields, i = {}, 0

    def read_varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = read_varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = read_varint()
        elif wire == 2:
            n = read_varint()
            value, i = data[i:i + n], i + n
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        fields.setdefault(number, []).append(value)
    return fields


def ident(x):
    return x


def stub(channel, name):
    return channel.unary_unary(name, request_serializer=ident,
                               response_deserializer=ident)


def health(channel, timeout):
    reply = decode(stub(channel, HEALTH)(b"", timeout=timeout))
    status = reply.get(1, [0])[0]
    print("health: %s" % {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING"}.get(status, status))
    return status == SERVING


def execute(channel, path, timeout, quiet=False):
    raw = stub(channel, EXECUTE)(encode_request("smoke-1", "GET", path), timeout=timeout)
    reply = decode(raw)
    code = reply.get(2, [0])[0]
    text = reply.get(4, [b""])[0].decode(errors="replace")
    if not quiet:
        print("Execute %s -> id=%s status_code=%d body=%s" % (
            path, reply.get(1, [b""])[0].decode(), code, text[:200]))
    return code == 200


def load(channel, path, concurrency, seconds, timeout):
    """`concurrency` threads each keep one Execute outstanding until `seconds`."""
    call = stub(channel, EXECUTE)
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()

    def worker(n):
        req = encode_request("load-%d" % n, "GET", path)
        while time.monotonic() < deadline:
            try:
                ok = decode(call(req, timeout=timeout)).get(2, [0])[0] == 200
            except grpc.RpcError:
                ok = False
            with lock:
                counts["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    print("load: %d ok, %d failed in %.1fs (%.0f calls/s, concurrency %d)" % (
        counts["ok"], counts["failed"], elapsed, counts["ok"] / elapsed, concurrency))
    return counts["failed"] == 0 and counts["ok"] > 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["health", "execute", "load"])
    ap.add_argument("--target", required=True)
    ap.add_argument("--path", default="/version")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--wait", type=float, default=0,
                    help="health: retry until SERVING for this many seconds")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    host = args.target.rsplit(":", 1)[0].strip("[]")
    if not (host.startswith("127.") or host in ("::1", "localhost")):
        sys.exit("gateway_call: loopback targets only")
    options = [("grpc.max_receive_message_length", 128 << 20)]
    with grpc.insecure_channel(args.target, options=options) as channel:
        if args.mode == "health":
            give_up = time.monotonic() + args.wait
            while True:
                try:
                    if health(channel, args.timeout):
                        return 0
                except grpc.RpcError as e:
                    print("health: %s" % e.code())
                if time.monotonic() >= give_up:
                    return 1
                time.sleep(0.5)
        if args.mode == "execute":
            try:
                return 0 if execute(channel, args.path, args.timeout) else 1
            except grpc.RpcError as e:
                print("Execute failed: %s %s" % (e.code(), e.details()))
                return 1
        return 0 if load(channel, args.path, args.concurrency, args.seconds,
                         args.timeout) else 1


if __name__ == "__main__":
    sys.exit(main())
