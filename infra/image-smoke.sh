#!/usr/bin/env bash
# Build the image from infra/docker/Dockerfile and smoke-test it, on one machine, without Docker:
#
#   bash infra/image-smoke.sh            build, then test
#   SMOKE_SKIP_BUILD=1 bash infra/image-smoke.sh    test the image built last time
#
# Build: buildah (`--isolation chroot --storage-driver vfs`: no daemon, no user namespaces, no
# overlay mounts needed). When the base image python:3.11-slim-bookworm cannot be pulled (no
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
# Prints the image size and each step's time. Needs root, buildah, podman, debootstrap (only
# without a reachable registry), espeak-ng, curl, pg_isready, and 2+ GB of free disk per
# build layer (vfs copies every layer: ~15 GB in all).
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
podman=(podman "${STORAGE[@]}" --cgroup-manager cgroupfs --events-backend file)

started=$(date +%s)
say() { printf '\n\033[1m== [%4ss] %s\033[0m\n' "$(($(date +%s) - started))" "$*"; }
die() { echo "SMOKE FAILED: $*" >&2; exit 1; }

for tool in buildah podman curl espeak-ng pg_isready; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

# -- the base image ---------------------------------------------------------------------------
base_image() {
  if "${podman[@]}" image exists "$BASE"; then return; fi
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
  tar -C "$BASE_ROOT" -c . | "${podman[@]}" import -q --change 'CMD ["python3"]' - "$BASE" >/dev/null
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
  nice -n 19 "${buildah[@]}" bud --isolation chroot --layers "${args[@]}" \
    -f infra/docker/Dockerfile -t "$IMAGE" . >/tmp/hearus-image-build.log 2>&1 \
    || { tail -40 /tmp/hearus-image-build.log; die "the build failed (log: /tmp/hearus-image-build.log)"; }
  echo "built in $((SECONDS - t0)) s"
}

if [ "${SMOKE_SKIP_BUILD:-0}" != 1 ]; then
  base_image
  build
fi
"${podman[@]}" image exists "$IMAGE" || die "no image $IMAGE: build it first"
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE: $((size / 1000000)) MB"

# -- the smoke test ---------------------------------------------------------------------------
work=$(mktemp -d)
containers=()
cleanup() {
  local name
  for name in "${containers[@]}"; do "${podman[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true; done
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

secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+')
tmpfs_options=rw,size=512m,mode=1777
run_args=(
  --network host --read-only --tmpfs "/tmp:$tmpfs_options"
  --cap-drop ALL --security-opt no-new-privileges
  -v "$work/media:/var/lib/hearus/media" -v "$work/in:/smoke:ro"
  -e SECRET_KEY="$secret" -e DATABASE_URL="$DATABASE_URL" -e REDIS_URL="$REDIS_URL"
  -e "ALLOWED_HOSTS=127.0.0.1,localhost" -e SECURE_SSL_REDIRECT=false -e LOG_LEVEL=WARNING
)

say "1. who runs it, and the root file system"
uid=$("${podman[@]}" run --rm "${run_args[@]}" "$IMAGE" id -u)
[ "$uid" = 10001 ] || die "the image runs as uid $uid, not 10001"
if "${podman[@]}" run --rm "${run_args[@]}" "$IMAGE" sh -c 'touch /app/written' 2>/dev/null; then
  die "the root file system is writable"
fi
echo "ok: uid 10001, read-only root"

say "2. migrations, web, /healthz and /readyz"
"${podman[@]}" run --rm "${run_args[@]}" "$IMAGE" python manage.py migrate --noinput -v 0
containers+=(hearus-smoke-web)
"${podman[@]}" run -d --name hearus-smoke-web "${run_args[@]}" "$IMAGE" \
  python -m hearus_site.serve -b 127.0.0.1 -p "$PORT" hearus_site.asgi:application >/dev/null
t0=$SECONDS
until curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  [ $((SECONDS - t0)) -lt 180 ] || { "${podman[@]}" logs hearus-smoke-web | tail -30; die "/healthz did not answer in 180 s"; }
  sleep 1
done
echo "/healthz answered after $((SECONDS - t0)) s"
curl -fsS "http://127.0.0.1:$PORT/readyz" || die "/readyz is not 200"
echo

say "3. a worker transcribes an uploaded recording"
containers+=(hearus-smoke-worker)
"${podman[@]}" run -d --name hearus-smoke-worker "${run_args[@]}" -e REMAP_SIGTERM=SIGQUIT \
  -e WORKER_SOFT_SHUTDOWN_S=20 -e WORKER_METRICS_PORT="$WORKER_METRICS" "$IMAGE" \
  celery -A hearus_site worker -Q nlp,media --prefetch-multiplier 1 --concurrency 1 \
  --loglevel WARNING --hostname smoke@%h >/dev/null
t0=$SECONDS
"${podman[@]}" exec hearus-smoke-web python /smoke/smoke_check.py /smoke/talk.wav 600 \
  || { "${podman[@]}" logs hearus-smoke-worker | tail -40; die "no transcription"; }
echo "transcribed in $((SECONDS - t0)) s (upload to stored segments, model load included)"

say "4. SIGTERM stops web and the worker cleanly"
for name in hearus-smoke-web hearus-smoke-worker; do
  t0=$SECONDS
  "${podman[@]}" stop -t 90 "$name" >/dev/null
  code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$name")
  [ "$code" = 0 ] || { "${podman[@]}" logs "$name" | tail -30; die "$name exited with $code on SIGTERM"; }
  echo "ok: $name stopped in $((SECONDS - t0)) s, exit 0"
done

say "smoke test passed (image $((size / 1000000)) MB)"
