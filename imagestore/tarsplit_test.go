package imagestore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"testing"
)

// headersOf reads a tar-split file's headers as "name uid:gid mode".
func headersOf(data []byte) ([]string, error) {
	var got []string
	err := readHeaders(bytes.NewReader(data), func(h *header) error {
		got = append(got, string(h.name)+" "+strconv.FormatInt(h.uid, 10)+":"+strconv.FormatInt(h.gid, 10))
		return nil
	})
	return got, err
}

func TestReadHeaders(t *testing.T) {
	long := "./" + strings.Repeat("d", 200) + "/f" // a PAX path
	big := file("big", 1, 2, 0o644)
	big.Size = 1 << 20
	data := tarSplitOf(t, []*tar.Header{dir("./", 0, 0, 0o755), file("./etc/shadow", 0, 42, 0o640), big,
		{Typeflag: tar.TypeReg, Name: long, Uid: 3, Gid: 4, Mode: 0o644, Size: 5, Format: tar.FormatPAX},
		hardlink("big2", "big", 1, 2, 0o644), symlink("l", "/x")})
	got, err := headersOf(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"./ 0:0", "./etc/shadow 0:42", "big 1:2", long + " 3:4", "big2 1:2", "l 0:0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Every format archive/tar writes: ustar with a prefix, GNU, GNU with
	// a long name, base-256 ids, PAX records for ids.
	prefixed := strings.Repeat("p", 120) + "/name"
	data = tarSplitOf(t, []*tar.Header{
		{Typeflag: tar.TypeReg, Name: prefixed, Uid: 5, Gid: 6, Mode: 0o2755, Size: 1, Format: tar.FormatUSTAR},
		{Typeflag: tar.TypeDir, Name: "gnu/", Uid: 7, Gid: 8, Mode: 0o1777, Format: tar.FormatGNU},
		{Typeflag: tar.TypeReg, Name: strings.Repeat("g", 150), Uid: 9, Gid: 10, Mode: 0o644, Size: 700, Format: tar.FormatGNU},
		{Typeflag: tar.TypeReg, Name: "big-ids", Uid: 1 << 30, Gid: 1 << 31, Mode: 0o644, Format: tar.FormatGNU},
		{Typeflag: tar.TypeSymlink, Name: "pax-ids", Linkname: "x", Uid: 1 << 30, Gid: 3, Format: tar.FormatPAX},
	})
	got, err = headersOf(data)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{prefixed + " 5:6", "gnu/ 7:8", strings.Repeat("g", 150) + " 9:10", "big-ids 1073741824:2147483648", "pax-ids 1073741824:3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReadHeadersBadInput(t *testing.T) {
	good := tarSplitOf(t, []*tar.Header{file("a", 1, 1, 0o644), file("b", 2, 2, 0o644)})
	plain := gunzip(t, good)
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	cases := map[string][]byte{
		"not gzip":          []byte("{}\n"),
		"truncated gzip":    good[:len(good)/2],
		"truncated stream":  gz(plain[:len(plain)/2]),
		"not JSON":          gz([]byte("nonsense\n")),
		"an unknown type":   gz([]byte(`{"type":3,"payload":null,"position":0}` + "\n")),
		"a negative size":   gz([]byte(`{"type":1,"name":"a","size":-5,"position":0}` + "\n")),
		"a very long line":  gz(append(bytes.Repeat([]byte(" "), maxLine+1), '\n')),
		"blank lines":       gz(bytes.Repeat([]byte("\n"), maxLine+2)),
		"a bad header":      gz([]byte(`{"type":2,"payload":"` + strings.Repeat("QUFB", 128) + `","position":0}` + "\n")),
		"a forged PAX size": gz(forgedPAX(t)),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := headersOf(data)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("a multi-line error: %q", err)
			}
		})
	}
}

// forgedPAX is a tar-split whose PAX record claims a length beyond its
// data.
func forgedPAX(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "a", Mode: 0o644,
		PAXRecords: map[string]string{"SCHILY.xattr.user.x": "v"}, Format: tar.FormatPAX})
	tw.Close()
	raw := buf.Bytes()
	at := bytes.Index(raw, []byte(" SCHILY.xattr.user.x=v\n"))
	if at < 2 {
		t.Fatalf("no PAX record in %q", raw[:1024])
	}
	copy(raw[at-2:], "99")
	return []byte(`{"type":2,"payload":"` + b64(raw) + `","position":0}` + "\n")
}

func gunzip(t *testing.T, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
