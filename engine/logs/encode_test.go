package logs

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// appendEntry must write exactly what encoding/json writes for an entry
// (which is what Docker's json-file has).
func checkEntryEncoding(t *testing.T, log []byte) {
	t.Helper()
	tm := time.Date(2026, 1, 2, 3, 4, 5, 60, time.FixedZone("X", 3600))
	want, err := json.Marshal(entry{Log: string(log), Stream: "stderr", Time: tm.UTC()})
	if err != nil {
		t.Fatal(err)
	}
	got := appendEntry(nil, "stderr", log, tm)
	if !bytes.Equal(got, append(want, '\n')) {
		t.Fatalf("appendEntry(%q)\n got %s\nwant %s", log, got, want)
	}
}

func TestAppendEntryMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "plain\n", "<script>&amp;</script>", "\"quoted\" \\ back",
		"\x00\x01\x1f\x7f\b\f\t\r\n", "é€😀", "\u2028\u2029", "a\xffb\xc3", "\xe2\x82", "\xed\xa0\x80",
	}
	for _, c := range cases {
		checkEntryEncoding(t, []byte(c))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\n", "<", "\"", "\\", "\x01", "é", "€", "😀", "\u2028", "\xff", "\xe2", "\x82", "\x80"}
	for range 5000 {
		var b []byte
		for range rng.IntN(20) {
			if rng.IntN(4) == 0 {
				b = append(b, byte(rng.IntN(256)))
			} else {
				b = append(b, alphabet[rng.IntN(len(alphabet))]...)
			}
		}
		checkEntryEncoding(t, b)
	}
}

func FuzzAppendEntry(f *testing.F) {
	f.Add([]byte("hello\n"))
	f.Add([]byte("\xe2\x82\u2028<"))
	f.Fuzz(func(t *testing.T, log []byte) { checkEntryEncoding(t, log) })
}
