package editor

import (
	"slices"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/bundle"
)

// TestFormCoversTheBundleSchema: every field of the form is a field of the
// bundle schema (bundle.Fields), and every container field of the schema
// is on the form (resources, health and replicas through their keys), so
// the two cannot drift apart.
func TestFormCoversTheBundleSchema(t *testing.T) {
	onForm := map[string]bool{}
	for _, f := range allFields() {
		parent, key, nested := strings.Cut(f.id, ".")
		if !nested {
			parent, key = "", f.id
		}
		if !slices.Contains(bundle.Fields(parent), key) {
			t.Errorf("form field %q is not in the bundle schema (bundle.Fields(%q) = %v)", f.id, parent, bundle.Fields(parent))
		}
		onForm[f.id], onForm[parent] = true, true
	}
	for _, key := range bundle.Fields("") {
		if !onForm[key] {
			t.Errorf("bundle field %q has no input on the editor's form", key)
		}
	}
	for _, parent := range []string{"resources", "health", "replicas"} {
		for _, key := range bundle.Fields(parent) {
			if !onForm[parent+"."+key] {
				t.Errorf("bundle field %s.%s has no input on the editor's form", parent, key)
			}
		}
	}
}
