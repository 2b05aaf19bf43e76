"""A realistic Gatus configuration, written as its README documents the format."""

from __future__ import annotations

CONFIG = """\
storage:
  type: sqlite
  path: /data/data.db
web:
  port: 8080
ui:
  title: Shop health
  description: What the shop runs on
  header: Shop
  logo: https://shop.example/logo.png
alerting:
  slack:
    webhook-url: "${{SLACK_WEBHOOK_URL}}"
    default-alert:
      send-on-resolved: true
  email:
    from: gatus@example.com
    username: gatus
    password: mail-pass
    host: smtp.example.com
    port: 587
    to: oncall@example.com,ops@example.com
    client:
      insecure: false
  pagerduty:
    integration-key: 0123456789abcdef0123456789abcdef
  jetbrains-space:
    project: kubekuma
    channel-id: abc
    token: xyz
maintenance:
  start: "23:00"
  duration: 1h
  timezone: Europe/Amsterdam
  every: [Monday, Thursday]
endpoints:
  - name: storefront
    group: core
    url: "http://127.0.0.1:{web_port}/"
    interval: 30s
    client:
      timeout: 5s
    headers:
      X-Probe: gatus
    conditions:
      - "[STATUS] == 200"
      - "[BODY] == pat(*ok*)"
      - "[RESPONSE_TIME] < 500"
    alerts:
      - type: slack
        failure-threshold: 3
        success-threshold: 2
      - type: pagerduty
        failure-threshold: 5
        send-on-resolved: true
        description: storefront down
  - name: health api
    group: core
    url: "http://127.0.0.1:{web_port}/health"
    method: POST
    body: '{{"probe": true}}'
    conditions:
      - "[STATUS] < 300"
      - "[BODY].status == UP"
      - "len([BODY].items) > 0"
  - name: postgres
    group: data
    url: "tcp://127.0.0.1:5432"
    interval: 1m
    conditions:
      - "[CONNECTED] == true"
    alerts:
      - type: email
        failure-threshold: 2
        success-threshold: 1
  - name: example mx
    group: dns
    url: "1.1.1.1"
    dns:
      query-name: example.com
      query-type: MX
    conditions:
      - "[DNS_RCODE] == NOERROR"
  - name: loopback
    url: "icmp://127.0.0.1"
    conditions:
      - "[CONNECTED] == true"
  - name: mail relay
    url: "starttls://smtp.example.com:587"
    conditions:
      - "[CONNECTED] == true"
      - "[CERTIFICATE_EXPIRATION] > 48h"
  - name: shop certificate
    url: "tls://shop.example:443"
    conditions:
      - "[CERTIFICATE_EXPIRATION] > 240h"
  - name: bastion
    url: "ssh://bastion.example:22"
    ssh:
      username: probe
      password: secret
    conditions:
      - "[STATUS] == 0"
  - name: disabled one
    enabled: false
    url: "https://old.example/"
    conditions:
      - "[STATUS] == any(200, 204)"
external-endpoints:
  - name: nightly backup
    group: jobs
    token: "potato-token"
    heartbeat:
      interval: 25h
    alerts:
      - type: slack
"""
