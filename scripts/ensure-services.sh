#!/usr/bin/env bash
# Make sure the services the tests talk to are up on loopback; start any that is installed but down.
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
# The servers the monitor types are tested against: started when installed but down, never
# restarted when running (other engineers' tests may be using them).
port_open() { # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

if ! port_open 3306 && command -v mariadbd >/dev/null 2>&1; then
    echo "ensure-services: starting MariaDB"
    if [ -x /etc/init.d/mariadb ]; then
        service mariadb start >/dev/null 2>&1 || true
    else
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
        (mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1 &)
    fi
    wait_for MariaDB "port_open 3306"
fi

if ! port_open 5672 && command -v rabbitmq-server >/dev/null 2>&1; then
    echo "ensure-services: starting RabbitMQ"
    if [ -x /etc/init.d/rabbitmq-server ]; then
        service rabbitmq-server start >/dev/null 2>&1 || true
    else
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached >/dev/null 2>&1 || true
    fi
    for _ in $(seq 1 150); do port_open 5672 && break; sleep 0.2; done  # Erlang boots slowly
    port_open 5672 || echo "ensure-services: RabbitMQ did not come up" >&2
fi

if ! port_open 1883 && command -v mosquitto >/dev/null 2>&1; then
    echo "ensure-services: starting Mosquitto"
    if [ -f /etc/mosquitto/mosquitto.conf ]; then
        mosquitto -d -c /etc/mosquitto/mosquitto.conf
    else
        mosquitto -d -p 1883
    fi
    wait_for Mosquitto "port_open 1883"
fi

if ! port_open 4222 && command -v nats-server >/dev/null 2>&1; then
    echo "ensure-services: starting NATS with JetStream"
    mkdir -p /var/lib/nats-server
    (nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server >/dev/null 2>&1 &)
    wait_for NATS "port_open 4222"
fi

# Prometheus (promtool, the scrape test) and Alertmanager (the provider test) are Debian
# packages the tests start themselves; install them once when apt-get can (a no-op after).
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure-services: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
            apt-get update -qq >/dev/null 2>&1 || true
            apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
                || echo "ensure-services: cannot install ${missing[*]}; their tests will be skipped" >&2
        fi
        # The packages start system services on :9090/:9093; the tests run their own on free ports.
        for svc in prometheus prometheus-alertmanager; do
            command -v service >/dev/null 2>&1 && service "$svc" stop >/dev/null 2>&1 || true
        done
    else
        echo "ensure-services: ${missing[*]} not installed (needs root and apt-get); their tests will be skipped"
    fi
fi
echo "ensure-services: services are up"

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
