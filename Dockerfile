# gitlab-gateway image: build on Debian bookworm from Debian packages, run on
# bookworm-slim with only the shared libraries the binaries link, as non-root.
#
# No Docker daemon here: scripts/build-image.sh builds this with
#   buildah bud --isolation chroot --network host -f Dockerfile .
# and makes the debian:bookworm(-slim) base images locally with debootstrap.
# Any OCI builder works the same way (docker build ., podman build .).

########################################################################
# build
FROM docker.io/library/debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
# The project's own package list, so the image and `make build` agree.
COPY scripts/deps/core.txt /tmp/core.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed 's/#.*//' /tmp/core.txt) \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
# RUN_TESTS=1 also builds and runs the C++ test suite (loopback only). Tests
# that need the other `make test` package sets (node for the manifests and the
# Node callers and client, python3-grpcio, Go, buf and git for the API checks,
# nginx-light for HTTP/2 over TLS, redis-server for the shared quota) are left
# to `make test`.
ARG RUN_TESTS=0
ARG JOBS=2
# The commit `gitlab-gateway --version` reports (the context has no .git).
ARG GG_GIT_COMMIT=unknown
# Target `all`: the gateway, and the CLI when client/ defines it.
RUN testing=OFF; [ "$RUN_TESTS" = 1 ] && testing=ON; \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
          -DBUILD_TESTING=$testing -DGG_GIT_COMMIT="$GG_GIT_COMMIT" \
 && cmake --build /build --target all -j "$JOBS" \
 && if [ "$RUN_TESTS" = 1 ]; then \
      (cd /build && ctest --output-on-failure -j "$JOBS" \
         -E '^deploy_|^examples_|^TlsUpstreamTest|^client_(python|node|go)$|^proto_buf_' -LE redis); \
    fi

# Stage what the runtime needs: the binaries (stripped) and the Debian
# packages that own every shared library they load, found with ldd + dpkg -S,
# so a new dependency never needs a hand-kept list here.
RUN mkdir -p /out/bin \
 && install -s -m 0755 /build/service/gitlab-gateway /out/bin/ \
 && if [ -x /build/client/gitlab-gateway-cli ]; then \
      install -s -m 0755 /build/client/gitlab-gateway-cli /out/bin/; \
    fi \
 && for bin in /out/bin/*; do ldd "$bin"; done \
    | awk '/=> \// {print $3}' | sort -u \
    | while read -r lib; do \
        for p in "$lib" "/usr$lib" "$(readlink -f "$lib")"; do \
          if owner=$(dpkg -S "$p" 2>/dev/null); then \
            echo "$owner" | head -n1 | cut -d: -f1; break; \
          fi; \
        done; \
      done | sort -u > /out/runtime-packages.txt \
 && echo "runtime packages:" $(cat /out/runtime-packages.txt) \
 && test -s /out/runtime-packages.txt

########################################################################
# runtime
FROM docker.io/library/debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
# ca-certificates: GitLab over https with the system trust store.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/* \
      /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin gateway

# The whole directory, so the CLI comes along exactly when it was built.
COPY --from=build /out/bin/ /usr/local/bin/

# Numeric, so Kubernetes' runAsNonRoot can check it without /etc/passwd.
USER 10001:10001
# No ENV here: the listen ports are the binary's flag defaults (50051, 9090),
# and every flag also reads an env variable (see `gitlab-gateway --help`):
# GITLAB_URL, GITLAB_TOKEN_FILE, GITLAB_TOKEN_TYPE, GITLAB_CA_FILE,
# GITLAB_GATEWAY_MAX_IN_FLIGHT, GITLAB_GATEWAY_SHUTDOWN_GRACE, ...
# 50051 gRPC (Gateway, grpc.health.v1, reflection); 9090 Prometheus /metrics.
EXPOSE 50051 9090
# The gateway drains on SIGTERM: health NOT_SERVING, in-flight calls get
# GITLAB_GATEWAY_SHUTDOWN_GRACE (25s), then exit 0.
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.title="gitlab-gateway" \
      org.opencontainers.image.description="gRPC gateway to the GitLab API" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
ENTRYPOINT ["/usr/local/bin/gitlab-gateway"]
