"""konnector sync."""
