package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

func TestPrintTrustIsPrintable(t *testing.T) {
	const id = "LSUZ24F-TLEAME2-7QXJ3KD-PZ4N6WA-B2C3D4E-F5G6H7I-J2K3L4M-N5O6P7Q"
	l := models.TrustList{Pending: []models.PendingPeer{{ID: id, Name: "kit\x1b[2Jchen", Address: "10.0.0.7:4\u009b1",
		FirstSeen: time.Now(), LastSeen: time.Now(), Count: 1}}}
	var out bytes.Buffer
	if err := printTrust(&out, l); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.ContainsAny(s, "\x1b\u009b") || !strings.Contains(s, `kit\x1b[2Jchen`) || !strings.Contains(s, `10.0.0.7:4\u009b1`) || !strings.Contains(s, id) {
		t.Errorf("printTrust wrote\n%s", s)
	}
}
