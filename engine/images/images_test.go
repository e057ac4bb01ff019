package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		invalid  bool
	}{
		{in: "nginx", want: "docker.io/library/nginx:latest"},
		{in: "nginx:1.27", want: "docker.io/library/nginx:1.27"},
		{in: "library/nginx", want: "docker.io/library/nginx:latest"},
		{in: "docker.io/library/nginx:latest", want: "docker.io/library/nginx:latest"},
		{in: "bitnami/redis:7", want: "docker.io/bitnami/redis:7"},
		{in: "ghcr.io/owner/app", want: "ghcr.io/owner/app:latest"},
		{in: "localhost/budgie-demo", want: "localhost/budgie-demo:latest"},
		{in: "127.0.0.1:5000/test/bb:1", want: "127.0.0.1:5000/test/bb:1"},
		{in: "busybox@sha256:" + sixtyFourHex, want: "docker.io/library/busybox@sha256:" + sixtyFourHex},
		{in: "Nginx", invalid: true},
		{in: "", invalid: true},
		{in: "nginx:bad tag", invalid: true},
		{in: sixtyFourHex, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.invalid {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("Normalize(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

const sixtyFourHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestFamiliar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker.io/library/nginx:latest", "nginx:latest"},
		{"docker.io/library/nginx", "nginx"},
		{"docker.io/bitnami/redis:7", "bitnami/redis:7"},
		{"docker.io/bitnami/redis", "bitnami/redis"},
		{"127.0.0.1:5000/test/bb:1", "127.0.0.1:5000/test/bb:1"},
		{"<none>@sha256:" + sixtyFourHex, "<none>@sha256:" + sixtyFourHex},
		{NoneTag, NoneTag},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Familiar(tt.in); got != tt.want {
				t.Errorf("Familiar = %q, want %q", got, tt.want)
			}
			if strings.Contains(tt.in, "@") {
				return
			}
			repo, wantRepo := tt.in, tt.want
			if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
				repo, wantRepo = repo[:i], wantRepo[:strings.LastIndex(wantRepo, ":")]
			}
			if got := FamiliarRepository(repo); got != wantRepo {
				t.Errorf("FamiliarRepository(%q) = %q, want %q", repo, got, wantRepo)
			}
		})
	}
}

func TestIsInsecure(t *testing.T) {
	list := []string{"reg.lan:5000", "pi.lan"}
	tests := []struct {
		host string
		want bool
	}{
		{"reg.lan:5000", true},
		{"reg.lan:5001", false},
		{"reg.lan", false},
		{"pi.lan", true},
		{"pi.lan:443", true},
		{"docker.io", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := isInsecure(list, tt.host); got != tt.want {
				t.Errorf("isInsecure(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestRepoMatcher(t *testing.T) {
	imgs := map[string]models.Image{
		"nginx:latest":  {Repository: "docker.io/library/nginx", Tag: "latest"},
		"nginx:1":       {Repository: "docker.io/library/nginx", Tag: "1"},
		"bitnami/nginx": {Repository: "docker.io/bitnami/nginx", Tag: "1"},
		"local":         {Repository: "127.0.0.1:5000/test/bb", Tag: "1"},
		"none":          {Repository: NoneTag, Tag: NoneTag},
	}
	tests := []struct {
		repo    string
		want    []string
		invalid bool
	}{
		{repo: "", want: []string{"nginx:latest", "nginx:1", "bitnami/nginx", "local", "none"}},
		{repo: "nginx", want: []string{"nginx:latest", "nginx:1"}},
		{repo: "docker.io/library/nginx", want: []string{"nginx:latest", "nginx:1"}},
		{repo: "nginx:1", want: []string{"nginx:1"}},
		{repo: "bitnami/nginx", want: []string{"bitnami/nginx"}},
		{repo: "127.0.0.1:5000/test/bb", want: []string{"local"}},
		{repo: "*/nginx", want: []string{"bitnami/nginx"}},
		{repo: "*nginx", want: []string{"nginx:latest", "nginx:1"}},
		{repo: "*:1", want: []string{"nginx:1"}},
		{repo: "*/*:1", want: []string{"bitnami/nginx"}},
		{repo: "127.0.0.1:5000/*", want: nil},
		{repo: "127.0.0.1:5000/*/*", want: []string{"local"}},
		{repo: "redis"},
		{repo: "NGINX", invalid: true},
		{repo: "[", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			match, err := repoMatcher(tt.repo)
			if tt.invalid {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("repoMatcher(%q) error = %v, want ErrInvalid", tt.repo, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, k := range tt.want {
				want[k] = true
			}
			for k, img := range imgs {
				if got := match(img); got != want[k] {
					t.Errorf("%s: match = %v, want %v", k, got, want[k])
				}
			}
		})
	}
}

func TestOCIRefName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker.io/library/busybox:1", "docker.io/library/busybox:1"},
		{"busybox:1", "docker.io/library/busybox:1"},
		{"localhost/demo", "localhost/demo:latest"},
		{"latest", ""},
		{"1.0", ""},
		{"Bad/Name:1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ociRefName(tt.in); got != tt.want {
				t.Errorf("ociRefName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPullError(t *testing.T) {
	refused := &url.Error{Op: "Head", URL: "https://reg.lan/v2/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	tests := []struct {
		name     string
		err      error
		sentinel error
		contains string
	}{
		{"not found", fmt.Errorf("failed to resolve reference: x: %w", cerrdefs.ErrNotFound), errdefs.ErrNotFound, "registry reg.lan:5000 has no such image or tag"},
		{"refused", fmt.Errorf("failed to resolve reference: %w", refused), errdefs.ErrUnavailable, "cannot reach registry reg.lan:5000"},
		{"plain http", errors.New(`Head "https://reg.lan:5000/v2/": http: server gave HTTP response to HTTPS client`), errdefs.ErrUnavailable, "registries.insecure"},
		{"tls", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), errdefs.ErrUnavailable, "TLS with registry reg.lan:5000"},
		{"timeout", fmt.Errorf("pull: %w", context.DeadlineExceeded), context.DeadlineExceeded, "pull reg.lan:5000/app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pullError("reg.lan:5000/app:1", tt.err)
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("pullError(%v) = %v; want it to wrap %v", tt.err, err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("pullError(%v) = %q; want it to contain %q", tt.err, err, tt.contains)
			}
		})
	}

}
