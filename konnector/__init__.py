"""konnector package."""
