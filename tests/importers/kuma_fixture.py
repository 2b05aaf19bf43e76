# ruff: noqa: E501 - the SQL schema keeps one table per statement, as the migrations write it
"""A realistic Uptime Kuma 2.x `kuma.db`, built from the tables Uptime Kuma's knex migrations create.

The columns are those of `db/knex_init_db.js` plus the later migrations the importer reads
(description, parent, timeout, keyword inversion, JSON query, body encoding, SMTP security,
maintenance cron/duration/timezone) and some it must report or ignore. Targets point at
the machine's local services, so the imported monitors can run.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE user (id INTEGER PRIMARY KEY AUTOINCREMENT, username VARCHAR(255) NOT NULL UNIQUE,
    password VARCHAR(255), active BOOLEAN NOT NULL DEFAULT 1, timezone VARCHAR(150),
    twofa_secret VARCHAR(64), twofa_status BOOLEAN NOT NULL DEFAULT 0, twofa_last_token VARCHAR(6));
CREATE TABLE proxy (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INT NOT NULL, protocol VARCHAR(10) NOT NULL,
    host VARCHAR(255) NOT NULL, port SMALLINT NOT NULL, auth BOOLEAN NOT NULL, username VARCHAR(255),
    password VARCHAR(255), active BOOLEAN NOT NULL DEFAULT 1, "default" BOOLEAN NOT NULL DEFAULT 0,
    created_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE monitor (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(150), active BOOLEAN NOT NULL DEFAULT 1,
    user_id INT REFERENCES user(id), interval INT NOT NULL DEFAULT 20, url TEXT, restart_url TEXT,
    type VARCHAR(20), weight INT DEFAULT 2000, hostname VARCHAR(255), port INT,
    created_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, keyword VARCHAR(255),
    maxretries INT NOT NULL DEFAULT 0, ignore_tls BOOLEAN NOT NULL DEFAULT 0, upside_down BOOLEAN NOT NULL DEFAULT 0,
    maxredirects INT NOT NULL DEFAULT 10, accepted_statuscodes_json TEXT NOT NULL DEFAULT '["200-299"]',
    dns_resolve_type VARCHAR(5), dns_resolve_server VARCHAR(255), dns_last_result VARCHAR(255),
    retry_interval INT NOT NULL DEFAULT 0, push_token VARCHAR(32) DEFAULT NULL, method TEXT NOT NULL DEFAULT 'GET',
    body TEXT DEFAULT NULL, headers TEXT DEFAULT NULL, basic_auth_user TEXT DEFAULT NULL,
    basic_auth_pass TEXT DEFAULT NULL, docker_host INT, docker_container VARCHAR(255), proxy_id INT,
    expiry_notification BOOLEAN DEFAULT 1, mqtt_topic TEXT, mqtt_success_message VARCHAR(255),
    mqtt_username VARCHAR(255), mqtt_password VARCHAR(255), database_connection_string VARCHAR(2000),
    database_query TEXT, auth_method VARCHAR(250), auth_domain TEXT, auth_workstation TEXT,
    grpc_url VARCHAR(255) DEFAULT NULL, grpc_protobuf TEXT DEFAULT NULL, grpc_body TEXT DEFAULT NULL,
    grpc_metadata TEXT DEFAULT NULL, grpc_method TEXT DEFAULT NULL, grpc_service_name TEXT DEFAULT NULL,
    grpc_enable_tls BOOLEAN NOT NULL DEFAULT 0, radius_username VARCHAR(255), radius_password VARCHAR(255),
    radius_calling_station_id VARCHAR(50), radius_called_station_id VARCHAR(50), radius_secret VARCHAR(255),
    resend_interval INT NOT NULL DEFAULT 0, packet_size INT NOT NULL DEFAULT 56, game VARCHAR(255),
    http_body_encoding VARCHAR(25), description TEXT DEFAULT NULL, parent INT REFERENCES monitor(id),
    timeout DOUBLE DEFAULT 0, invert_keyword BOOLEAN NOT NULL DEFAULT 0, json_path TEXT, expected_value VARCHAR(255),
    json_path_operator VARCHAR(10) DEFAULT '==', kafka_producer_topic VARCHAR(255), kafka_producer_brokers TEXT,
    kafka_producer_message TEXT, mqtt_check_type VARCHAR(255) NOT NULL DEFAULT 'keyword',
    smtp_security VARCHAR(255) DEFAULT NULL, cache_bust BOOLEAN NOT NULL DEFAULT 0, conditions TEXT NOT NULL DEFAULT '[]');
CREATE TABLE tag (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL, color VARCHAR(255) NOT NULL,
    created_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE monitor_tag (id INTEGER PRIMARY KEY AUTOINCREMENT, monitor_id INT NOT NULL REFERENCES monitor(id),
    tag_id INT NOT NULL REFERENCES tag(id), value TEXT);
CREATE TABLE notification (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255), active BOOLEAN NOT NULL DEFAULT 1,
    user_id INT, is_default BOOLEAN NOT NULL DEFAULT 0, config TEXT);
CREATE TABLE monitor_notification (id INTEGER PRIMARY KEY AUTOINCREMENT, monitor_id INT NOT NULL,
    notification_id INT NOT NULL);
CREATE TABLE status_page (id INTEGER PRIMARY KEY AUTOINCREMENT, slug VARCHAR(255) NOT NULL UNIQUE,
    title VARCHAR(255) NOT NULL, description TEXT, icon VARCHAR(255) NOT NULL, theme VARCHAR(30) NOT NULL,
    published BOOLEAN NOT NULL DEFAULT 1, search_engine_index BOOLEAN NOT NULL DEFAULT 1,
    show_tags BOOLEAN NOT NULL DEFAULT 0, password VARCHAR, created_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    modified_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, footer_text TEXT, custom_css TEXT,
    show_powered_by BOOLEAN NOT NULL DEFAULT 1, google_analytics_tag_id VARCHAR);
CREATE TABLE `group` (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL,
    created_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, public BOOLEAN NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT 1, weight INT NOT NULL DEFAULT 1000, status_page_id INT);
CREATE TABLE monitor_group (id INTEGER PRIMARY KEY AUTOINCREMENT, monitor_id INT NOT NULL, group_id INT NOT NULL,
    weight INT NOT NULL DEFAULT 1000, send_url BOOLEAN NOT NULL DEFAULT 0);
CREATE TABLE status_page_cname (id INTEGER PRIMARY KEY AUTOINCREMENT, status_page_id INT, domain VARCHAR NOT NULL UNIQUE);
CREATE TABLE maintenance (id INTEGER PRIMARY KEY AUTOINCREMENT, title VARCHAR(150) NOT NULL, description TEXT NOT NULL,
    user_id INT, active BOOLEAN NOT NULL DEFAULT 1, strategy VARCHAR(50) NOT NULL DEFAULT 'single',
    start_date DATETIME, end_date DATETIME, start_time TIME, end_time TIME, weekdays VARCHAR(250) DEFAULT '[]',
    days_of_month TEXT DEFAULT '[]', interval_day INT, cron TEXT, timezone VARCHAR(255), duration INT);
CREATE TABLE monitor_maintenance (id INTEGER PRIMARY KEY AUTOINCREMENT, monitor_id INT NOT NULL,
    maintenance_id INT NOT NULL);
CREATE TABLE heartbeat (id INTEGER PRIMARY KEY AUTOINCREMENT, important BOOLEAN NOT NULL DEFAULT 0,
    monitor_id INT NOT NULL, status SMALLINT NOT NULL, msg TEXT, time DATETIME NOT NULL, ping INT,
    duration INT NOT NULL DEFAULT 0, down_count INT NOT NULL DEFAULT 0);
CREATE TABLE setting (id INTEGER PRIMARY KEY AUTOINCREMENT, key VARCHAR(200) NOT NULL UNIQUE, value TEXT, type VARCHAR(20));
"""


def monitors(web_port: int) -> list[dict[str, object]]:
    web = f"http://127.0.0.1:{web_port}"
    return [
        {"id": 1, "name": "Shop", "type": "group", "interval": 60},
        {
            "id": 2,
            "name": "Checkout API",
            "type": "http",
            "url": web + "/",
            "interval": 30,
            "retry_interval": 10,
            "maxretries": 2,
            "timeout": 24,
            "parent": 1,
            "headers": json.dumps({"X-Probe": "kuma"}),
            "basic_auth_user": "probe",
            "basic_auth_pass": "hunter2",
            "http_body_encoding": "json",
            "description": "The checkout backend",
            "resend_interval": 5,
        },
        {
            "id": 3,
            "name": "Homepage keyword",
            "type": "keyword",
            "url": web + "/",
            "keyword": "ok",
            "parent": 1,
            "accepted_statuscodes_json": '["200-299", "304"]',
        },
        {
            "id": 4,
            "name": "Health JSON",
            "type": "json-query",
            "url": web + "/",
            "json_path": "status",
            "expected_value": "ok",
            "active": 0,
        },
        {"id": 5, "name": "Postgres port", "type": "port", "hostname": "127.0.0.1", "port": 5432},
        {
            "id": 6,
            "name": "Orders DB",
            "type": "postgres",
            "interval": 120,
            "database_connection_string": "postgres://postgres:s3cret@127.0.0.1:5432/postgres",
            "database_query": "SELECT count(*) FROM pg_database",
        },
        {"id": 7, "name": "Cache", "type": "redis", "database_connection_string": "redis://127.0.0.1:6379/0"},
        {
            "id": 8,
            "name": "Legacy DB",
            "type": "mysql",
            "database_connection_string": "mysql://root@127.0.0.1:3306/mysql",
            "database_query": "SELECT 1",
        },
        {
            "id": 9,
            "name": "Broker",
            "type": "mqtt",
            "hostname": "127.0.0.1",
            "port": 1883,
            "mqtt_topic": "kubekuma/test/import",
            "mqtt_success_message": "ready",
            "mqtt_check_type": "keyword",
        },
        {"id": 10, "name": "Backup job", "type": "push", "push_token": "Xb9kQ2mN4pL7", "interval": 86400},
        {
            "id": 11,
            "name": "Resolver",
            "type": "dns",
            "hostname": "example.com",
            "dns_resolve_type": "MX",
            "dns_resolve_server": "1.1.1.1",
            "port": 53,
        },
        {
            "id": 12,
            "name": "Loopback ping",
            "type": "ping",
            "hostname": "127.0.0.1",
            "packet_size": 64,
            "upside_down": 0,
        },
        {
            "id": 13,
            "name": "Nginx container",
            "type": "docker",
            "docker_container": "nginx",
            "docker_host": 1,
        },
        {"id": 14, "name": "Browser check", "type": "real-browser", "url": "https://shop.example/"},
        {
            "id": 15,
            "name": "gRPC API",
            "type": "grpc-keyword",
            "grpc_url": "127.0.0.1:50051",
            "grpc_enable_tls": 0,
            "grpc_method": "Check",
            "grpc_service_name": "grpc.health.v1.Health",
            "keyword": "SERVING",
        },
        {
            "id": 16,
            "name": "Mail relay",
            "type": "smtp",
            "hostname": "127.0.0.1",
            "port": 2525,
            "smtp_security": "starttls",
        },
        {
            "id": 17,
            "name": "Kafka producer",
            "type": "kafka-producer",
            "kafka_producer_topic": "probe",
            "kafka_producer_brokers": '["kafka:9092"]',
        },
    ]


NOTIFICATIONS = [
    {
        "id": 1,
        "name": "Ops Slack",
        "is_default": 0,
        "config": {
            "name": "Ops Slack",
            "type": "slack",
            "slackwebhookURL": "https://hooks.slack.com/services/T0/B0/XyZ",
            "slackchannel": "#ops",
            "slackusername": "kuma",
            "isDefault": False,
            "applyExisting": True,
        },
    },
    {
        "id": 2,
        "name": "On-call mail",
        "is_default": 1,
        "config": {
            "name": "On-call mail",
            "type": "smtp",
            "smtpHost": "smtp.example.com",
            "smtpPort": 465,
            "smtpSecure": True,
            "smtpUsername": "alerts",
            "smtpPassword": "mail-pass",
            "smtpFrom": "kuma@example.com",
            "smtpTo": "oncall@example.com, ops@example.com",
            "customSubject": "{{NAME}} is {{STATUS}}",
        },
    },
    {
        "id": 3,
        "name": "Team Telegram",
        "is_default": 0,
        "config": {"type": "telegram", "telegramBotToken": "123456:ABCdef", "telegramChatID": "-100123"},
    },
    {
        "id": 4,
        "name": "Signal group",
        "is_default": 0,
        "config": {"type": "signal", "signalURL": "http://signal:8080", "signalNumber": "+100"},
    },
    {
        "id": 5,
        "name": "Incident hook",
        "is_default": 0,
        "active": 0,
        "config": {
            "type": "webhook",
            "webhookURL": "https://hooks.example/kuma",
            "webhookContentType": "json",
            "webhookAdditionalHeaders": '{"X-Token": "abc"}',
        },
    },
]


def build(path: Path, web_port: int) -> Path:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("INSERT INTO user (username, password) VALUES ('admin', '$2a$10$hash')")
    for m in monitors(web_port):
        cols = ", ".join(m)
        db.execute(f"INSERT INTO monitor ({cols}) VALUES ({', '.join('?' * len(m))})", list(m.values()))
    for tid, name, color in ((1, "env", "#059669"), (2, "team", "#2563EB"), (3, "Critical Path", "#DC2626")):
        db.execute("INSERT INTO tag (id, name, color) VALUES (?, ?, ?)", (tid, name, color))
    for monitor_id, tag_id, value in ((2, 1, "prod"), (2, 2, "payments"), (2, 3, ""), (6, 1, "prod")):
        db.execute(
            "INSERT INTO monitor_tag (monitor_id, tag_id, value) VALUES (?, ?, ?)",
            (monitor_id, tag_id, value),
        )
    for n in NOTIFICATIONS:
        db.execute(
            "INSERT INTO notification (id, name, active, is_default, config) VALUES (?, ?, ?, ?, ?)",
            (n["id"], n["name"], n.get("active", 1), n["is_default"], json.dumps(n["config"])),
        )
    for monitor_id, nid in ((2, 1), (3, 1), (6, 1), (6, 3), (13, 1), (2, 5)):
        db.execute(
            "INSERT INTO monitor_notification (monitor_id, notification_id) VALUES (?, ?)", (monitor_id, nid)
        )
    db.execute(
        "INSERT INTO status_page (id, slug, title, description, icon, theme, footer_text) VALUES "
        "(1, 'shop', 'Shop status', 'Checkout and storage', '/icon.svg', 'auto', 'Powered by us')"
    )
    db.execute(
        "INSERT INTO `group` (id, name, public, weight, status_page_id) VALUES (1, 'Storefront', 1, 1, 1)"
    )
    db.execute("INSERT INTO `group` (id, name, public, weight, status_page_id) VALUES (2, 'Data', 1, 2, 1)")
    for monitor_id, group_id, weight in ((2, 1, 1), (3, 1, 2), (6, 2, 1), (7, 2, 2), (13, 2, 3)):
        db.execute(
            "INSERT INTO monitor_group (monitor_id, group_id, weight) VALUES (?, ?, ?)",
            (monitor_id, group_id, weight),
        )
    db.execute("INSERT INTO status_page_cname (status_page_id, domain) VALUES (1, 'status.shop.example')")
    windows = [
        (
            1,
            "Database upgrade",
            "Orders DB moves to v16",
            "single",
            "2026-12-20 22:00:00",
            "2026-12-21 01:30:00",
            None,
            None,
            "[]",
            "[]",
            None,
            None,
            "Europe/Berlin",
        ),
        (
            2,
            "Weekly reindex",
            "",
            "recurring-weekday",
            "2026-01-01 00:00:00",
            None,
            "02:00",
            "03:00",
            "[1, 3]",
            "[]",
            None,
            None,
            "UTC",
        ),
        (3, "Cron window", "", "cron", None, None, None, None, "[]", "[]", None, "0 4 * * *", "UTC"),
        (4, "Manual freeze", "", "manual", None, None, None, None, "[]", "[]", None, None, None),
    ]
    db.executemany(
        "INSERT INTO maintenance (id, title, description, strategy, start_date, end_date, start_time, "
        "end_time, weekdays, days_of_month, interval_day, cron, timezone) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        windows,
    )
    for monitor_id, mid in ((6, 1), (7, 2), (2, 3), (2, 4)):
        db.execute(
            "INSERT INTO monitor_maintenance (monitor_id, maintenance_id) VALUES (?, ?)", (monitor_id, mid)
        )
    db.execute(
        "INSERT INTO heartbeat (monitor_id, status, msg, time, ping) VALUES (2, 1, '200 - OK', "
        "'2026-12-01 10:00:00', 42)"
    )
    db.commit()
    db.close()
    return path


def backup(web_port: int) -> dict[str, object]:
    """A 1.x backup export (Settings > Backup), as Monitor.toJSON() and the notification rows write it."""
    web = f"http://127.0.0.1:{web_port}"
    return {
        "version": "1.23.16",
        "notificationList": [
            {
                "id": 1,
                "name": "Ops Discord",
                "active": True,
                "userId": 1,
                "isDefault": False,
                "config": json.dumps(
                    {
                        "name": "Ops Discord",
                        "type": "discord",
                        "discordWebhookUrl": "https://discord.com/api/webhooks/1/abc",
                        "discordUsername": "kuma",
                    }
                ),
            },
        ],
        "monitorList": [
            {
                "id": 1,
                "name": "Public site",
                "url": web + "/",
                "method": "GET",
                "hostname": None,
                "port": None,
                "maxretries": 1,
                "weight": 2000,
                "active": True,
                "type": "keyword",
                "interval": 60,
                "retryInterval": 60,
                "resendInterval": 0,
                "keyword": "ok",
                "invertKeyword": False,
                "expiryNotification": False,
                "ignoreTls": True,
                "upsideDown": False,
                "packetSize": 56,
                "maxredirects": 0,
                "accepted_statuscodes": ["200-299"],
                "dns_resolve_type": "A",
                "dns_resolve_server": "1.1.1.1",
                "dns_last_result": None,
                "docker_container": "",
                "docker_host": None,
                "proxyId": None,
                "notificationIDList": {"1": True},
                "tags": [
                    {
                        "id": 1,
                        "monitor_id": 1,
                        "tag_id": 1,
                        "value": "web",
                        "name": "tier",
                        "color": "#2563EB",
                    }
                ],
                "maintenance": False,
                "mqttTopic": "",
                "mqttSuccessMessage": "",
                "databaseQuery": None,
                "authMethod": None,
                "grpcUrl": None,
                "grpcEnableTls": False,
                "httpBodyEncoding": "json",
                "headers": None,
                "body": None,
                "basic_auth_user": None,
                "basic_auth_pass": None,
                "pushToken": None,
                "includeSensitiveData": True,
            },
            {
                "id": 2,
                "name": "Redis",
                "type": "redis",
                "interval": 30,
                "retryInterval": 30,
                "maxretries": 0,
                "active": True,
                "databaseConnectionString": "redis://127.0.0.1:6379",
                "notificationIDList": {},
                "tags": [],
                "accepted_statuscodes": ["200-299"],
            },
            {
                "id": 3,
                "name": "Heartbeat",
                "type": "push",
                "interval": 300,
                "pushToken": "abc123def456",
                "active": False,
                "notificationIDList": {"1": True},
                "tags": [],
                "accepted_statuscodes": ["200-299"],
            },
            {
                "id": 4,
                "name": "Game server",
                "type": "gamedig",
                "hostname": "game.example",
                "port": 27015,
                "game": "csgo",
                "interval": 60,
                "active": True,
                "notificationIDList": {},
                "tags": [],
                "accepted_statuscodes": ["200-299"],
            },
        ],
    }
