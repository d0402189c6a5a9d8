"""The HTTP API: app factory, route table, middlewares, request schemas, serialisers, handlers."""
