package network

import (
	"encoding/json"
	"fmt"

	"github.com/budgie-sh/budgie/models"
)

// cniVersion is the CNI spec version of the generated lists; Debian 12's
// plugins (1.1.1) speak it.
const cniVersion = "1.0.0"

type confList struct {
	CNIVersion string       `json:"cniVersion"`
	Name       string       `json:"name"`
	Plugins    []bridgeConf `json:"plugins"`
}

type bridgeConf struct {
	Type        string   `json:"type"`
	Bridge      string   `json:"bridge"`
	IsGateway   bool     `json:"isGateway"`
	IPMasq      bool     `json:"ipMasq"`
	HairpinMode bool     `json:"hairpinMode"`
	IPAM        ipamConf `json:"ipam"`
}

type ipamConf struct {
	Type    string        `json:"type"`
	Ranges  [][]ipamRange `json:"ranges"`
	Routes  []ipamRoute   `json:"routes,omitempty"`
	DataDir string        `json:"dataDir"`
}

type ipamRange struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
}

type ipamRoute struct {
	Dst string `json:"dst"`
}

// conflist generates network n's CNI list: the bridge plugin with
// host-local addresses kept under the Manager's DataDir. Masquerading is not
// the plugin's (ipMasq false): see ensureRules.
func (m *Manager) conflist(n models.Network) ([]byte, error) {
	ipam := ipamConf{
		Type:    "host-local",
		Ranges:  [][]ipamRange{{{Subnet: n.Subnet, Gateway: n.Gateway}}},
		DataDir: m.ipamRoot(),
	}
	if !n.Internal {
		ipam.Routes = []ipamRoute{{Dst: "0.0.0.0/0"}}
	}
	list := confList{
		CNIVersion: cniVersion,
		Name:       n.Name,
		Plugins: []bridgeConf{{
			Type: "bridge", Bridge: n.Bridge, IsGateway: true, HairpinMode: true, IPAM: ipam,
		}},
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode CNI list of network %s: %w", n.Name, err)
	}
	return b, nil
}
