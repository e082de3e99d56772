"""konnector engine."""
