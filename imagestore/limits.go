package imagestore

// Bounds on what a store's files may make this package do. A file beyond
// them is refused with an error: the container then shows the owners it
// shows without image owners.
const (
	// maxLine bounds one JSON line of a tar-split file: a tar header with
	// PAX records (archive/tar reads at most 1 MiB of them), base64.
	maxLine = 4 << 20
	// maxEntries bounds the tar entries of one layer.
	maxEntries = 4 << 20
	// maxPath bounds an entry's path (PATH_MAX).
	maxPath = 4096
	// maxTable bounds the entries of a Table, and maxTableBytes the sum of
	// their paths' lengths.
	maxTable      = 1 << 20
	maxTableBytes = 64 << 20
	// maxLayers bounds a layer chain (containers/storage's overlay allows
	// about 500 lower layers).
	maxLayers = 1024
	// maxJSON bounds a metadata file (layers.json, images.json,
	// containers.json) and maxCache a cached Table.
	maxJSON  = 64 << 20
	maxCache = maxTableBytes + 64<<20
)
