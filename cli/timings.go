package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/budgie-sh/budgie/engine/timing"
)

// processStart is as close to the process's start as Go code gets: every
// package this one imports has run its init by now.
var processStart = time.Now()

// TimingsEnv, set to 1, has a command print how long each of its phases
// took to stderr when it ends (README.md, Development: "Where the time goes").
const TimingsEnv = "BUDGIE_TIMINGS"

// timingsRecorder returns a Recorder when TimingsEnv asks for timings.
func timingsRecorder() *timing.Recorder {
	if os.Getenv(TimingsEnv) != "1" {
		return nil
	}
	return timing.NewRecorder(processStart)
}

// printTimings writes one line per phase, in the order they ended:
// "budgie: timing: +START DURATION NAME", milliseconds from processStart;
// the last line is the whole command.
func printTimings(w io.Writer, r *timing.Recorder) {
	for _, s := range r.Spans() {
		fmt.Fprintf(w, "budgie: timing: +%.1fms %.1fms %s\n", ms(s.Start.Sub(r.Origin())), ms(s.Duration), s.Name)
	}
	fmt.Fprintf(w, "budgie: timing: +0.0ms %.1fms total\n", ms(time.Since(r.Origin())))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
