package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/remainroot/remainroot/imagefix"
	"github.com/remainroot/remainroot/imagestore"
)

// fixImageStoreRole is the hidden command that writes the fixed layout of
// an image straight from the user's storage; rootless, fix-image runs it
// in `podman unshare`, where the storage's files (mode 000 ones too) can
// be read.
const fixImageStoreRole = "__fix-image-store"

// fixImageFromStore fixes image id without podman save: it writes into
// dir (which must not exist) an OCI layout of the image made from the
// storage podman uses (imagestore.WriteImageLayout) and fixes it with the
// base layers left out of it: they are read from their tar-split for their
// headers only, and the build layers are made from their tar-split and
// their files in the storage (OpenLayerTar), checked against their
// diff-digest. Only the rewritten layers, the config and the manifest
// become files in dir.
func fixImageFromStore(id, dir string, opts imagefix.Options, log *slog.Logger) (imagefix.ImageReport, error) {
	var ir imagefix.ImageReport
	store, err := podmanStore()
	if err != nil {
		return ir, err
	}
	if os.Geteuid() == 0 {
		return fixStoreLayout(store, id, dir, opts)
	}
	exe, err := os.Executable()
	if err != nil {
		return ir, err
	}
	level := "info"
	if !log.Enabled(context.Background(), slog.LevelInfo) {
		level = "warn"
	}
	args := []string{"unshare", exe, fixImageStoreRole, "--graphroot", store.GraphRoot, "--driver", store.Driver,
		"--out", dir, "--base-layers", strconv.Itoa(opts.BaseLayers), "--log-level", level}
	if !opts.BuiltSince.IsZero() {
		args = append(args, "--built-since", opts.BuiltSince.Format(time.RFC3339Nano))
	}
	cmd := exec.Command("podman", append(args, id)...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr // the inner log passes through
	runErr := cmd.Run()
	var res storeResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		if runErr != nil {
			return ir, fmt.Errorf("podman unshare %s: %w", fixImageStoreRole, runErr)
		}
		return ir, fmt.Errorf("%s: its report: %w", fixImageStoreRole, err)
	}
	if res.Error != "" {
		return ir, errors.New(res.Error)
	}
	return res.Image, runErr
}

// podmanStore is the storage podman uses, as podman info names it; its
// driver must be one imagestore reads layers of.
func podmanStore() (imagestore.Store, error) {
	out, err := runPodman(nil, "info", "--format", "{{.Store.GraphRoot}}\n{{.Store.GraphDriverName}}")
	if err != nil {
		return imagestore.Store{}, err
	}
	f := strings.Split(strings.TrimSpace(out), "\n")
	if len(f) != 2 || f[0] == "" || f[1] == "" {
		return imagestore.Store{}, fmt.Errorf("podman info: want the graph root and the driver, got %q", out)
	}
	store := imagestore.Store{GraphRoot: f[0], Driver: f[1]}
	return store, store.CheckDriver()
}

// storeLayoutDir is where the fixed layout goes: a new directory in tmp
// when its path makes a name podman load accepts (see loadableName), else
// in the storage's own temporary directory (<graphroot>/tmp), removed by
// cleanup.
func storeLayoutDir(tmp string) (dir string, cleanup func(), err error) {
	noop := func() {}
	if loadableName(tmp) {
		return filepath.Join(tmp, "store"), noop, nil
	}
	store, err := podmanStore()
	if err != nil {
		return "", noop, err
	}
	d, err := os.MkdirTemp(filepath.Join(store.GraphRoot, "tmp"), "remainroot-fix-image-")
	if err != nil {
		return "", noop, err
	}
	cleanup = func() { os.RemoveAll(d) }
	if !loadableName(d) {
		cleanup()
		return "", noop, fmt.Errorf("podman load names an OCI directory after its path, and neither %s nor %s makes an image name (lowercase letters, digits, separators)", tmp, d)
	}
	return filepath.Join(d, "store"), cleanup, nil
}

// loadableName says whether podman load accepts the OCI directory
// dir/store: it names it "localhost" and the directory's path with its
// symlinks resolved (containers/common libimage's copyFromDefault,
// toLocalImageName), which must be a valid reference name: lowercase
// path components, at most 255 bytes. `podman load -i /tmp/A/oci` fails
// with "repository name must be lowercase" after copying the blobs. Both
// dir and its resolved path are checked.
func loadableName(dir string) bool {
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	for _, p := range []string{dir, resolved} {
		name := "localhost" + filepath.Clean(p) + "/store"
		if !filepath.IsAbs(p) || len(name) > 255 || !referenceName.MatchString(name) {
			return false
		}
	}
	return true
}

// referenceName is the name part of a reference (docker/distribution's
// reference grammar): path components of lowercase letters and digits
// joined by '.', '_', '__' or dashes.
var referenceName = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// storeResult is what fixImageStoreCommand prints: the image's report, or
// the error that ended it.
type storeResult struct {
	Image imagefix.ImageReport `json:"image"`
	Error string               `json:"error,omitempty"`
}

// fixStoreLayout is fixImageFromStore's work, in the storage's user
// namespace.
func fixStoreLayout(store imagestore.Store, id, dir string, opts imagefix.Options) (imagefix.ImageReport, error) {
	var ir imagefix.ImageReport
	if err := os.Mkdir(dir, 0o700); err != nil {
		return ir, err
	}
	il, err := store.WriteImageLayout(id, dir)
	if err != nil {
		return ir, err
	}
	opts.Blobs = il
	rep, err := imagefix.Fix(dir, opts)
	if err != nil {
		return ir, err
	}
	if len(rep.Images) != 1 {
		return ir, fmt.Errorf("the layout has %d images, want 1", len(rep.Images))
	}
	return rep.Images[0], nil
}

// fixImageStoreCommand is the hidden command fixImageFromStore runs in
// `podman unshare`; it prints the image's report as JSON.
func fixImageStoreCommand(args []string) int {
	fs := flag.NewFlagSet(fixImageStoreRole, flag.ContinueOnError)
	graphRoot := fs.String("graphroot", "", "the storage's graph root")
	driver := fs.String("driver", "", "the storage's driver")
	out := fs.String("out", "", "the layout directory to create")
	baseLayers := fs.Int("base-layers", -1, "as fix-image's")
	builtSince := fs.String("built-since", "", "the build's start (RFC 3339)")
	logLevel := fs.String("log-level", "info", "log level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *graphRoot == "" || *driver == "" || *out == "" {
		fmt.Fprintf(os.Stderr, "remainroot %s: want --graphroot, --driver, --out and one image ID\n", fixImageStoreRole)
		return 2
	}
	log, err := commandLogger(*logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot %s: %v\n", fixImageStoreRole, err)
		return 2
	}
	opts := imagefix.Options{BaseLayers: *baseLayers, Log: log}
	if *builtSince != "" {
		if opts.BuiltSince, err = time.Parse(time.RFC3339Nano, *builtSince); err != nil {
			fmt.Fprintf(os.Stderr, "remainroot %s: --built-since: %v\n", fixImageStoreRole, err)
			return 2
		}
	}
	ir, err := fixStoreLayout(imagestore.Store{GraphRoot: *graphRoot, Driver: *driver}, fs.Arg(0), *out, opts)
	res := storeResult{Image: ir}
	if err != nil {
		res.Error = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "remainroot %s: %v\n", fixImageStoreRole, err)
		return 1
	}
	return 0
}
