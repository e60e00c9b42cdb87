package doctor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc/proctest"
)

func find(missing ...string) func(context.Context, string) (string, error) {
	return func(_ context.Context, name string) (string, error) {
		for _, m := range missing {
			if m == name {
				return "", errors.New("not found")
			}
		}
		return name, nil
	}
}

func TestCheckReadsVersionsAndMinimums(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	r.Expect(`eksctl version`).Stdout("0.229.0\n")
	r.Expect(`helm version --short`).Stdout("v3.22.0+g1234567\n")
	r.Expect(`kubectl version --client -o json`).Stdout(`{"clientVersion":{"gitVersion":"v1.35.1"}}`)
	r.Expect(`terraform version -json`).Stdout(`{"terraform_version":"1.11.4"}`)
	r.Expect(`aws --version`).Stdout("aws-cli/2.17.0 Python/3.11\n")
	identity := func(context.Context) (cloud.Identity, error) {
		return cloud.Identity{Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/ops"}, nil
	}
	rep := Check(context.Background(), r, find(), identity)
	got := map[string]Row{}
	for _, row := range rep.Tools {
		got[row.Tool] = row
	}
	if row := got["eksctl"]; row.OK || !strings.Contains(row.Problem, "older than 0.230.0") {
		t.Errorf("eksctl 0.229.0 must fail the minimum: %+v", row)
	}
	for _, tool := range []string{"helm", "kubectl", "terraform", "aws"} {
		if !got[tool].OK {
			t.Errorf("%s should pass: %+v", tool, got[tool])
		}
	}
	if got["helm"].Version != "3.22.0" || got["kubectl"].Version != "1.35.1" || got["terraform"].Version != "1.11.4" {
		t.Errorf("versions misread: %+v", rep.Tools)
	}
	if rep.Identity != "arn:aws:iam::123456789012:user/ops" {
		t.Errorf("identity = %q", rep.Identity)
	}
}

func TestCheckMissingToolsAndNoCredentials(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	r.Expect(`helm version --short`).Stdout("v3.22.0\n")
	r.Expect(`kubectl version --client -o json`).Stdout(`{"clientVersion":{"gitVersion":"v1.35.1"}}`)
	r.Expect(`terraform version -json`).Stdout(`{"terraform_version":"1.11.4"}`)
	identity := func(context.Context) (cloud.Identity, error) {
		return cloud.Identity{}, &cloud.CredentialsError{Problem: cloud.NoCredentials}
	}
	// No aws CLI: the identity is still checked, through the SDK.
	rep := Check(context.Background(), r, find("eksctl", "aws"), identity)
	if rep.Tools[0].Tool != "eksctl" || rep.Tools[0].OK || !strings.Contains(rep.Tools[0].Problem, "not found: install eksctl 0.230.0") {
		t.Errorf("missing eksctl not reported: %+v", rep.Tools[0])
	}
	if rep.Identity != "" || !strings.Contains(rep.AWSError, "no AWS credentials found: set AWS_PROFILE") {
		t.Errorf("want the credential problem reported, got %+v", rep)
	}
}

// TestSupportWindows: doctor warns for every environment whose Kubernetes
// version leaves standard support within 90 days, on the day it is given.
func TestSupportWindows(t *testing.T) {
	t.Parallel()
	quiet := time.Date(2026, 12, 26, 0, 0, 0, 0, time.UTC) // 91 days before 1.35 leaves standard support
	if w := SupportWindows("", quiet); len(w) != 0 {
		t.Errorf("on %s: %q", quiet.Format(time.DateOnly), w)
	}
	due := time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC)
	w := SupportWindows("", due)
	if len(w) != 2 || !strings.HasPrefix(w[0], "environment production: Kubernetes 1.35 leaves EKS standard support on 2027-03-27, in 90 days") ||
		!strings.HasPrefix(w[1], "environment staging: ") {
		t.Errorf("on %s: %q", due.Format(time.DateOnly), w)
	}
	if w := SupportWindows("testdata/none.yaml", due); len(w) != 1 || !strings.Contains(w[0], "could not be read") {
		t.Errorf("a missing file: %q", w)
	}
}
