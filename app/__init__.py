"""annserve HTTP service."""
