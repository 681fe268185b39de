"""Training jobs outside the API process: executors, the worker loop, the job runner, recovery."""
