package hook

import (
	"testing"

	"github.com/remainroot/remainroot/attach/seccomp"
)

func TestFilterNameRoundTrip(t *testing.T) {
	for _, f := range []seccomp.Filter{seccomp.SetterFilter, seccomp.FullFilter,
		seccomp.SetterFilter.WithFiles(), seccomp.FullFilter.WithFiles()} {
		if got := filterByName(filterName(f)); got != f {
			t.Errorf("%+v -> %q -> %+v", f, filterName(f), got)
		}
	}
}
