package config

import "fmt"

// WithMode returns the hook's settings for a container whose mode is
// given by the hook's own arguments rather than by an annotation: buildah
// runs the hooks of a build for RUN containers whose specs carry no
// annotations, so the build hooks directory's hook names its mode itself.
// An io.remainroot.log-level annotation, if present, still applies.
func WithMode(m Mode, ann map[string]string) (HookSettings, error) {
	merged := map[string]string{AnnotationMode: m.String()}
	if l, ok := ann[AnnotationLogLevel]; ok {
		merged[AnnotationLogLevel] = l
	}
	s, err := fromAnnotations(merged, currentEnv())
	if err != nil {
		return s, fmt.Errorf("hook arguments: %w", err)
	}
	return s, nil
}
