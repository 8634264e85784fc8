// Package runtimewrap is an OCI runtime wrapper for builds: buildah runs
// no precreate hooks, so a RUN step after `USER app` (an id a single
// mapping lacks) fails in the runtime itself (crun: `cannot setresgid`).
// Given to `podman build --runtime`, the wrapper passes the bundle's
// config.json of each `create` and `run` through the precreate hook's
// rewrite (the runtime starts the process as 0:0 and remainroot's
// supervisor gives it its user at its exec), then execs the real runtime
// with the same arguments. Every other command goes to the real runtime
// untouched.
package runtimewrap
