"""HTTP face of the kube-bind.io/v1alpha2 aggregated API: routes, discovery, OpenAPI, watch, Table."""
