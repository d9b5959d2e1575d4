#!/usr/bin/env bash
# Build the image from infra/docker/Dockerfile and smoke-test it, on one machine, without Docker:
#
#   bash infra/image-smoke.sh            build, then test
#   SMOKE_SKIP_BUILD=1 bash infra/image-smoke.sh    test the image built last time
#
# Build: buildah (`--isolation chroot --storage-driver vfs`: no daemon, no user namespaces, no
# overlay mounts needed). Run: the image's file system (`buildah from` + `buildah mount`) is
# mounted read-only in a private mount namespace with a tmpfs /tmp, and each process runs in it
# as uid 10001 through chroot with the image's environment: the same confinement as
# `podman run --read-only --user 10001`, without an OCI runtime (a sandbox that forbids
# setrlimit, like the one this was written on, cannot run crun). When the base image python:3.11-slim-bookworm cannot be pulled (no
# registry reachable), a Debian bookworm made by debootstrap with Debian's Python 3.11 stands in
# for it under the same name; the machine's pip configuration, certificate authorities and local
# package folders (/etc/pip.conf, /opt/wheels, /opt/pypi) are carried into the build when they
# exist.
#
# Test, against PostgreSQL and Redis on loopback (SMOKE_DATABASE_URL, SMOKE_REDIS_URL):
#   1. the image runs as uid 10001, and its root file system is read-only (podman --read-only);
#   2. migrations run; web answers /healthz and /readyz with 200 (the time to /healthz is shown);
#   3. a worker transcribes a recording (espeak-ng speech) uploaded through the application's own
#      recording_upload: segments land in the database;
#   4. SIGTERM stops web and the worker cleanly (exit 0 within their grace periods).
# Prints the image size and each step's time. Needs root, buildah, unshare, debootstrap (only
# without a reachable registry), espeak-ng, curl, pg_isready, psql, and about 15 GB of free disk
# (vfs copies the whole file system for each step and for the container).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${SMOKE_IMAGE:-localhost/hearus:smoke}
BASE=docker.io/library/python:3.11-slim-bookworm
BASE_ROOT=${SMOKE_BASE_ROOT:-/var/tmp/hearus-smoke-base}
DATABASE_URL=${SMOKE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hearus_smoke}
REDIS_URL=${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/15}
PORT=${SMOKE_PORT:-18765}
WORKER_METRICS=${SMOKE_WORKER_METRICS_PORT:-18766}
STORAGE=(--storage-driver vfs)
buildah=(buildah "${STORAGE[@]}")

started=$(date +%s)
say() { printf '\n\033[1m== [%4ss] %s\033[0m\n' "$(($(date +%s) - started))" "$*"; }
die() { echo "SMOKE FAILED: $*" >&2; exit 1; }

for tool in buildah unshare curl espeak-ng pg_isready psql; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

# -- the base image ---------------------------------------------------------------------------
base_image() {
  if "${buildah[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then return; fi
  say "base image $BASE"
  if timeout 120 "${buildah[@]}" pull -q "$BASE" >/dev/null 2>&1; then return; fi
  echo "the registry is unreachable: a debootstrapped Debian bookworm stands in for $BASE"
  command -v debootstrap >/dev/null || die "debootstrap is not installed"
  if [ ! -x "$BASE_ROOT/usr/bin/python3.11" ]; then
    rm -rf "$BASE_ROOT"
    nice -n 19 debootstrap --variant=minbase \
      --include=python3,python3-venv,python-is-python3,ca-certificates \
      bookworm "$BASE_ROOT" "${SMOKE_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
    chroot "$BASE_ROOT" apt-get clean
    rm -rf "$BASE_ROOT"/var/lib/apt/lists/*
  fi
  # This machine's pip settings (its local wheels and index) and certificate authorities (a
  # proxy that re-signs TLS, where there is one), so the build installs as here.
  python3 - "$BASE_ROOT/etc/pip.conf" <<'EOF'
import configparser, os, subprocess, sys
# pip's effective global settings here (every config file, then PIP_* variables), as one file.
settings = configparser.ConfigParser()
settings["global"] = {}
listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
for line in listed.stdout.splitlines():
    key, _, value = line.partition("=")
    section, _, name = key.partition(".")
    if section == "global":
        settings["global"][name] = value.strip("'\"")
settings["global"].pop("constraint", None)  # this machine's own pins; the image has its lock
for name in ("find-links", "cert", "index-url", "trusted-host"):
    value = os.environ.get("PIP_" + name.upper().replace("-", "_"))
    if value:
        settings["global"][name] = value
with open(sys.argv[1], "w") as handle:
    settings.write(handle)
EOF
  cp /etc/ssl/certs/ca-certificates.crt "$BASE_ROOT/etc/ssl/certs/ca-certificates.crt"
  local ctr
  ctr=$("${buildah[@]}" from scratch)
  "${buildah[@]}" add "$ctr" "$BASE_ROOT" / >/dev/null
  "${buildah[@]}" config --cmd python3 "$ctr"
  "${buildah[@]}" commit -q --rm "$ctr" "$BASE" >/dev/null
}

# -- the build --------------------------------------------------------------------------------
build() {
  local args=() dir
  for dir in /opt/wheels /opt/pypi /opt/pypi-more; do
    [ -d "$dir" ] && args+=(--volume "$dir:$dir:ro")
  done
  # With a local index, torch's CPU build comes from it instead of PyTorch's CPU index.
  [ -d /opt/pypi/simple ] && args+=(--build-arg "PIP_EXTRA_INDEX_URL=file:///opt/pypi/simple")
  say "build $IMAGE (buildah, chroot isolation, vfs storage)"
  local t0=$SECONDS
  # No --layers: with vfs every cached layer is a full copy of the file system (tens of GB).
  nice -n 19 "${buildah[@]}" bud --isolation chroot "${args[@]}" \
    -f infra/docker/Dockerfile -t "$IMAGE" . >/tmp/hearus-image-build.log 2>&1 \
    || { tail -40 /tmp/hearus-image-build.log; die "the build failed (log: /tmp/hearus-image-build.log)"; }
  echo "built in $((SECONDS - t0)) s"
}

if [ "${SMOKE_SKIP_BUILD:-0}" != 1 ]; then
  base_image
  build
fi
"${buildah[@]}" inspect --type image "$IMAGE" >/dev/null 2>&1 || die "no image $IMAGE: build it first"
size=$("${buildah[@]}" images --format '{{.Size}}' "$IMAGE" | head -n 1)
echo "image $IMAGE: $size"

# -- the smoke test ---------------------------------------------------------------------------
work=$(mktemp -d)
pids=()
container=""
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$container" ]; then "${buildah[@]}" rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

pg_isready -q -d "$DATABASE_URL" || die "PostgreSQL does not answer at $DATABASE_URL"
db_name=${DATABASE_URL##*/}
admin_url=${DATABASE_URL%/*}/postgres
psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name" -c "CREATE DATABASE $db_name" >/dev/null
mkdir -p "$work/media" "$work/in"
chown 10001:10001 "$work/media"
espeak-ng -v en-us -s 150 -w "$work/in/talk.wav" \
  "Good morning everyone. Today we talk about the water cycle. Water evaporates from the ocean, forms clouds, and falls again as rain."
cp infra/docker/smoke_check.py "$work/in/"
chmod -R a+rX "$work/in"

say "the image's file system (a container of it, mounted)"
container=$("${buildah[@]}" from --pull-never "$IMAGE")
rootfs=$("${buildah[@]}" mount "$container")
mkdir -p "$rootfs/smoke"
# The image's environment, then the deployment's settings (as the Kubernetes manifests give them).
"${buildah[@]}" inspect --type image --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "$IMAGE" \
  | grep . > "$work/env"
secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+')
cat >> "$work/env" <<EOF
SECRET_KEY=$secret
DATABASE_URL=$DATABASE_URL
REDIS_URL=$REDIS_URL
ALLOWED_HOSTS=127.0.0.1,localhost
SECURE_SSL_REDIRECT=false
LOG_LEVEL=WARNING
EOF

# in_image ENV_FILE COMMAND...: run COMMAND from the image, as uid 10001, on its read-only root.
# It replaces the calling shell (exec), so that `in_image ... &` gives the process's own PID to
# signal: call it in a subshell, `(in_image ...)`, or in the background.
in_image() {
  local env_file=$1; shift
  # shellcheck disable=SC2016  # expanded by the inner bash
  exec unshare --mount --propagation private bash -c '
    set -e
    root=$1 media=$2 smoke=$3 env_file=$4; shift 4
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o size=512m,mode=1777 tmpfs "$root/tmp"
    mount --bind "$media" "$root/var/lib/hearus/media"
    mount --bind "$smoke" "$root/smoke"
    mount -o remount,bind,ro "$root/smoke"
    mount -o remount,bind,ro "$root"
    mapfile -t environment < "$env_file"
    exec chroot --userspec=10001:10001 "$root" /usr/bin/env -i -C /app "${environment[@]}" \
      /app/infra/docker/entrypoint.sh "$@"
  ' in_image "$rootfs" "$work/media" "$work/in" "$env_file" "$@"
}

say "1. who runs it, and the root file system"
uid=$(in_image "$work/env" id -u)
[ "$uid" = 10001 ] || die "the image runs as uid $uid, not 10001"
if (in_image "$work/env" sh -c 'touch /app/written') 2>/dev/null; then
  die "the root file system is writable"
fi
echo "ok: uid 10001, read-only root"

say "2. migrations, web, /healthz and /readyz"
(in_image "$work/env" python manage.py migrate --noinput -v 0)
in_image "$work/env" python -m hearus_site.serve -b 127.0.0.1 -p "$PORT" \
  hearus_site.asgi:application > "$work/web.log" 2>&1 &
web=$!
pids+=("$web")
t0=$SECONDS
until curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  kill -0 "$web" 2>/dev/null || { tail -30 "$work/web.log"; die "web exited"; }
  [ $((SECONDS - t0)) -lt 180 ] || { tail -30 "$work/web.log"; die "/healthz did not answer in 180 s"; }
  sleep 1
done
echo "/healthz answered after $((SECONDS - t0)) s"
curl -fsS "http://127.0.0.1:$PORT/readyz" || die "/readyz is not 200"
echo

say "3. a worker transcribes an uploaded recording"
cp "$work/env" "$work/worker.env"
cat >> "$work/worker.env" <<EOF
REMAP_SIGTERM=SIGQUIT
WORKER_SOFT_SHUTDOWN_S=20
WORKER_METRICS_PORT=$WORKER_METRICS
EOF
in_image "$work/worker.env" celery -A hearus_site worker -Q nlp,media --prefetch-multiplier 1 \
  --concurrency 1 --loglevel WARNING --hostname smoke@%h > "$work/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
t0=$SECONDS
(in_image "$work/env" python /smoke/smoke_check.py /smoke/talk.wav 600) \
  || { tail -40 "$work/worker.log"; die "no transcription"; }
echo "transcribed in $((SECONDS - t0)) s (upload to stored segments, worker start and model load included)"

say "4. SIGTERM stops web and the worker cleanly"
for name in web worker; do
  pid=${!name}
  t0=$SECONDS
  kill -TERM "$pid"
  code=0
  wait "$pid" || code=$?
  [ "$code" = 0 ] || { tail -30 "$work/$name.log"; die "$name exited with $code on SIGTERM"; }
  echo "ok: $name stopped in $((SECONDS - t0)) s, exit 0"
done

say "smoke test passed (image $size)"
