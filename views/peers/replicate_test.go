package peers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// Full node IDs as `budgie id` prints them; cellar sorts first.
const (
	cellarID  = "LSUZ24F-TLEAME2-7QXJ3KD-PZ4N6WA-B2C3D4E-F5G6H7I-J2K3L4M-N5O6P7Q"
	kitchenID = "KQ7MZ2A-WX4B5C6-D7E2F3G-H4I5J6K-L7M2N3O-P4Q5R6S-T7U2V3W-X4Y5Z6A"
)

// fakeRepl is a fixed-data ReplicationBackend that records its calls. The
// real one is engine.Replicate, tested end to end on the lab.
type fakeRepl struct {
	*commontest.Backend
	mu       sync.Mutex
	calls    []string
	fail     error    // the replication fails
	planFail error    // the dry run fails
	refused  []string // replaces the plan's refused lines when set
	changed  bool     // the real run admits another spec than the dry run
	release  chan struct{}
	// release: Replicate waits on it after its first progress step
}

func newFakeRepl() *fakeRepl {
	b := commontest.New()
	b.SetPeers(commontest.SamplePeers(), nil)
	return &fakeRepl{Backend: b}
}

func (f *fakeRepl) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeRepl) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// plan is what attic's app admits to: its bind mount, host network and
// secret are refused.
func (f *fakeRepl) plan() replica.Result {
	refused := []string{
		`bind mount of host path "/etc" at "/host-etc" (a replica never mounts host paths)`,
		"network host (a replica gets its own network namespace; it joins the default network)",
		"secret api-key (a replica reads this node's secrets only when you allow each: --secret api-key)",
	}
	if f.refused != nil {
		refused = f.refused
	}
	return replica.Result{
		Admission: replica.Admission{
			Spec: models.ContainerSpec{Name: "app", Image: "registry:5000/app/server:2.1", Env: []string{"TOKEN=hunter2"},
				Volumes:  []models.VolumeMount{{Kind: models.VolumeNamed, Source: "appdata", Target: "/var/lib/app"}},
				Ports:    []models.PortMapping{{HostPort: 9000, ContainerPort: 9000, Protocol: "udp"}},
				Networks: []string{"backend"}},
			Volumes: []models.ReplicaVolume{{Name: "appdata", Target: "/var/lib/app", Files: 12, Bytes: 3_400_000}},
			Refused: refused,
		},
		Plan: models.ReplicaPlan{ImageDigest: "sha256:" + strings.Repeat("cd", 32)},
	}
}

func (f *fakeRepl) Replicate(_ context.Context, req engine.ReplicateOptions) (replica.Result, error) {
	rep := f.plan()
	if req.DryRun {
		f.record("plan " + req.Ref)
		return rep, f.planFail
	}
	f.record("replicate " + req.Ref + map[bool]string{true: " sync", false: ""}[req.Sync])
	req.Progress(replica.Progress{What: "volume data", Progress: volsync.Progress{BytesDone: 50 << 20, BytesTotal: 100 << 20, FilesDone: 3, FilesTotal: 7},
		Rate: 10 << 20, ETA: 5 * time.Second})
	if f.release != nil {
		<-f.release
	}
	if f.fail != nil {
		return replica.Result{}, f.fail
	}
	if f.changed {
		rep.Admission.Spec.Networks = append(rep.Admission.Spec.Networks, "frontend")
	}
	rep.Container = models.Container{ID: commontest.ID(9), Name: "app"}
	return rep, nil
}

func (f *fakeRepl) ReplicaStatus(context.Context) ([]models.ReplicaStatus, error) {
	return []models.ReplicaStatus{{ContainerID: commontest.ID(8), Name: "cache", Primary: "x/y", PrimaryNode: "attic",
		State: "ok", LastSync: commontest.Now.Add(-3 * time.Second), BytesReceived: 2 << 20, Syncs: 4}}, nil
}

func (f *fakeRepl) TrustList(context.Context) (models.TrustList, error) {
	return models.TrustList{Pending: []models.PendingPeer{
		{ID: cellarID, Name: "cellar", Address: "192.168.1.30:41000", FirstSeen: commontest.Now.Add(-time.Hour),
			LastSeen: commontest.Now.Add(-time.Minute), Count: 2},
		{ID: kitchenID, Name: "kitchen", Address: "192.168.1.40:41000", FirstSeen: commontest.Now.Add(-2 * time.Minute),
			LastSeen: commontest.Now.Add(-2 * time.Minute), Count: 1},
	}}, nil
}

func (f *fakeRepl) TrustPeer(_ context.Context, id, name string) error {
	f.record("trust " + id + " " + name)
	return nil
}

func (f *fakeRepl) DenyPeer(_ context.Context, id string) error {
	f.record("deny " + id)
	return nil
}

// attic's app, as the dry run and the replication ask for it.
var appRef = commontest.ID(6) + "@a77c0000000000000000000000000000"

// loadedRepl is a model that has fetched the table, the replicas and the
// trust list, with the cursor on attic's app.
func loadedRepl(t *testing.T, f *fakeRepl) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(commontest.Common(ctx, f))
	m.SetSize(120, 30)
	m.Update(m.fetch()())
	m.Update(m.fetchExtras(m.seq)())
	for range 3 {
		m.Update(keyMsg("down"))
	}
	return m
}

// planned presses R and gives the model the dry run's answer, which
// opens the root's dialog.
func planned(t *testing.T, m *Model) *session {
	t.Helper()
	_, cmd := m.Update(keyMsg("R"))
	if cmd == nil || m.mode != planning {
		t.Fatalf("R ran no dry run (mode %d)", m.mode)
	}
	s := &session{m: m}
	_, ask := m.Update(cmd())
	if s.open(ask); s.box == nil {
		t.Fatal("the dry run's answer asked no confirmation")
	}
	return s
}

// confirm answers the dialog with OK and hands its answer to the view,
// returning the view's command (the replication).
func (s *session) confirm(t *testing.T) tea.Cmd {
	t.Helper()
	s.press("right")
	yes := s.press("enter")
	if yes == nil {
		t.Fatal("confirming ran nothing")
	}
	_, cmd := s.m.Update(yes())
	return cmd
}

func TestReplicateConfirmStartsOnCancel(t *testing.T) {
	for _, keys := range [][]string{{"enter"}, {"esc"}, {"q"}} {
		f := newFakeRepl()
		m := loadedRepl(t, f)
		s := planned(t, m)
		var cmd tea.Cmd
		for _, k := range keys {
			cmd = s.press(k)
		}
		if cmd != nil || !reflect.DeepEqual(f.log(), []string{"plan " + appRef}) || m.mode != browsing {
			t.Errorf("R %v: replicated anyway (calls %v, mode %d)", keys, f.log(), m.mode)
		}
	}
}

func TestReplicateConfirmShowsAdmittedSpecAndRefused(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	v := planned(t, m).view()
	for _, want := range []string{"Replicate app from attic to this node as app",
		"registry:5000/app/server:2.1@sha256:cdcdcdcdcdcd (copied from the primary)",
		"appdata → /var/lib/app: 12 files, 3.4 MB", "0.0.0.0:9000->9000/udp", "networks  backend", "secrets   none",
		"left out of the primary's plan (3):", `bind mount of host path "/etc"`, "network host (a replica", "secret api-key"} {
		if !strings.Contains(v, want) {
			t.Errorf("dialog lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "hunter2") {
		t.Errorf("dialog shows an environment value:\n%s", v)
	}
}

func TestReplicateShowsProgressAndLandsOnReplica(t *testing.T) {
	f := newFakeRepl()
	f.release = make(chan struct{})
	m := loadedRepl(t, f)
	cmd := planned(t, m).confirm(t)
	if cmd == nil {
		t.Fatal("confirming started nothing")
	}
	m.Update(cmd()) // the progress step
	v := m.View()
	for _, want := range []string{"Replicating app@attic", "volume data", "52 MB / 105 MB", "3/7 files", "ETA 5s"} {
		if !strings.Contains(v, want) {
			t.Errorf("progress panel lacks %q:\n%s", want, v)
		}
	}
	// Keys do nothing while it runs.
	if _, c := m.Update(keyMsg("R")); c != nil {
		t.Errorf("a key started something during the transfer")
	}
	close(f.release)
	_, cmd = m.Update(waitProgress(m.progressCh)())
	if m.mode != browsing || !reflect.DeepEqual(f.log(), []string{"plan " + appRef, "replicate " + appRef + " sync"}) {
		t.Fatalf("after the end: mode %d, calls %v", m.mode, f.log())
	}
	var toast, landed, warned bool
	for _, c := range cmd().(tea.BatchMsg) {
		switch msg := c().(type) {
		case common.ToastMsg:
			toast = strings.Contains(msg.Text, "replicated app@attic as app")
		case common.SwitchViewMsg:
			landed = msg.View == "details" && msg.ContainerID == commontest.ID(9)
		case common.ErrorMsg:
			warned = true
		}
	}
	if !toast || !landed || warned {
		t.Errorf("toast %v, landed on the replica %v, warned %v", toast, landed, warned)
	}
}

func TestReplicateWarnsWhenThePlanChanged(t *testing.T) {
	f := newFakeRepl()
	f.changed = true
	m := loadedRepl(t, f)
	cmd := planned(t, m).confirm(t)
	m.Update(cmd())
	_, cmd = m.Update(waitProgress(m.progressCh)())
	var warned bool
	for _, c := range cmd().(tea.BatchMsg) {
		if e, ok := c().(common.ErrorMsg); ok {
			warned = strings.Contains(e.Err.Error(), "plan changed")
		}
	}
	if !warned {
		t.Error("a replica that runs another spec than the dialog showed is not reported")
	}
}

func TestReplicateErrorIsReported(t *testing.T) {
	f := newFakeRepl()
	f.fail = errors.New("not trusted by node attic\x1b[2J")
	m := loadedRepl(t, f)
	cmd := planned(t, m).confirm(t)
	m.Update(cmd())
	_, cmd = m.Update(waitProgress(m.progressCh)())
	e, ok := cmd().(common.ErrorMsg)
	if !ok || e.Err.Error() != `not trusted by node attic\x1b[2J` || m.mode != browsing {
		t.Errorf("error not reported printable: %#v, mode %d", cmd(), m.mode)
	}
}

func TestPlanErrorIsReported(t *testing.T) {
	f := newFakeRepl()
	f.planFail = fmt.Errorf("node attic: the primary's plan is refused: spec.env: %q is not KEY=VALUE", "\x1b[2J")
	m := loadedRepl(t, f)
	_, cmd := m.Update(keyMsg("R"))
	_, cmd = m.Update(cmd())
	if e, ok := cmd().(common.ErrorMsg); !ok || !strings.Contains(e.Err.Error(), "plan is refused") || m.mode != browsing {
		t.Errorf("plan error not reported: %#v, mode %d", cmd(), m.mode)
	}
	if !reflect.DeepEqual(f.log(), []string{"plan " + appRef}) {
		t.Errorf("calls %v", f.log())
	}
}

func TestPlanningCancelledByEsc(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	_, cmd := m.Update(keyMsg("R"))
	if !strings.Contains(m.View(), "asking the primary for its plan") {
		t.Errorf("no planning panel:\n%s", m.View())
	}
	m.Update(keyMsg("esc"))
	m.Update(cmd()) // the answer comes late
	if m.mode != browsing {
		t.Errorf("a cancelled dry run opened its dialog (mode %d)", m.mode)
	}
}

func TestReplicateRefusesLocalAndNodeRows(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	m.Update(keyMsg("g")) // node-1, a node row
	if _, cmd := m.Update(keyMsg("R")); m.mode != browsing || cmd == nil {
		t.Errorf("R on a node row opened a dialog")
	}
	m.Update(keyMsg("down")) // web, on this node
	if _, cmd := m.Update(keyMsg("R")); m.mode != browsing || cmd == nil {
		t.Errorf("R on a local container opened a dialog")
	}
	if len(f.log()) != 0 {
		t.Errorf("calls %v", f.log())
	}
}

func TestReplicateDialogListsEveryRefusedLineThatFits(t *testing.T) {
	f := newFakeRepl()
	for i := range 40 {
		f.refused = append(f.refused, fmt.Sprintf("label \"x%d\" (reserved or malformed)", i))
	}
	m := loadedRepl(t, f)
	v := planned(t, m).view()
	if !strings.Contains(v, `label "x0"`) || !strings.Contains(v, "more: budgie chirp app@attic --dry-run lists them all") {
		t.Errorf("overflowing refused lines:\n%s", v)
	}
	if n := strings.Count(v, "\n") + 1; n > 30 {
		t.Errorf("the view is %d lines high, more than its 30", n)
	}
}

func TestReplicaDialogGolden(t *testing.T) {
	tests := []struct {
		name    string
		height  int
		refused int // replaces the plan's refused lines with that many
		keys    []string
		width   int // 0 means 120
	}{
		{"planning", 30, 0, []string{"R"}, 0},
		{"confirm with refused lines", 30, 0, []string{"R", "run"}, 0},
		{"confirm on a short screen", 20, 0, []string{"R", "run"}, 0},
		{"more refused lines than fit", 20, 9, []string{"R", "run"}, 0},
		{"confirm with refused lines 80x24", 24, 0, []string{"R", "run"}, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRepl()
			for i := range tt.refused {
				f.refused = append(f.refused, fmt.Sprintf("label \"team.x%d\" (reserved or malformed)", i))
			}
			m := loadedRepl(t, f)
			width := cmp.Or(tt.width, 120)
			m.SetSize(width, tt.height)
			s := &session{m: m}
			var cmd tea.Cmd
			for _, k := range tt.keys {
				if k == "run" {
					_, ask := m.Update(cmd())
					s.open(ask)
					continue
				}
				cmd = s.press(k)
			}
			commontest.RequireFits(t, s.view(), width, tt.height)
			teatest.RequireEqualOutput(t, []byte(s.view()))
		})
	}
}

func TestReplicasAndPendingGolden(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	v := m.View()
	for _, want := range []string{"Replicas on this node", "cache", "from attic", "ok", "Pending trust requests", "cellar", "LSUZ24F", "2 attempt(s)", "kitchen"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q", want)
		}
	}
	teatest.RequireEqualOutput(t, []byte(v))
}

func TestReplicasAndPendingGolden80x24(t *testing.T) {
	m := loadedRepl(t, newFakeRepl())
	m.SetSize(80, 24)
	commontest.RequireFits(t, m.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(m.View()))
}
