"""annserve core: the pure-numpy neural-network engine (the course notes ANN, generalized)."""
