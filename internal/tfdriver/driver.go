package tfdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// Backend is the S3 backend's configuration for one environment: one state
// key per environment, and S3's own lock file (use_lockfile) so no DynamoDB
// table is needed.
type Backend struct {
	Bucket string
	Key    string
	Region string
}

// Args are the -backend-config flags, as terraform init takes them.
func (b Backend) Args() []string {
	return []string{
		"bucket=" + b.Bucket,
		"key=" + b.Key,
		"region=" + b.Region,
		"encrypt=true",
		"use_lockfile=true",
	}
}

// Driver runs one Terraform root in a working directory through
// terraform-exec. Cancelling the context sends terraform SIGINT (terraform-
// exec >= 0.23), so it stops cleanly and releases its state lock; it is
// given up to GraceDelay for that. Closing Options.Hurry (a second Ctrl-C)
// kills it at once, and the error then says so (Killed): its state lock is
// left behind for the caller to release.
//
// The state is read once: the first reader (Resources, Tainted,
// ResourceIDs, StateInputs, Outputs) runs terraform show and the others
// reuse what it read, until a command that writes the state (Init, Apply,
// Destroy, Untaint, Import) drops it, so a read after a change is fresh.
type Driver struct {
	tf     *tfexec.Terraform
	dir    string
	exe    string
	hurry  <-chan struct{}
	killed atomic.Bool

	mu sync.Mutex
	// shown is the state as terraform show read it; nil when not read
	// since the last change.
	shown *tfjson.State
	// backend is what the working directory was last initialised with;
	// inited says whether it was.
	backend Backend
	inited  bool
}

// GraceDelay is how long Terraform may take to stop after SIGINT before
// terraform-exec kills it: long enough to finish writing state and release
// the lock.
const GraceDelay = 60 * time.Second

// ErrKilled marks an error of a Terraform run killed on a second interrupt.
var ErrKilled = errors.New("terraform killed on a second interrupt")

// Options configure a Driver.
type Options struct {
	// ExecPath is the terraform binary (see Find).
	ExecPath string
	// Dir is the root's working copy.
	Dir string
	// Env is added to terraform's environment (TF_CLI_CONFIG_FILE, say).
	Env map[string]string
	// Log receives terraform's output.
	Log io.Writer
	// Hurry, when closed (a second Ctrl-C), kills a running terraform.
	Hurry <-chan struct{}
}

// New prepares a Driver.
func New(o Options) (*Driver, error) {
	tf, err := tfexec.NewTerraform(o.Dir, o.ExecPath)
	if err != nil {
		return nil, fmt.Errorf("terraform in %s: %w", o.Dir, err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range o.Env {
		env[k] = v
	}
	// terraform-exec sets these itself (TF_IN_AUTOMATION among them) and
	// refuses to be handed them.
	for _, k := range tfexec.ProhibitedEnv(env) {
		delete(env, k)
	}
	if err := tf.SetEnv(env); err != nil {
		return nil, err
	}
	if o.Log != nil {
		tf.SetStdout(o.Log)
		tf.SetStderr(o.Log)
	}
	if err := tf.SetWaitDelay(GraceDelay); err != nil {
		return nil, err
	}
	return &Driver{tf: tf, dir: o.Dir, exe: o.ExecPath, hurry: o.Hurry}, nil
}

// run calls one terraform-exec command, killing terraform if Hurry closes
// while it runs. An error of a killed run wraps ErrKilled.
func (d *Driver) run(ctx context.Context, call func(context.Context) error) error {
	if d.hurry == nil {
		return call(ctx)
	}
	select {
	case <-d.hurry:
		return fmt.Errorf("%w: not started", ErrKilled)
	default:
	}
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-d.hurry:
			// terraform-exec is already stopping it gracefully (the first
			// interrupt cancelled ctx); stop waiting.
			if n, _ := killChildren(d.exe); n > 0 {
				d.killed.Store(true)
			}
		case <-done:
		}
	}()
	err := call(ctx)
	close(done)
	<-watched
	if err != nil && d.killed.Load() {
		return fmt.Errorf("%w: %w", ErrKilled, err)
	}
	return err
}

// Killed reports whether a terraform of this driver was killed on a second
// interrupt; its state lock, if it held one, is then still in place.
func (d *Driver) Killed() bool { return d.killed.Load() }

// Dir is the working directory.
func (d *Driver) Dir() string { return d.dir }

// Init runs terraform init against the backend; a nil backend initialises
// without one (validation only).
//
// A driver already initialised against the same backend does nothing: the
// working directory is the same (see Reinit for one whose files changed).
func (d *Driver) Init(ctx context.Context, b *Backend) error {
	d.mu.Lock()
	same := d.inited && b != nil && d.backend == *b
	d.mu.Unlock()
	if same {
		return nil
	}
	d.forget()
	opts := []tfexec.InitOption{tfexec.Upgrade(false)}
	if b == nil {
		opts = append(opts, tfexec.Backend(false))
	} else {
		opts = append(opts, tfexec.Reconfigure(true))
		for _, a := range b.Args() {
			opts = append(opts, tfexec.BackendConfig(a))
		}
	}
	if err := d.run(ctx, func(ctx context.Context) error { return d.tf.Init(ctx, opts...) }); err != nil {
		return fmt.Errorf("terraform init in %s: %w", d.dir, err)
	}
	if b != nil {
		d.mu.Lock()
		d.backend, d.inited = *b, true
		d.mu.Unlock()
	}
	return nil
}

// forget drops the state read, after a command that may have changed it.
func (d *Driver) forget() {
	d.mu.Lock()
	d.shown = nil
	d.mu.Unlock()
}

// Validate runs terraform validate.
func (d *Driver) Validate(ctx context.Context) error {
	var out *tfjson.ValidateOutput
	err := d.run(ctx, func(ctx context.Context) (err error) { out, err = d.tf.Validate(ctx); return err })
	if err != nil {
		return fmt.Errorf("terraform validate in %s: %w", d.dir, err)
	}
	if !out.Valid {
		var msgs []string
		for _, diag := range out.Diagnostics {
			msgs = append(msgs, diag.Summary+": "+diag.Detail)
		}
		return fmt.Errorf("terraform validate in %s: %s", d.dir, strings.Join(msgs, "; "))
	}
	return nil
}

// Plan writes a plan for the variables file to planFile and summarises it.
func (d *Driver) Plan(ctx context.Context, varFile, planFile string, destroy bool) (Summary, error) {
	opts := []tfexec.PlanOption{tfexec.VarFile(varFile), tfexec.Out(planFile)}
	if destroy {
		opts = append(opts, tfexec.Destroy(true))
	}
	if err := d.run(ctx, func(ctx context.Context) error { _, err := d.tf.Plan(ctx, opts...); return err }); err != nil {
		return Summary{}, fmt.Errorf("terraform plan in %s: %w", d.dir, err)
	}
	var plan *tfjson.Plan
	err := d.run(ctx, func(ctx context.Context) (err error) { plan, err = d.tf.ShowPlanFile(ctx, planFile); return err })
	if err != nil {
		return Summary{}, fmt.Errorf("reading the plan %s: %w", planFile, err)
	}
	return Summarize(plan), nil
}

// Apply applies a saved plan.
func (d *Driver) Apply(ctx context.Context, planFile string) error {
	defer d.forget()
	if err := d.run(ctx, func(ctx context.Context) error { return d.tf.Apply(ctx, tfexec.DirOrPlan(planFile)) }); err != nil {
		return fmt.Errorf("terraform apply in %s: %w", d.dir, err)
	}
	return nil
}

// Destroy destroys everything in the state.
func (d *Driver) Destroy(ctx context.Context, varFile string) error {
	defer d.forget()
	if err := d.run(ctx, func(ctx context.Context) error { return d.tf.Destroy(ctx, tfexec.VarFile(varFile)) }); err != nil {
		return fmt.Errorf("terraform destroy in %s: %w", d.dir, err)
	}
	return nil
}

// Outputs returns the root's outputs as plain values, from the state read
// once (show). Sensitive outputs are left out: nothing bootstrap prints may
// carry a secret.
func (d *Driver) Outputs(ctx context.Context) (map[string]any, error) {
	s, err := d.show(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform show in %s: %w", d.dir, err)
	}
	out := map[string]any{}
	if s.Values == nil {
		return out, nil
	}
	for k, o := range s.Values.Outputs {
		if o == nil || o.Sensitive {
			continue
		}
		// Numbers as terraform output -json gives them (float64), through
		// JSON, whatever type show's decoder chose.
		raw, err := json.Marshal(o.Value)
		if err != nil {
			return nil, fmt.Errorf("terraform output %s: %w", k, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("terraform output %s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// StatePull returns the raw state, for checks that no secret is in it.
func (d *Driver) StatePull(ctx context.Context) (string, error) {
	var s string
	err := d.run(ctx, func(ctx context.Context) (err error) { s, err = d.tf.StatePull(ctx); return err })
	return s, err
}

// Summary is a plan's changes by action, then by resource type.
type Summary struct {
	Add, Change, Destroy, Replace int
	// Import counts objects the plan adopts into the state.
	Import int
	// Move counts objects the plan records under a new address (moved
	// blocks): nothing changes in AWS, but the state must be written.
	Move int
	// Resources lists each changed resource as "<action> <address>".
	Resources []string
}

// Changed reports whether the plan does anything.
func (s Summary) Changed() bool { return s.Add+s.Change+s.Destroy+s.Replace+s.Import+s.Move > 0 }

// String is the one-line form: "3 to add, 1 to change, 0 to destroy".
func (s Summary) String() string {
	line := fmt.Sprintf("%d to add, %d to change, %d to destroy", s.Add, s.Change, s.Destroy)
	if s.Replace > 0 {
		line += fmt.Sprintf(" (%d replaced)", s.Replace)
	}
	if s.Import > 0 {
		line += fmt.Sprintf(", %d to import", s.Import)
	}
	if s.Move > 0 {
		line += fmt.Sprintf(", %d to move", s.Move)
	}
	return line
}

// Summarize counts a plan's resource changes.
func Summarize(p *tfjson.Plan) Summary {
	var s Summary
	for _, rc := range p.ResourceChanges {
		if rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		if rc.Change.Importing != nil {
			s.Import++
			s.Resources = append(s.Resources, "import "+rc.Address)
		}
		if rc.PreviousAddress != "" && rc.PreviousAddress != rc.Address {
			s.Move++
			s.Resources = append(s.Resources, "move "+rc.PreviousAddress+" to "+rc.Address)
		}
		a := rc.Change.Actions
		var verb string
		switch {
		case a.Replace():
			s.Replace++
			s.Add++
			s.Destroy++
			verb = "replace"
		case a.Create():
			s.Add++
			verb = "create"
		case a.Update():
			s.Change++
			verb = "update"
		case a.Delete():
			s.Destroy++
			verb = "delete"
		default:
			continue
		}
		s.Resources = append(s.Resources, verb+" "+rc.Address)
	}
	sort.Strings(s.Resources)
	return s
}

// WriteRoot copies a root (an fs.FS of .tf files and its
// .terraform.lock.hcl, such as the embedded one) into dir, replacing the
// files there and removing .tf files that are gone, while keeping
// .terraform/ so init stays fast. The root's lock file replaces the working
// copy's: the checksums it records, not whatever an earlier init accepted,
// decide which provider may run.
func WriteRoot(root fs.FS, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	keep := map[string]bool{}
	err := fs.WalkDir(root, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.Base(path))
		keep[dst] = true
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("writing the Terraform root to %s: %w", dir, err)
	}
	for _, f := range old {
		if !keep[f] {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// Resources lists the addresses of the managed resources in the state; an
// empty list means there is nothing to destroy.
func (d *Driver) Resources(ctx context.Context) ([]string, error) {
	s, err := d.show(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform show in %s: %w", d.dir, err)
	}
	var out []string
	if s.Values == nil || s.Values.RootModule == nil {
		return nil, nil
	}
	for _, r := range s.Values.RootModule.Resources {
		if r.Mode == tfjson.ManagedResourceMode {
			out = append(out, r.Address)
		}
	}
	return out, nil
}

// StateInputs recovers the cluster inputs from the state itself (the
// database's subnet group and security group), for a teardown that finds
// the cluster already gone.
func (d *Driver) StateInputs(ctx context.Context) (Inputs, error) {
	s, err := d.show(ctx)
	if err != nil {
		return Inputs{}, fmt.Errorf("terraform show in %s: %w", d.dir, err)
	}
	var in Inputs
	if s.Values == nil || s.Values.RootModule == nil {
		return in, errors.New("the state is empty")
	}
	for _, r := range s.Values.RootModule.Resources {
		a := r.AttributeValues
		switch r.Type {
		case "aws_db_subnet_group":
			if ids, ok := a["subnet_ids"].([]any); ok {
				for _, id := range ids {
					if s, ok := id.(string); ok {
						in.PrivateSubnetIDs = append(in.PrivateSubnetIDs, s)
					}
				}
				sort.Strings(in.PrivateSubnetIDs)
			}
		case "aws_security_group":
			if v, ok := a["vpc_id"].(string); ok && in.VPCID == "" {
				in.VPCID = v
			}
		case "aws_vpc_security_group_ingress_rule", "aws_security_group_rule":
			for _, k := range []string{"referenced_security_group_id", "source_security_group_id"} {
				if v, ok := a[k].(string); ok && v != "" && in.ClusterSecurityGroupID == "" {
					in.ClusterSecurityGroupID = v
				}
			}
		}
	}
	// No rule in the state is no cluster security group: the tier was
	// applied before EKS made it (up's data lane), and null matches that.
	if in.VPCID == "" || len(in.PrivateSubnetIDs) == 0 {
		return in, fmt.Errorf("the state does not say which network the data tier is in (found vpc %q, subnets %v)",
			in.VPCID, in.PrivateSubnetIDs)
	}
	return in, nil
}

// TaintedResource is a resource Terraform will replace on the next apply
// because its creation did not finish, with the id AWS gave it.
type TaintedResource struct {
	Address string
	Type    string
	ID      string
	// Name is what AWS's describe calls take: the identifier for an RDS
	// instance (whose id is the internal db-... resource id in provider
	// 5.x), the id for the others.
	Name string
}

// Tainted lists the tainted resources in the state.
func (d *Driver) Tainted(ctx context.Context) ([]TaintedResource, error) {
	s, err := d.show(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform show in %s: %w", d.dir, err)
	}
	if s.Values == nil || s.Values.RootModule == nil {
		return nil, nil
	}
	var out []TaintedResource
	for _, r := range s.Values.RootModule.Resources {
		if r.Tainted {
			id, _ := r.AttributeValues["id"].(string)
			name := id
			if ident, ok := r.AttributeValues["identifier"].(string); ok && ident != "" {
				name = ident
			}
			out = append(out, TaintedResource{Address: r.Address, Type: r.Type, ID: id, Name: name})
		}
	}
	return out, nil
}

// Untaint clears a resource's taint.
func (d *Driver) Untaint(ctx context.Context, address string) error {
	defer d.forget()
	if err := d.run(ctx, func(ctx context.Context) error { return d.tf.Untaint(ctx, address) }); err != nil {
		return fmt.Errorf("terraform untaint %s in %s: %w", address, d.dir, err)
	}
	return nil
}

// Import brings an existing object under a resource address.
func (d *Driver) Import(ctx context.Context, address, id, varFile string) error {
	defer d.forget()
	if err := d.run(ctx, func(ctx context.Context) error { return d.tf.Import(ctx, address, id, tfexec.VarFile(varFile)) }); err != nil {
		return fmt.Errorf("terraform import %s %s in %s: %w", address, id, d.dir, err)
	}
	return nil
}

// ResourceIDs maps each managed resource's address to its id.
func (d *Driver) ResourceIDs(ctx context.Context) (map[string]string, error) {
	s, err := d.show(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform show in %s: %w", d.dir, err)
	}
	out := map[string]string{}
	if s.Values == nil || s.Values.RootModule == nil {
		return out, nil
	}
	for _, r := range s.Values.RootModule.Resources {
		if id, ok := r.AttributeValues["id"].(string); ok {
			out[r.Address] = id
		}
	}
	return out, nil
}

// show is the state, read through terraform show the first time and kept
// until a command changes it (forget). Readers must not modify it.
func (d *Driver) show(ctx context.Context) (*tfjson.State, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shown != nil {
		return d.shown, nil
	}
	var s *tfjson.State
	err := d.run(ctx, func(ctx context.Context) (err error) { s, err = d.tf.Show(ctx); return err })
	if err != nil {
		return nil, err
	}
	d.shown = s
	return s, nil
}
