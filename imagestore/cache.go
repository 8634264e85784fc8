package imagestore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cacheMagic starts a cached Table; a change of format changes it.
const cacheMagic = "remainroot-image-owners 2"

// CacheDir is the directory of cached Tables of the invoking user:
// $XDG_CACHE_HOME or $HOME/.cache, else the home directory of uid (hooks
// run with an empty environment), then remainroot/image-owners.
func CacheDir(uid int) (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home := os.Getenv("HOME")
		if home == "" {
			u, err := user.LookupId(strconv.Itoa(uid))
			if err != nil {
				return "", fmt.Errorf("no cache directory: %w", err)
			}
			home = u.HomeDir
		}
		if home == "" || home == "/" {
			return "", fmt.Errorf("no cache directory: uid %d has no home", uid)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "remainroot", "image-owners"), nil
}

// fingerprints name the state of a chain's tar-split files: the i-th
// that of chain[:i+1], so that a cached Table is good while the files of
// its layer and of every layer below are the same files.
func (s Store) fingerprints(chain []string) ([]string, error) {
	fps := make([]string, len(chain))
	prev := ""
	for i, id := range chain {
		var st unix.Stat_t
		p := s.TarSplitPath(id)
		if err := unix.Stat(p, &st); err != nil {
			return nil, fmt.Errorf("stat %s: %w", p, err)
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%s %d %d %d.%d\n", prev, id, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec))
		fps[i] = hex.EncodeToString(sum[:])
		prev = fps[i]
	}
	return fps, nil
}

// writeCache stores t as file atomically: a temporary file in the same
// directory renamed over it. Owners prunes the directory after.
func writeCache(file, fingerprint string, t Table) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	encodeTable(w, fingerprint, t)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

// cacheLifetime is how long a cached Table is kept after it was written:
// stores come and go (a test's, a removed image's), and a Table read from
// the cache is not written again.
const cacheLifetime = 30 * 24 * time.Hour

// pruneCache removes the files of dir written before cutoff.
func pruneCache(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func encodeTable(w io.Writer, fingerprint string, t Table) {
	fmt.Fprintf(w, "%s\n%s\n", cacheMagic, fingerprint)
	for _, e := range t {
		fmt.Fprintf(w, "%d %d %o %s\n", e.UID, e.GID, e.Mode, strconv.Quote(e.Path))
	}
}

// errStale says a cached Table is for other files.
var errStale = errors.New("stale")

// readCache reads a Table cached for fingerprint; it refuses a file that
// is not a regular file of the caller's.
func readCache(file, fingerprint string) (Table, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("%s: not a regular file of uid %d", file, os.Geteuid())
	}
	return decodeTable(io.LimitReader(f, maxCache), fingerprint)
}

// decodeTable parses encodeTable's output.
func decodeTable(r io.Reader, fingerprint string) (Table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := readLine(br)
	if err != nil || string(head) != cacheMagic {
		return nil, errors.New("not a cached table")
	}
	fp, err := readLine(br)
	if err != nil || string(fp) != fingerprint {
		return nil, errStale
	}
	var t Table
	bytes := 0
	for {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		e, err := parseCacheLine(line)
		if err != nil {
			return nil, fmt.Errorf("cached table, entry %d: %w", len(t)+1, err)
		}
		if bytes += len(e.Path); len(t) >= maxTable || bytes > maxTableBytes {
			return nil, errors.New("cached table too large")
		}
		t = append(t, e)
	}
}

func parseCacheLine(line []byte) (Entry, error) {
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) != 4 {
		return Entry{}, errors.New("not UID GID MODE PATH")
	}
	uid, err1 := strconv.ParseUint(string(f[0]), 10, 32)
	gid, err2 := strconv.ParseUint(string(f[1]), 10, 32)
	mode, err3 := strconv.ParseUint(string(f[2]), 8, 32)
	p, err4 := strconv.Unquote(string(f[3]))
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return Entry{}, err
		}
	}
	if mode > 0o7777 || !strings.HasPrefix(p, "/") {
		return Entry{}, fmt.Errorf("bad mode %o or path %q", mode, p)
	}
	clean, err := cleanPath(p)
	if err != nil || clean != p {
		return Entry{}, fmt.Errorf("bad path %q", p)
	}
	return Entry{Path: p, UID: uint32(uid), GID: uint32(gid), Mode: uint32(mode)}, nil
}
