package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/tfdriver"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// The data phase: the Terraform state bucket, then terraform/stateful
// applied through terraform-exec with the cluster's network as input, then
// the Redis AUTH token set from Secrets Manager (outside Terraform, so it
// never enters state).

// Files of the data phase in the run directory.
const (
	StatefulDir     = "terraform/stateful"
	StatefulVars    = "stateful.tfvars.json"
	StatefulPlan    = "stateful.tfplan"
	StatefulRootRef = "terraform/stateful" // the root in a checkout, for the runbook
)

// DataAPI is what the data steps need from AWS; *cloud.Clients is the real one.
type DataAPI interface {
	AccountID(ctx context.Context) (string, error)
	ClusterNetwork(ctx context.Context, name string) (*cloud.Network, error)
	EnsureStateBucket(ctx context.Context, name string, tags map[string]string) (bool, error)
	SecretField(ctx context.Context, secretID, field string) (string, error)
	RedisAuthAPI // the AUTH token's rotation (redisauth.go)
	BucketExists(ctx context.Context, name string) (bool, error)
	DBInstanceStatus(ctx context.Context, id string) (string, error)
	ReplicationGroupStatus(ctx context.Context, id string) (string, error)
	AdoptAPI      // FindBucket, FindDBInstance, ... by predictable names, with tags
	HostedZoneAPI // the zone of app.domain, when CheckOwnership did not run
}

// DataSteps is `bootstrap data`, in order.
func DataSteps() []Step {
	return []Step{
		EnsureStateBucket{}, // versioned, encrypted, private; one per account and region
		ApplyData{},         // init, plan, apply of terraform/stateful; outputs -> State.Data
		SetRedisAuth{},      // AUTH token from sovd/<env>/redis, never through Terraform state
	}
}

// EnsureStateBucket creates the state bucket, or checks the one there.
type EnsureStateBucket struct{ AWS DataAPI }

// Name implements Step.
func (EnsureStateBucket) Name() string { return "Ensuring the Terraform state bucket" }

// Run implements Step.
func (s EnsureStateBucket) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return err
	}
	bucket := st.Profile.StateBucketName(st.AccountID)
	defer st.forget(foundStateBucket) // made, tagged or set here
	// Made untagged, then tagged (cloud.EnsureStateBucket): recorded first,
	// so that a run stopped in between can prove the bucket its own
	// (creating.go). A bucket that exists already was made before this.
	made, err := readCreating(st)
	if err != nil {
		return err
	}
	if err := made.record(st, []string{bucket}, time.Now()); err != nil {
		return fmt.Errorf("recording the state bucket before making it: %w", err)
	}
	created, err := api.EnsureStateBucket(ctx, bucket, map[string]string{"ManagedBy": "bootstrap", "Purpose": "terraform-state"})
	if err != nil {
		return err
	}
	if created {
		st.Progress.Info("created s3://%s", bucket)
	}
	return nil
}

// Describe implements Describer.
func (s EnsureStateBucket) Describe(_ context.Context, st *State) (Description, error) {
	b := st.Profile.StateBucketName(st.Account())
	create := []string{"s3api", "create-bucket", "--bucket", b, "--region", st.Profile.Region}
	if st.Profile.Region != "us-east-1" {
		create = append(create, "--create-bucket-configuration", "LocationConstraint="+st.Profile.Region)
	}
	return Description{Actions: []Action{
		{Tool: "aws", Args: create, Note: "the Terraform state bucket, one per account and region (skip if it exists)",
			Unless: []string{"aws", "s3api", "list-objects-v2", "--bucket", b, "--max-items", "1", "--query", "Name", "--output", "text"}},
		{Tool: "aws", Args: []string{"s3api", "put-bucket-tagging", "--bucket", b, "--tagging", tagSet(stateBucketOwnership)},
			Note:   "the tags that say bootstrap made it (the ownership check requires them), when it carries no ManagedBy tag yet",
			Unless: []string{"aws", "s3api", "get-bucket-tagging", "--bucket", b, "--query", "TagSet[?Key=='" + cloud.TagManagedBy + "'].Value", "--output", "text"}},
		{Tool: "aws", Args: []string{"s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled"}},
		{Tool: "aws", Args: []string{"s3api", "put-bucket-encryption", "--bucket", b, "--server-side-encryption-configuration",
			`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`}},
		{Tool: "aws", Args: []string{"s3api", "put-public-access-block", "--bucket", b, "--public-access-block-configuration",
			"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"}},
	}}, nil
}

// ApplyData applies terraform/stateful. AllowDatabaseMajor is the apply of
// bootstrap upgrade --allow-database-major (tfdriver.MajorUpgrade), after
// SnapshotBeforeMajor.
type ApplyData struct {
	AWS                DataAPI
	AllowDatabaseMajor bool
}

func (s ApplyData) vars(st *State) map[string]any {
	v := tfdriver.Vars(st.Profile, dataInputs(st), nil)
	if s.AllowDatabaseMajor {
		v = tfdriver.MajorUpgrade(v)
	}
	return v
}

// Name implements Step.
func (ApplyData) Name() string { return "Applying the data tier with Terraform" }

// Run implements Step. A plan with no changes applies nothing, so a re-run
// after a completed apply changes nothing; after a failed apply, Terraform
// picks up from its state and creates only what is missing.
func (s ApplyData) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return err
	}
	if !s.AllowDatabaseMajor {
		db, err := foundDBInstance(ctx, st, api)
		if err != nil {
			return err
		}
		if err := checkDatabaseMajor(st.Profile, db.Version); err != nil {
			return err
		}
	}
	if _, err := st.LiveNetwork(ctx, api); err != nil {
		return err
	}
	if st.HostedZoneID == "" {
		if err := ResolveHostedZone(ctx, api, st); err != nil {
			return err
		}
	}
	d, err := openStateful(ctx, st)
	if err != nil {
		return err
	}
	vars := s.vars(st)
	varFile := st.Path(StatefulVars)
	if err := tfdriver.WriteVarFile(varFile, vars); err != nil {
		return err
	}
	if err := d.Init(ctx, backend(st)); err != nil {
		return err
	}
	if err := untaintInterrupted(ctx, api, d, st); err != nil {
		return err
	}
	if _, err := adoptOrphans(ctx, api, d, st, dataInputs(st)); err != nil {
		return err
	}
	planFile := st.Path(StatefulPlan)
	sum, err := d.Plan(ctx, varFile, planFile, false)
	if err != nil {
		return err
	}
	st.Progress.Info("plan: %s", sum)
	if sum.Changed() {
		// The apply (and its imports) changes the data tier: what the run
		// read of it by name is forgotten, whatever the apply's outcome.
		st.forget(foundData)
		if err := d.Apply(ctx, planFile); err != nil {
			return err
		}
	}
	// Every bucket the apply made is in the state and tagged.
	if err := clearCreating(st); err != nil {
		return err
	}
	return readOutputs(ctx, d, st)
}

// readOutputs reads the data tier's outputs from its state and parses them
// (stateful.ParseOutputs, whose error names each missing output) into
// st.Data: the one place they are parsed; every reader uses the struct.
func readOutputs(ctx context.Context, d *tfdriver.Driver, st *State) error {
	raw, err := d.Outputs(ctx)
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("the data tier of %s has no outputs: run `bootstrap data --env %s` first", st.Profile.Name, st.Profile.Name)
	}
	out, err := stateful.ParseOutputs(raw)
	if err != nil {
		return err
	}
	if err := out.CheckOf(st.Profile); err != nil {
		return err
	}
	st.Data = &out
	return nil
}

// Describe implements Describer.
func (s ApplyData) Describe(ctx context.Context, st *State) (Description, error) {
	content, err := describedVars(s.vars(st))
	if err != nil {
		return Description{}, err
	}
	varPath := st.RelPath(StatefulVars)
	rel := "../../" + varPath // from terraform/stateful
	summary := []string{"inputs <vpc-id>, the private subnets (<private-subnet-id-1> ...) and <cluster-security-group-id> come from the live cluster (bootstrap cluster reads them back)"}
	if st.Network != nil {
		summary = []string{"inputs read from the live cluster: " + st.Network.VPCID + ", " + strings.Join(st.Network.PrivateSubnetIDs, ", ") + ", " + st.Network.ClusterSecurityGroupID}
	}
	if st.Live && st.Network != nil {
		summary = append(summary, livePlan(ctx, s.AWS, st)...)
	}
	return Description{
		Summary: summary,
		Actions: []Action{
			{Tool: "terraform", Args: stateInit(st), Files: []File{{Path: varPath, Content: content}},
				Note: "state in S3 with S3's own lock file; one key per environment"},
			{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "plan", "-var-file=" + rel, "-out=" + StatefulPlan}},
			{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "apply", StatefulPlan}, Note: s.majorNote(st)},
		},
	}, nil
}

func (s ApplyData) majorNote(st *State) string {
	if !s.AllowDatabaseMajor {
		return ""
	}
	n := tfdriver.NamesOf(st.Profile)
	return fmt.Sprintf("with allow_major_version_upgrade and apply_immediately: Terraform makes parameter group %s (family postgres%s) first, moves %s to PostgreSQL %s and that group in one ModifyDBInstance, then deletes the old group (create_before_destroy in rds.tf); the database is unavailable while RDS upgrades it",
		n.DBParameterGroup, PostgresMajor(st.Profile.Database.EngineVersion), st.Profile.Database.Identifier, st.Profile.Database.EngineVersion)
}

// ReadDataOutputs reads the data tier's Terraform outputs from the remote
// state, for a run that did not apply it (bootstrap addons on its own).
type ReadDataOutputs struct{ AWS DataAPI }

// Name implements Step.
func (ReadDataOutputs) Name() string { return "Reading the data tier's outputs" }

// Run implements Step; a run that applied the data tier has them already.
func (s ReadDataOutputs) Run(ctx context.Context, st *State) error {
	if st.Data != nil {
		return nil
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	d, err := openRemoteStateful(ctx, api, st)
	if err != nil {
		return err
	}
	if d == nil {
		b := backend(st)
		return fmt.Errorf("no state bucket s3://%s: run `bootstrap data --env %s` first", b.Bucket, st.Profile.Name)
	}
	return readOutputs(ctx, d, st)
}

// Describe implements Describer.
func (ReadDataOutputs) Describe(_ context.Context, st *State) (Description, error) {
	return Description{Actions: []Action{{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "output", "-json"},
		Note: "the values the add-ons and the app's chart need (after terraform init as in the data phase)"}}}, nil
}

// DataTeardownSteps destroys the data tier; it comes before the cluster is
// deleted, since RDS and ElastiCache sit in the cluster's subnets.
func DataTeardownSteps() []Step {
	return []Step{
		DestroyData{}, // production: protection lifted and a final snapshot named first
	}
}

// DestroyData destroys terraform/stateful. For a protected environment it
// first applies the teardown settings (deletion protection off, a final
// snapshot with a unique name), so the data survives as a snapshot. The
// teardown command's typed confirmation stands in front of it.
type DestroyData struct{ AWS DataAPI }

// Name implements Step.
func (DestroyData) Name() string { return "Destroying the data tier" }

// FinalSnapshotID is a unique name for the database's final snapshot.
func FinalSnapshotID(st *State) string {
	return st.Profile.Database.Identifier + "-final-" + st.Now().UTC().Format("20060102-150405")
}

// Run implements Step: no state bucket, or an empty state, is "already gone".
func (s DestroyData) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	d, err := openRemoteStateful(ctx, api, st)
	if err != nil {
		return err
	}
	if d == nil {
		st.Progress.Info("no state bucket s3://%s: nothing to destroy", backend(st).Bucket)
		return nil
	}
	res, err := d.Resources(ctx)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		st.Progress.Info("the data tier's state is empty: nothing to destroy")
		return nil
	}
	in := dataInputs(st)
	if st.Network == nil {
		n, clusterErr := api.ClusterNetwork(ctx, st.Profile.Cluster.Name)
		if clusterErr == nil {
			st.Network = n
			in = dataInputs(st)
		} else if in, err = d.StateInputs(ctx); err != nil {
			return fmt.Errorf("cluster %s is unreadable (%v) and %w", st.Profile.Cluster.Name, clusterErr, err)
		}
		in.AccountID = st.AccountID
	}
	if !hasClusterRules(res) {
		// Applied before EKS made the cluster security group and never
		// granted (the run stopped first): destroy what is there rather
		// than add the two rules on the way out.
		in.ClusterSecurityGroupID = ""
	}
	td := &tfdriver.Teardown{FinalSnapshotID: FinalSnapshotID(st)}
	defer st.forget(foundData) // the apply and destroy below change the data tier
	varFile := st.Path(StatefulVars)
	if err := tfdriver.WriteVarFile(varFile, tfdriver.Vars(st.Profile, in, td)); err != nil {
		return err
	}
	// Lift deletion protection and name the final snapshot in state first:
	// destroy reads both from there.
	planFile := st.Path(StatefulPlan)
	sum, err := d.Plan(ctx, varFile, planFile, false)
	if err != nil {
		return err
	}
	if sum.Add > 0 || sum.Replace > 0 {
		return fmt.Errorf("the data tier is incomplete (%s before destroy); run `bootstrap data --env %s` to converge it first, or destroy by hand (runbook)", sum, st.Profile.Name)
	}
	if sum.Changed() {
		if err := d.Apply(ctx, planFile); err != nil {
			return err
		}
	}
	if err := d.Destroy(ctx, varFile); err != nil {
		return err
	}
	if st.Profile.Protection.FinalSnapshot {
		st.Progress.Info("final snapshot of %s: %s (RDS snapshots in %s)", st.Profile.Database.Identifier, td.FinalSnapshotID, st.Profile.Region)
		fmt.Fprintf(st.Out, "final database snapshot: %s (region %s)\n", td.FinalSnapshotID, st.Profile.Region)
	}
	return nil
}

// Describe implements Describer.
func (DestroyData) Describe(_ context.Context, st *State) (Description, error) {
	content, err := describedVars(tfdriver.Vars(st.Profile, dataInputs(st), &tfdriver.Teardown{FinalSnapshotID: st.Profile.Database.Identifier + "-final-<yyyymmdd-hhmmss>"}))
	if err != nil {
		return Description{}, err
	}
	varPath := st.RelPath("stateful-teardown.tfvars.json")
	rel := "../../" + varPath
	b := backend(st)
	// The environment's state exists: else nothing was ever applied.
	applied := []string{"aws", "s3api", "list-objects-v2", "--region", b.Region, "--bucket", b.Bucket, "--prefix", b.Key, "--query", "Contents[0].Key", "--output", "text"}
	// The state holds resources: else the destroy is done (a teardown
	// resumed after it, when the cluster may be gone too: nothing to read).
	held := []string{"terraform", "-chdir=" + StatefulRootRef, "state", "list"}
	return Description{Actions: []Action{
		{Tool: "terraform", Args: stateInit(st), If: applied,
			Note: "only when the environment's Terraform state exists (else nothing was applied: go on to the node group); init again, so that this runs in a fresh checkout too"},
		{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "apply", "-input=false", "-auto-approve", "-var-file=" + rel}, While: applied, If: held,
			Files: []File{{Path: varPath, Content: content}},
			Note:  "only while the state holds resources (empty: destroyed already). First an apply, then the destroy: it lifts deletion protection, names the final snapshot (unique) and lets the bucket and the repositories go with their contents (force_destroy, force_delete are read from the state, not from the destroy's variables)"},
		{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "destroy", "-input=false", "-auto-approve", "-var-file=" + rel}, While: applied, If: held},
	}}, nil
}

// stateInit is terraform init against the environment's remote state.
func stateInit(st *State) []string {
	init := []string{"-chdir=" + StatefulRootRef, "init", "-input=false"}
	for _, a := range backend(st).Args() {
		init = append(init, "-backend-config="+a)
	}
	return init
}

// describedVars is a tfvars file as the runbook shows it: placeholders such
// as <vpc-id> as written (not JSON's \u003c escapes), so that a reader can
// find them and the runbook's script can fill them in.
func describedVars(vars map[string]any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

// hasClusterRules says whether the state holds the ingress rules admitting
// the cluster security group.
func hasClusterRules(addresses []string) bool {
	for _, a := range addresses {
		if strings.HasPrefix(a, "aws_vpc_security_group_ingress_rule.") {
			return true
		}
	}
	return false
}

// untaintInterrupted clears the taint Terraform puts on a database or
// replication group whose creation it stopped waiting for (Ctrl-C, a lost
// connection): AWS accepted the creation and the resource is coming up, so
// replacing it would throw away a database (or, with deletion protection,
// fail). A resource AWS reports as failed stays tainted and is replaced.
func untaintInterrupted(ctx context.Context, api DataAPI, d *tfdriver.Driver, st *State) error {
	tainted, err := d.Tainted(ctx)
	if err != nil {
		return err
	}
	p := st.Profile
	for _, r := range tainted {
		var status string
		switch r.Type {
		case "aws_db_instance":
			status, err = liveStatus(ctx, st, api, r, p.Database.Identifier, api.DBInstanceStatus)
		case "aws_elasticache_replication_group":
			status, err = liveStatus(ctx, st, api, r, p.Redis.ReplicationGroupID, api.ReplicationGroupStatus)
		case "aws_secretsmanager_secret", "aws_security_group", "aws_db_parameter_group", "aws_db_subnet_group",
			"aws_elasticache_subnet_group", "aws_s3_bucket", "aws_ecr_repository", "aws_vpc_security_group_ingress_rule":
			// Named containers whose settings the plan reconciles in place:
			// replacing one would delete a secret into its recovery window
			// (and fail on the reserved name) or empty a bucket.
			status = "available"
		case "aws_s3_bucket_ownership_controls", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
			"aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration",
			"aws_ecr_lifecycle_policy":
			// Settings of a bucket or repository: replacing one deletes it
			// first (for a moment no public access block, versioning
			// suspended); kept, the refresh reads what AWS has and the
			// plan puts what is missing.
			status = "available"
		default:
			continue
		}
		if err != nil {
			return err
		}
		switch status {
		case "creating", "available", "backing-up", "modifying", "configuring-enhanced-monitoring", "configuring-log-exports":
			st.Progress.Info("%s was left tainted by an interrupted run but AWS reports it %s: keeping it", r.Address, status)
			if err := d.Untaint(ctx, r.Address); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveStatus is what AWS reports of a tainted database or replication
// group: the ownership check's lookup of it (the run's cache, found.go)
// when it is the profile's, else read. A lookup leaves out what AWS is
// deleting or failed to make ("" then), which untaint keeps tainted, as it
// does those statuses.
func liveStatus(ctx context.Context, st *State, api DataAPI, r tfdriver.TaintedResource, profileID string, read func(context.Context, string) (string, error)) (string, error) {
	if r.Name != profileID {
		return read(ctx, r.Name)
	}
	for _, o := range orphans(st, tfdriver.Inputs{}) {
		if o.address == r.Address {
			f, err := o.lookup(ctx, st, api, nil)
			return f.Status, err
		}
	}
	return read(ctx, r.Name)
}

// livePlan runs terraform plan against the live state, changing nothing in
// AWS (it writes only the run directory), and returns its typed summary.
func livePlan(ctx context.Context, injected DataAPI, st *State) []string {
	api, err := apiOf(ctx, st, injected)
	if err != nil {
		return []string{"terraform plan not run: " + err.Error()}
	}
	b := backend(st)
	if ok, err := api.BucketExists(ctx, b.Bucket); err != nil || !ok {
		return []string{"terraform plan not run: no state bucket yet (everything in terraform/stateful is to be created)"}
	}
	d, err := openStateful(ctx, st)
	if err == nil {
		err = tfdriver.WriteVarFile(st.Path(StatefulVars), tfdriver.Vars(st.Profile, dataInputs(st), nil))
	}
	if err == nil {
		err = d.Init(ctx, b)
	}
	var sum tfdriver.Summary
	if err == nil {
		sum, err = d.Plan(ctx, st.Path(StatefulVars), st.Path(StatefulPlan), false)
	}
	if err != nil {
		return []string{"terraform plan failed: " + err.Error()}
	}
	out := []string{"terraform plan: " + sum.String()}
	for _, r := range sum.Resources {
		out = append(out, "  "+r)
	}
	return out
}

// SetRedisAuth gives the replication group its AUTH token.
type SetRedisAuth struct{ AWS DataAPI }

// Name implements Step.
func (SetRedisAuth) Name() string { return "Setting the Redis AUTH token from Secrets Manager" }

// Run implements Step: Redis gets, or rotates to, the secret's current
// token (syncRedisAuth); when it holds it already nothing is done.
func (s SetRedisAuth) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	return syncRedisAuth(ctx, api, st, st.Profile.Redis.ReplicationGroupID, st.Profile.Secrets.Prefix+"/redis")
}

func dataInputs(st *State) tfdriver.Inputs {
	// One private subnet per zone, as eksctl makes them.
	subnets := make([]string, len(st.Profile.AvailabilityZones))
	for i := range subnets {
		subnets[i] = fmt.Sprintf("<private-subnet-id-%d>", i+1)
	}
	in := tfdriver.Inputs{AccountID: st.AccountID, HostedZoneID: st.HostedZoneID,
		VPCID: "<vpc-id>", PrivateSubnetIDs: subnets, ClusterSecurityGroupID: "<cluster-security-group-id>"}
	if n := st.Network; n != nil {
		in.VPCID, in.PrivateSubnetIDs, in.ClusterSecurityGroupID = n.VPCID, n.PrivateSubnetIDs, n.ClusterSecurityGroupID
	}
	return in
}

func backend(st *State) *tfdriver.Backend {
	return &tfdriver.Backend{Bucket: st.Profile.StateBucketName(st.Account()), Key: st.Profile.StateKey(), Region: st.Profile.Region}
}

// openRemoteStateful opens the root initialised against its remote state,
// for steps that read or remove what an earlier run made. A nil driver (and
// no error) means there is no state bucket, so nothing was ever applied.
func openRemoteStateful(ctx context.Context, api DataAPI, st *State) (*tfdriver.Driver, error) {
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return nil, err
	}
	b := backend(st)
	ok, err := api.BucketExists(ctx, b.Bucket)
	if err != nil || !ok {
		return nil, err
	}
	d, err := openStateful(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := d.Init(ctx, b); err != nil {
		return nil, err
	}
	return d, nil
}

// statefulWorkDir is where Terraform works: terraform/stateful in the run
// directory, or read/terraform/stateful for a read-only run.
func statefulWorkDir(st *State) string {
	if st.ReadOnly {
		return st.Path(filepath.Join("read", StatefulDir))
	}
	return st.Path(StatefulDir)
}

// TerraformHandle is the run's Terraform driver for terraform/stateful,
// opened on the first step that needs it and the same after (as the AWS
// handle is): the binary found once, init run once per backend, and the
// state read once until something changes it (tfdriver.Driver). It is safe
// for the lanes of a Parallel step to share.
type TerraformHandle struct {
	mu  sync.Mutex
	d   *tfdriver.Driver
	dir string
}

// Stateful returns the run's driver for terraform/stateful, with the
// embedded root written afresh into its working directory (which also
// removes an import file an earlier step of the run wrote: adopt.go).
func (st *State) Stateful(ctx context.Context) (*tfdriver.Driver, error) {
	h := st.Terraform
	if h == nil {
		h = &TerraformHandle{} // a State not started by Run (Describe): its own
		st.Terraform = h
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dir := statefulWorkDir(st)
	if err := tfdriver.WriteRoot(stateful.Root(), dir); err != nil {
		return nil, err
	}
	if h.d != nil && h.dir == dir {
		return h.d, nil
	}
	exe, err := tfdriver.Find(ctx, tfdriver.DefaultInstallDir())
	if err != nil {
		return nil, err
	}
	log := st.Log
	if st.Stream != nil && st.Log != nil {
		// -v: Terraform's lines too, whole and redacted, as the Runner's.
		log = io.MultiWriter(st.Log, st.Redact.Writer(st.Stream))
	}
	d, err := tfdriver.New(tfdriver.Options{ExecPath: exe, Dir: dir, Log: log, Hurry: st.Hurry})
	if err != nil {
		return nil, err
	}
	h.d, h.dir = d, dir
	return d, nil
}

// openStateful is the run's driver (st.Stateful).
func openStateful(ctx context.Context, st *State) (*tfdriver.Driver, error) {
	return st.Stateful(ctx)
}

// tagSet is tags in the shorthand of aws s3api put-bucket-tagging --tagging.
func tagSet(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = "{Key=" + k + ",Value=" + tags[k] + "}"
	}
	return "TagSet=[" + strings.Join(parts, ",") + "]"
}
