package testkit

import (
	"errors"
	"fmt"
)

// labHostAddr is the address JoinHost gives this host on a lab's bridge:
// past the nodes' (node i is labSubnet+i, at most 200 of them).
const labHostAddr = labSubnet + "254"

// JoinHost gives this host an address on the lab's bridge (10.231.0.254),
// so that programs of the host — a browser, a TLS client — reach the nodes
// at their Addr, as a machine on their LAN would. The nodes have no route
// beyond the lab's subnet, so nothing of theirs leaves through the host.
// leave removes the address; Close, which removes the bridge, removes it
// too. Only one lab at a time may be joined (every lab uses the same
// subnet).
func (l *Lab) JoinHost() (addr string, leave func() error, err error) {
	if l.Name == "" {
		return "", nil, errors.New("lab: no bridge to join")
	}
	if err := ipCmd("addr", "add", labHostAddr+"/24", "dev", l.Name); err != nil {
		return "", nil, fmt.Errorf("lab %s: give the host an address on the bridge: %w", l.Name, err)
	}
	return labHostAddr, func() error { return ipCmd("addr", "del", labHostAddr+"/24", "dev", l.Name) }, nil
}
