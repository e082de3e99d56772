module github.com/kube-bind-py/tools/dex

go 1.26.0

require github.com/dexidp/dex v0.0.0-20260303133905-11d2eeb52b42
