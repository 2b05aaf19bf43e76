#!/usr/bin/env bash
# What `make bench` needs besides Redis and PostgreSQL: nginx as the fast local HTTP target
# of bench/pipeline.py. Optional: without it the pipeline benchmark falls back to a Python
# target in its own process and says so in its output.
set -euo pipefail

if [ -x /usr/sbin/nginx ]; then
    echo "bench setup: nginx is installed"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "bench setup: no nginx and no apt-get as root; the pipeline benchmark uses a Python target"
    exit 0
fi
echo "bench setup: installing nginx-light"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends nginx-light >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y --no-install-recommends nginx-light >/dev/null 2>&1 \
        || echo "bench setup: cannot install nginx-light; the pipeline benchmark uses a Python target"
fi
# The package starts a system nginx on port 80; the benchmark runs its own on a free port.
if command -v service >/dev/null 2>&1; then
    service nginx stop >/dev/null 2>&1 || true
fi
[ -x /usr/sbin/nginx ] && echo "bench setup: nginx installed" || true
