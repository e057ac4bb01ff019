package replica

import (
	"context"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/models"
)

// follower is one local replica the keeper keeps in sync: one
// subscription per named volume.
type follower struct {
	id, name    string
	primary     string // NODEID/CONTAINERID
	primaryNode string
	primaryCID  string
	identity    string
	syncLabel   string
	volumes     []string
	cancel      context.CancelFunc

	mu       sync.Mutex
	nodeName string
	vols     map[string]*volumeState
}

// volumeState is the sync state of one volume.
type volumeState struct {
	state    models.ReplicaState
	msg      string
	lastSync time.Time
	bytes    int64
	syncs    int
}

func newFollower(c models.Container, labels map[string]string) *follower {
	f := &follower{id: c.ID, name: c.Name, primary: labels[LabelReplicaOf], identity: labels[LabelReplicaIdentity],
		syncLabel: labels[LabelReplicaSync], volumes: namedVolumes(c.Spec), cancel: func() {}, vols: map[string]*volumeState{}}
	f.primaryNode, f.primaryCID, _ = splitPrimary(f.primary)
	for _, v := range f.volumes {
		f.vols[v] = &volumeState{state: models.ReplicaConnecting}
	}
	return f
}

func (f *follower) set(vol string, st models.ReplicaState, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vols[vol].state, f.vols[vol].msg = st, msg
}

func (f *follower) setAll(st models.ReplicaState, msg string) {
	for _, v := range f.volumes {
		f.set(v, st, msg)
	}
}

func (f *follower) setNode(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodeName = name
}

// synced records the result of one volsync.
func (f *follower) synced(vol string, st volsync.Stats, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.vols[vol]
	v.bytes += st.BytesReceived
	if err != nil {
		v.state, v.msg = models.ReplicaError, err.Error()
		return
	}
	v.state, v.msg, v.lastSync = models.ReplicaOK, "", time.Now()
	v.syncs++
}

// stateRank orders states from best to worst for the summary.
var stateRank = map[models.ReplicaState]int{
	models.ReplicaOff: 0, models.ReplicaOK: 1, models.ReplicaSyncing: 2, models.ReplicaConnecting: 3, models.ReplicaError: 4,
}

// status summarises the volumes: the worst state, the oldest last volsync.
func (f *follower) status() models.ReplicaStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := models.ReplicaStatus{ContainerID: f.id, Name: f.name, Primary: f.primary, PrimaryNode: f.nodeName, State: models.ReplicaOK}
	if f.syncLabel != "on" {
		st.State = models.ReplicaOff
	}
	first := true
	for _, name := range f.volumes {
		v := f.vols[name]
		if stateRank[v.state] > stateRank[st.State] {
			st.State, st.Message = v.state, v.msg
		}
		if first || v.lastSync.Before(st.LastSync) {
			st.LastSync, first = v.lastSync, false
		}
		st.BytesReceived += v.bytes
		st.Syncs += v.syncs
	}
	return st
}
