"""Database storage of API objects: rows, engine, object store with resourceVersions, change feed.

This package never imports HTTP frameworks; the registry and the aggregated API sit on top of it.
"""
