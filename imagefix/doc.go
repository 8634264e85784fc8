// Package imagefix turns the owners a mode full build recorded into the
// owners of an image's layer tars.
//
// A rootless build under a single-id mapping commits every file as 0:0
// (containers/storage's tar writer takes uid and gid from lstat) and copies
// remainroot's `user.rootlesscontainers` xattr into the layer as a PAX
// record `SCHILY.xattr.user.rootlesscontainers`, which nothing else reads.
// Fix rewrites an OCI image layout in place:
//
//   - an entry carrying the record gets the record's uid and gid (0xFFFFFFFF
//     keeps the entry's own), empty uname and gname, and loses the record;
//   - an empty regular file carrying a `user.remainroot.node` record (a
//     device node made by mode full, see NodeXattr) becomes the character
//     or block device entry it records; a hard link to it stays a link, a
//     node written to stays a regular file; all lose the record;
//   - in a build layer (see Options.BaseLayers), an entry without a record
//     whose path a lower layer holds with a non-root owner keeps that owner:
//     a file a RUN step modified keeps the base image's owner;
//   - a layer with nothing to change is left as it is (same blob, same
//     digest); a rewritten layer gets a new digest and diff_id, the config its
//     rootfs.diff_ids, the manifest and the index their descriptors.
//
// Nothing is extracted: layers are read and written as tar streams with
// archive/tar, in the layout's own directory. A layout may leave layer
// blobs out when Options.Blobs gives them (fix-image's layout of an image
// in podman's storage, see imagestore.WriteImageLayout): a layer only read
// is then opened for its headers, and only rewritten layers become blobs. Hostile input (paths that are
// absolute, climb with "..", or are too long; forged records; too many
// entries; corrupt or truncated tars or gzip streams; blob digests that do
// not match) ends the fix with one error and the layout's files unchanged
// except for new, unreferenced blobs.
package imagefix
