package bundle

import (
	"fmt"

	"github.com/distribution/reference"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// NormalizeImage turns an image reference into its full form as docker
// reads it: "busybox" becomes "docker.io/library/busybox:latest" and
// "localhost:5000/app" becomes "localhost:5000/app:latest"; a reference with
// a digest keeps the digest and drops any tag. Bad references fail with
// errdefs.ErrInvalid.
func NormalizeImage(ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("image reference is empty: %w", errdefs.ErrInvalid)
	}
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w: %w", ref, errdefs.ErrInvalid, err)
	}
	return named.String(), nil
}
