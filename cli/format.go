package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"text/template"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// errInvalid marks usage errors (exit code 2).
var errInvalid = errdefs.ErrInvalid

// outputFormat is a parsed --format value, the one way every listing
// honours it: the command's table (the default, also for ""), json, or a
// Go template applied to each item. The zero value is the table.
type outputFormat struct {
	json bool
	tmpl *template.Template // nil for the table and json
}

// parseFormat reads a --format value. A template that does not parse is a
// usage error (exit 2) naming the problem.
func parseFormat(format string) (outputFormat, error) {
	switch format {
	case "table", "":
		return outputFormat{}, nil
	case "json":
		return outputFormat{json: true}, nil
	}
	tmpl, err := parseTemplate(format)
	if err != nil {
		return outputFormat{}, err
	}
	return outputFormat{tmpl: tmpl}, nil
}

// parseTemplate parses a --format template; each item's output ends in a
// newline. It has docker's json and join functions.
func parseTemplate(format string) (*template.Template, error) {
	tmpl, err := template.New("format").Funcs(template.FuncMap{
		"json": func(v any) (string, error) { return jsonString(v) },
		"join": strings.Join,
	}).Parse(format + "\n")
	if err != nil {
		return nil, fmt.Errorf("bad --format template: %w: %w", err, errInvalid)
	}
	return tmpl, nil
}

// isTable reports whether f is the command's own table.
func (f outputFormat) isTable() bool { return !f.json && f.tmpl == nil }

// print writes items in f: the table by calling table, json as an
// indented array (a nil slice is []), or the template once per item, one
// line each. items is a slice; anything else is one document (system
// info, system df, config, trust ls), written as a JSON object or given
// to the template once. Template output is built first: a template that
// fails on an item (an unknown field) prints nothing and is a usage error.
func (f outputFormat) print(out io.Writer, items any, table func(io.Writer) error) error {
	return f.write(out, items, table, "    ")
}

// printLine is print for streams (stats samples, events): json is one
// line per document.
func (f outputFormat) printLine(out io.Writer, items any, table func(io.Writer) error) error {
	return f.write(out, items, table, "")
}

func (f outputFormat) write(out io.Writer, items any, table func(io.Writer) error, indent string) error {
	switch {
	case f.json:
		v := reflect.ValueOf(items)
		if v.Kind() == reflect.Slice && v.IsNil() {
			items = reflect.MakeSlice(v.Type(), 0, 0).Interface()
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", indent)
		return enc.Encode(items)
	case f.tmpl != nil:
		var buf bytes.Buffer
		v := reflect.ValueOf(items)
		if v.Kind() != reflect.Slice {
			v = reflect.ValueOf([]any{items})
		}
		for i := 0; i < v.Len(); i++ {
			if err := f.tmpl.Execute(&buf, v.Index(i).Interface()); err != nil {
				return fmt.Errorf("bad --format template: %w: %w", err, errInvalid)
			}
		}
		_, err := out.Write(buf.Bytes())
		return err
	}
	return table(out)
}

// printList writes items in format (see outputFormat.print): the helper
// every listing's --format goes through.
func printList(out io.Writer, format string, items any, table func(io.Writer) error) error {
	f, err := parseFormat(format)
	if err != nil {
		return err
	}
	return f.print(out, items, table)
}

// printTemplate applies a Go template to each element of items (a slice),
// one line each, as docker's --format does (inspect's -f).
func printTemplate(format string, items any) error {
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	return outputFormat{tmpl: tmpl}.print(os.Stdout, items, nil)
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
