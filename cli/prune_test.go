package cli

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestAskYes(t *testing.T) {
	for _, tc := range []struct {
		answer string
		want   bool
	}{
		{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"y", true},
		{"\n", false}, {"", false}, {"n\n", false}, {"yep\n", false},
	} {
		var out bytes.Buffer
		if got := askYes(strings.NewReader(tc.answer), &out, "WARNING! This will remove x."); got != tc.want {
			t.Errorf("answer %q: %v, want %v", tc.answer, got, tc.want)
		}
		if want := "WARNING! This will remove x.\nAre you sure you want to continue? [y/N] "; out.String() != want {
			t.Errorf("prompt %q, want %q", out.String(), want)
		}
	}
}

func TestConfirmPruneWithoutTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	ok, err := confirmPrune(f, &out, false, "WARNING!")
	if ok || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "pass -f") || out.Len() != 0 {
		t.Errorf("no terminal, no -f: %v, %v, prompt %q; want a refusal that says pass -f", ok, err, out.String())
	}
	if ok, err := confirmPrune(f, &out, true, "WARNING!"); !ok || err != nil || out.Len() != 0 {
		t.Errorf("-f: %v, %v, prompt %q; want yes without asking", ok, err, out.String())
	}
}

func TestReportPrune(t *testing.T) {
	rep := engine.PruneReport{
		Containers: []string{"old"},
		Volumes:    []string{"v1", "v2"},
		Images:     []string{"docker.io/library/app:1"},
		ImageIDs:   []string{"sha256:abc"},
		Reclaimed:  12_900_000,
	}
	var out bytes.Buffer
	if err := reportPrune(&out, rep, nil); err != nil {
		t.Fatal(err)
	}
	want := "Deleted Containers:\nold\n\nDeleted Volumes:\nv1\nv2\n\nDeleted Images:\nuntagged: app:1\ndeleted: sha256:abc\n\nTotal reclaimed space: 12.3 MiB\n"
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	failed := errors.Join(errors.New("volume v3 is in use by x"), errors.New("remove image y: boom"))
	err := reportPrune(&out, engine.PruneReport{Volumes: []string{"v1"}}, failed)
	if !errors.Is(err, failed) || !strings.Contains(err.Error(), "volume v3 is in use by x\nremove image y: boom") {
		t.Errorf("a failure partway: %v", err)
	}
	if !strings.Contains(out.String(), "Deleted Volumes:\nv1\n") || !strings.HasSuffix(out.String(), "Total reclaimed space: 0 B\n") {
		t.Errorf("a failure partway must still report what went:\n%s", out.String())
	}
}

func TestSizeIEC(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 12_900_000: "12.3 MiB",
		150 << 20: "150 MiB", 1023 << 20: "1023 MiB", 1<<30 + 1<<28: "1.25 GiB",
	} {
		if got := sizeIEC(n); got != want {
			t.Errorf("sizeIEC(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDfTable(t *testing.T) {
	var out bytes.Buffer
	du := engine.DiskUsage{
		Images:  engine.DiskUsageRow{Total: 3, Active: 1, Size: 3 << 20, Reclaimable: 2 << 20},
		Volumes: engine.DiskUsageRow{Total: 1, Size: 2048, Reclaimable: 2048},
	}
	if err := dfTable(&out, du); err != nil {
		t.Fatal(err)
	}
	want := "TYPE            TOTAL   ACTIVE   SIZE    RECLAIMABLE\n" +
		"Images          3       1        3 MiB   2 MiB (66%)\n" +
		"Containers      0       0        0 B     0 B (0%)\n" +
		"Local Volumes   1       0        2 KiB   2 KiB (100%)\n"
	if out.String() != want {
		t.Errorf("df table:\n%s\nwant:\n%s", out.String(), want)
	}
}
