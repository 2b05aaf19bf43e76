"""The controller role: watch the resources, validate them, keep the cache and their status."""
