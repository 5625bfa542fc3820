"""Watching the server run: readiness, Prometheus metrics and the JSON access log (docs/operations.md)."""
