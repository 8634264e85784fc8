// Package procfs reads what the tracer needs to know about a thread from
// /proc: its real credentials and other status fields (status.go), its
// ids in the pid namespaces it lives in (nspid.go), the id maps of its
// user namespace (idmap.go), its mounts (mountinfo.go), and the threads
// of a process and where its vDSO lies.
//
// Each function reads its file when called (only the tracer's own user
// namespace and the overflow ids are read once): a cache of what a thread
// has, where one is kept, is the tracer's (package attach).
package procfs
