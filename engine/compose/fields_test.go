package compose

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// TestServiceRulesCoverEveryField: every field of compose-go's
// ServiceConfig is either mapped or refused in serviceRules, and the table
// names no field the type lacks. A compose-go upgrade that adds a field
// fails here until the field is given a rule (and docs/interop.md a row).
func TestServiceRulesCoverEveryField(t *testing.T) {
	typ := reflect.TypeOf(types.ServiceConfig{})
	seen := map[string]bool{}
	var mapped, refused []string
	for _, f := range fieldsOf(typ) {
		name := f.name
		if seen[name] {
			t.Errorf("two fields of types.ServiceConfig are called %q", name)
		}
		seen[name] = true
		r, ok := serviceRules[name]
		switch {
		case !ok:
			t.Errorf("types.ServiceConfig.%s (%q) is neither mapped nor refused: add it to serviceRules and docs/interop.md",
				typ.FieldByIndex(f.index).Name, name)
		case r.mapped:
			mapped = append(mapped, name)
		case r.hint == "":
			t.Errorf("refused field %q has no hint", name)
		default:
			refused = append(refused, name)
		}
	}
	for name := range serviceRules {
		if !seen[name] {
			t.Errorf("serviceRules has %q, which types.ServiceConfig does not", name)
		}
	}
	sort.Strings(mapped)
	sort.Strings(refused)
	t.Logf("mapped (%d): %s", len(mapped), strings.Join(mapped, " "))
	t.Logf("refused (%d): %s", len(refused), strings.Join(refused, " "))
}

// TestEveryFieldInTheDocs: docs/interop.md has a row for every field.
func TestEveryFieldInTheDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/interop.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range serviceRules {
		if name == "name" || name == "CustomLabels" {
			continue // not written in compose files as such
		}
		if !strings.Contains(string(doc), "| `"+name+"`") {
			t.Errorf("docs/interop.md has no row for `%s`", name)
		}
	}
}

// setAny gives v a value that counts as set: a one-element list or map, a
// non-nil pointer, a non-zero scalar.
func setAny(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), reflect.Zero(v.Type().Elem()))
		v.Set(m)
	}
}

// convertOne converts a project of one service "s" (image busybox) after
// set has changed it.
func convertOne(t *testing.T, set func(*types.ServiceConfig)) []string {
	t.Helper()
	s := types.ServiceConfig{Name: "s"}
	s.Image = "busybox"
	set(&s)
	p := &types.Project{Name: "p", Services: types.Services{s.Name: s}}
	_, err := Convert(&Source{File: "compose.yaml", Project: p, lines: &lines{}}, ConvertOptions{})
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// TestRefusedFieldsAreRefused sets each refused field and expects a
// problem naming it, never a silent drop.
func TestRefusedFieldsAreRefused(t *testing.T) {
	for _, f := range fieldsOf(reflect.TypeOf(types.ServiceConfig{})) {
		name := f.name
		if serviceRules[name].mapped {
			continue
		}
		t.Run(name, func(t *testing.T) {
			problems := convertOne(t, func(s *types.ServiceConfig) { setAny(reflect.ValueOf(s).Elem().FieldByIndex(f.index)) })
			want := "compose.yaml: services.s." + name + ": not supported by Budgie (hint: "
			if len(problems) != 1 || !strings.HasPrefix(problems[0], want) {
				t.Errorf("got %q, want one problem starting %q", problems, want)
			}
		})
	}
}

// TestMappedFieldsAreConsumed sets each mapped field to an arbitrary value:
// the converter may refuse the value, but never leave it unconverted.
func TestMappedFieldsAreConsumed(t *testing.T) {
	for _, f := range fieldsOf(reflect.TypeOf(types.ServiceConfig{})) {
		name := f.name
		if !serviceRules[name].mapped {
			continue
		}
		t.Run(name, func(t *testing.T) {
			problems := convertOne(t, func(s *types.ServiceConfig) { setAny(reflect.ValueOf(s).Elem().FieldByIndex(f.index)) })
			for _, p := range problems {
				if strings.Contains(p, "was not converted") {
					t.Errorf("%s", p)
				}
			}
		})
	}
}

// TestCorpusCoversMappedFields: the example files under testdata/compose
// use every mapped field, so the golden bundles show each one converted.
func TestCorpusCoversMappedFields(t *testing.T) {
	used := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(corpus, "*", "compose.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Services map[string]map[string]yaml.Node `yaml:"services"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, svc := range doc.Services {
			for key := range svc {
				used[key] = true
			}
		}
	}
	used["name"] = true // every service's key
	for name, r := range serviceRules {
		if r.mapped && !used[name] {
			t.Errorf("no example under testdata/compose uses the mapped field %q", name)
		}
	}
}
