"""kubebind/apis/v1alpha2 package."""
