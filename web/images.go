package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
)

// maxRefLen bounds an image reference typed into the pull form.
const maxRefLen = 512

func (s *Server) imageRoutes(m *http.ServeMux) {
	m.Handle("GET /images", s.page(s.imagesPage))
	m.Handle("GET /images/stream", s.page(func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.listStream(w, r, sess, listFeed{rows: s.imageRows, every: 10 * time.Second, jobs: "pull", topic: "images"})
	}))
	m.Handle("POST /images/pull", s.write(s.imagePull))
	m.Handle("POST /images/remove", s.write(s.imageRemove))
}

type imageRow struct {
	models.Image
	CSRF string
}

func (s *Server) imagesPage(w http.ResponseWriter, r *http.Request, sess *session) {
	imgs, err := s.eng.Images(r.Context(), images.ListOptions{})
	data := struct {
		Rows  []imageRow
		Error string
	}{}
	if err != nil {
		data.Error = err.Error()
	}
	for _, im := range imgs {
		data.Rows = append(data.Rows, imageRow{im, sess.csrf})
	}
	s.render(w, r, sess, "images", data)
}

func (s *Server) imageRows(ctx context.Context, csrf string) ([]row, error) {
	imgs, err := s.eng.Images(ctx, images.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(imgs))
	for _, im := range imgs {
		html, err := s.partial("images", "image-row", imageRow{im, csrf})
		if err != nil {
			return nil, err
		}
		out = append(out, row{Key: im.Name, HTML: html})
	}
	return out, nil
}

// checkImageRef accepts what a reference may hold: letters, digits and
// ._-/:@+ (a registry's host:port, a tag, a digest), at most 512.
func checkImageRef(ref string) error {
	if ref == "" || len(ref) > maxRefLen {
		return fmt.Errorf("an image reference is 1 to %d characters", maxRefLen)
	}
	for _, r := range ref {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@+", r)
		if !ok {
			return fmt.Errorf("%q is not an image reference (e.g. busybox:1.36 or 127.0.0.1:5000/app:1)", models.Printable(ref))
		}
	}
	return nil
}

// imagePull starts a pull whose per-layer progress streams to every open
// images page; the pull goes on if the page is closed.
func (s *Server) imagePull(w http.ResponseWriter, r *http.Request, _ *session) {
	ref := strings.TrimSpace(r.PostFormValue("ref"))
	if err := checkImageRef(ref); err != nil {
		replyError(w, r, http.StatusBadRequest, err)
		return
	}
	id := s.jobs.start("pull", "pull "+ref)
	client := clientAddr(r)
	go func() {
		ctx, cancel := context.WithTimeout(s.ctx, time.Hour)
		defer cancel()
		img, err := s.eng.PullImage(ctx, ref, images.PullOptions{Progress: func(p images.Progress) {
			s.jobs.step(id, jobStep{Name: models.ShortID(strings.TrimPrefix(p.Digest, "sha256:")), Status: string(p.Status), Done: p.Offset, Total: p.Total})
		}})
		s.auditFrom(client, "image.pull", ref, err)
		result := ""
		if err == nil {
			result = "pulled " + img.Name
		}
		s.jobs.finish(id, result, "", err)
	}()
	reply(w, r, "/images", map[string]string{"ok": "pulling", "name": ref, "job": id})
}

func (s *Server) imageRemove(w http.ResponseWriter, r *http.Request, _ *session) {
	ref := r.PostFormValue("ref")
	if err := checkImageRef(ref); err != nil {
		replyError(w, r, http.StatusBadRequest, err)
		return
	}
	removed, err := s.eng.RemoveImages(r.Context(), []string{ref}, images.RemoveOptions{})
	s.audit(r, "image.remove", ref, err)
	s.topics.changed("images")
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/images", map[string]string{"ok": "removed", "name": strings.Join(removed, ", ")})
}
