"""The API's endpoints, one module per resource: each only parses, calls a service and answers."""
