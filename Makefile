# remainroot build, test, bench and install.
GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
HOOKSDIR ?= /usr/share/containers/oci/hooks.d
export CGO_ENABLED ?= 0

.PHONY: all build test unit bench install demo clean

all: build

build:
	$(GO) build -trimpath -o bin/remainroot .

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./attach/... ./shim/... ./config/... ./hook/...

test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

bench: build
	$(GO) run ./test/bench

install: build
	install -D -m 0755 bin/remainroot $(DESTDIR)$(BINDIR)/remainroot

clean:
	rm -rf bin
