package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/test/charts"
)

// TestTwoEnvironmentsOneAccount: staging and production side by side in one
// (moto) account, as the built-in profiles make them, with every real part
// this machine has (the fake eksctl, the real terraform and AWS provider,
// the real helm). Each environment is its own EKS cluster, so each gets its
// own local control plane, started here with a KUBE_LOCAL_DIR of its own
// (on one control plane the two add-on phases would install
// the same releases in the same namespaces, which two clusters never share).
// Staging uses a custom database identifier and ports, so they are proven
// end to end as well. After `teardown --env staging`, production is intact
// byte for byte and staging left nothing tagged for it; after production's
// teardown nothing of either is left (production's final snapshot and its
// secrets in their recovery window are kept by design).
func TestTwoEnvironmentsOneAccount(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	helm := testenv.Helm(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", "not on PATH")
	}
	// Fresh control planes, one per environment: a shared long-running one
	// keeps the releases (and their webhooks) of an earlier run.
	kcStaging, kcProduction := testenv.OwnKube(t), testenv.OwnKube(t)
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())
	t.Setenv("FAKE_EKSCTL_DELAYS", "network=0s,controlplane=2s,nodegroup=0s")

	hook := charts.StartWebhook(t)
	src, err := charts.Build(filepath.Join(t.TempDir(), "charts"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fake := buildFakeEksctl(t)
	kube := map[string]string{"staging": kcStaging, "production": kcProduction}
	opts := func(env string) AddonOptions {
		return AddonOptions{Kubeconfig: kube[env], Charts: src, Timeout: 30 * time.Second}
	}
	newState := func(env string) (*State, *bytes.Buffer) {
		st, log := processState(t, env, fake)
		if env == "staging" {
			p := st.Profile
			p.Database.Identifier, p.Database.Port = "sovd-stg-db", 5433
			p.Redis.ReplicationGroupID, p.Redis.Port = "sovd-stg-cache", 6380
		}
		st.Tools["helm"], st.Tools["kubectl"] = helm, kubectl
		st.Redact = &proc.Redactor{}
		st.Log = st.Redact.Writer(log)
		st.Runner = &proc.Exec{Log: st.Log, Redact: st.Redact}
		st.Progress = NewProgress(st.Log, false, false)
		st.Out = &bytes.Buffer{}
		st.Now = time.Now
		st.Poll = Backoff{Initial: 200 * time.Millisecond, Max: time.Second}
		return st, log
	}
	run := func(env, what string, steps []Step) (*State, error) {
		st, log := newState(env)
		start := time.Now()
		err := Run(ctx, st, "bootstrap "+what+" --env "+env, steps)
		if err != nil {
			os.WriteFile(filepath.Join(os.TempDir(), "bootstrap-TestTwoEnvironmentsOneAccount-"+env+".log"), log.Bytes(), 0o644)
			return st, fmt.Errorf("%s %s: %w\n%s", what, env, err, lastLines(log.String(), 40))
		}
		t.Logf("%s %s took %s", what, env, time.Since(start).Round(time.Second))
		return st, nil
	}

	// Both up at once: they share nothing but the account.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	states := make([]*State, 2)
	for i, env := range []string{"staging", "production"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			states[i], errs[i] = run(env, "up", UpStepsWith(opts(env)))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	stg, prod := states[0], states[1]

	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	// Staging's custom identifiers and ports, end to end.
	if got := fmt.Sprintf("%v %v %v %v", stg.Data["db_port"], stg.Data["redis_port"], stg.Data["db_instance_identifier"], stg.Data["redis_replication_group_id"]); got != "5433 6380 sovd-stg-db sovd-stg-cache" {
		t.Errorf("staging's outputs: %s", got)
	}
	if values, err := os.ReadFile(stg.Path("values/sovd-webapp.yaml")); err != nil || !strings.Contains(string(values), `port: "5433"`) || !strings.Contains(string(values), `port: "6380"`) {
		t.Errorf("staging's values overlay lacks the custom ports: %v\n%s", err, values)
	}

	// What production holds, to compare byte for byte after staging goes.
	type snapshot struct {
		images, objects, secrets map[string]string
		releases                 string
	}
	take := func(st *State) snapshot {
		p := st.Profile
		s := snapshot{images: map[string]string{}, objects: map[string]string{}, secrets: map[string]string{}}
		for _, repo := range p.Registry.Repositories {
			out, err := ecr.NewFromConfig(c.Config).ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo)})
			if err != nil {
				t.Errorf("images of %s: %v", repo, err)
				continue
			}
			var ids []string
			for _, id := range out.ImageIds {
				ids = append(ids, aws.ToString(id.ImageTag)+"@"+aws.ToString(id.ImageDigest))
			}
			sort.Strings(ids)
			s.images[repo] = strings.Join(ids, ",")
		}
		bucket := p.StorageBucketName(testenv.MotoAccountID)
		policy, perr := c.S3().GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
		if perr == nil {
			c.S3().DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)})
		}
		if o, err := c.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("backups/dump.sql")}); err != nil {
			t.Errorf("object of %s: %v", bucket, err)
		} else {
			b, _ := io.ReadAll(o.Body)
			o.Body.Close()
			s.objects[bucket] = string(b)
		}
		if perr == nil {
			if _, err := c.S3().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: policy.Policy}); err != nil {
				t.Errorf("restoring the policy of %s: %v", bucket, err)
			}
		}
		for _, name := range p.SecretNames() {
			v, err := c.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			if err != nil {
				t.Errorf("secret %s: %v", name, err)
				continue
			}
			s.secrets[name] = aws.ToString(v.SecretString)
		}
		out, err := exec.Command(helm, "list", "--all-namespaces", "--kubeconfig", kube[p.Name], "-q").Output()
		if err != nil {
			t.Errorf("helm list: %v", err)
		}
		s.releases = strings.TrimSpace(string(out))
		return s
	}
	for _, st := range states {
		p := st.Profile
		for _, repo := range p.Registry.Repositories {
			pushImage(t, c, repo, p.Name)
		}
		// The bucket policy denies requests without TLS, and moto, which
		// evaluates it, is reached over plain HTTP here: the test lifts the
		// policy to write its object (what is compared is the object).
		bucket := aws.String(p.StorageBucketName(testenv.MotoAccountID))
		policy, err := c.S3().GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
		if err != nil {
			t.Fatalf("policy of %s: %v", *bucket, err)
		}
		if _, err := c.S3().DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket}); err != nil {
			t.Errorf("lifting the TLS-only policy of %s: %v", *bucket, err)
		}
		if _, err := c.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: bucket,
			Key: aws.String("backups/dump.sql"), Body: strings.NewReader("-- dump of " + p.Name)}); err != nil {
			t.Errorf("putting an object in %s: %v", *bucket, err)
		}
		if _, err := c.S3().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: policy.Policy}); err != nil {
			t.Fatalf("restoring the policy of %s: %v", *bucket, err)
		}
	}
	before := take(prod)
	var pinned []string // every pinned release, as helm list -q sorts them
	for _, c := range addons.All {
		pinned = append(pinned, c.Release)
	}
	sort.Strings(pinned)
	if before.releases != strings.Join(pinned, "\n") {
		t.Errorf("production's releases after up:\n%s\nwant\n%s", before.releases, strings.Join(pinned, "\n"))
	}
	stagingBefore := take(stg)
	if len(stagingBefore.secrets) != 3 || len(stagingBefore.images) != 2 {
		t.Errorf("staging after up: %+v", stagingBefore)
	}

	if _, err := run("staging", "teardown", TeardownStepsWith(opts("staging"))); err != nil {
		t.Fatal(err)
	}

	after := take(prod)
	for what, pair := range map[string][2]any{
		"images": {before.images, after.images}, "objects": {before.objects, after.objects},
		"secret values": {before.secrets, after.secrets}, "helm releases": {before.releases, after.releases},
	} {
		if fmt.Sprint(pair[0]) != fmt.Sprint(pair[1]) {
			t.Errorf("production's %s changed with staging's teardown:\n%v\nnow\n%v", what, pair[0], pair[1])
		}
	}
	if len(after.images) != 2 || strings.Count(fmt.Sprint(after.images), "@sha256:") != 2 {
		t.Errorf("production's images: %v", after.images)
	}
	pp := prod.Profile
	if s, err := c.DBInstanceStatus(ctx, pp.Database.Identifier); err != nil || s != "available" {
		t.Errorf("production's database: %q %v", s, err)
	}
	if s, err := c.ReplicationGroupStatus(ctx, pp.Redis.ReplicationGroupID); err != nil || s != "available" {
		t.Errorf("production's Redis: %q %v", s, err)
	}
	for _, role := range appFirst(pp) {
		if arn, err := c.RoleARN(ctx, role); err != nil || arn == "" {
			t.Errorf("production's IRSA role %s: %q %v", role, arn, err)
		}
	}
	if ok, err := c.ClusterExists(ctx, pp.Cluster.Name); err != nil || !ok {
		t.Errorf("production's cluster: %v %v", ok, err)
	}
	if left := taggedFor(t, c, stg.Profile); len(left) > 0 {
		t.Errorf("staging's teardown left, tagged for staging:\n%s", strings.Join(left, "\n"))
	}

	if _, err := run("production", "teardown", TeardownStepsWith(opts("production"))); err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if left := taggedFor(t, c, st.Profile); len(left) > 0 {
			t.Errorf("after both teardowns, left of %s:\n%s", st.Profile.Name, strings.Join(left, "\n"))
		}
	}
}

// pushImage puts a one-layer image manifest into a repository (moto's ECR
// PutImage), tagged v1.
func pushImage(t *testing.T, c *cloud.Clients, repo, env string) {
	t.Helper()
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:%064x"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":32654,"digest":"sha256:%064x"}],"annotations":{"env":%q}}`, len(repo), len(env), env+"/"+repo)
	if _, err := ecr.NewFromConfig(c.Config).PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: aws.String(repo),
		ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")}); err != nil {
		t.Fatalf("pushing to %s: %v", repo, err)
	}
}

// taggedFor lists what is still there of an environment: anything carrying
// its Environment tag that teardown should have removed (VPCs, subnets,
// security groups, network interfaces, addresses; the cluster, databases,
// replication groups, repositories, live secrets, IRSA roles, buckets),
// except a protected environment's final snapshot, which is kept on purpose.
func taggedFor(t *testing.T, c *cloud.Clients, p *config.Profile) []string {
	t.Helper()
	env := p.Name
	ctx := context.Background()
	var left []string
	filter := []ec2types.Filter{{Name: aws.String("tag:Environment"), Values: []string{env}}}
	if v, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: filter}); err == nil {
		for _, x := range v.Vpcs {
			left = append(left, "vpc "+aws.ToString(x.VpcId))
		}
	}
	if g, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filter}); err == nil {
		for _, x := range g.SecurityGroups {
			left = append(left, "security group "+aws.ToString(x.GroupId)+" "+aws.ToString(x.GroupName))
		}
	}
	if n, err := c.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: filter}); err == nil {
		for _, x := range n.NetworkInterfaces {
			left = append(left, "network interface "+aws.ToString(x.NetworkInterfaceId))
		}
	}
	if a, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: filter}); err == nil {
		for _, x := range a.Addresses {
			left = append(left, "address "+aws.ToString(x.AllocationId))
		}
	}
	if ok, _ := c.ClusterExists(ctx, p.Cluster.Name); ok {
		left = append(left, "cluster "+p.Cluster.Name)
	}
	if s, _ := c.DBInstanceStatus(ctx, p.Database.Identifier); s != "" {
		left = append(left, "database "+p.Database.Identifier+" "+s)
	}
	if s, _ := c.ReplicationGroupStatus(ctx, p.Redis.ReplicationGroupID); s != "" {
		left = append(left, "replication group "+p.Redis.ReplicationGroupID+" "+s)
	}
	for _, repo := range p.Registry.Repositories {
		if ok, _ := c.ECRRepositoryExists(ctx, repo); ok {
			left = append(left, "repository "+repo)
		}
	}
	for _, s := range listSecrets(t, c, p.Secrets.Prefix+"/") {
		if s.DeletedDate == nil {
			left = append(left, "secret "+aws.ToString(s.Name))
		}
	}
	for _, role := range appFirst(p) {
		if _, err := iam.NewFromConfig(c.Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); err == nil {
			left = append(left, "role "+role)
		}
	}
	if ok, _ := c.BucketExists(ctx, p.StorageBucketName(testenv.MotoAccountID)); ok {
		left = append(left, "bucket "+p.StorageBucketName(testenv.MotoAccountID))
	}
	return left
}
