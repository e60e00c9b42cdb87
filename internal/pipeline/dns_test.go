package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// TestHostedZoneByName: with app.domain and no app.hostedZoneID, up finds
// the zone by name in Route53 (moto). A missing zone, two zones of the same
// name, or a configured id of a zone that cannot hold the domain stop up at
// its first checks, before anything is made (no eksctl run: the Runner
// fails the test on any command; no state bucket, no VPC).
func TestHostedZoneByName(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	r53 := route53.NewFromConfig(c.Config)
	mkZone := func(name string, private bool) string {
		t.Helper()
		in := &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name + time.Now().String())}
		if private {
			vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.60.0.0/16")})
			if err != nil {
				t.Fatal(err)
			}
			in.VPC = &r53types.VPC{VPCId: vpc.Vpc.VpcId, VPCRegion: r53types.VPCRegionUsEast1}
			in.HostedZoneConfig = &r53types.HostedZoneConfig{PrivateZone: true}
		}
		out, err := r53.CreateHostedZone(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(aws.ToString(out.HostedZone.Id), "/hostedzone/")
	}
	up := func(domain, zoneID string) (*State, error) {
		st, log := processState(t, "staging", "eksctl-must-not-run")
		st.Runner = proctest.New(t) // any command fails the test
		st.Progress = NewProgress(log, false, false)
		st.Out = &bytes.Buffer{}
		st.Now = time.Now
		st.Profile.App.Domain, st.Profile.App.HostedZoneID = domain, zoneID
		return st, Run(ctx, st, "bootstrap up --env staging", UpSteps())
	}
	nothingMade := func(what string) {
		t.Helper()
		if ok, err := c.BucketExists(ctx, "bootstrap-tfstate-"+testenv.MotoAccountID+"-us-east-1"); err != nil || ok {
			t.Errorf("%s: the state bucket exists (%v, %v): something was made", what, ok, err)
		}
	}
	const domain = "sovd.staging.example.com"

	// No zone at all.
	_, err = up(domain, "")
	if err == nil || !strings.Contains(err.Error(), "app.domain sovd.staging.example.com: no public Route53 hosted zone holds") {
		t.Fatalf("no zone: %v", err)
	}
	nothingMade("no zone")

	// A private zone of the domain's own name does not count; two public
	// zones named example.com are ambiguous.
	mkZone(domain, true)
	a, b := mkZone("example.com", false), mkZone("example.com", false)
	_, err = up(domain, "")
	if err == nil || !strings.Contains(err.Error(), "2 public Route53 hosted zones are named example.com") ||
		!strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) || !strings.Contains(err.Error(), "set app.hostedZoneID") {
		t.Fatalf("two zones: %v", err)
	}
	nothingMade("ambiguous")
	// plan's look at the live system says so too, and plans offline.
	probe := func() (*State, string) {
		t.Helper()
		st, log := processState(t, "staging", "eksctl-must-not-run")
		st.Log = log
		st.Profile.App.Domain = domain
		return st, ProbeLive(ctx, st)
	}
	if st, mode := probe(); st.Live || !strings.HasPrefix(mode, "offline: app.domain sovd.staging.example.com: 2 public Route53 hosted zones are named example.com") {
		t.Errorf("plan's probe with two zones: live %v, %q", st.Live, mode)
	}

	// A configured id of a zone that cannot hold the domain.
	other := mkZone("example.org", false)
	if _, err = up(domain, other); err == nil || !strings.Contains(err.Error(), "app.hostedZoneID "+other+" is the zone example.org, which cannot hold app.domain") {
		t.Fatalf("wrong zone id: %v", err)
	}
	nothingMade("wrong zone id")

	// Naming one of the two resolves it, and the data tier's variables
	// carry it.
	st := processStateOnly(t, "staging")
	st.Profile.App.Domain, st.Profile.App.HostedZoneID = domain, b
	if err := ResolveHostedZone(ctx, c, st); err != nil || st.HostedZoneID != b {
		t.Fatalf("configured id: %q, %v", st.HostedZoneID, err)
	}
	if v := tfdriver.Vars(st.Profile, dataInputs(st), nil); v["route53_zone_id"] != b || v["domain_name"] != domain {
		t.Errorf("vars: zone %v, domain %v", v["route53_zone_id"], v["domain_name"])
	}
	// With one zone of that name left, it is found by name.
	if _, err := r53.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(a)}); err != nil {
		t.Fatal(err)
	}
	st = processStateOnly(t, "staging")
	st.Profile.App.Domain = domain
	if err := ResolveHostedZone(ctx, c, st); err != nil || st.HostedZoneID != b {
		t.Fatalf("by name: %q, %v; want %s", st.HostedZoneID, err, b)
	}
	if st, mode := probe(); !st.Live || st.HostedZoneID != b || !strings.HasPrefix(mode, "live: account "+testenv.MotoAccountID) {
		t.Errorf("plan's probe with one zone: live %v, zone %q (want %s), %q", st.Live, st.HostedZoneID, b, mode)
	}
}

func processStateOnly(t *testing.T, env string) *State {
	st, _ := processState(t, env, "eksctl-must-not-run")
	return st
}
