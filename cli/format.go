package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"text/template"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// errInvalid marks usage errors (exit code 2).
var errInvalid = errdefs.ErrInvalid

// printTemplate applies a Go template to each element of items (a slice),
// one line each, as docker's --format does.
func printTemplate(format string, items any) error {
	tmpl, err := template.New("format").Funcs(template.FuncMap{
		"json": func(v any) (string, error) { return jsonString(v) },
	}).Parse(format + "\n")
	if err != nil {
		return fmt.Errorf("bad --format template: %w: %w", err, errInvalid)
	}
	v := reflect.ValueOf(items)
	for i := 0; i < v.Len(); i++ {
		if err := tmpl.Execute(os.Stdout, v.Index(i).Interface()); err != nil {
			return fmt.Errorf("--format template: %w: %w", err, errInvalid)
		}
	}
	return nil
}

// human is docker's duration wording: "Less than a second", "5 minutes", "2 hours".
func human(d time.Duration) string {
	switch s := d.Seconds(); {
	case s < 1:
		return "Less than a second"
	case s < 2:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", int(s))
	case d.Minutes() < 2:
		return "About a minute"
	case d.Minutes() < 60:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d.Hours() < 2:
		return "About an hour"
	case d.Hours() < 48:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d.Hours() < 24*14:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d.Hours() < 24*60:
		return fmt.Sprintf("%d weeks", int(d.Hours()/24/7))
	case d.Hours() < 24*365*2:
		return fmt.Sprintf("%d months", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%d years", int(d.Hours()/24/365))
}

// ago is human(time since t) + " ago", or "never" for the zero time.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return human(time.Since(t)) + " ago"
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// printJSONTo writes v as one line of JSON (a stream of samples is one
// document per line).
func printJSONTo(out io.Writer, v any) error {
	return json.NewEncoder(out).Encode(v)
}
