package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// peersEvery is how often an open Peers page asks the keeper's table.
const peersEvery = 2 * time.Second

func (s *Server) peerRoutes(m *http.ServeMux) {
	m.Handle("GET /peers", s.page(s.peersPage))
	m.Handle("GET /peers/stream", s.page(func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.listStream(w, r, sess, listFeed{rows: s.peerRows, every: peersEvery, jobs: "replicate"})
	}))
	m.Handle("POST /peers/plan", s.write(s.peerPlan))
	m.Handle("POST /peers/replicate", s.write(s.peerReplicate))
	m.Handle("POST /peers/trust", s.write(s.peerTrust))
	m.Handle("POST /peers/deny", s.write(s.peerDeny))
}

// peerRow is one container on the LAN, or one node's trust request. Every
// string in it comes from another node: the templates escape it, and
// Printable strips what would still fool a reader (controls, bidi).
type peerRow struct {
	Key, Kind                           string
	Node, Name, Image, State, Ports     string
	Address, Ref                        string
	Local, Trusted, Identified          bool
	PendingID, PendingName, PendingSeen string
	PendingCount                        int
	CSRF                                string
}

func (s *Server) peerList(ctx context.Context, csrf string) ([]peerRow, string, error) {
	res, err := s.eng.Peers(ctx, engine.PeersOptions{})
	if err != nil {
		return nil, "", err
	}
	trust, err := s.eng.TrustList(ctx)
	if err != nil {
		return nil, "", err
	}
	trusted := map[identity.ID]bool{}
	for _, t := range trust.Trusted {
		if id, err := identity.ParseID(t.ID); err == nil {
			trusted[id] = true
		}
	}
	pr := models.Printable
	var out []peerRow
	for _, n := range res.Nodes {
		id, idErr := identity.ParseID(n.Fingerprint)
		for _, c := range n.Containers {
			ps := formatPorts(c.Ports)
			if c.MorePorts > 0 {
				ps += fmt.Sprintf(" (+%d)", c.MorePorts)
			}
			out = append(out, peerRow{
				Key: "c-" + n.ID + "-" + c.ContainerID, Kind: "container",
				Node: pr(n.Name), Name: pr(c.Name), Image: pr(c.Image), State: pr(string(c.State)), Ports: pr(ps),
				// The forms name the container by IDs, never by the names a
				// node claims (another node could claim the same ones).
				Address: pr(n.Address), Ref: c.ContainerID + "@" + n.ID,
				Local: n.Local, Identified: idErr == nil, Trusted: idErr == nil && trusted[id], CSRF: csrf,
			})
		}
	}
	for _, p := range trust.Pending {
		out = append(out, peerRow{
			Key: "p-" + p.ID, Kind: "pending", PendingID: p.ID, PendingName: pr(p.Name), Address: pr(p.Address),
			PendingSeen: ago(p.LastSeen), PendingCount: p.Count, CSRF: csrf,
		})
	}
	slices.SortFunc(out, func(a, b peerRow) int {
		return strings.Compare(a.Kind+a.Node+a.Name+a.PendingID, b.Kind+b.Node+b.Name+b.PendingID)
	})
	return out, res.Source, nil
}

func (s *Server) peersPage(w http.ResponseWriter, r *http.Request, sess *session) {
	rows, source, err := s.peerList(r.Context(), sess.csrf)
	data := struct {
		Rows     []peerRow
		Source   string
		NodeName string
		Error    string
	}{Rows: rows, Source: source, NodeName: s.eng.Config.NodeName}
	if err != nil {
		data.Error = err.Error()
	}
	s.render(w, r, sess, "peers", data)
}

func (s *Server) peerRows(ctx context.Context, csrf string) ([]row, error) {
	list, _, err := s.peerList(ctx, csrf)
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(list))
	for _, p := range list {
		name := "peer-row"
		if p.Kind == "pending" {
			name = "pending-row"
		}
		html, err := s.partial("peers", name, p)
		if err != nil {
			return nil, err
		}
		out = append(out, row{Key: p.Key, HTML: html})
	}
	return out, nil
}

// checkPeerRef accepts NAME@NODE with a container name's characters on
// the left and a node name's (letters, digits, ._-) on the right.
func checkPeerRef(ref string) error {
	name, node, ok := strings.Cut(ref, "@")
	if !ok || checkRef(name) != nil || node == "" || len(node) > 64 || strings.ContainsFunc(node, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
	}) {
		return fmt.Errorf("%q is not NAME@NODE", models.Printable(ref))
	}
	return nil
}

// peerPlan is the confirm's text: what would run here, and what of the
// primary's plan would be left out (a dry run through the engine).
func (s *Server) peerPlan(w http.ResponseWriter, r *http.Request, _ *session) {
	ref := r.PostFormValue("ref")
	if err := checkPeerRef(ref); err != nil {
		replyError(w, r, http.StatusBadRequest, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	res, err := s.eng.Replicate(ctx, engine.ReplicateOptions{Ref: ref, DryRun: true})
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/peers", map[string]string{"message": planText(res)})
}

// planText says what a replication would do, in one paragraph.
func planText(res replica.Result) string {
	pr := models.Printable
	a := res.Admission
	img := "copied from the primary"
	if res.HaveImage {
		img = "already here"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Replicate %s from %s to this node as %s?\nImage %s (%s).", pr(res.Plan.Name), pr(res.Primary.Name), pr(a.Spec.Name), pr(a.Spec.Image), img)
	for _, v := range a.Volumes {
		files := "files"
		if v.Files == 1 {
			files = "file"
		}
		fmt.Fprintf(&b, "\nVolume %s: %d %s, %s.", pr(v.Name), v.Files, files, formatBytes(v.Bytes))
	}
	for _, ref := range a.Refused {
		fmt.Fprintf(&b, "\nLeft out: %s.", pr(ref))
	}
	return b.String()
}

// peerReplicate replicates a container here, kept in sync; its progress
// streams to every open Peers page.
func (s *Server) peerReplicate(w http.ResponseWriter, r *http.Request, _ *session) {
	ref := r.PostFormValue("ref")
	if err := checkPeerRef(ref); err != nil {
		replyError(w, r, http.StatusBadRequest, err)
		return
	}
	label := models.Printable(r.PostFormValue("label"))
	if label == "" || len(label) > 200 {
		label = ref
	}
	id := s.jobs.start("replicate", "replicate "+label)
	client := clientAddr(r)
	go func() {
		ctx, cancel := context.WithTimeout(s.ctx, 6*time.Hour)
		defer cancel()
		res, err := s.eng.Replicate(ctx, engine.ReplicateOptions{Ref: ref, Sync: true, Progress: func(p replica.Progress) {
			s.jobs.step(id, jobStep{Name: models.Printable(p.What), Status: fmt.Sprintf("%d/%d files", p.FilesDone, p.FilesTotal), Done: p.BytesDone, Total: p.BytesTotal})
		}})
		s.auditFrom(client, "peer.replicate", ref, err)
		result, link := "", ""
		if err == nil {
			result = "running here as " + res.Container.Name
			link = "/containers/" + res.Container.Name
		}
		s.jobs.finish(id, result, link, err)
	}()
	reply(w, r, "/peers", map[string]string{"ok": "replicating", "name": ref, "job": id})
}

// peerTrust trusts a node that asked (its ID as its request showed it).
func (s *Server) peerTrust(w http.ResponseWriter, r *http.Request, _ *session) {
	id, name := r.PostFormValue("id"), r.PostFormValue("name")
	if _, err := identity.ParseID(id); err != nil || len(name) > 64 {
		replyError(w, r, http.StatusBadRequest, fmt.Errorf("not a node ID: %w", err))
		return
	}
	err := s.eng.TrustPeer(r.Context(), id, name)
	s.audit(r, "peer.trust", id, err)
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/peers", map[string]string{"ok": "trusted", "name": models.ShortNodeID(id)})
}

func (s *Server) peerDeny(w http.ResponseWriter, r *http.Request, _ *session) {
	id := r.PostFormValue("id")
	if _, err := identity.ParseID(id); err != nil {
		replyError(w, r, http.StatusBadRequest, fmt.Errorf("not a node ID: %w", err))
		return
	}
	err := s.eng.DenyPeer(r.Context(), id)
	s.audit(r, "peer.deny", id, err)
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/peers", map[string]string{"ok": "denied", "name": models.ShortNodeID(id)})
}
