//go:build tools

// Package tools pins the Helm CLI used to lint, render and test the charts in charts/.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
