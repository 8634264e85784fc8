package imagefix

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options tune Fix.
type Options struct {
	// BaseLayers is the number of bottom layers that come from the base
	// image: their entries never take a lower layer's owner. Negative:
	// automatic, the trailing layers whose tar owners are all 0:0 when one
	// of them carries an owner record (a mode full build's layers), else
	// none.
	BaseLayers int
	// BuiltSince, when BaseLayers is negative and it is not zero, makes
	// the build layers those whose history entries were created at or
	// after it (`remainroot build` passes its start): layers a build took
	// from its cache are then base layers. A history that does not match
	// the layers falls back to the automatic rule.
	BuiltSince time.Time
	// Log receives a line per manifest; nil discards.
	Log *slog.Logger
	// Blobs, when not nil, gives the layer blobs the layout's directory
	// does not hold (a layout written by imagestore.WriteImageLayout):
	// base layers are then read only for their headers, and a rewritten
	// layer's new blob is the only layer blob written.
	Blobs BlobSource
}

// Report says what Fix did to each image of the layout.
type Report struct {
	Images []ImageReport
}

// ImageReport is one manifest's fix.
type ImageReport struct {
	Old, New      digest.Digest // manifest digests (equal: nothing changed)
	Layers        int
	BaseLayers    int   // layers below the build layers
	Rewritten     []int // indexes of the rewritten layers
	EntriesFixed  int   // entries whose owner or record changed
	ConfigChanged bool
	Config        digest.Digest // the config's digest (new when changed): the image ID once loaded
}

// Fix rewrites the OCI image layout in dir (an `oci-dir`, or an unpacked
// `oci-archive`) so that every image's layer tars carry the owners their
// owner records say, and no record; see the package comment. index.json is
// replaced last: on an error, the layout still describes the old images.
func Fix(dir string, opts Options) (Report, error) {
	var rep Report
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return rep, err
	}
	defer root.Close()
	l := layout{root: root, blobs: opts.Blobs}
	idx, raw, err := l.readIndex()
	if err != nil {
		return rep, err
	}
	changed := false
	for i, m := range idx.Manifests {
		if m.MediaType != v1.MediaTypeImageManifest {
			return rep, fmt.Errorf("index.json: manifest %d is %q; only OCI image manifests are supported", i, m.MediaType)
		}
		ir, newDesc, err := fixManifest(l, m, opts)
		if err != nil {
			return rep, fmt.Errorf("image %s: %w", m.Digest, err)
		}
		log.Info("image fixed", "manifest", ir.Old, "new", ir.New, "layers", ir.Layers,
			"base_layers", ir.BaseLayers, "rewritten", ir.Rewritten, "entries", ir.EntriesFixed)
		rep.Images = append(rep.Images, ir)
		if newDesc.Digest != m.Digest {
			idx.Manifests[i] = newDesc
			changed = true
		}
	}
	if !changed {
		return rep, nil
	}
	if err := setField(raw, "manifests", idx.Manifests); err != nil {
		return rep, err
	}
	return rep, l.writeIndex(raw)
}

// fixManifest fixes one image and returns its new manifest descriptor (the
// same one when nothing changed).
func fixManifest(l layout, desc v1.Descriptor, opts Options) (ImageReport, v1.Descriptor, error) {
	ir := ImageReport{Old: desc.Digest, New: desc.Digest}
	var man v1.Manifest
	var rawMan map[string]json.RawMessage
	if _, err := l.readJSONBlob(desc, &man); err != nil {
		return ir, desc, err
	}
	if _, err := l.readJSONBlob(desc, &rawMan); err != nil {
		return ir, desc, err
	}
	var cfg v1.Image
	var rawCfg map[string]json.RawMessage
	if _, err := l.readJSONBlob(man.Config, &cfg); err != nil {
		return ir, desc, fmt.Errorf("config: %w", err)
	}
	if _, err := l.readJSONBlob(man.Config, &rawCfg); err != nil {
		return ir, desc, fmt.Errorf("config: %w", err)
	}
	ir.Layers, ir.Config = len(man.Layers), man.Config.Digest
	if len(cfg.RootFS.DiffIDs) != len(man.Layers) {
		return ir, desc, fmt.Errorf("config has %d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(man.Layers))
	}

	baseLayers := opts.BaseLayers
	if baseLayers < 0 && !opts.BuiltSince.IsZero() {
		baseLayers = layersBefore(cfg.History, len(man.Layers), opts.BuiltSince)
	}
	// First reading, bottom up: what each layer holds, and the owners of
	// the layers below the first one that may change (read once).
	lower := &ownerTree{}
	summaries := make([]layerResult, len(man.Layers))
	tracked := len(man.Layers) // lower holds the layers below this one
	for i, ld := range man.Layers {
		var t *ownerTree
		if i < tracked {
			t = lower
		}
		res, err := readLayerBlob(l, ld, t)
		if err != nil {
			return ir, desc, fmt.Errorf("layer %d (%s): %w", i, ld.Digest, err)
		}
		summaries[i] = res
		switch {
		case i >= tracked:
		case res.hasRecord || (i > 0 && res.allRoot) || (baseLayers >= 0 && i >= baseLayers):
			tracked = i // may change: read again below
		default:
			if err := lower.apply(res.pending); err != nil {
				return ir, desc, fmt.Errorf("layer %d (%s): %w", i, ld.Digest, err)
			}
		}
	}
	ir.BaseLayers = firstBuildLayer(summaries, baseLayers)

	for i := tracked; i < len(man.Layers); i++ {
		ld := man.Layers[i]
		inherit := i >= ir.BaseLayers
		var res layerResult
		var err error
		nl, diffID := ld, cfg.RootFS.DiffIDs[i]
		if inherit || summaries[i].hasRecord {
			nl, diffID, res, err = rewriteBlob(l, ld, cfg.RootFS.DiffIDs[i], lower, inherit)
		} else {
			res, err = readLayerBlob(l, ld, lower)
		}
		if err == nil {
			err = lower.apply(res.pending)
		}
		if err != nil {
			return ir, desc, fmt.Errorf("layer %d (%s): %w", i, ld.Digest, err)
		}
		if res.changed > 0 {
			man.Layers[i], cfg.RootFS.DiffIDs[i] = nl, diffID
			ir.Rewritten = append(ir.Rewritten, i)
			ir.EntriesFixed += res.changed
		}
	}
	if len(ir.Rewritten) == 0 {
		return ir, desc, nil
	}

	if err := setField(rawCfg, "rootfs", cfg.RootFS); err != nil {
		return ir, desc, err
	}
	cfgDesc, err := writeJSONBlob(l, rawCfg, man.Config)
	if err != nil {
		return ir, desc, fmt.Errorf("config: %w", err)
	}
	ir.ConfigChanged, ir.Config = true, cfgDesc.Digest
	if err := setField(rawMan, "config", cfgDesc); err != nil {
		return ir, desc, err
	}
	if err := setField(rawMan, "layers", man.Layers); err != nil {
		return ir, desc, err
	}
	newDesc, err := writeJSONBlob(l, rawMan, desc)
	if err != nil {
		return ir, desc, fmt.Errorf("manifest: %w", err)
	}
	ir.New = newDesc.Digest
	return ir, newDesc, nil
}

// firstBuildLayer is the index of the first build layer: baseLayers when
// given, else the first of the trailing all-0:0 layers if one of them
// carries a record, else len(s) (no build layers). Layer 0 has nothing
// below it to inherit from.
func firstBuildLayer(s []layerResult, baseLayers int) int {
	if baseLayers >= 0 {
		return min(max(baseLayers, 1), len(s))
	}
	first, records := len(s), false
	for first > 1 && s[first-1].allRoot {
		first--
		records = records || s[first].hasRecord
	}
	if !records {
		return len(s)
	}
	return first
}

// writeJSONBlob stores raw as a blob and returns old with its digest and
// size.
func writeJSONBlob(l layout, raw map[string]json.RawMessage, old v1.Descriptor) (v1.Descriptor, error) {
	data, err := json.Marshal(raw)
	if err != nil {
		return old, err
	}
	d, err := l.writeBlob(data)
	if err != nil {
		return old, err
	}
	old.Digest, old.Size = d, int64(len(data))
	return old, nil
}

// layersBefore counts the layers whose history entries were created before
// since, or returns -1 when the history does not describe the layers
// (one entry without empty_layer per layer, in order) or has no time.
func layersBefore(history []v1.History, layers int, since time.Time) int {
	n, before := 0, 0
	for _, h := range history {
		if h.EmptyLayer {
			continue
		}
		if h.Created == nil {
			return -1
		}
		if h.Created.Before(since) {
			if before != n {
				return -1 // an old layer above a new one
			}
			before++
		}
		n++
	}
	if n != layers {
		return -1
	}
	return before
}
