#!/bin/sh
# Every Hearus container starts here: empty the Prometheus multiprocess folder (a restarted
# container must not add its predecessor's counts), then exec the command, so that it becomes
# PID 1 and receives Kubernetes' SIGTERM itself (hearus_site.serve drains broadcasts on it).
set -eu

if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -maxdepth 1 -name '*.db' -delete
fi

exec "$@"
