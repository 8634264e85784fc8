package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/imagefix"
)

// fixImageCommand is `remainroot fix-image [--tag NEW]... IMAGE`: it
// rewrites the layers of a podman image built in mode full so that the
// owners its build recorded become the tar owners (see package imagefix),
// reading the image from the user's storage (podman save only when it
// cannot, see fixImage), loads the result and gives it IMAGE's name (or
// the --tag names). The
// unfixed image stays in the storage under its ID (untagged when IMAGE
// was its only name). It prints the fixed image's ID.
func fixImageCommand(args []string) int {
	fs := flag.NewFlagSet("fix-image", flag.ContinueOnError)
	var tags stringList
	fs.Var(&tags, "tag", "name the fixed image NEW instead of IMAGE (repeatable)")
	baseLayers := fs.Int("base-layers", -1, "the number of bottom layers that come from the base image (default: the trailing layers all owned by 0:0 when one carries a record)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "remainroot fix-image: want one IMAGE (usage: remainroot fix-image [--tag NEW]... IMAGE)")
		return 2
	}
	log, err := commandLogger(*logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot fix-image: %v\n", err)
		return 2
	}
	image := fs.Arg(0)
	id, err := podmanImageID(image)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot fix-image: %v\n", err)
		return 1
	}
	if len(tags) == 0 && !strings.HasPrefix(id, strings.TrimPrefix(image, "sha256:")) {
		tags = stringList{image}
	}
	fixed, err := fixImage(id, tags, imagefix.Options{BaseLayers: *baseLayers, Log: log}, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot fix-image: %s: %v\n", image, err)
		return 1
	}
	fmt.Println(fixed)
	return 0
}

// commandLogger logs to stderr at level.
func commandLogger(level string) (*slog.Logger, error) {
	l, err := config.ParseLogLevel(level)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// fixImage fixes image id and tags the fixed image with tags; it returns
// the fixed image's ID (id itself when there was nothing to fix). It makes
// the fixed layout straight from the user's storage and loads only what
// changed (fixImageFromStore, loadStoreLayout); when that cannot be done
// (another storage driver, metadata it does not find or trust, a load that
// fails) it says why and saves, fixes and loads the whole image instead
// (saveFixLoad). Everything is written in a private temporary directory.
func fixImage(id string, tags []string, opts imagefix.Options, log *slog.Logger) (string, error) {
	tmp, err := os.MkdirTemp("", "remainroot-fix-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)

	newID, err := fixFromStoreAndLoad(id, tmp, opts, log)
	if err != nil {
		log.Warn("fix-image: cannot fix from the storage, saving the whole image instead", "image", id, "reason", err)
		if newID, err = saveFixLoad(id, filepath.Join(tmp, "oci"), opts, log); err != nil {
			return "", err
		}
	}
	if len(tags) > 0 {
		if _, err := runPodman(nil, append([]string{"tag", newID}, tags...)...); err != nil {
			return "", err
		}
	}
	return newID, nil
}

// fixFromStoreAndLoad is fix-image's path without podman save: the layout
// of the fixed image holds only the rewritten layers' blobs, and podman
// load takes the others from the storage, where they are (c/image's
// storage destination reuses a layer whose uncompressed digest is the
// blob's digest without reading the blob).
func fixFromStoreAndLoad(id, tmp string, opts imagefix.Options, log *slog.Logger) (string, error) {
	start := time.Now()
	dir, cleanup, err := storeLayoutDir(tmp)
	if err != nil {
		return "", err
	}
	defer cleanup()
	ir, err := fixImageFromStore(id, dir, opts, log)
	if err != nil {
		return "", err
	}
	fixedAt := time.Now()
	log.Info("fix-image", "image", id, "from", "storage", "fix", fixedAt.Sub(start).Round(time.Millisecond))
	if ir.New == ir.Old {
		log.Info("fix-image: nothing to fix", "image", id)
		return id, nil
	}
	newID, err := loadStoreLayout(dir, ir.Config.Encoded())
	if err != nil {
		return "", err
	}
	log.Info("fix-image: loaded", "image", newID, "load", time.Since(fixedAt).Round(time.Millisecond), "unfixed", id)
	return newID, nil
}

// saveFixLoad saves image id as an OCI layout in dir (uncompressed), fixes
// it and loads it; it returns the fixed image's ID.
func saveFixLoad(id, layoutDir string, opts imagefix.Options, log *slog.Logger) (string, error) {
	start := time.Now()
	// --uncompressed: podman save would gzip every layer for an oci-dir
	// (c/image's OCI layout destination compresses unless told), which
	// Fix would then decompress and compress again.
	if _, err := runPodman(nil, "save", "--uncompressed", "--format", "oci-dir", "-o", layoutDir, id); err != nil {
		return "", err
	}
	saved := time.Now()
	rep, err := imagefix.Fix(layoutDir, opts)
	if err != nil {
		return "", err
	}
	fixedAt := time.Now()
	log.Info("fix-image", "image", id, "from", "podman save", "save", saved.Sub(start).Round(time.Millisecond), "fix", fixedAt.Sub(saved).Round(time.Millisecond))

	newID := id
	if changed(rep) {
		if newID, err = loadLayout(layoutDir); err != nil {
			return "", err
		}
		log.Info("fix-image: loaded", "image", newID, "load", time.Since(fixedAt).Round(time.Millisecond), "unfixed", id)
	} else {
		log.Info("fix-image: nothing to fix", "image", id)
	}
	return newID, nil
}

func changed(rep imagefix.Report) bool {
	for _, im := range rep.Images {
		if im.New != im.Old {
			return true
		}
	}
	return false
}

// loadedImage is podman load's line naming what it loaded by ID.
var loadedImage = regexp.MustCompile(`Loaded image(?:\(s\))?: (?:sha256:)?([0-9a-f]{64})`)

// loadLayout streams the layout as an oci-archive into `podman load` and
// returns the loaded image's ID.
func loadLayout(dir string) (string, error) {
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := imagefix.WriteArchive(dir, pw)
		pw.CloseWithError(err)
		written <- err
	}()
	out, err := runPodman(pr, "load")
	pr.CloseWithError(io.ErrClosedPipe)
	if werr := <-written; werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return "", fmt.Errorf("write the fixed image for podman load: %w", werr)
	}
	if err != nil {
		return "", err
	}
	m := loadedImage.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("podman load named no image ID: %q", strings.TrimSpace(out))
	}
	return m[1], nil
}

// loadedName is podman load's line naming what it loaded by name: an OCI
// directory is named after its path.
var loadedName = regexp.MustCompile(`(?m)^Loaded image(?:\(s\))?: (\S+)$`)

// loadStoreLayout loads the OCI directory dir with `podman load -i`, which
// names the image after the directory's path: that name is removed again.
// The loaded image's ID is its config's digest, want. The layer blobs dir
// leaves out are not read: c/image's storage destination reuses a layer
// of the storage whose uncompressed digest is the blob's digest
// (TryReusingBlob, LayersByUncompressedDigest).
func loadStoreLayout(dir, want string) (string, error) {
	out, err := runPodman(nil, "load", "-i", dir)
	if err != nil {
		return "", err
	}
	m := loadedName.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("podman load named no image: %q", strings.TrimSpace(out))
	}
	// untag fails unless image want holds the name.
	if _, err := runPodman(nil, "untag", want, m[1]); err != nil {
		return "", fmt.Errorf("%w (podman load loaded %s, want image %s)", err, m[1], want)
	}
	return want, nil
}

// podmanImageID is the full ID of image, or podman's one-line reason.
func podmanImageID(image string) (string, error) {
	out, err := runPodman(nil, "image", "inspect", "--format", "{{.ID}}", image)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if strings.Contains(id, "\n") || id == "" {
		return "", fmt.Errorf("podman image inspect %s: want one image, got %q", image, id)
	}
	return id, nil
}

// runPodman runs podman with args and stdin and returns its stdout; an
// error carries podman's last line of stderr.
func runPodman(stdin io.Reader, args ...string) (string, error) {
	cmd := exec.Command("podman", args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	what := args[0]
	if what == "image" && len(args) > 1 {
		what += " " + args[1]
	}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("podman %s: %s", what, lastLine(stderr.String(), exit.String()))
		}
		return "", fmt.Errorf("podman %s: %w", what, err)
	}
	return stdout.String(), nil
}

// lastLine is the last non-empty line of s without podman's "Error: ",
// or def.
func lastLine(s, def string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return strings.TrimPrefix(l, "Error: ")
	}
	return def
}
