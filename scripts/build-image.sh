#!/usr/bin/env bash
# Builds the gitlab-gateway container image with buildah, without a Docker
# daemon. When the Debian base images are not in local storage it makes them
# with debootstrap (from Debian's archive) and `podman import`s them as
# docker.io/library/debian:bookworm and docker.io/library/debian:bookworm-slim,
# so the build never pulls from a container registry.
#
#   scripts/build-image.sh                    # -> localhost/gitlab-gateway:dev
#   IMAGE=localhost/gitlab-gateway:1.2 scripts/build-image.sh
#   RUN_TESTS=1 scripts/build-image.sh        # also run ctest in the build stage
#   EXPORT=/tmp/gw.tar scripts/build-image.sh # also write an oci-archive
#   REBUILD_BASE=1 scripts/build-image.sh     # re-create the base images
#   NO_CACHE=1 scripts/build-image.sh         # ignore cached layers
#   SOURCE=worktree scripts/build-image.sh    # build uncommitted changes too
#
# By default the build context is the committed tree (`git archive HEAD`), so
# half-edited files in the work tree never reach an image and the image's
# revision label is true; the Dockerfile and .dockerignore are always taken
# from the work tree (they are the recipe, not the product).
#
# Needs root (debootstrap, buildah's chroot isolation). Installs buildah,
# podman and debootstrap from Debian when missing. Takes minutes: see
# k8s/README.md for measured timings.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/gitlab-gateway:dev}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
BASE_FULL=docker.io/library/debian:$SUITE
BASE_SLIM=docker.io/library/debian:$SUITE-slim
RUN_TESTS=${RUN_TESTS:-0}
SOURCE=${SOURCE:-head}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-3600}   # seconds, for the whole buildah bud
BASE_TIMEOUT=${BASE_TIMEOUT:-1200}     # seconds, for debootstrap

log() { printf '%s build-image: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "build-image: run as root" >&2; exit 2; }

ensure_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v podman >/dev/null || missing+=(podman)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Write the same apt sources the official image has (updates and security
# included), then import the tree as an image.
import_rootfs() {
  local root=$1 ref=$2
  tar -C "$root" --numeric-owner -cf - . |
    podman import --quiet --change 'CMD ["bash"]' \
      --message "debootstrap --variant=minbase $SUITE" - "$ref" >/dev/null
  log "imported $ref"
}

make_base_images() {
  local work root
  work=$(mktemp -d /var/tmp/gg-debootstrap.XXXXXX)
  root=$work/rootfs
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  log "debootstrap --variant=minbase $SUITE from $MIRROR (a few minutes)"
  timeout "$BASE_TIMEOUT" debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    echo "build-image: debootstrap failed" >&2
    exit 1
  }
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # What the official images also do: no apt caches, no recommends.
  printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/90-no-recommends"
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/root/.bash_history
  : >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  import_rootfs "$root" "$BASE_FULL"

  # -slim: the same tree without docs, man pages and locales, and dpkg told to
  # keep it that way (as the official bookworm-slim does).
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian/* "$root"/usr/share/linda/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  import_rootfs "$root" "$BASE_SLIM"
}

ensure_tools
start=$(date +%s)
if [ "${REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$BASE_FULL" || ! podman image exists "$BASE_SLIM"; then
  make_base_images
  log "base images made in $(($(date +%s) - start))s"
else
  log "base images present ($BASE_FULL, $BASE_SLIM)"
fi

# The build context: the committed tree, or the work tree as it is.
context=.
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
case "$SOURCE" in
  head)
    context=$(mktemp -d /var/tmp/gg-context.XXXXXX)
    trap 'rm -rf "$context"' EXIT
    git archive --format=tar HEAD | tar -xf - -C "$context"
    cp Dockerfile .dockerignore "$context/"
    log "context: git HEAD $revision (Dockerfile from the work tree)"
    ;;
  worktree)
    git diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
    log "context: work tree ($revision)"
    ;;
  *) echo "build-image: SOURCE must be head or worktree" >&2; exit 2 ;;
esac

bud_start=$(date +%s)
log "buildah bud -> $IMAGE"
timeout "$BUILD_TIMEOUT" buildah bud \
  --isolation chroot \
  --network host \
  --pull=never \
  --layers \
  $([ "${NO_CACHE:-0}" = 1 ] && echo --no-cache) \
  --build-arg "RUN_TESTS=$RUN_TESTS" \
  --build-arg "JOBS=$(nproc)" \
  --build-arg "GG_GIT_COMMIT=$revision" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f "$context/Dockerfile" -t "$IMAGE" "$context"
log "image built in $(($(date +%s) - bud_start))s (total $(($(date +%s) - start))s)"

if [ -n "${EXPORT:-}" ]; then
  rm -f "$EXPORT"
  buildah push --quiet "$IMAGE" "oci-archive:$EXPORT:$IMAGE"
  log "wrote $EXPORT"
fi
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$IMAGE"
