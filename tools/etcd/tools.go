//go:build tools

// Package tools pins the etcd server that the local control planes use.
package tools

import _ "go.etcd.io/etcd/server/v3"
