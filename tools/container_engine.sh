# Sourced by the container scripts: picks the engine and exports the settings it needs here.
#   CONTAINER_ENGINE=docker|podman overrides the choice; docker is used when its daemon answers.
# After sourcing: $ENGINE (docker|podman), engine() runs it with the right global options,
# $ENGINE_BUILD_FLAGS are the extra `build` flags, $ENGINE_RUN_FLAGS the extra `run` flags.
_engine_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${CONTAINER_ENGINE:-}" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    CONTAINER_ENGINE=docker
  elif command -v podman >/dev/null 2>&1; then
    CONTAINER_ENGINE=podman
  else
    echo "neither a running docker engine nor podman found (tools/install_deps.sh installs podman)" >&2
    exit 1
  fi
fi
ENGINE=$CONTAINER_ENGINE
if [ "$ENGINE" = podman ]; then
  export CONTAINERS_CONF="${CONTAINERS_CONF:-$_engine_root/tools/containers.conf}"
  engine() { podman --runtime runc "$@"; }
  # chroot isolation: no user namespaces or nested runtimes needed while building;
  # docker format so HEALTHCHECK is kept (OCI images have no such field).
  ENGINE_BUILD_FLAGS=(--isolation=chroot --format docker)
  ENGINE_RUN_FLAGS=(--network=host)
else
  engine() { docker "$@"; }
  ENGINE_BUILD_FLAGS=()
  ENGINE_RUN_FLAGS=()
fi
