// Package imagestore reads the owners a container image gives its files
// from podman's storage (containers/storage), where a store with a single
// id mapping (ignore_chown_errors) has squashed every owner to the one
// mapped id on disk.
//
// containers/storage keeps the original tar headers of every applied layer
// in <graphroot>/<driver>-layers/<layer id>.tar-split.gz, in the format of
// github.com/vbatts/tar-split (JSON lines: type 2 raw tar bytes, type 1 a
// file entry whose body is size bytes), for vfs and overlay alike;
// layers.json gives each layer's parent, <driver>-containers/containers.json
// a container's layer and image, <driver>-images/images.json an image's top
// layer. This package reads each layer's header blocks from its raw
// segments (the bodies are never read: the tar-split holds only their
// sizes; the padding before a header is not even decoded), plain ustar and
// GNU blocks itself and every other header (PAX and GNU long-name records,
// base-256 numbers, old formats) with archive/tar, and merges the layers
// in order (whiteouts, opaque directories, later entries replacing earlier
// ones) into a Table: the paths whose owner is not 0:0 or whose mode has
// the set-user-ID, set-group-ID or sticky bit. The merger makes a string
// only for such a path: every other entry's name is cleaned in a buffer
// and looked up in the merger's maps (of the paths it keeps, and of their
// directories) without one. A layer is decompressed in a goroutine of its
// own, ahead of the parsing.
//
// The entries are tar-split's own type (storage.Entry), decoded line by
// line with a bound on the line's length: tar-split's NewJSONUnpacker reads
// through a json.Decoder with no bound on a line and keeps every name it
// has seen, so a hostile file could make it use any amount of memory.
//
// For remainroot fix-image, OpenLayerTar gives a layer's tar as
// containers/storage's Diff makes it (tar-split's raw segments and the
// file bodies from the layer's directory, vfs/dir/<id> or
// overlay/<id>/diff, read through an os.Root), and WriteImageLayout writes
// an image as an OCI layout of its config (the stored bytes, checked
// against the ID) and a manifest naming the layers by their uncompressed
// digests, without the layer blobs.
//
// The Table of each layer (of its chain, up to it) is cached in the
// invoking user's cache directory (cache.go), so that a container start
// reads a file that grows with the number of such paths, not with the
// image's size, and an image on a cached base reads only its own layers'
// tar-splits: the cold read grows with their size. Resolve maps a Table
// onto a container's root filesystem: (device, inode) -> owner, what the
// tracer's stat emulation consults for files without an owner record.
package imagestore
