"""The web role: REST API, dashboard, status pages, badges, push and /metrics on Falcon."""
