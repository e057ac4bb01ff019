package peers

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// fakeRepl is a fixed-data ReplicationBackend that records its calls. The
// real one is engine.Replicate, tested end to end on the lab.
type fakeRepl struct {
	*commontest.Backend
	mu      sync.Mutex
	calls   []string
	fail    error
	release chan struct{} // Replicate waits on it after its first progress step
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

func (f *fakeRepl) Replicate(_ context.Context, ref string, sync bool, progress func(common.ReplicateProgress)) (models.Container, error) {
	f.record("replicate " + ref + map[bool]string{true: " sync", false: ""}[sync])
	progress(common.ReplicateProgress{What: "volume data", BytesDone: 50 << 20, BytesTotal: 100 << 20, FilesDone: 3, FilesTotal: 7, Rate: 10 << 20, ETA: 5 * time.Second})
	if f.release != nil {
		<-f.release
	}
	if f.fail != nil {
		return models.Container{}, f.fail
	}
	return models.Container{ID: commontest.ID(9), Name: "app"}, nil
}

func (f *fakeRepl) Replicas(context.Context) ([]models.ReplicaStatus, error) {
	return []models.ReplicaStatus{{ContainerID: commontest.ID(8), Name: "cache", Primary: "x/y", PrimaryNode: "attic",
		State: "ok", LastSync: commontest.Now.Add(-3 * time.Second), BytesReceived: 2 << 20, Syncs: 4}}, nil
}

func (f *fakeRepl) TrustList(context.Context) (models.TrustList, error) {
	return models.TrustList{Pending: []models.PendingPeer{{ID: "LSUZ24F-TLEAME2", Name: "cellar", Address: "192.168.1.30:41000",
		LastSeen: commontest.Now.Add(-time.Minute), Count: 2}}}, nil
}

func (f *fakeRepl) TrustPeer(_ context.Context, id, name string) error {
	f.record("trust " + id + " " + name)
	return nil
}

func (f *fakeRepl) DenyPeer(_ context.Context, id string) error {
	f.record("deny " + id)
	return nil
}

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

func TestReplicateConfirmStartsOnCancel(t *testing.T) {
	for _, keys := range [][]string{{"R", "enter"}, {"R", "esc"}} {
		f := newFakeRepl()
		m := loadedRepl(t, f)
		var cmd tea.Cmd
		for _, k := range keys {
			_, cmd = m.Update(keyMsg(k))
		}
		if cmd != nil || len(f.log()) != 0 || m.mode != browsing {
			t.Errorf("%v: replicated anyway (calls %v, mode %d)", keys, f.log(), m.mode)
		}
	}
}

func TestReplicateShowsProgressAndLandsOnReplica(t *testing.T) {
	f := newFakeRepl()
	f.release = make(chan struct{})
	m := loadedRepl(t, f)
	m.Update(keyMsg("R"))
	if v := m.View(); !strings.Contains(v, "Replicate app from attic") {
		t.Fatalf("no confirm dialog:\n%s", v)
	}
	m.Update(keyMsg("right"))
	_, cmd := m.Update(keyMsg("enter"))
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
	if m.mode != browsing || !reflect.DeepEqual(f.log(), []string{"replicate app@attic sync"}) {
		t.Fatalf("after the end: mode %d, calls %v", m.mode, f.log())
	}
	var toast, landed bool
	for _, c := range cmd().(tea.BatchMsg) {
		switch msg := c().(type) {
		case common.ToastMsg:
			toast = strings.Contains(msg.Text, "replicated app@attic")
		case common.SwitchViewMsg:
			landed = msg.View == "details" && msg.ContainerID == commontest.ID(9)
		}
	}
	if !toast || !landed {
		t.Errorf("toast %v, landed on the replica %v", toast, landed)
	}
}

func TestReplicateErrorIsReported(t *testing.T) {
	f := newFakeRepl()
	f.fail = errors.New("not trusted by node attic")
	m := loadedRepl(t, f)
	m.Update(keyMsg("R"))
	m.Update(keyMsg("right"))
	_, cmd := m.Update(keyMsg("enter"))
	m.Update(cmd())
	_, cmd = m.Update(waitProgress(m.progressCh)())
	if e, ok := cmd().(common.ErrorMsg); !ok || !strings.Contains(e.Err.Error(), "not trusted") || m.mode != browsing {
		t.Errorf("error not reported: %#v, mode %d", cmd(), m.mode)
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
}

func TestPendingTrustAcceptAndDeny(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		calls []string
	}{
		{"accept", []string{"a", "right", "enter"}, []string{"trust LSUZ24F-TLEAME2 cellar"}},
		{"deny", []string{"x", "right", "enter"}, []string{"deny LSUZ24F-TLEAME2"}},
		{"enter cancels", []string{"a", "enter"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRepl()
			m := loadedRepl(t, f)
			var cmd tea.Cmd
			for _, k := range tt.keys {
				_, cmd = m.Update(keyMsg(k))
			}
			if cmd != nil {
				cmd()
			}
			if !reflect.DeepEqual(f.log(), tt.calls) {
				t.Errorf("calls %v, want %v", f.log(), tt.calls)
			}
		})
	}
}

func TestReplicasAndPendingGolden(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	v := m.View()
	for _, want := range []string{"Replicas on this node", "cache", "from attic", "ok", "Pending trust requests", "cellar", "LSUZ24F", "2 attempt(s)"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q", want)
		}
	}
	teatest.RequireEqualOutput(t, []byte(v))
}
