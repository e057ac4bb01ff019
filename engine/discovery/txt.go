package discovery

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// ServiceType is the DNS-SD service type every keeper announces.
const ServiceType = "_budgie._tcp"

// Domain is the mDNS domain.
const Domain = "local."

// txtVersion is the version of the TXT layout; records of another version
// are ignored.
const txtVersion = "1"

// Limits of one announcement's TXT record.
const (
	// MaxTXTString is the longest TXT string (key=value) DNS allows.
	MaxTXTString = 255
	// MaxTXTRecord bounds the whole TXT record, so that one instance's
	// answer (PTR, SRV, A, TXT) stays well inside one 1500-byte packet.
	MaxTXTRecord = 1000
	// maxNameLen is the longest container name a bundle allows.
	maxNameLen = 128
	// maxNodeName is the longest node name announced.
	maxNodeName = 63
)

// Kind says what an announcement describes.
type Kind string

// Announcement kinds.
const (
	// KindNode is a node's own record: it makes a node without running
	// containers visible and carries its replication endpoint.
	KindNode Kind = "node"
	// KindContainer is one running container.
	KindContainer Kind = "container"
)

// Announcement is what one mDNS instance of _budgie._tcp carries in its
// TXT record. Container fields are empty for KindNode.
type Announcement struct {
	// Kind is KindNode or KindContainer.
	Kind Kind
	// NodeID is the node's stable ID, 32 lower-case hex characters.
	NodeID string
	// NodeName is the node's name (at most 63 bytes).
	NodeName string
	// SyncPort is the node's replication port.
	SyncPort int
	// Epoch identifies one run of the announcing keeper (random at each
	// start; node records only), so that browsers tell a restart from a
	// refresh; empty means none (older keepers, other implementations).
	Epoch string
	// Digest summarises the node's announced containers (node records
	// only, see ContainerDigest), so that a browser that missed an
	// announcement or a goodbye notices; empty means none.
	Digest string
	// Fingerprint is the node's certificate fingerprint; empty until the
	// replication service sets one.
	Fingerprint string
	// ContainerID is the container's full ID (64 lower-case hex characters).
	ContainerID string
	// ContainerName is the container's name.
	ContainerName string
	// Image is the image reference; TXT shortens it to fit one string.
	Image string
	// State is running or paused.
	State models.ContainerState
	// Ports are the published ports; TXT keeps as many as fit one string.
	Ports []models.PortMapping
	// MorePorts counts ports that did not fit (set by ParseTXT).
	MorePorts int
}

// ErrMalformed marks a TXT record that is not a valid Budgie announcement.
var ErrMalformed = errors.New("not a budgie announcement")

var (
	hex32RE  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	hex64RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	nameRE   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	fpRE     = regexp.MustCompile(`^[A-Za-z0-9:+/=_-]{1,128}$`)
	epochRE  = regexp.MustCompile(`^[0-9a-z]{1,16}$`)
	digestRE = regexp.MustCompile(`^[0-9]{1,6}-[0-9a-f]{8}$`)
)

// ContainerDigest summarises a set of container instance names (see
// Announcement.Instance), whatever their order, as their count and 8 hex
// characters: "3-1a2b3c4d".
func ContainerDigest(instances []string) string {
	sorted := slices.Clone(instances)
	slices.Sort(sorted)
	h := fnv.New32a()
	for _, inst := range sorted {
		h.Write([]byte(inst))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%d-%08x", len(instances), h.Sum32())
}

// Instance returns the mDNS instance name: short (12-character) IDs so that
// it stays one short DNS label, unique per node and container.
func (a Announcement) Instance() string {
	if a.Kind == KindNode {
		return "node-" + models.ShortID(a.NodeID)
	}
	return models.ShortID(a.ContainerID) + "-" + models.ShortID(a.NodeID)
}

// TXT encodes a as TXT strings, each at most MaxTXTString bytes: the image
// is shortened (ending in "…") and ports are cut at a whole entry (with a
// "+N" entry counting the rest) when they do not fit. It fails with
// errdefs.ErrInvalid when a is not valid.
func (a Announcement) TXT() ([]string, error) {
	a.Image = fitString(a.Image, MaxTXTString-len("image="))
	a.NodeName = fitString(a.NodeName, maxNodeName)
	txt := []string{"v=" + txtVersion, "kind=" + string(a.Kind), "node_id=" + a.NodeID,
		"node_name=" + a.NodeName, "sync_port=" + strconv.Itoa(a.SyncPort)}
	if a.Fingerprint != "" {
		txt = append(txt, "fingerprint="+a.Fingerprint)
	}
	if a.Epoch != "" && a.Kind == KindNode {
		txt = append(txt, "epoch="+a.Epoch)
	}
	if a.Digest != "" && a.Kind == KindNode {
		txt = append(txt, "digest="+a.Digest)
	}
	if a.Kind == KindContainer {
		txt = append(txt, "container_id="+a.ContainerID, "container_name="+a.ContainerName,
			"image="+a.Image, "state="+string(a.State), "ports="+encodePorts(a.Ports, MaxTXTString-len("ports=")))
	}
	if _, err := ParseTXT(txt); err != nil {
		return nil, fmt.Errorf("announce %s: %w: %w", a.Instance(), err, errdefs.ErrInvalid)
	}
	return txt, nil
}

// ParseTXT decodes and strictly validates a TXT record. Anything that is
// not a complete, well-formed Budgie announcement of this version — a
// foreign service, a missing or repeated key, a bad ID, an oversized string
// — is an error wrapping ErrMalformed. Unknown keys are ignored, so that
// later versions may add some.
func ParseTXT(fields []string) (Announcement, error) {
	kv, err := txtMap(fields)
	if err != nil {
		return Announcement{}, err
	}
	if kv["v"] != txtVersion {
		return Announcement{}, malformed("version %q, want %s", kv["v"], txtVersion)
	}
	a := Announcement{Kind: Kind(kv["kind"]), NodeID: kv["node_id"], NodeName: kv["node_name"],
		Fingerprint: kv["fingerprint"], Epoch: kv["epoch"], Digest: kv["digest"]}
	if err := a.parseNode(kv); err != nil {
		return Announcement{}, err
	}
	switch a.Kind {
	case KindNode:
		return a, nil
	case KindContainer:
		return a, a.parseContainer(kv)
	}
	return Announcement{}, malformed("kind %q", a.Kind)
}

// txtMap splits key=value strings, rejecting oversized, repeated or
// key-less ones and a record that is too large in total.
func txtMap(fields []string) (map[string]string, error) {
	kv := make(map[string]string, len(fields))
	total := 0
	for _, f := range fields {
		total += len(f) + 1
		if len(f) > MaxTXTString {
			return nil, malformed("TXT string of %d bytes", len(f))
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, malformed("TXT string %q is not key=value", clip(f))
		}
		if _, dup := kv[k]; dup {
			return nil, malformed("key %q repeated", k)
		}
		if !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
			return nil, malformed("key %q has control characters or invalid UTF-8", k)
		}
		kv[k] = v
	}
	if total > MaxTXTRecord {
		return nil, malformed("TXT record of %d bytes (at most %d)", total, MaxTXTRecord)
	}
	return kv, nil
}

func (a *Announcement) parseNode(kv map[string]string) error {
	switch {
	case !hex32RE.MatchString(a.NodeID):
		return malformed("node_id %q", clip(a.NodeID))
	case a.NodeName == "" || len(a.NodeName) > maxNodeName:
		return malformed("node_name %q", clip(a.NodeName))
	case a.Fingerprint != "" && !fpRE.MatchString(a.Fingerprint):
		return malformed("fingerprint %q", clip(a.Fingerprint))
	case a.Epoch != "" && !epochRE.MatchString(a.Epoch):
		return malformed("epoch %q", clip(a.Epoch))
	case a.Digest != "" && !digestRE.MatchString(a.Digest):
		return malformed("digest %q", clip(a.Digest))
	}
	port, err := strconv.Atoi(kv["sync_port"])
	if err != nil || port < 1 || port > 65535 {
		return malformed("sync_port %q", clip(kv["sync_port"]))
	}
	a.SyncPort = port
	return nil
}

func (a *Announcement) parseContainer(kv map[string]string) error {
	a.ContainerID, a.ContainerName, a.Image = kv["container_id"], kv["container_name"], kv["image"]
	a.State = models.ContainerState(kv["state"])
	switch {
	case !hex64RE.MatchString(a.ContainerID):
		return malformed("container_id %q", clip(a.ContainerID))
	case !nameRE.MatchString(a.ContainerName) || len(a.ContainerName) > maxNameLen:
		return malformed("container_name %q", clip(a.ContainerName))
	case a.Image == "":
		return malformed("image is empty")
	case a.State != models.StateRunning && a.State != models.StatePaused:
		return malformed("state %q", clip(string(a.State)))
	}
	ports, more, err := parsePorts(kv["ports"])
	if err != nil {
		return err
	}
	a.Ports, a.MorePorts = ports, more
	return nil
}

// encodePorts writes ports as "[ip:]host->container/proto" entries joined
// by commas, within limit bytes; entries that do not fit are counted in a
// final "+N".
func encodePorts(ports []models.PortMapping, limit int) string {
	var b strings.Builder
	for i, p := range ports {
		entry := formatPort(p)
		if b.Len() > 0 {
			entry = "," + entry
		}
		rest := len(ports) - i - 1
		reserve := 0
		if rest > 0 {
			reserve = len(",+") + len(strconv.Itoa(rest))
		}
		if b.Len()+len(entry)+reserve > limit {
			more := ",+" + strconv.Itoa(len(ports)-i)
			if b.Len() == 0 {
				more = more[1:]
			}
			b.WriteString(more)
			break
		}
		b.WriteString(entry)
	}
	return b.String()
}

func formatPort(p models.PortMapping) string {
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	host := strconv.Itoa(int(p.HostPort))
	if p.HostIP != "" {
		host = net.JoinHostPort(p.HostIP, host)
	}
	return fmt.Sprintf("%s->%d/%s", host, p.ContainerPort, proto)
}

// parsePorts reads what encodePorts writes.
func parsePorts(s string) ([]models.PortMapping, int, error) {
	if s == "" {
		return nil, 0, nil
	}
	entries := strings.Split(s, ",")
	more := 0
	if last := entries[len(entries)-1]; strings.HasPrefix(last, "+") {
		n, err := strconv.Atoi(last[1:])
		if err != nil || n < 1 {
			return nil, 0, malformed("ports count %q", clip(last))
		}
		more, entries = n, entries[:len(entries)-1]
	}
	ports := make([]models.PortMapping, 0, len(entries))
	for _, e := range entries {
		p, err := parsePort(e)
		if err != nil {
			return nil, 0, err
		}
		ports = append(ports, p)
	}
	return ports, more, nil
}

func parsePort(e string) (models.PortMapping, error) {
	bad := malformed("port %q", clip(e))
	hostPart, rest, ok := strings.Cut(e, "->")
	if !ok {
		return models.PortMapping{}, bad
	}
	cport, proto, ok := strings.Cut(rest, "/")
	if !ok || (proto != "tcp" && proto != "udp" && proto != "http") {
		return models.PortMapping{}, bad
	}
	p := models.PortMapping{Protocol: proto}
	hport := hostPart
	if strings.Contains(hostPart, ":") {
		ip, port, err := net.SplitHostPort(hostPart)
		if err != nil || net.ParseIP(ip) == nil {
			return models.PortMapping{}, bad
		}
		p.HostIP, hport = ip, port
	}
	h, err1 := strconv.ParseUint(hport, 10, 16)
	c, err2 := strconv.ParseUint(cport, 10, 16)
	if err1 != nil || err2 != nil || c == 0 {
		return models.PortMapping{}, bad
	}
	p.HostPort, p.ContainerPort = uint16(h), uint16(c)
	return p, nil
}

// fitString shortens s to at most n bytes on a rune boundary, ending in "…".
func fitString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// clip keeps error messages about hostile input short.
func clip(s string) string { return fitString(s, 40) }

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}
