package stack

import (
	"errors"
	"fmt"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// specs builds specs from "name:dep,dep" strings.
func specs(defs ...string) []models.ContainerSpec {
	var out []models.ContainerSpec
	for _, d := range defs {
		var name, list string
		for i := range d {
			if d[i] == ':' {
				name, list = d[:i], d[i+1:]
				break
			}
		}
		if name == "" {
			name = d
		}
		s := models.ContainerSpec{Name: name}
		start := 0
		for i := 0; i <= len(list); i++ {
			if i == len(list) || list[i] == ',' {
				if i > start {
					s.DependsOn = append(s.DependsOn, models.Dependency{Name: list[start:i]})
				}
				start = i + 1
			}
		}
		out = append(out, s)
	}
	return out
}

func TestLevels(t *testing.T) {
	tests := []struct {
		name string
		defs []string
		want string
	}{
		{"independent", []string{"b", "a", "c"}, "[[a b c]]"},
		{"chain", []string{"web:api", "api:db", "db"}, "[[db] [api] [web]]"},
		{"diamond", []string{"d:b,c", "b:a", "c:a", "a"}, "[[a] [b c] [d]]"},
		{"uneven", []string{"web:db,cache", "cache", "db:migrate", "migrate"}, "[[cache migrate] [db] [web]]"},
		{"outside dependency ignored", []string{"web:db"}, "[[web]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Levels(specs(tt.defs...))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("Levels = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestCycle(t *testing.T) {
	tests := []struct {
		name string
		defs []string
		want string
	}{
		{"three", []string{"a:b", "b:c", "c:a"}, "depends_on has a cycle: a -> b -> c -> a: invalid"},
		{"self", []string{"a:a"}, "depends_on has a cycle: a -> a: invalid"},
		{"two behind a root", []string{"root:x", "x:y", "y:x"}, "depends_on has a cycle: x -> y -> x: invalid"},
		{"duplicate name", []string{"a", "a"}, "two containers are named a: invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Levels(specs(tt.defs...))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("err is not ErrInvalid: %v", err)
			}
		})
	}
}
