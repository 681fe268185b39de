"""The HTTP layer: routers, schemas, dependencies, error mapping and middleware."""
