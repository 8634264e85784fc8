package nri

import (
	"maps"
	"strings"

	"github.com/containerd/nri/pkg/api"

	"github.com/remainroot/remainroot/config"
)

// annotationPrefix marks remainroot's annotations.
const annotationPrefix = "io.remainroot."

// remainrootAnnotations returns the io.remainroot.* annotations that apply
// to a container: the container's, with the pod's over them (as CRI-O
// merges them for hooks.d). containerd does not copy a pod's annotations
// into its containers' specs, so the plugin does. Nil when the container
// is not annotated io.remainroot.mode: then the plugin leaves it alone.
func remainrootAnnotations(pod *api.PodSandbox, ctr *api.Container) map[string]string {
	out := map[string]string{}
	for _, src := range []map[string]string{ctr.GetAnnotations(), pod.GetAnnotations()} {
		for k, v := range src {
			if strings.HasPrefix(k, annotationPrefix) {
				out[k] = v
			}
		}
	}
	if _, ok := out[config.AnnotationMode]; !ok {
		return nil
	}
	return out
}

// withAnnotations is a container's annotations with ann over them.
func withAnnotations(ctr *api.Container, ann map[string]string) map[string]string {
	out := maps.Clone(ctr.GetAnnotations())
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, ann)
	return out
}
