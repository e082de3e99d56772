"""kubebind/localcluster package."""
