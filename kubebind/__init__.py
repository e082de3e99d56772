"""kubebind package."""
