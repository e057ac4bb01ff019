package errdefs

import (
	"errors"
	"fmt"
	"testing"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("no such container: web: %w", ErrNotFound), "no such container: web"},
		{fmt.Errorf("stop web: %w", fmt.Errorf("is running: %w", ErrConflict)), "stop web: is running"},
		{fmt.Errorf("a: %w: %w", errors.New("cause"), ErrInvalid), "a: cause"},
		{errors.New("plain: invalid"), "plain: invalid"}, // no sentinel in the chain: text kept
		{fmt.Errorf("x: %w", ErrNotSupported), "x"},
	}
	for _, tt := range tests {
		if got := Message(tt.err); got != tt.want {
			t.Errorf("Message(%q) = %q, want %q", tt.err, got, tt.want)
		}
		if !errors.Is(tt.err, ErrNotFound) && tt.want == "no such container: web" {
			t.Error("sentinel lost")
		}
	}
}
