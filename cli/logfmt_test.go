package cli

import (
	"testing"

	"github.com/sirupsen/logrus"
)

// TestLibraryLogFormat: a library's logrus warning reads as budgie's line.
func TestLibraryLogFormat(t *testing.T) {
	e := &logrus.Entry{Level: logrus.WarnLevel, Message: "compose.yaml: the attribute `version` is obsolete\n", Data: logrus.Fields{"host": "reg.lan"}}
	got, err := libraryLogFormat{}.Format(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := "budgie: warning: compose.yaml: the attribute `version` is obsolete host=reg.lan\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
