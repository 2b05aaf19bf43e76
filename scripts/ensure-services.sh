#!/usr/bin/env bash
# Make sure the services the tests talk to are up on loopback; start any that is down.
set -euo pipefail

wait_for() { # name, command
    for _ in $(seq 1 50); do
        if eval "$2" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "ensure-services: $1 did not come up" >&2
    return 1
}

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "ensure-services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping"
fi

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432"
fi
echo "ensure-services: Redis and PostgreSQL are up"

# Headless Chromium renders pages and badges with injection payloads (tests/http/test_browser.py).
# Installed once where apt-get and root are at hand; elsewhere those tests skip, saying why.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "ensure-services: installing Chromium for the browser tests"
        (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
            || echo "ensure-services: could not install Chromium; browser tests will be skipped" >&2
    else
        echo "ensure-services: no chromium binary; browser tests will be skipped" >&2
    fi
fi
