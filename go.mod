module github.com/remainroot/remainroot

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/opencontainers/runtime-spec v1.3.0
	github.com/vbatts/tar-split v0.12.3
	go.podman.io/common v0.69.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	github.com/sirupsen/logrus v1.9.4 // indirect
	go.podman.io/storage v1.64.0 // indirect
)
