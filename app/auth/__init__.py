"""Authentication and authorization of the backend: OIDC login, sessions, bearer tokens, SAR."""
