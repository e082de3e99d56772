"""kubebind/apis package."""
