package kube

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// maxBundle bounds the bundle text Play writes (a bundle file's own bound):
// a ConfigMap taken as env by many containers could otherwise grow it
// past what the manifest's size suggests.
const maxBundle = 4 << 20

// Plan is what Play makes of a manifest.
type Plan struct {
	// Bundle is the bundle text (a containers: stack) the manifest
	// describes; the bundle parser has checked it.
	Bundle []byte
	// Specs are the bundle's containers, as the bundle parser read them.
	Specs []models.ContainerSpec
	// Volumes are the named volumes of every claim in the manifest
	// (PersistentVolumeClaims, volumeClaimTemplates), whether a container
	// mounts them or not, sorted.
	Volumes []string
	// Warnings say what the manifest asks for that Budgie takes without
	// carrying it out in full (a storage size, a memory request…), and
	// what it reaches on the node: a host path, the host's network, a
	// secret of the node's store, a volume it declares no claim for.
	Warnings []string

	secrets []secretUse
}

// secretUse is a secret a container mounts and where the manifest says so.
type secretUse struct {
	name string
	at   Problem
}

// CheckSecrets refuses the plan, naming the manifest's line, when a secret
// its containers mount is not one exists reports as there: Budgie takes
// no secret values from a manifest, so each must be created on the node
// first.
func (p *Plan) CheckSecrets(exists func(name string) bool) error {
	var problems []Problem
	seen := map[string]bool{}
	for _, s := range p.secrets {
		if exists(s.name) || seen[s.name] {
			continue
		}
		seen[s.name] = true
		pr := s.at
		pr.Message = fmt.Sprintf("secret %s does not exist on this node", s.name)
		pr.Hint = fmt.Sprintf("create it first (its value is not in the manifest): budgie secret create %s", s.name)
		problems = append(problems, pr)
	}
	return newError(problems)
}

// Play reads a manifest and writes the bundle that runs what it
// describes, for the subset Budgie can honour (see the package doc). file
// names the manifest in problems. Every problem found comes back at once
// as an *Error (errdefs.ErrInvalid), each with its file, line, document
// and field.
func Play(file string, data []byte) (*Plan, error) {
	if len(data) > maxManifest {
		return nil, fmt.Errorf("manifest %s is larger than %d MiB (hint: split it): %w", file, maxManifest>>20, errdefs.ErrInvalid)
	}
	var problems []Problem
	docs := splitDocuments(data)
	switch {
	case len(docs) == 0:
		problems = append(problems, Problem{File: file, Line: 1, Message: "the manifest is empty",
			Hint: "kube play takes Pod, Deployment, StatefulSet, Service, PersistentVolumeClaim and ConfigMap documents"})
	case len(docs) > maxDocuments:
		problems = append(problems, Problem{File: file, Line: docs[maxDocuments].line,
			Message: fmt.Sprintf("the manifest holds more than %d documents", maxDocuments), Hint: "split it"})
	}
	if len(problems) > 0 {
		return nil, newError(problems)
	}
	var ds []*decoded
	size := 0
	for _, doc := range docs {
		if d := decodeDocument(file, doc, &problems, &size); d != nil {
			ds = append(ds, d)
		}
	}
	if len(problems) > 0 {
		return nil, newError(problems)
	}
	pl := &player{file: file, problems: &problems, configMaps: map[string]*corev1.ConfigMap{}, claims: map[string]string{},
		budget: maxBundle}
	pl.index(ds)
	for _, d := range ds {
		if pl.overBudget {
			break
		}
		pl.workload(d)
	}
	for _, d := range ds {
		if svc, ok := d.obj.(*corev1.Service); ok {
			pl.service(d, svc)
		}
	}
	if len(problems) > 0 {
		return nil, newError(problems)
	}
	return pl.plan()
}

// player converts one manifest's decoded documents.
type player struct {
	file       string
	problems   *[]Problem
	configMaps map[string]*corev1.ConfigMap
	// claims maps a PersistentVolumeClaim's name to its Budgie volume name.
	claims    map[string]string
	volumes   map[string]bool
	workloads []*workload
	// refused are the workloads that could not be converted at all.
	refused  []*workload
	warnings []string
	secrets  []secretUse
	// budget is what is left of maxBundle for the values the containers
	// copy and expand (see charge); overBudget is set when it ran out.
	budget     int
	overBudget bool
}

// warn records a warning about a field of a document.
func (pl *player) warn(d *decoded, path, format string, args ...any) {
	where := fmt.Sprintf("%s:%d: document %d (%s %s)", d.file, d.lineOf(path), d.doc.index, d.kind, d.name)
	if path != "" {
		where += ": " + path
	}
	pl.warnings = append(pl.warnings, where+": "+fmt.Sprintf(format, args...))
}

// index checks every object's metadata and records the ConfigMaps and
// the PersistentVolumeClaims, which workloads refer to.
func (pl *player) index(ds []*decoded) {
	pl.volumes = map[string]bool{}
	for _, d := range ds {
		switch o := d.obj.(type) {
		case *corev1.Pod:
			checkMeta(d, o.ObjectMeta, "metadata", AnnotationName, AnnotationBundle)
		case *appsv1.Deployment:
			checkMeta(d, o.ObjectMeta, "metadata", AnnotationName, AnnotationBundle)
		case *appsv1.StatefulSet:
			checkMeta(d, o.ObjectMeta, "metadata", AnnotationName, AnnotationBundle)
		case *corev1.Service:
			checkMeta(d, o.ObjectMeta, "metadata", AnnotationHostIP)
		case *corev1.ConfigMap:
			checkMeta(d, o.ObjectMeta, "metadata")
			pl.configMap(d, o)
		case *corev1.PersistentVolumeClaim:
			checkMeta(d, o.ObjectMeta, "metadata", AnnotationName)
			if name, ok := pl.claim(d, *o, ""); ok {
				pl.claims[o.Name] = name
			}
		}
	}
}

// configMap records a ConfigMap; binaryData is refused by the allow-list.
func (pl *player) configMap(d *decoded, cm *corev1.ConfigMap) {
	if _, dup := pl.configMaps[cm.Name]; dup {
		d.problem("metadata.name", "", "ConfigMap %s is defined twice", cm.Name)
		return
	}
	pl.configMaps[cm.Name] = cm
}

// claim checks a PersistentVolumeClaim (a document, or a StatefulSet's
// volumeClaimTemplates entry at path) and returns its Budgie volume name.
func (pl *player) claim(d *decoded, c corev1.PersistentVolumeClaim, path string) (string, bool) {
	at := func(p string) string { return joinPath(path, p) }
	name := c.Name
	if a, ok := c.Annotations[AnnotationName]; ok {
		name = a
	}
	if err := bundle.CheckName(name); err != nil {
		d.problem(at("metadata.name"), "a volume name uses letters, digits, _, . and -, starting with a letter or digit",
			"invalid volume name %q", name)
		return "", false
	}
	for i, m := range c.Spec.AccessModes {
		if m != corev1.ReadWriteOnce && m != corev1.ReadWriteMany && m != corev1.ReadWriteOncePod {
			d.problem(at(fmt.Sprintf("spec.accessModes[%d]", i)), "a named volume is read-write on this node: use ReadWriteOnce",
				"access mode %s is not supported", m)
		}
	}
	if m := c.Spec.VolumeMode; m != nil && *m != corev1.PersistentVolumeFilesystem {
		d.problem(at("spec.volumeMode"), "a named volume is a directory: use Filesystem", "volume mode %s is not supported", *m)
	}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		pl.warn(d, at("spec.resources.requests.storage"), "storage request %s is not enforced: Budgie's named volumes have no size", q.String())
	}
	pl.volumes[name] = true
	return name, true
}

// checkMeta refuses an object's (path "metadata") missing name, a
// namespace other than default, and a budgie.sh/ annotation that is not
// among allowed.
func checkMeta(d *decoded, m metav1.ObjectMeta, path string, allowed ...string) {
	if m.Name == "" && path == "metadata" {
		d.problem(joinPath(path, "name"), "every object has a name", "metadata.name is missing")
	}
	if m.Namespace != "" && m.Namespace != metav1.NamespaceDefault {
		d.problem(joinPath(path, "namespace"), "Budgie has one namespace per node: leave metadata.namespace out",
			"namespace %s is not supported", m.Namespace)
	}
	for k := range m.Annotations {
		if strings.HasPrefix(k, "budgie.sh/") && !contains(allowed, k) {
			d.problem(joinPath(path, "annotations"), "Budgie reads "+orNone(allowed)+" here",
				"unknown Budgie annotation %q", k)
		}
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "no budgie.sh/ annotation"
	}
	return strings.Join(list, " and ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// plan writes the bundle of every workload, parses it back with the
// bundle parser and returns the plan; a problem the parser finds is
// reported at the manifest field it came from.
func (pl *player) plan() (*Plan, error) {
	if len(pl.workloads) == 0 {
		return nil, newError([]Problem{{File: pl.file, Message: "the manifest runs no container",
			Hint: "kube play runs the containers of Pods, Deployments and StatefulSets"}})
	}
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, w := range pl.workloads {
		list.Content = append(list.Content, w.node())
	}
	top := mapNode()
	top.HeadComment = "Budgie bundle written by budgie kube play from " + pl.file
	top.Content = append(top.Content, strNode("containers"), list)
	text, err := encodeNode(top)
	if err != nil {
		return nil, fmt.Errorf("write the bundle of %s: %w", pl.file, err)
	}
	if len(text) > maxBundle {
		return nil, fmt.Errorf("manifest %s makes a bundle larger than %d MiB (hint: a ConfigMap taken as env by many containers grows it): %w",
			pl.file, maxBundle>>20, errdefs.ErrInvalid)
	}
	b, err := bundle.Parse(pl.file, text, bundle.ParseOptions{Dir: "/"})
	if err != nil {
		return nil, pl.fromBundle(err)
	}
	if err := newError(pl.checkReach(b.Containers)); err != nil {
		return nil, err
	}
	vols := make([]string, 0, len(pl.volumes))
	for v := range pl.volumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	return &Plan{Bundle: text, Specs: b.Containers, Volumes: vols, Warnings: pl.warnings, secrets: pl.secrets}, nil
}

// containerFieldRE splits a bundle problem's field: containers[3].rest.
var containerFieldRE = regexp.MustCompile(`^containers\[(\d+)\]\.?(.*)$`)

// bundleLineRE finds a bundle problem's reference to a line of the bundle
// text, which means nothing to the manifest's reader.
var bundleLineRE = regexp.MustCompile(` \((first at )?line \d+\)`)

// containerRefRE finds a bundle problem's mention of another container's
// field: containers[0].ports[1].
var containerRefRE = regexp.MustCompile(`containers\[(\d+)\]\.(\S+)`)

// fromBundle reports the bundle parser's problems at the manifest fields
// the bundle's fields came from.
func (pl *player) fromBundle(err error) error {
	var be *bundle.Error
	if !errors.As(err, &be) {
		return err
	}
	var problems []Problem
	for _, bp := range be.Problems {
		msg := bundleLineRE.ReplaceAllString(bp.Message, "")
		msg = containerRefRE.ReplaceAllStringFunc(msg, func(ref string) string {
			m := containerRefRE.FindStringSubmatch(ref)
			if i, _ := strconv.Atoi(m[1]); i < len(pl.workloads) {
				return pl.workloads[i].spec.Name + "'s " + m[2]
			}
			return ref
		})
		m := containerFieldRE.FindStringSubmatch(bp.Field)
		if m == nil {
			problems = append(problems, Problem{File: pl.file, Field: bp.Field, Message: msg, Hint: bp.Hint})
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(pl.workloads) {
			continue
		}
		w := pl.workloads[i]
		o := w.originOf(m[2])
		pr := Problem{File: pl.file, Line: o.d.lineOf(o.path), Doc: o.d.doc.index, Kind: o.d.kind, Name: o.d.name,
			Field: o.path, Message: msg, Hint: bp.Hint}
		if m[2] != "" && !strings.HasSuffix(o.path, m[2]) {
			pr.Message = "bundle field " + m[2] + ": " + msg
		}
		problems = append(problems, pr)
	}
	return newError(problems)
}

// newError sorts problems by document and line and wraps them; nil when
// there are none.
func newError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].Line != problems[j].Line {
			return problems[i].Line < problems[j].Line
		}
		return problems[i].Doc < problems[j].Doc
	})
	return &Error{Problems: problems}
}
