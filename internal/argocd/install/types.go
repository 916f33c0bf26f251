package install

import (
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
)

// Request is one installation.
type Request struct {
	// Source is the manifest's http(s) URL or file; "" is
	// DefaultManifest. With Manifest set it only names it.
	Source string
	// Manifest is the manifest itself (an upload), instead of reading Source.
	Manifest []byte
	// Wait bounds waiting for the workloads (10m).
	Wait time.Duration
	// App, when set, is applied last, after Repo when Repo.URL is set.
	App  *argocd.App
	Repo argocd.Repository
	// Project, when set with App, is the AppProject ensured before it.
	Project *argocd.Project
	// Progress, when set, hears each step (called from Install's goroutine).
	Progress func(Progress)
}

// Phase is a step of an installation.
type Phase string

// The phases, in order. Nothing is applied before prerequisites passed.
const (
	PhaseManifest      Phase = "manifest"
	PhasePrerequisites Phase = "prerequisites"
	PhaseCRDs          Phase = "crds"
	PhaseObjects       Phase = "objects"
	PhaseWorkloads     Phase = "workloads"
	PhaseApplication   Phase = "application"
)

// Description says what the phase does, for people.
func (p Phase) Description() string {
	switch p {
	case PhaseManifest:
		return "reading the manifest"
	case PhasePrerequisites:
		return "checking the API server and permissions"
	case PhaseCRDs:
		return "applying CRDs and waiting until Established"
	case PhaseObjects:
		return "applying objects"
	case PhaseWorkloads:
		return "waiting for workloads to be ready"
	case PhaseApplication:
		return "applying the repository Secret and the Application"
	}
	return string(p)
}

// Progress is how far an installation is: Done of Total steps of Phase.
type Progress struct {
	Phase       Phase
	Done, Total int
}

// Counts say what applying did: objects created, changed, and left as
// they were (the server-side apply was a no-op: same resourceVersion).
type Counts struct {
	Created, Changed, Unchanged int
}

func (c *Counts) add(o Outcome) {
	switch o {
	case Created:
		c.Created++
	case Changed:
		c.Changed++
	default:
		c.Unchanged++
	}
}

// Total is the number of objects counted.
func (c Counts) Total() int { return c.Created + c.Changed + c.Unchanged }

// Result is what an installation did.
type Result struct {
	// Source names the manifest (a URL's password is hidden).
	Source string
	// Server and ServerVersion are the API server's URL and version.
	Server, ServerVersion string
	Namespace             string
	// Counts covers every object applied: the namespace, the manifest's
	// objects, the repository Secret and the Application; ByKind splits them.
	Counts
	ByKind    map[string]Counts
	CRDs      int
	Workloads int
	// Took is each phase's duration.
	Took map[Phase]time.Duration
}

func (r *Result) count(kind string, o Outcome) {
	r.add(o)
	c := r.ByKind[kind]
	c.add(o)
	r.ByKind[kind] = c
}
