package runtime

// LockStart takes container id's start lock, as a start does: tests stand
// in for a start in progress with it.
func (r *Runtime) LockStart(id string) (func(), error) { return r.lockStart(id) }

// PinNetNS pins a new network namespace for container id, as a start does.
func (r *Runtime) PinNetNS(id string) error { return pinNetNS(r.NetNSPath(id)) }
