"""kubectl_bind package."""
