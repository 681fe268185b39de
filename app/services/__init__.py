"""Use cases of the service: plain Python, no HTTP, no FastAPI."""
