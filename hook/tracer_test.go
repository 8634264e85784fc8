package hook

import (
	"testing"

	"github.com/remainroot/remainroot/attach"
)

func TestFilterNameRoundTrip(t *testing.T) {
	for _, f := range []attach.Filter{attach.SetterFilter, attach.FullFilter,
		attach.SetterFilter.WithFiles(), attach.FullFilter.WithFiles()} {
		if got := filterByName(filterName(f)); got != f {
			t.Errorf("%+v -> %q -> %+v", f, filterName(f), got)
		}
	}
}
