package runtimewrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxConfigSize bounds the config.json read (the precreate hook's bound).
const maxConfigSize = 16 << 20

// WithAnnotation returns the container config with annotation key set to
// value unless it has one; every other field is kept as it is.
func WithAnnotation(config []byte, key, value string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(config, &doc); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if doc == nil {
		return nil, errors.New("config.json: not a JSON object")
	}
	ann := map[string]string{}
	if raw, ok := doc["annotations"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &ann); err != nil {
			return nil, fmt.Errorf("config.json: annotations: %w", err)
		}
	}
	if _, ok := ann[key]; ok {
		return config, nil
	}
	ann[key] = value
	raw, err := json.Marshal(ann)
	if err != nil {
		return nil, err
	}
	doc["annotations"] = raw
	return json.Marshal(doc)
}

// rewriteBundle replaces bundle/config.json with rewrite's output
// (written aside, then renamed).
func rewriteBundle(bundle string, rewrite func([]byte) ([]byte, error)) error {
	path := filepath.Join(bundle, "config.json")
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	out, err := rewrite(data)
	if err != nil {
		return err
	}
	tmp := path + ".remainroot-tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
