#!/usr/bin/python3
"""A grpc.health.v1 Check against gitlab-gateway, as a load balancer or a
Kubernetes gRPC probe would make it: a foreign client that knows nothing of
the gateway's own API.

    PYTHONPATH=build/examples/python/gen \\
    GITLAB_GATEWAY_TARGET=localhost:50051 /usr/bin/python3 health_check.py

Exits 0 when the server (service "") is SERVING.
"""
import os
import sys

import grpc

# Generated as grpc_health.v1, like PyPI's grpcio-health-checking provides it.
from grpc_health.v1 import health_pb2, health_pb2_grpc

TARGET = os.environ.get("GITLAB_GATEWAY_TARGET", "localhost:50051")


def main() -> int:
    with grpc.insecure_channel(TARGET) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = stub.Check(health_pb2.HealthCheckRequest(service=""),
                              timeout=10, wait_for_ready=True)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    print(f"health: {status}")
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
