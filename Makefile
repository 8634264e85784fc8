# remainroot: build, test, bench, demo and install.
GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
HOOKSDIR ?= /usr/share/containers/oci/hooks.d
SHAREDIR ?= $(PREFIX)/share/remainroot
# The precreate hook (podman exec, --user) has a directory of its own that
# a containers.conf drop-in adds to podman's hooks_dir: buildah fails root
# builds that find a precreate hook in $(HOOKSDIR).
PRECREATEDIR ?= $(SHAREDIR)/hooks.d
DROPINDIR ?= /etc/containers/containers.conf.d
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
MANDIR   ?= $(PREFIX)/share/man
# The Debian package's version: 0.<commits>+git<commit>-1.
DEBVERSION ?= 0.$(shell git rev-list --count HEAD 2>/dev/null || echo 0)+git$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)-1
DEBARCH  ?= $(shell dpkg --print-architecture 2>/dev/null || $(GO) env GOARCH)
export CGO_ENABLED ?= 0

.PHONY: all build unit test stress fuzz test-env bench demo install uninstall clean man deb

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/remainroot .

# Unit tests only: no root, no runtimes.
unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./attach/... ./shim/... ./config/... ./hook/... ./doctor/... ./nri/... ./imagefix/... ./runtimewrap/... ./imagestore/...

# The test environment (packages, the unprivileged user, images); root only.
test-env:
	@if [ "$$(id -u)" = 0 ]; then bash test/setup-env.sh; \
	else echo "make test-env: run as root to install the test environment" >&2; fi

# Everything: unit, integration (probe vs kernel, programs, signals, attach)
# and end-to-end (podman, runc, crun) tests.
test: build test-env
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 80m ./...
	$(MAKE) fuzz

# Issue 16's stress suite at full counts on saturated CPUs (test/stress;
# `make test` runs it with the default 60 runs and 10 sessions): each
# scenario STRESS_N times, STRESS_SESSIONS supervisor sessions per runtime
# shape; then TestFaults over FAULT_LIFECYCLES container lifecycles
# (`make test`: 20). Root only.
STRESS_N ?= 2000
STRESS_SESSIONS ?= 200
FAULT_LIFECYCLES ?= 100
stress: build test-env
	REMAINROOT_STRESS_N=$(STRESS_N) REMAINROOT_STRESS_SESSIONS=$(STRESS_SESSIONS) \
		$(GO) test -count=1 -v -timeout 6h ./test/stress
	REMAINROOT_FAULT_LIFECYCLES=$(FAULT_LIFECYCLES) $(GO) test -count=1 -v -timeout 3h -run '^TestFaults$$' ./test/e2e

# Each fuzz target for FUZZTIME on top of its checked-in corpus
# (testdata/fuzz/<target>/, which `go test` also runs as regression tests),
# one at a time (test/fuzz.sh). A failing input lands in that corpus.
FUZZTIME ?= 5s
FUZZ_TARGETS = ./hook:FuzzParseState ./config:FuzzFromAnnotations \
	./shim:FuzzDecodeOwner ./shim:FuzzEmulate ./shim:FuzzACL ./attach/auxv:FuzzFixAuxv ./attach/procfs:FuzzParseStatus \
	./hook:FuzzRewriteConfig ./hook:FuzzParseAgentMessage ./imagefix:FuzzFixLayer \
	./imagestore:FuzzReadTarSplit ./imagestore:FuzzLayerTar ./imagestore:FuzzMetadata ./imagestore:FuzzDecodeTable ./imagestore:FuzzStorePaths ./imagestore:FuzzDecodeEntry ./imagestore:FuzzMountSource ./imagestore:FuzzParseBlock
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash test/fuzz.sh $(FUZZ_TARGETS)

bench: build
	$(GO) run ./test/bench -bin bin/remainroot

demo: build test-env
	bash test/demo.sh bin/remainroot

install: build man
	install -D -m 0755 bin/remainroot $(DESTDIR)$(BINDIR)/remainroot
	install -D -m 0644 bin/remainroot.1 $(DESTDIR)$(MANDIR)/man1/remainroot.1
	install -d $(DESTDIR)$(HOOKSDIR)
	# Written aside and moved into place: a malformed file in hooks.d breaks
	# every podman run.
	bin/remainroot hooks-json --path $(BINDIR)/remainroot > $(DESTDIR)$(HOOKSDIR)/.remainroot.json.tmp
	mv -f $(DESTDIR)$(HOOKSDIR)/.remainroot.json.tmp $(DESTDIR)$(HOOKSDIR)/remainroot.json
	install -d $(DESTDIR)$(PRECREATEDIR) $(DESTDIR)$(SHAREDIR)/build-hooks.d $(DESTDIR)$(SHAREDIR)/build-hooks-full.d $(DESTDIR)$(DROPINDIR)
	bin/remainroot hooks-json --precreate --path $(BINDIR)/remainroot > $(DESTDIR)$(PRECREATEDIR)/remainroot-precreate.json
	bin/remainroot hooks-json --build --mode creds --path $(BINDIR)/remainroot > $(DESTDIR)$(SHAREDIR)/build-hooks.d/remainroot-build.json
	bin/remainroot hooks-json --build --mode full --path $(BINDIR)/remainroot > $(DESTDIR)$(SHAREDIR)/build-hooks-full.d/remainroot-build.json
	bin/remainroot hooks-json --drop-in $(PRECREATEDIR) > $(DESTDIR)$(DROPINDIR)/.50-remainroot.conf.tmp
	mv -f $(DESTDIR)$(DROPINDIR)/.50-remainroot.conf.tmp $(DESTDIR)$(DROPINDIR)/50-remainroot.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/remainroot $(DESTDIR)$(HOOKSDIR)/remainroot.json $(DESTDIR)$(MANDIR)/man1/remainroot.1
	rm -f $(DESTDIR)$(PRECREATEDIR)/remainroot-precreate.json $(DESTDIR)$(DROPINDIR)/50-remainroot.conf
	rm -f $(DESTDIR)$(SHAREDIR)/build-hooks.d/remainroot-build.json $(DESTDIR)$(SHAREDIR)/build-hooks-full.d/remainroot-build.json
	-rmdir $(DESTDIR)$(PRECREATEDIR) $(DESTDIR)$(SHAREDIR)/build-hooks.d $(DESTDIR)$(SHAREDIR)/build-hooks-full.d $(DESTDIR)$(SHAREDIR) 2>/dev/null

# The man page, remainroot(1), from markdown with go-md2man: the one on
# PATH (Debian's package go-md2man), else the Go module at GO_MD2MAN_MODULE
# through `go run` (from the module cache or the module proxy; -mod=mod
# because a pinned version is not this module's dependency).
GO_MD2MAN_MODULE ?= github.com/cpuguy83/go-md2man/v2@v2.0.7
man: bin/remainroot.1

bin/remainroot.1: docs/remainroot.1.md
	@mkdir -p bin
	@if command -v go-md2man >/dev/null 2>&1; then \
		echo "go-md2man -in docs/remainroot.1.md -out $@"; \
		go-md2man -in docs/remainroot.1.md -out $@; \
	elif command -v $(GO) >/dev/null 2>&1; then \
		echo "$(GO) run $(GO_MD2MAN_MODULE) -in docs/remainroot.1.md -out $@"; \
		GOFLAGS=-mod=mod $(GO) run $(GO_MD2MAN_MODULE) -in docs/remainroot.1.md -out $@ || \
		{ echo "make: $(GO) run $(GO_MD2MAN_MODULE) failed: install go-md2man (apt-get install go-md2man) to build the man page offline" >&2; exit 1; }; \
	else \
		echo "make: neither go-md2man nor $(GO) found: install go-md2man (apt-get install go-md2man) or Go to build the man page" >&2; exit 1; \
	fi

# bin/remainroot_<version>_<arch>.deb with dpkg-deb (packaging/deb/build.sh).
deb: man
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/deb/remainroot .
	bash packaging/deb/build.sh bin/deb/remainroot bin/remainroot.1 $(DEBVERSION) bin/remainroot_$(DEBVERSION)_$(DEBARCH).deb

clean:
	rm -rf bin
