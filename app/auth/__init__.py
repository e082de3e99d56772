"""Authentication and authorization of API requests (front proxy, TokenReview, SubjectAccessReview)."""
