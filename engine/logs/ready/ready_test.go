package ready_test

import (
	"testing"

	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/logs/ready"
)

func TestDriverArg(t *testing.T) {
	if ready.DriverArg != logs.DriverArg {
		t.Fatalf("ready.DriverArg = %q, logs.DriverArg = %q: the early ready signal would never fire", ready.DriverArg, logs.DriverArg)
	}
}
