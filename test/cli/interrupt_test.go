// Package cli holds end-to-end tests of the built bootstrap binary: they run
// `go build` on cmd/bootstrap and drive the program as a user's shell would,
// in its own process group, with files for stdout and stderr and signals for
// Ctrl-C, against a moto server, the real terraform and the AWS provider,
// and the fake eksctl. What they check is only what a user sees: exit codes,
// what is printed, the run logs, and what is left in AWS.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/sovd/bootstrap/internal/app"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/testenv"
)

// TestDataLockAndInterrupt covers two acceptance items of issue #6 with one
// data-tier apply (each RDS create costs about 80 s), for staging:
//
//  1. Two concurrent runs: while run A holds the environment lock, run B
//     fails fast (exit 1) naming the holder and the command that removes a
//     stale lock, and starts no terraform.
//  2. SIGINT to A's process group mid terraform apply, as a terminal's
//     Ctrl-C: A exits 2 saying where it stopped and what continues; the
//     Terraform S3 state lock and the environment lock are both gone. Run C
//     converges with nothing made twice, and run D plans no change.
func TestDataLockAndInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: the built binary, moto, terraform and the AWS provider")
	}
	if testenv.OwnProcess(t) {
		return
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	bin := t.TempDir()
	bootstrap := goBuild(t, bin, "bootstrap", "github.com/sovd/bootstrap/cmd/bootstrap")
	t.Setenv("BOOTSTRAP_EKSCTL", goBuild(t, bin, "eksctl", "github.com/sovd/bootstrap/test/fakeeksctl"))
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())

	ctx := context.Background()
	const env = "staging"
	p := config.Builtin(env)
	bucket := p.StateBucketName(testenv.MotoAccountID)
	envLock := pipeline.LockKey(env)
	tfLock := p.StateKey() + ".tflock"
	next := "bootstrap data --env " + env
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(c.Config)

	work := t.TempDir()
	logDir := filepath.Join(work, ".bootstrap", env, "logs")
	t.Cleanup(func() {
		if t.Failed() {
			logRunLogs(t, logDir)
		}
	})
	run := func(name string, args ...string) *process { return start(t, name, bootstrap, work, args...) }

	// The cluster phase makes the network (fake eksctl) and the state bucket.
	cl := run("cluster", "cluster", "--env", env)
	if code := cl.wait(t, 3*time.Minute); code != app.ExitOK {
		t.Fatalf("bootstrap cluster exited %d", code)
	}

	// Run A takes the environment lock.
	a := run("A", "data", "--env", env)
	var held pipeline.LockInfo
	poll(t, "run A to take the environment lock", time.Minute, a, func() bool {
		body, ok := getObject(t, s3c, bucket, envLock)
		if !ok {
			return false
		}
		if err := json.Unmarshal(body, &held); err != nil {
			t.Fatalf("lock s3://%s/%s is not a lock: %v\n%s", bucket, envLock, err, body)
		}
		return true
	})
	if held.PID != a.pid() || held.Command != next || held.Holder == "" {
		t.Errorf("the lock names %+v, want pid %d running %q", held, a.pid(), next)
	}
	aLog := onlyLog(t, logDir, nil)

	// Run B, while A holds the lock. Run logs are named to the second; B
	// starts in a later second than A so that its log is its own (see
	// waitNextSecond).
	waitNextSecond(t, aLog)
	b := run("B", "data", "--env", env)
	if code := b.wait(t, time.Minute); code != app.ExitFailed {
		t.Errorf("run B exited %d while A held the lock, want %d", code, app.ExitFailed)
	}
	if b.elapsed > 20*time.Second {
		t.Errorf("run B took %s to fail: it should fail fast, not wait for A", b.elapsed.Round(time.Second))
	}
	bErr := b.stderr.String()
	for _, want := range []string{
		"environment " + env + " is locked by another run",
		fmt.Sprintf("%s (pid %d)", held.Holder, a.pid()),
		fmt.Sprintf("%q", next),
		fmt.Sprintf("remove the stale lock with: aws s3api delete-object --bucket %s --key %s --region %s", bucket, envLock, p.Region),
	} {
		if !strings.Contains(bErr, want) {
			t.Errorf("run B's error does not say %q:\n%s", want, bErr)
		}
	}
	if strings.Contains(bErr, "Applying the data tier") {
		t.Errorf("run B started the apply step:\n%s", bErr)
	}
	// terraform-exec runs `terraform version -json` before anything else.
	bLog := onlyLog(t, logDir, map[string]bool{aLog: true})
	if text := readFile(t, bLog); strings.Contains(text, "terraform_version") || strings.Contains(text, "Initializing") {
		t.Errorf("run B ran terraform; its log %s:\n%s", bLog, text)
	}
	var still pipeline.LockInfo
	if body, ok := getObject(t, s3c, bucket, envLock); !ok || json.Unmarshal(body, &still) != nil || still.PID != a.pid() {
		t.Errorf("after run B the lock is no longer A's: %s", body)
	}

	// A's apply is under way: AWS has accepted the database and the Redis
	// replication group, and terraform waits for them (about 80 s for RDS
	// under moto).
	var before dataTier
	poll(t, "run A's terraform apply to create the database and Redis", 5*time.Minute, a, func() bool {
		if !strings.Contains(readFile(t, aLog), "aws_db_instance.this: Creating...") {
			return false
		}
		before = describeDataTier(t, ctx, c, p.Prefix())
		return before.db != "" && before.redis != ""
	})
	// Ctrl-C at a terminal signals the foreground process group; bootstrap
	// keeps its children out of it and stops them itself.
	if err := syscall.Kill(-a.pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	interrupted := time.Now()
	if code := a.wait(t, 2*time.Minute); code != app.ExitCancelled {
		t.Errorf("run A exited %d after SIGINT, want %d", code, app.ExitCancelled)
	}
	t.Logf("run A stopped %s after SIGINT", time.Since(interrupted).Round(100*time.Millisecond))
	aErr := a.stderr.String()
	for _, want := range []string{
		`Interrupted at "Applying the data tier with Terraform".`,
		"Run `" + next + "` again to continue.",
	} {
		if !strings.Contains(aErr, want) {
			t.Errorf("run A's stderr does not say %q:\n%s", want, aErr)
		}
	}
	for _, key := range []string{tfLock, envLock} {
		if body, ok := getObject(t, s3c, bucket, key); ok {
			t.Errorf("s3://%s/%s is still there after the interrupted run:\n%s", bucket, key, body)
		}
	}

	// Run C continues and converges: nothing was made twice.
	cr := run("C", "data", "--env", env)
	if code := cr.wait(t, 8*time.Minute); code != app.ExitOK {
		t.Fatalf("the re-run after the interruption exited %d", code)
	}
	t.Logf("run C took %s; its notes:\n%s", cr.elapsed.Round(time.Second), infoLines(cr.stderr.String()))
	if want := "data: bootstrap data finished for environment " + env; !strings.Contains(cr.stdout.String(), want) {
		t.Errorf("run C's stdout does not say %q:\n%s", want, cr.stdout.String())
	}
	assertConverged(t, ctx, c, p)
	// The database and Redis whose creation was interrupted are kept, not
	// replaced: a replacement throws away data (and fails outright with
	// deletion protection, as in production).
	if after := describeDataTier(t, ctx, c, p.Prefix()); after != before {
		t.Errorf("the re-run replaced what the interrupted run had created:\n before %+v\n after  %+v", before, after)
	}

	// Run D has nothing left to do.
	d := run("D", "data", "--env", env)
	if code := d.wait(t, 5*time.Minute); code != app.ExitOK {
		t.Fatalf("a further run exited %d", code)
	}
	if got, want := planLine(d.stderr.String()), "plan: 0 to add, 0 to change, 0 to destroy"; got != want {
		t.Errorf("a further run planned %q, want %q", got, want)
	}
	for _, key := range []string{tfLock, envLock} {
		if body, ok := getObject(t, s3c, bucket, key); ok {
			t.Errorf("s3://%s/%s is still there after a completed run:\n%s", bucket, key, body)
		}
	}
}

// assertConverged checks that the data tier exists exactly once.
func assertConverged(t *testing.T, ctx context.Context, c *cloud.Clients, p *config.Profile) {
	t.Helper()
	name := p.Prefix()
	dbs, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, db := range dbs.DBInstances {
		ids = append(ids, aws.ToString(db.DBInstanceIdentifier))
	}
	if len(ids) != 1 || ids[0] != name {
		t.Errorf("DB instances %v, want exactly [%s]", ids, name)
	}
	rgs, err := elasticache.NewFromConfig(c.Config).DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, rg := range rgs.ReplicationGroups {
		ids = append(ids, aws.ToString(rg.ReplicationGroupId))
	}
	if len(ids) != 1 || ids[0] != name {
		t.Errorf("replication groups %v, want exactly [%s]", ids, name)
	}
	repos, err := ecr.NewFromConfig(c.Config).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(repos.Repositories) != len(p.Registry.Repositories) {
		t.Errorf("%d ECR repositories, want %d", len(repos.Repositories), len(p.Registry.Repositories))
	}
	for _, sg := range []string{name + "-postgres", name + "-redis"} {
		out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{sg}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.SecurityGroups) != 1 {
			t.Errorf("%d security groups named %s, want 1", len(out.SecurityGroups), sg)
		}
	}
	secrets, err := secretsmanager.NewFromConfig(c.Config).ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range secrets.SecretList {
		if n := aws.ToString(s.Name); strings.HasPrefix(n, p.Secrets.Prefix+"/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if want := p.SecretNames(); strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("secrets %v, want %v", names, want)
	}
}

// dataTier identifies the database and the Redis replication group of one
// creation each: a re-created one has another resource id or creation time.
type dataTier struct {
	db, redis string
}

func describeDataTier(t *testing.T, ctx context.Context, c *cloud.Clients, name string) dataTier {
	t.Helper()
	var d dataTier
	dbs, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs.DBInstances {
		if aws.ToString(db.DBInstanceIdentifier) == name {
			d.db = aws.ToString(db.DbiResourceId) + " created " + aws.ToTime(db.InstanceCreateTime).UTC().Format(time.RFC3339Nano)
		}
	}
	rgs, err := elasticache.NewFromConfig(c.Config).DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range rgs.ReplicationGroups {
		if aws.ToString(rg.ReplicationGroupId) == name {
			d.redis = aws.ToString(rg.ARN) + " created " + aws.ToTime(rg.ReplicationGroupCreateTime).UTC().Format(time.RFC3339Nano)
		}
	}
	return d
}

// goBuild builds a package of this module into dir/name.
func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// process is one run of the binary, in its own process group as a shell
// job is, with stdin empty and stdout and stderr not terminals.
type process struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	// drained, when set, is closed once all the run wrote to a terminal
	// has been read: done waits for it, so that a test reading stderr
	// after the exit reads the last lines too.
	drained chan struct{}
	code    int
	elapsed time.Duration
}

func start(t *testing.T, name, bin, dir string, args ...string) *process {
	t.Helper()
	p := newProcess(t, name, bin, dir, args...)
	p.run(t, args)
	return p
}

// newProcess prepares a run, not yet started; run starts it.
func newProcess(t *testing.T, name, bin, dir string, args ...string) *process {
	t.Helper()
	p := &process{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return p
}

func (p *process) run(t *testing.T, args []string) {
	t.Helper()
	name := p.name
	begin := time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting run %s: %v", name, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.elapsed = time.Since(begin)
		p.code = 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			p.code = exit.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		if p.drained != nil {
			select {
			case <-p.drained:
			case <-time.After(10 * time.Second): // a child kept the terminal open
			}
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			t.Errorf("run %s (bootstrap %s) still running at the end of the test: killed", name, strings.Join(args, " "))
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("run %s: bootstrap %s: exit %d after %s\n--- stdout\n%s--- stderr\n%s", name, strings.Join(args, " "),
				p.code, p.elapsed.Round(100*time.Millisecond), p.stdout, p.stderr)
		}
	})
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait returns the exit code; a run still going after timeout fails the
// test (and is killed by the cleanup).
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("run %s did not finish within %s", p.name, timeout)
		return -1
	}
}

// poll waits until cond holds, failing the test after timeout or when run
// p exits first.
func poll(t *testing.T, what string, timeout time.Duration, p *process, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p.exited() {
			t.Fatalf("waiting for %s: run %s exited %d first", what, p.name, p.code)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// getObject reads s3://bucket/key; false when there is no such object.
func getObject(t *testing.T, c *s3.Client, bucket, key string) ([]byte, bool) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NotFound") {
			return nil, false
		}
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	return body, true
}

// onlyLog returns the one data run log in dir not in seen.
func onlyLog(t *testing.T, dir string, seen map[string]bool) string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, "*-data.log"))
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, l := range all {
		if !seen[l] {
			logs = append(logs, l)
		}
	}
	if len(logs) != 1 {
		t.Fatalf("want one new data run log in %s, got %v (all: %v)", dir, logs, all)
	}
	return logs[0]
}

// waitNextSecond waits until the clock is past the second that names run
// log path (.../20261124T120000Z-data.log). Two runs of one working directory
// started within the same second share one log file.
func waitNextSecond(t *testing.T, path string) {
	t.Helper()
	stamp, _, _ := strings.Cut(filepath.Base(path), "-")
	at, err := time.Parse("20060102T150405Z", stamp)
	if err != nil {
		t.Fatalf("run log %s: %v", path, err)
	}
	time.Sleep(time.Until(at.Add(time.Second)))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// planLine is the progress line ApplyData prints for its plan, trimmed and
// without a lane's "[name] " tag.
func planLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			_, l, _ = strings.Cut(l, "] ")
		}
		if strings.HasPrefix(l, "plan: ") {
			return l
		}
	}
	return ""
}

// infoLines are the progress notes under the steps (indented lines).
func infoLines(stderr string) string {
	var notes []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "   ") {
			notes = append(notes, l)
		}
	}
	return strings.Join(notes, "\n")
}

// logRunLogs shows the end of every run log, for a failed test.
func logRunLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 80 {
			lines = lines[len(lines)-80:]
		}
		t.Logf("run log %s (last %d lines):\n%s", filepath.Base(l), len(lines), strings.Join(lines, "\n"))
	}
}

// syncBuffer is a bytes.Buffer a child writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
