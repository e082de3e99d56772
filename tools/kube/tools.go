//go:build tools

// Package tools pins the Kubernetes control-plane binaries that the test
// harness builds from published Go modules (see tools/build.sh).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
