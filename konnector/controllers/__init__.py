"""konnector controllers."""
