"""HTTP plumbing the routers share: errors, auth, middleware, metrics, negotiation, ETags,
pagination links, OpenAPI."""
