//go:build tools

// Package tools pins Dex, the real external OIDC provider the backend's login tests run against.
package tools

import _ "github.com/dexidp/dex/cmd/dex"
