package network

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Chains Budgie owns.
const (
	// IsolationChain (filter table) is jumped to from the top of FORWARD.
	IsolationChain = "BUDGIE-ISOLATION"
	// MasqueradeChain (nat table) is jumped to from POSTROUTING.
	MasqueradeChain = "BUDGIE-POSTROUTING"
)

// bridgeWildcard matches every Budgie bridge in iptables.
const bridgeWildcard = BridgePrefix + "+"

// rule is one iptables rule: table, chain and match/target arguments.
type rule struct {
	table, chain string
	args         []string
}

func (r rule) String() string {
	return fmt.Sprintf("-t %s %s %s", r.table, r.chain, strings.Join(r.args, " "))
}

// networkRules are n's isolation rules in the order they must appear at
// the top of IsolationChain, and its masquerade rules.
func networkRules(n models.Network) (filter, nat []rule) {
	br := n.Bridge
	add := func(args ...string) { filter = append(filter, rule{"filter", IsolationChain, args}) }
	add("-i", br, "-o", br, "-j", "ACCEPT")
	if n.Internal {
		add("-i", br, "-j", "DROP")
		add("-o", br, "-j", "DROP")
		return filter, nil
	}
	add("-i", br, "!", "-o", bridgeWildcard, "-j", "ACCEPT")
	add("!", "-i", bridgeWildcard, "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
	nat = []rule{{"nat", MasqueradeChain, []string{"-s", n.Subnet, "!", "-o", br, "-j", "MASQUERADE"}}}
	return filter, nat
}

// ensureRules installs the shared chains and n's rules where they are
// missing, and turns on IPv4 forwarding. Callers hold the lock.
func ensureRules(ctx context.Context, n models.Network) error {
	filter, nat := networkRules(n)
	if rulesPresent(ctx, append(append(chainRules(), filter...), nat...)) {
		return enableForwarding()
	}
	if err := ensureChains(ctx); err != nil {
		return err
	}
	for _, group := range [][]rule{filter, nat} {
		if err := ensureGroup(ctx, group); err != nil {
			return fmt.Errorf("install firewall rules of network %s: %w", n.Name, err)
		}
	}
	return enableForwarding()
}

// ensureChains creates Budgie's chains, their jumps and the final rule that
// drops traffic between Budgie bridges.
func ensureChains(ctx context.Context) error {
	jumps := chainRules()
	for i, c := range []struct{ table, chain string }{
		{"filter", IsolationChain},
		{"nat", MasqueradeChain},
	} {
		if !iptablesOK(ctx, "-t", c.table, "-S", c.chain) {
			if out, err := iptables(ctx, "-t", c.table, "-N", c.chain); err != nil && !strings.Contains(out, "exists") {
				return err
			}
		}
		if err := ensureAt(ctx, jumps[i], true); err != nil {
			return err
		}
	}
	return ensureAt(ctx, jumps[2], false)
}

// chainRules are the jumps to Budgie's chains (filter's, then nat's) and
// IsolationChain's final drop, which ensureChains installs.
func chainRules() []rule {
	return []rule{
		{"filter", "FORWARD", []string{"-j", IsolationChain}},
		{"nat", "POSTROUTING", []string{"-j", MasqueradeChain}},
		{"filter", IsolationChain, []string{"-i", bridgeWildcard, "-o", bridgeWildcard, "-j", "DROP"}},
	}
}

// rulesPresent reports whether every rule is installed, reading each
// table once (`iptables -S`) instead of checking rule by rule (nine
// commands for one network, a third of a container's start). It matches
// iptables' own rendering of a rule exactly, so it never mistakes one rule
// for another; when it cannot tell (a rendering it does not expect, a
// failed listing) it returns false and the caller checks rule by rule.
func rulesPresent(ctx context.Context, rules []rule) bool {
	listed := map[string]map[string]bool{}
	for _, r := range rules {
		lines, ok := listed[r.table]
		if !ok {
			out, err := iptables(ctx, "-t", r.table, "-S")
			if err != nil {
				return false
			}
			lines = map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[strings.TrimSpace(l)] = true
			}
			listed[r.table] = lines
		}
		if !lines["-A "+r.chain+" "+strings.Join(r.args, " ")] {
			return false
		}
	}
	return true
}

// ensureAt adds r at the top (or the end) of its chain unless it is there.
func ensureAt(ctx context.Context, r rule, top bool) error {
	if exists(ctx, r) {
		return nil
	}
	op := []string{"-t", r.table, "-A", r.chain}
	if top {
		op = []string{"-t", r.table, "-I", r.chain, "1"}
	}
	_, err := iptables(ctx, append(op, r.args...)...)
	return err
}

// ensureGroup keeps rules together, in order, at the top of their chain:
// when one is missing, the group is deleted and inserted again.
func ensureGroup(ctx context.Context, rules []rule) error {
	complete := true
	for _, r := range rules {
		complete = complete && exists(ctx, r)
	}
	if complete {
		return nil
	}
	if err := deleteRules(ctx, rules); err != nil {
		return err
	}
	for i := len(rules) - 1; i >= 0; i-- {
		if err := ensureAt(ctx, rules[i], true); err != nil {
			return err
		}
	}
	return nil
}

// removeRules deletes n's rules; missing ones are no error.
func removeRules(ctx context.Context, n models.Network) error {
	filter, nat := networkRules(n)
	if err := deleteRules(ctx, append(filter, nat...)); err != nil {
		return fmt.Errorf("remove firewall rules of network %s: %w", n.Name, err)
	}
	return nil
}

func deleteRules(ctx context.Context, rules []rule) error {
	for _, r := range rules {
		for exists(ctx, r) { // a rule may have been added twice by hand
			if _, err := iptables(ctx, append([]string{"-t", r.table, "-D", r.chain}, r.args...)...); err != nil {
				return err
			}
		}
	}
	return nil
}

func exists(ctx context.Context, r rule) bool {
	return iptablesOK(ctx, append([]string{"-t", r.table, "-C", r.chain}, r.args...)...)
}

// iptablesOK runs a check command and reports whether it succeeded.
func iptablesOK(ctx context.Context, args ...string) bool {
	bin, err := iptablesPath()
	if err != nil {
		return false
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-w"}, args...)...)
	return cmd.Run() == nil
}

// iptables runs iptables -w with args and returns its combined output.
func iptables(ctx context.Context, args ...string) (string, error) {
	bin, err := iptablesPath()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append([]string{"-w"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("iptables %s: %s: %w", strings.Join(args, " "), strings.TrimSpace(out.String()), err)
	}
	return out.String(), nil
}

// iptablesPath finds iptables also when PATH lacks the sbin directories.
func iptablesPath() (string, error) {
	return findTool("iptables", "install it: apt-get install iptables")
}

func findTool(name, hint string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := dir + "/" + name
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (%s): %w", name, hint, errdefs.ErrUnavailable)
}

const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// enableForwarding sets net.ipv4.ip_forward=1, which bridges need to route
// their containers' traffic out.
func enableForwarding() error {
	b, err := os.ReadFile(ipForwardPath)
	if err == nil && strings.TrimSpace(string(b)) == "1" {
		return nil
	}
	if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable IPv4 forwarding (sysctl net.ipv4.ip_forward=1): %w", err)
	}
	return nil
}

// deleteLink deletes network interface name; a missing one is no error.
func deleteLink(ctx context.Context, name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	bin, err := findTool("ip", "install it: apt-get install iproute2")
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, bin, "link", "delete", name).CombinedOutput()
	if err != nil {
		if _, gone := net.InterfaceByName(name); gone != nil {
			return nil
		}
		return fmt.Errorf("delete bridge %s: %s: %w", name, strings.TrimSpace(string(out)), err)
	}
	return nil
}
