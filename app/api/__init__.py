"""The HTTP layer of annserve.

* ``routers/``: the endpoints, one module per resource; each parses, calls a service, answers.
* ``http/``: the plumbing they share: the error table and problem+json handlers, auth,
  middleware (HEAD included), metrics, content negotiation, ETags and conditional answers,
  pagination links, the OpenAPI document, the direct route class and the shared query
  parameters.
* ``schemas/``: the pydantic request and response bodies.
* ``deps.py``: every dependency provider, and the only reader of ``app.state`` besides
  ``app.main``; ``routes.py``: which routers the app mounts.
"""
