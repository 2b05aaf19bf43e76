"""Notification providers: one module per destination behind a small interface and a registry."""
