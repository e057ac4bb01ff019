package cli

import (
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
)

// libraryLogFormat prints what libraries log through logrus (containerd's
// client, compose-go's warnings such as "the attribute `version` is
// obsolete") as budgie's own lines, "budgie: warning: …", instead of
// logrus's time="…" level=… key-value text.
type libraryLogFormat struct{}

// Format writes one entry as a budgie line; fields follow the message.
func (libraryLogFormat) Format(e *logrus.Entry) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "budgie: %s: %s", e.Level, strings.TrimSpace(e.Message))
	for k, v := range e.Data {
		fmt.Fprintf(&b, " %s=%v", k, v)
	}
	b.WriteByte('\n')
	return []byte(b.String()), nil
}
