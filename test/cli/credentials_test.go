package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/testenv"
)

// TestCredentialProblems runs the built binary against moto with no
// credentials, expired credentials and another account's credentials, and
// requires one line naming the case and its fix, no SDK error chain, exit 1,
// and nothing made in AWS.
//
// Expired: moto's STS issues an AssumeRole session of one second (AWS's
// minimum is 900 s; moto does not enforce it, which is what lets a test wait
// for the expiry), and hack/moto/patches.py makes GetCallerIdentity answer
// it as AWS answers an expired session token: ExpiredToken. That is the
// path real AWS takes (the SDK signs with what the chain gives it, and AWS
// refuses), closer than a credential_process with a past Expiration, which
// the SDK's cache would hand to AWS all the same.
func TestCredentialProblems(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	// cloudClients sets moto's environment for this process: its own.
	m := testenv.Moto(t)
	bootstrap := goBuild(t, t.TempDir(), "bootstrap", "github.com/sovd/bootstrap/cmd/bootstrap")
	ctx := context.Background()

	// Environments without credentials: empty shared files, no IMDS.
	empty := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(empty, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			base = append(base, kv)
		}
	}
	none := append(append([]string(nil), base...), "AWS_ENDPOINT_URL="+m.Endpoint, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(empty, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(empty, "credentials"))

	// A one-second session, expired by the time bootstrap uses it.
	c := cloudClients(t, ctx, m)
	out, err := sts.NewFromConfig(c.Config).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + testenv.MotoAccountID + ":role/ops"), RoleSessionName: aws.String("ops"), DurationSeconds: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	expired := append(append([]string(nil), none...), "AWS_ACCESS_KEY_ID="+aws.ToString(out.Credentials.AccessKeyId),
		"AWS_SECRET_ACCESS_KEY="+aws.ToString(out.Credentials.SecretAccessKey), "AWS_SESSION_TOKEN="+aws.ToString(out.Credentials.SessionToken))

	// The profile pins another account than moto's.
	work := t.TempDir()
	pinned := filepath.Join(work, "pinned.yaml")
	// A test bed, as bootstrap init writes staging: protection off by its
	// own keys (a file's environment is protected otherwise, and up would
	// stop at the configuration before it reads the account).
	if err := os.WriteFile(pinned, []byte("apiVersion: bootstrap.sovd.io/v1alpha1\nkind: Config\nenvironments:\n  staging:\n    accountID: \"111111111111\"\n"+
		"    protection: {deletionProtection: false, finalSnapshot: false, typedConfirmation: false}\n    secrets: {recoveryWindowDays: 0}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"none/status", none, []string{"status", "--env", "staging"}, []string{"no AWS credentials found", "AWS_PROFILE", "aws configure", "aws sso login"}},
		{"none/values", none, []string{"values", "--env", "staging"}, []string{"no AWS credentials found", "--outputs-file"}},
		{"none/up", none, []string{"up", "--env", "staging"}, []string{"no AWS credentials found"}},
		{"expired/status", expired, []string{"status", "--env", "staging"}, []string{"the AWS credentials have expired", "aws sso login"}},
		{"expired/values", expired, []string{"values", "--env", "staging"}, []string{"the AWS credentials have expired", "--outputs-file"}},
		{"wrong account/status", m.Environ(), []string{"status", "--env", "staging", "--config", pinned}, []string{"of account " + testenv.MotoAccountID, "pins account 111111111111", "AWS_PROFILE"}},
		{"wrong account/up", m.Environ(), []string{"up", "--env", "staging", "--config", pinned}, []string{"of account " + testenv.MotoAccountID, "pins account 111111111111"}},
	}
	for _, tc := range cases {
		cmd := exec.Command(bootstrap, tc.args...)
		cmd.Dir = work
		cmd.Env = tc.env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Errorf("%s: want exit 1, got %v\n%s", tc.name, err, stderr.String())
			continue
		}
		text := stderr.String()
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: stderr does not say %q:\n%s", tc.name, w, text)
			}
		}
		for _, chain := range []string{"operation error", "get identity", "IMDS", "https response error"} {
			if strings.Contains(text, chain) {
				t.Errorf("%s: stderr shows the SDK's error chain (%q):\n%s", tc.name, chain, text)
			}
		}
		t.Logf("%s:\n%s", tc.name, text)
	}

	// doctor asks STS through the SDK: with no aws CLI (an empty PATH) it
	// still names the identity, or says which credentials problem it is.
	noTools := "PATH=" + t.TempDir()
	for _, d := range []struct {
		name string
		env  []string
		want string
	}{
		{"doctor/moto", append(m.Environ(), noTools), "AWS account:  " + testenv.MotoAccountID},
		{"doctor/none", append(append([]string(nil), none...), noTools), "no AWS credentials found"},
		{"doctor/expired", append(append([]string(nil), expired...), noTools), "the AWS credentials have expired"},
	} {
		cmd := exec.Command(bootstrap, "doctor")
		cmd.Dir = work
		cmd.Env = d.env
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		_ = cmd.Run() // exit 1: eksctl, helm and the others are not on this PATH
		for _, w := range []string{d.want, "not found: install aws"} {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%s: stdout does not say %q:\n%s", d.name, w, stdout.String())
			}
		}
		t.Logf("%s:\n%s", d.name, stdout.String())
	}

	// Nothing was made in moto's account: no state bucket, no lock.
	buckets, err := s3.NewFromConfig(c.Config).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets.Buckets) != 0 {
		t.Errorf("a refused run made buckets: %v", buckets.Buckets)
	}
}

// cloudClients opens SDK clients on moto with its environment.
func cloudClients(t *testing.T, ctx context.Context, m *testenv.MotoServer) *cloud.Clients {
	t.Helper()
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	c, err := cloud.New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
