package images

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestRegistryHost(t *testing.T) {
	tests := []struct {
		in, want string
		invalid  bool
	}{
		{in: "registry.lan:5000", want: "registry.lan:5000"},
		{in: "Registry.LAN", want: "registry.lan"},
		{in: "http://127.0.0.1:5000/v2/", want: "127.0.0.1:5000"},
		{in: "docker.io", want: "docker.io"},
		{in: "index.docker.io", want: "docker.io"},
		{in: "registry-1.docker.io", want: "docker.io"},
		{in: "https://index.docker.io/v1/", want: "docker.io"},
		{in: "", invalid: true},
		{in: "user@host", invalid: true},
		{in: "a b", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := RegistryHost(tt.in)
			if tt.invalid {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("RegistryHost(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("RegistryHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// fakeRegistry answers GET /v2/ for user:secret only, with basic auth or,
// when bearer, with a token from its /token endpoint (GET with basic auth,
// as docker's token servers take it).
func fakeRegistry(t *testing.T, bearer bool) *httptest.Server {
	t.Helper()
	const token = "tok-123"
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token" && r.Method == http.MethodGet:
			if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"token":%q}`, token)
		case r.URL.Path == "/v2/" && bearer:
			if r.Header.Get("Authorization") == "Bearer "+token {
				return
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake"`, srv.URL))
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/":
			if u, p, ok := r.BasicAuth(); ok && u == "user" && p == "secret" {
				return
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLogin(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		t.Run(fmt.Sprintf("bearer=%v", bearer), func(t *testing.T) {
			srv := fakeRegistry(t, bearer)
			host := strings.TrimPrefix(srv.URL, "http://")
			file := filepath.Join(t.TempDir(), "budgie", "auth.json")
			opts := LoginOptions{Registry: host, Username: "user", Password: "wrong", AuthFile: file}

			_, err := Login(context.Background(), opts)
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("wrong password: err = %v, want ErrUnauthorized", err)
			}
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Fatalf("a refused login wrote %s (stat: %v)", file, err)
			}

			opts.Password = "secret"
			got, err := Login(context.Background(), opts)
			if err != nil || got != host {
				t.Fatalf("Login = %q, %v; want %q", got, err, host)
			}
			st, err := os.Stat(file)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("auth file: %v, mode %v; want 0600", err, st.Mode())
			}
			data, _ := os.ReadFile(file)
			if strings.Contains(string(data), "secret") {
				t.Errorf("auth file holds the password in plain text:\n%s", data)
			}
			if u, p, err := Credentials(file, host); err != nil || u != "user" || p != "secret" {
				t.Errorf("Credentials = %q, %q, %v", u, p, err)
			}

			if _, err := Logout(host, file); err != nil {
				t.Fatal(err)
			}
			if u, _, _ := Credentials(file, host); u != "" {
				t.Errorf("credentials left after logout: %q", u)
			}
			if _, err := Logout(host, file); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("second logout: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestLoginUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	_, err := Login(context.Background(), LoginOptions{Registry: host, Username: "u", Password: "p", AuthFile: filepath.Join(t.TempDir(), "a.json")})
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestCredentialsDockerHub(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := writeAuth(file, authConfig{Auths: map[string]authEntry{"docker.io": {Auth: "dTpw"}}}); err != nil { // u:p
		t.Fatal(err)
	}
	if u, p, err := Credentials(file, "registry-1.docker.io"); err != nil || u != "u" || p != "p" {
		t.Errorf("Credentials(registry-1.docker.io) = %q, %q, %v; want docker.io's", u, p, err)
	}
	if u, _, err := Credentials(filepath.Join(t.TempDir(), "none.json"), "x"); err != nil || u != "" {
		t.Errorf("missing file: %q, %v", u, err)
	}
}

func TestIsAuthError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errors.New("failed to authorize: no basic auth credentials"), true},
		{errors.New("unexpected status: 401 Unauthorized"), true},
		{fmt.Errorf("x: %w", ErrUnauthorized), true},
		{errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		if got := isAuthError(tt.err); got != tt.want {
			t.Errorf("isAuthError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
