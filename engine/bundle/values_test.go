package bundle

import (
	"errors"
	"reflect"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"1048576", 1 << 20, ""},
		{"512B", 512, ""},
		{"2k", 2 << 10, ""},
		{"2KB", 2 << 10, ""},
		{"2KiB", 2 << 10, ""},
		{"64m", 64 << 20, ""},
		{"64MB", 64 << 20, ""},
		{"64MiB", 64 << 20, ""},
		{"64 mib", 64 << 20, ""},
		{"1g", 1 << 30, ""},
		{"1.5GiB", 3 << 29, ""},
		{"2GB", 2 << 30, ""},
		{"1TiB", 1 << 40, ""},
		{"", 0, `invalid size ""`},
		{"-1", 0, `invalid size "-1"`},
		{"1.5.5m", 0, `invalid size "1.5.5m"`},
		{"10 parsecs", 0, `unknown unit "parsecs" in "10 parsecs"`},
		{"99999999999999999999", 0, `size "99999999999999999999" is too large`},
		{"9000000000t", 0, `size "9000000000t" is too large`},
		{"9000000000.5t", 0, `size "9000000000.5t" is too large`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parseSize(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in      string
		want    models.PortMapping
		wantErr string
	}{
		{"80", models.PortMapping{ContainerPort: 80, Protocol: "tcp"}, ""},
		{"8080:80", models.PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, ""},
		{"8080:80/UDP", models.PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "udp"}, ""},
		{"127.0.0.1:8080:80/udp", models.PortMapping{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "udp"}, ""},
		{"[::]:53:53/udp", models.PortMapping{HostIP: "::", HostPort: 53, ContainerPort: 53, Protocol: "udp"}, ""},
		{"65535:1", models.PortMapping{HostPort: 65535, ContainerPort: 1, Protocol: "tcp"}, ""},
		{"65536", models.PortMapping{}, "port 65536 is out of range (1 to 65535)"},
		{"8080:", models.PortMapping{}, "missing port number"},
		{"a:b:c:d", models.PortMapping{}, `invalid port "a:b:c:d"`},
		{"[::1]80", models.PortMapping{}, `invalid port "[::1]80"`},
		{"[::1]:1:2:3", models.PortMapping{}, `invalid port "[::1]:1:2:3"`},
		{"[fe80::1%eth0]:80:80", models.PortMapping{}, `invalid host address "fe80::1%eth0"`},
		{"80/tcp/udp", models.PortMapping{}, `invalid protocol "tcp/udp"`},
		{"+80", models.PortMapping{}, `invalid port "+80"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePort(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parsePort(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parsePort(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeSignal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SIGTERM", "SIGTERM"},
		{"TERM", "SIGTERM"},
		{"term", "SIGTERM"},
		{"15", "SIGTERM"},
		{"9", "SIGKILL"},
		{"SIGQUIT", "SIGQUIT"},
		{"usr1", "SIGUSR1"},
		{"SIGIOT", "SIGABRT"},
		{"34", "SIGRTMIN"},
		{"SIGRTMIN+3", "SIGRTMIN+3"},
		{"rtmax", "SIGRTMAX"},
		{"RTMAX-1", "SIGRTMAX-1"},
		{"50", "SIGRTMAX-14"},
		{"SIGRTMAX-14", "SIGRTMAX-14"},
		{"SIGRTMIN+16", "SIGRTMAX-14"},
		{"0", ""},
		{"32", ""},
		{"65", ""},
		{"SIGRTMIN+31", ""},
		{"SIGRTMIN-1", ""},
		{"SIGRTMIN+03", ""},
		{"SIGFOO", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := normalizeSignal(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("normalizeSignal(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeSignal(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitShell(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"a b  c", []string{"a", "b", "c"}, ""},
		{`sh -c 'echo $HOME; exit'`, []string{"sh", "-c", "echo $HOME; exit"}, ""},
		{`echo "a \"b\" \$c \n"`, []string{"echo", `a "b" $c \n`}, ""},
		{`a\ b c\\d`, []string{"a b", `c\d`}, ""},
		{`''`, []string{""}, ""},
		{`x""y`, []string{"xy"}, ""},
		{"a\\\nb", []string{"ab"}, ""},
		{"line1\nline2\ttab", []string{"line1", "line2", "tab"}, ""},
		{`'open`, nil, "unterminated single quote"},
		{`"open`, nil, "unterminated double quote"},
		{`"a\"`, nil, "unterminated double quote"},
		{`end\`, nil, "trailing backslash"},
	}
	for _, tt := range tests {
		got, err := splitShell(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("splitShell(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitShell(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeImage(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ in, want string }{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest"},
		{"acme/api", "docker.io/acme/api:latest"},
		{"localhost:5000/app", "localhost:5000/app:latest"},
		{"localhost/budgie-demo:latest", "localhost/budgie-demo:latest"},
		{"ghcr.io/acme/api:1.2", "ghcr.io/acme/api:1.2"},
		{"busybox@" + digest, "docker.io/library/busybox@" + digest},
		{"busybox:1@" + digest, "docker.io/library/busybox@" + digest},
		{"", ""},
		{"Busybox", ""},
		{"busy box", ""},
		{"busybox:", ""},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeImage(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("NormalizeImage(%q) = %q, %v; want an ErrInvalid error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeImage(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"image", "image", 0},
		{"imgae", "image", 1},
		{"image", "", 5},
		{"memroy", "memory", 1},
		{"kitten", "sitting", 3},
		{"port", "ports", 1},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
