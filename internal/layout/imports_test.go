package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/sovd/bootstrap/"

// group names a layer of docs/layout.md's import picture.
type group string

const (
	gMain     group = "main"     // cmd/bootstrap
	gApp      group = "app"      // internal/app
	gCommand  group = "command"  // internal/cmd/<verb>
	gFactory  group = "factory"  // internal/cmd/factory
	gPipeline group = "pipeline" // internal/pipeline
	gRender   group = "render"   // eksctl, addons: render files and argv, run nothing
	gCloud    group = "cloud"    // internal/cloud: talks to AWS
	gProc     group = "proc"     // internal/proc: runs programs
	gTFDriver group = "tfdriver" // internal/tfdriver: runs Terraform
	gTFRoot   group = "tfroot"   // terraform/stateful: the data tier's root and its output contract
	gCost     group = "cost"     // internal/cost
	gConfig   group = "config"   // internal/config
	gLeaf     group = "leaf"     // internal/shell: imports nothing of the project
	gTest     group = "test"     // test support: never imported by the product
)

// groupOf places a package (its path inside the module) in the picture;
// "" for a package the picture does not place yet.
func groupOf(pkg string) group {
	switch {
	case pkg == "cmd/bootstrap":
		return gMain
	case pkg == "internal/app":
		return gApp
	case pkg == "internal/cmd/factory":
		return gFactory
	case strings.HasPrefix(pkg, "internal/cmd/") && strings.Count(pkg, "/") == 2:
		return gCommand
	case pkg == "internal/pipeline", pkg == "internal/verify": // verify: checks that run programs and read AWS, beside the steps
		return gPipeline
	case pkg == "eksctl", pkg == "addons":
		return gRender
	case pkg == "internal/cloud":
		return gCloud
	case pkg == "internal/proc":
		return gProc
	case pkg == "internal/tfdriver":
		return gTFDriver
	case pkg == "terraform/stateful":
		return gTFRoot
	case pkg == "internal/cost":
		return gCost
	case pkg == "internal/config":
		return gConfig
	case pkg == "internal/shell", pkg == "internal/dbrole": // dbrole: the role SQL and the rotation's rules, pure
		return gLeaf
	case pkg == "internal/testenv", pkg == "internal/golden", pkg == "internal/proc/proctest",
		pkg == "internal/config/configtest", pkg == "internal/layout",
		strings.HasPrefix(pkg, "test/"), strings.HasPrefix(pkg, "hack/"):
		return gTest
	}
	return ""
}

// allowed is the picture: the groups each group may import (besides
// itself where noted). Leaves may be imported by anyone.
var allowed = map[group][]group{
	gMain: {gApp},
	gApp:  {gCommand, gFactory, gConfig, gPipeline, gProc, gCloud}, // proc, cloud: the error types it renders
	// A command reaches AWS, programs and Terraform only through the
	// pipeline (never cloud, proc, tfdriver); it may read the render-only
	// packages and the data tier's output contract, which run nothing and
	// talk to nothing: the pins it prints or compares with (version,
	// status, doctor's eksctl.MinVersion), the releases it names (runbook),
	// the values overlay it renders (values).
	gCommand: {gFactory, gPipeline, gConfig, gCost, gRender, gTFRoot},
	// The Factory builds the Runner and opens the run's AWS handle.
	gFactory:  {gConfig, gPipeline, gProc, gCloud},
	gPipeline: {gRender, gTFDriver, gTFRoot, gCloud, gProc, gConfig, gCost},
	// Render only: never each other, never proc or cloud.
	gRender:   {gConfig, gTFRoot},
	gCloud:    {gConfig},
	gTFDriver: {gConfig, gTFRoot},
	gTFRoot:   {gConfig},
	gCost:     {gConfig},
	gProc:     {},
	gConfig:   {},
	gLeaf:     {},
	gTest:     nil, // test support may import anything; nothing of the product imports it
}

// awsAllowList and openEdges named the edges that broke the picture while
// issue 14 moved the commands behind the pipeline. Both are empty now: any
// forbidden import fails the test. An entry added here must say why the
// edge is right, and docs/layout.md must say the same.
var awsAllowList = map[string]bool{}

var openEdges = map[string]bool{}

type listed struct {
	ImportPath string
	Imports    []string
}

// packages lists the module's packages and their non-test imports with
// `go list -json`, as the build sees them.
func packages(t *testing.T) []listed {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH:", err)
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports", "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages: not the module's", len(pkgs))
	}
	return pkgs
}

// violations are the module's imports the picture forbids, as "from -> to".
func violations(t *testing.T, pkgs []listed) (bad []string, unplaced []string) {
	for _, p := range pkgs {
		from := strings.TrimPrefix(p.ImportPath, module)
		gf := groupOf(from)
		if gf == "" {
			unplaced = append(unplaced, from)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := strings.TrimPrefix(imp, module)
			gt := groupOf(to)
			switch {
			case gt == "":
				continue // reported as unplaced with its own entry
			case gf == gTest, gt == gLeaf:
				continue
			case gt == gTest:
				bad = append(bad, from+" -> "+to)
			case gf == gt && gf != gRender && gf != gCommand:
				continue // within a layer (proc and its helpers)
			case !slices.Contains(allowed[gf], gt):
				bad = append(bad, from+" -> "+to)
			}
		}
	}
	sort.Strings(bad)
	sort.Strings(unplaced)
	return bad, unplaced
}

// TestImportPicture fails when a package imports what docs/layout.md's
// picture forbids, or when a package is not in the picture.
func TestImportPicture(t *testing.T) {
	t.Parallel()
	bad, unplaced := violations(t, packages(t))
	for _, p := range unplaced {
		t.Errorf("package %s is not in the import picture: place it in groupOf (internal/layout) and in docs/layout.md, \"Imports\"", p)
	}
	seen := map[string]bool{}
	for _, e := range bad {
		switch {
		case awsAllowList[e]:
			t.Logf("allowed, remaining after issue 14 item 1: %s", e)
		case openEdges[e]:
			t.Logf("allowed, open (issue 14 item 4): %s", e)
		default:
			t.Errorf("forbidden import %s (docs/layout.md, \"Imports\")", e)
			continue
		}
		seen[e] = true
	}
	for _, list := range []map[string]bool{awsAllowList, openEdges} {
		for e := range list {
			if !seen[e] {
				t.Errorf("allowed edge %q no longer exists: delete it from the list", e)
			}
		}
	}
}
