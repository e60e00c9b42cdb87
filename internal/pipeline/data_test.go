package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// TestDataProcess is the data tier for real: the fake eksctl makes the
// cluster's network in moto, then the real terraform with the real AWS
// provider applies terraform/stateful for production, against moto. One
// apply is shared by every assertion (each RDS create costs about 80 s):
//
//  1. an apply interrupted mid-way (as Ctrl-C would) stops cleanly and
//     releases the S3 state lock;
//  2. the re-run converges with nothing made twice;
//  3. a second plan has no changes; outputs match the profile;
//  4. no generated secret value is in the state or the run log;
//  5. the Redis AUTH token is set outside Terraform;
//  6. destroy takes a final snapshot with a unique name and leaves nothing
//     tagged for the environment; a second destroy is "already gone".
func TestDataProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: moto, terraform and the AWS provider")
	}
	if testenv.OwnProcess(t) {
		return
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())

	ctx := context.Background()
	st, log := processState(t, "production", buildFakeEksctl(t))
	t.Cleanup(func() {
		if t.Failed() {
			// The whole run log, for the terraform output before the tail shown.
			path := filepath.Join(os.TempDir(), "bootstrap-TestDataProcess.log")
			if os.WriteFile(path, log.Bytes(), 0o644) == nil {
				t.Logf("full run log: %s", path)
			}
		}
	})
	st.Redact = &proc.Redactor{}
	st.Runner = &proc.Exec{Log: st.Redact.Writer(log), Redact: st.Redact}
	st.Log = st.Redact.Writer(log)
	st.Progress = NewProgress(st.Log, false, false)
	out := &bytes.Buffer{}
	st.Out = out
	st.Now = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Run(ctx, st, "bootstrap cluster", ClusterPhase()); err != nil {
		t.Fatalf("cluster phase: %v\n%s", err, log)
	}
	c, err := cloud.New(ctx, st.Profile.Region)
	if err != nil {
		t.Fatal(err)
	}
	prefix := st.Profile.Prefix()

	// 1. (The interrupted-apply case is TestDataInterruptedApplyConverges.)
	if err := Run(ctx, st, "bootstrap data", []Step{EnsureStateBucket{}}); err != nil {
		t.Fatal(err)
	}

	// 2. The apply.
	start := time.Now()
	if err := Run(ctx, st, "bootstrap data", DataSteps()); err != nil {
		t.Fatalf("apply: %v\n%s", err, lastLines(log.String(), 60))
	}
	t.Logf("apply took %s", time.Since(start).Round(time.Second))
	dbs, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dbs.DBInstances) != 1 || aws.ToString(dbs.DBInstances[0].DBInstanceIdentifier) != prefix {
		t.Errorf("want exactly one DB instance %s, got %d", prefix, len(dbs.DBInstances))
	}
	if db := dbs.DBInstances[0]; !aws.ToBool(db.MultiAZ) || !aws.ToBool(db.DeletionProtection) || !aws.ToBool(db.StorageEncrypted) || aws.ToBool(db.PubliclyAccessible) {
		t.Errorf("production database settings: multiAZ %v, protection %v, encrypted %v, public %v",
			aws.ToBool(db.MultiAZ), aws.ToBool(db.DeletionProtection), aws.ToBool(db.StorageEncrypted), aws.ToBool(db.PubliclyAccessible))
	}
	rgs, err := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rgs.ReplicationGroups) != 1 {
		t.Errorf("want exactly one replication group, got %d", len(rgs.ReplicationGroups))
	}
	repos, _ := ecr.NewFromConfig(c.Config).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if len(repos.Repositories) != 2 {
		t.Errorf("want the two ECR repositories, got %d", len(repos.Repositories))
	}
	if n := len(listSecrets(t, c, st.Profile.Secrets.Prefix+"/")); n != 3 {
		t.Errorf("want 3 secrets under %s/, got %d", st.Profile.Secrets.Prefix, n)
	}

	// 3. Outputs follow the profile; a second plan changes nothing.
	if got := fmt.Sprintf("%s %s %s %s %s %s", st.Data.DBName, st.Data.DBUsername, st.Data.RedisPort, st.Data.DBPort, st.Data.Environment, st.Data.Region); got != "sovd_production sovd_admin 6379 5432 production us-east-1" {
		t.Errorf("outputs: %s", got)
	}
	if st.Data.DBHost == "" || st.Data.RedisHost == "" || len(st.Data.ECRRepositoryURLs) != 2 || st.Data.DBMasterSecretARN == "" {
		t.Errorf("outputs missing: %+v", st.Data)
	}
	d, err := openStateful(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, backend(st)); err != nil {
		t.Fatal(err)
	}
	sum, err := d.Plan(ctx, st.Path(StatefulVars), st.Path(StatefulPlan), false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Changed() {
		t.Errorf("a second plan shows changes: %s %v", sum, sum.Resources)
	}
	// bootstrap addons on its own reads the same outputs from the remote state.
	applied := st.Data
	st.Data = nil
	if err := Run(ctx, st, "bootstrap addons", []Step{ReadDataOutputs{}}); err != nil {
		t.Fatalf("reading the outputs back: %v", err)
	}
	if !reflect.DeepEqual(st.Data, applied) {
		t.Errorf("outputs read back as %+v, applied as %+v", st.Data, applied)
	}
	// bootstrap plan, when AWS answers, shows the real plan's typed summary.
	st.Live = true
	desc, err := ApplyData{}.Describe(ctx, st)
	st.Live = false
	if err != nil || !strings.Contains(strings.Join(desc.Summary, "\n"), "terraform plan: 0 to add, 0 to change, 0 to destroy") {
		t.Errorf("a live plan should summarise a no-change plan, got %v %v", desc.Summary, err)
	}

	// 4. No secret value in state or in what was printed or logged.
	state, err := d.StatePull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	for _, sf := range [][2]string{{"/jwt", "secret"}, {"/redis", "auth_token"}} {
		v, err := c.SecretField(ctx, st.Profile.Secrets.Prefix+sf[0], sf[1])
		if err != nil {
			t.Fatal(err)
		}
		secrets[sf[0]] = v
	}
	for _, s := range listSecrets(t, c, "rds!") {
		v, err := c.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ARN})
		if err == nil {
			secrets["rds master"] = aws.ToString(v.SecretString)
		}
	}
	if len(secrets) < 2 {
		t.Fatalf("read %d generated secrets, want at least 2", len(secrets))
	}
	for name, v := range secrets {
		if len(v) < 16 {
			t.Errorf("secret %s is suspiciously short (%d)", name, len(v))
		}
		for where, text := range map[string]string{"terraform state": state, "run log": log.String(), "output": out.String()} {
			if strings.Contains(text, v) {
				t.Errorf("the %s secret's value is in the %s", name, where)
			}
		}
	}

	// 5. Redis AUTH was set from the secret, outside Terraform.
	if on, err := c.RedisAuthEnabled(ctx, prefix); err != nil || !on {
		t.Errorf("Redis AUTH token not set: %v %v", on, err)
	}

	// 6. Destroy: final snapshot, then nothing left; again is a no-op.
	if err := Run(ctx, st, "bootstrap teardown", DataTeardownSteps()); err != nil {
		t.Fatalf("destroy: %v\n%s", err, lastLines(log.String(), 60))
	}
	snap := FinalSnapshotID(st)
	snaps, err := rds.NewFromConfig(c.Config).DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap)})
	if err != nil || len(snaps.DBSnapshots) != 1 {
		t.Errorf("final snapshot %s not found: %v", snap, err)
	}
	if !strings.Contains(out.String(), snap) {
		t.Errorf("teardown did not say where the final snapshot is:\n%s", out)
	}
	dbs, _ = rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	rgs, _ = c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	repos, _ = ecr.NewFromConfig(c.Config).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if len(dbs.DBInstances)+len(rgs.ReplicationGroups)+len(repos.Repositories) != 0 {
		t.Errorf("left behind: %d DB instances, %d replication groups, %d repositories", len(dbs.DBInstances), len(rgs.ReplicationGroups), len(repos.Repositories))
	}
	if n := len(listSecrets(t, c, st.Profile.Secrets.Prefix+"/")); n != 0 {
		t.Errorf("%d secrets left under %s/", n, st.Profile.Secrets.Prefix)
	}
	if ok, _ := c.BucketExists(ctx, st.Profile.StorageBucketName(st.AccountID)); ok {
		t.Error("the backups bucket is still there")
	}
	if err := Run(ctx, st, "bootstrap teardown", DataTeardownSteps()); err != nil {
		t.Errorf("a second destroy must be 'already gone', got %v", err)
	}
}

// listSecrets lists the secrets whose names start with prefix (secrets
// scheduled for deletion are not listed, as in AWS).
func listSecrets(t *testing.T, c *cloud.Clients, prefix string) []smtypes.SecretListEntry {
	t.Helper()
	out, err := c.SecretsManager().ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []smtypes.SecretListEntry
	for _, s := range out.SecretList {
		if strings.HasPrefix(aws.ToString(s.Name), prefix) {
			got = append(got, s)
		}
	}
	return got
}

// TestDataInterruptedApplyConverges: an apply interrupted mid-way (as Ctrl-C
// would) must release the S3 state lock, and the re-run must converge with
// nothing made twice. The interruption leaves the three shapes a real one
// does: objects recorded and tainted (their wait was cut), objects made but
// unrecorded, and objects never made. The data step untaints the named ones
// AWS reports healthy and imports unrecorded ones by their predictable names;
// without that, the re-run failed on "already exists" (secrets in their
// recovery window, security groups replaced create-before-destroy).
func TestDataInterruptedApplyConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: moto, terraform and the AWS provider")
	}
	if testenv.OwnProcess(t) {
		return
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())
	ctx := context.Background()
	st, log := processState(t, "production", buildFakeEksctl(t))
	st.Redact = &proc.Redactor{}
	st.Log = st.Redact.Writer(log)
	st.Progress = NewProgress(st.Log, false, false)
	st.Out = &bytes.Buffer{}
	st.Now = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	if err := Run(ctx, st, "bootstrap cluster", ClusterPhase()); err != nil {
		t.Fatalf("cluster phase: %v", err)
	}
	c, err := cloud.New(ctx, st.Profile.Region)
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(ctx, st, "bootstrap data", []Step{EnsureStateBucket{}}); err != nil {
		t.Fatal(err)
	}
	// Objects a create made and the state never recorded, by the names the
	// root gives them, tagged as the root tags them: the access-log bucket,
	// the monitoring role, a database log group. Whichever apply meets them
	// first must import them (adopt.go), not fail on "already exists".
	unrecorded := makeUnrecorded(ctx, t, c, st)
	// And the backups bucket as an apply stopped between CreateBucket and
	// its tagging leaves it (creating.go): recorded by that apply, then
	// made, with no tags. Whichever apply meets it must import and tag it.
	backups := st.Profile.StorageBucketName(st.AccountID)
	rec, err := readCreating(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.record(st, []string{backups}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(backups)}); err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithCancelCause(ctx)
	go func() {
		for ictx.Err() == nil {
			r, err := ecr.NewFromConfig(c.Config).DescribeRepositories(ictx, &ecr.DescribeRepositoriesInput{})
			if err == nil && len(r.Repositories) > 0 {
				cancel(errors.New("interrupted"))
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	err = Run(ictx, st, "bootstrap data", []Step{ApplyData{}})
	cancel(nil)
	if err == nil {
		t.Fatal("the interrupted apply reported success")
	}
	bucket := st.Profile.StateBucketName(st.AccountID)
	if _, err := c.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(st.Profile.StateKey() + ".tflock")}); err == nil {
		t.Fatal("the state lock file is still there after the interrupted apply")
	}
	if err := Run(ctx, st, "bootstrap data", DataSteps()); err != nil {
		t.Fatalf("re-run after the interruption: %v\n%s", err, lastLines(log.String(), 60))
	}
	dbs, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil || len(dbs.DBInstances) != 1 {
		t.Errorf("want exactly one DB instance after the re-run: %v", err)
	}
	for _, name := range []string{st.Profile.Prefix() + "-postgres", st.Profile.Prefix() + "-redis"} {
		if id, err := c.SecurityGroupIDByName(ctx, st.Network.VPCID, name); err != nil || id == "" {
			t.Errorf("security group %s missing after the re-run: %v", name, err)
		}
	}
	if n := len(listSecrets(t, c, st.Profile.Secrets.Prefix+"/")); n != 3 {
		t.Errorf("want 3 secrets after the re-run, got %d", n)
	}
	if f, err := c.FindBucket(ctx, backups); err != nil || !envOwnership(st.Profile).Owns(f.Tags) {
		t.Errorf("the untagged backups bucket was not adopted and tagged: %+v %v", f, err)
	}
	if !strings.Contains(log.String(), "aws_s3_bucket.data exists in AWS ("+backups+") without tags") {
		t.Errorf("no run said it adopted the untagged backups bucket by its record:\n%s", lastLines(log.String(), 60))
	}
	if _, err := os.Stat(st.Path(CreatingFile)); err == nil {
		t.Error("the record of buckets being made outlived the finished apply")
	}
	// The re-run recorded everything: a further plan changes nothing.
	d, err := openStateful(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, backend(st)); err != nil {
		t.Fatal(err)
	}
	sum, err := d.Plan(ctx, st.Path(StatefulVars), st.Path(StatefulPlan), false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Changed() {
		t.Errorf("after the converging re-run a plan still shows changes: %s %v", sum, sum.Resources)
	}
	for _, address := range unrecorded {
		if !strings.Contains(log.String(), address+" exists in AWS") {
			t.Errorf("%s, made before any apply, was not imported:\n%s", address, lastLines(log.String(), 40))
		}
	}
	if strings.Contains(log.String(), "importing it") || strings.Contains(log.String(), "keeping it") {
		t.Logf("the re-run adopted what the interruption left (see the run log)")
	}
}

// makeUnrecorded makes, as an interrupted create would leave them, the
// access-log bucket, the RDS monitoring role, the postgresql log group and
// the data key with its alias
// under the root's names with the environment's tags, and returns their
// resource addresses.
func makeUnrecorded(ctx context.Context, t *testing.T, c *cloud.Clients, st *State) []string {
	t.Helper()
	p := st.Profile
	n := tfdriver.NamesOf(p)
	own := envOwnership(p)
	bucket := p.AccessLogBucketName(st.AccountID)
	if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	var s3Tags []s3types.Tag
	var iamTags []iamtypes.Tag
	for k, v := range own {
		s3Tags = append(s3Tags, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
		iamTags = append(iamTags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := c.S3().PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bucket), Tagging: &s3types.Tagging{TagSet: s3Tags}}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"monitoring.rds.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := iam.NewFromConfig(c.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n.MonitoringRole), AssumeRolePolicyDocument: aws.String(trust), Tags: iamTags}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatchlogs.NewFromConfig(c.Config).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(n.DBLogGroups["postgresql"]), Tags: own}); err != nil {
		t.Fatal(err)
	}
	var kmsTags []kmstypes.Tag
	for k, v := range own {
		kmsTags = append(kmsTags, kmstypes.Tag{TagKey: aws.String(k), TagValue: aws.String(v)})
	}
	k := kms.NewFromConfig(c.Config)
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Tags: kmsTags})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(n.KMSAlias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	return []string{"aws_s3_bucket.access_logs", "aws_iam_role.rds_monitoring", `aws_cloudwatch_log_group.db["postgresql"]`, "aws_kms_key.data", "aws_kms_alias.data"}
}
