package pipeline

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/testenv"
)

// Records as external-dns's TXT registry writes them in Route53
// (registry/txt/registry.go generateTXTRecord, registry/mapper/mapper.go
// ToTXTName, endpoint/labels.go SerializePlain: quoted, heritage first,
// labels sorted), v0.21.0 line.
func aliasA(name string) cloud.RecordSet {
	return cloud.RecordSet{Name: aws.String(name), Type: r53types.RRTypeA,
		AliasTarget: &r53types.AliasTarget{DNSName: aws.String("k8s-app-123.us-east-1.elb.amazonaws.com."), HostedZoneId: aws.String("Z35SXDOTRQ7X7K")}}
}

func plain(name string, typ r53types.RRType, value string) cloud.RecordSet {
	return cloud.RecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(300),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(value)}}}
}

func registryTXT(name, owner string) cloud.RecordSet {
	return plain(name, r53types.RRTypeTxt, `"heritage=external-dns,external-dns/owner=`+owner+`,external-dns/resource=ingress/production/sovd-webapp"`)
}

func TestOwnedRecords(t *testing.T) {
	t.Parallel()
	const mine, theirs = "sovd-production-cluster.us-east-1", "sovd-staging-cluster.us-east-1"
	sets := []cloud.RecordSet{
		plain("production.com.", r53types.RRTypeNs, "ns-1.awsdns-01.org."),
		// Ours, new format: A alias and AAAA alias with a- and aaaa- TXT.
		aliasA("sovd.production.com."),
		{Name: aws.String("sovd.production.com."), Type: r53types.RRTypeAaaa, AliasTarget: aliasA("x").AliasTarget},
		registryTXT("a-sovd.production.com.", mine),
		registryTXT("aaaa-sovd.production.com.", mine),
		// Ours through the legacy cname- TXT of an A alias.
		aliasA("legacy.production.com."),
		registryTXT("cname-legacy.production.com.", mine),
		// Ours, old format: the TXT at the record's own name.
		plain("old.production.com.", r53types.RRTypeCname, "elb.example.net."),
		registryTXT("old.production.com.", mine),
		// A TXT record of ours whose record is already gone.
		registryTXT("a-gone.production.com.", mine),
		// Another environment's, in the same zone.
		aliasA("staging.production.com."),
		registryTXT("a-staging.production.com.", theirs),
		// Same name as ours would have, other owner: theirs.
		aliasA("shared.production.com."),
		registryTXT("a-shared.production.com.", theirs),
		// No TXT record at all: someone made it by hand.
		aliasA("www.production.com."),
		// A TXT that is not the registry's.
		plain("a-www.production.com.", r53types.RRTypeTxt, `"v=spf1 -all"`),
		plain("acme.production.com.", r53types.RRTypeTxt, `"heritage=someone-else,external-dns/owner=`+mine+`"`),
		// The certificate's validation record (Terraform's).
		plain("_abc.sovd.production.com.", r53types.RRTypeCname, "_xyz.acm-validations.aws."),
	}
	var got []string
	for _, r := range OwnedRecords(sets, mine) {
		got = append(got, string(r.Type)+" "+aws.ToString(r.Name))
	}
	want := []string{
		"A sovd.production.com.", "AAAA sovd.production.com.", "A legacy.production.com.", "CNAME old.production.com.",
		"TXT a-sovd.production.com.", "TXT aaaa-sovd.production.com.", "TXT cname-legacy.production.com.", "TXT old.production.com.", "TXT a-gone.production.com.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("owned records:\n got %v\nwant %v", got, want)
	}
	// The other owner sees only its own.
	got = nil
	for _, r := range OwnedRecords(sets, theirs) {
		got = append(got, string(r.Type)+" "+aws.ToString(r.Name))
	}
	want = []string{"A staging.production.com.", "A shared.production.com.", "TXT a-staging.production.com.", "TXT a-shared.production.com."}
	if !slices.Equal(got, want) {
		t.Errorf("the other owner's records:\n got %v\nwant %v", got, want)
	}
	// An owner that is a prefix of another is not it.
	if n := len(OwnedRecords(sets, "sovd-production-cluster")); n != 0 {
		t.Errorf("owner sovd-production-cluster matched %d records of %s", n, mine)
	}
}

// TestTeardownDeletesOwnedRecords: in a Route53 zone (moto) holding what
// external-dns wrote for this cluster and for another environment's, and a
// record made by hand, the teardown step deletes this cluster's records and
// their TXT records and leaves the rest; a re-run has nothing to do. The
// runbook's command for the same step (Describe, run with the aws CLI)
// deletes the same records and no other.
func TestTeardownDeletesOwnedRecords(t *testing.T) {
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
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("production.com"), CallerReference: aws.String("records-" + time.Now().String())})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	st := processStateOnly(t, "production")
	st.HostedZoneID = zoneID
	var log bytes.Buffer
	st.Progress = NewProgress(&log, false, false)
	mine := addons.ExternalDNSOwner(st.Profile)
	theirs := addons.ExternalDNSOwner(processStateOnly(t, "staging").Profile)
	domain := st.Profile.App.Domain + "."

	// What external-dns writes for an Ingress whose load balancer is an ALB
	// (provider/aws/aws.go: an A alias; registry/txt/registry.go: the TXT
	// record a-<name>), for this cluster and for the other environment;
	// and a record someone made by hand.
	write := func() {
		t.Helper()
		var changes []r53types.Change
		for _, r := range []cloud.RecordSet{
			aliasA(domain), registryTXT("a-"+domain, mine),
			aliasA("staging.production.com."), registryTXT("a-staging.production.com.", theirs),
			aliasA("www.production.com."),
			// The other environment's record at this domain's own name (an
			// AAAA alias): its TXT names the other owner, so it stays.
			{Name: aws.String(domain), Type: r53types.RRTypeAaaa, AliasTarget: aliasA("x").AliasTarget}, registryTXT("aaaa-"+domain, theirs),
		} {
			changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r})
		}
		if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
			ChangeBatch: &r53types.ChangeBatch{Changes: changes}}); err != nil {
			t.Fatal(err)
		}
	}
	left := func() []string {
		t.Helper()
		sets, err := c.RecordSets(ctx, zoneID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range sets {
			if r.Type != r53types.RRTypeNs && r.Type != r53types.RRTypeSoa {
				out = append(out, string(r.Type)+" "+aws.ToString(r.Name))
			}
		}
		slices.Sort(out)
		return out
	}
	want := []string{"A staging.production.com.", "A www.production.com.", "AAAA " + domain, "TXT a-staging.production.com.", "TXT aaaa-" + domain}
	slices.Sort(want)

	write()
	step := DeleteOwnedRecords{}
	if err := step.Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := left(); !slices.Equal(got, want) {
		t.Errorf("after teardown's step the zone holds %v, want %v\n%s", got, want, log.String())
	}
	if err := step.Run(ctx, st); err != nil || !strings.Contains(log.String(), "holds no record of external-dns owner "+mine) {
		t.Errorf("re-run: %v\n%s", err, log.String())
	}

	// The runbook's command: its loop prints one change batch per owned
	// record, which change-resource-record-sets applies.
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Skipf("the aws CLI is not installed: the runbook's command was not run (%v)", err)
	}
	write()
	desc, err := step.Describe(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range desc.Actions {
		list := exec.CommandContext(ctx, awsCLI, subst(a.Each[1:], zoneID)...)
		out, err := list.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", a.Each, err, out)
		}
		for _, batch := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if batch == "" || batch == "None" {
				continue
			}
			args := slices.Clone(a.Args)
			args[slices.Index(args, "<change-batch>")] = batch
			if out, err := exec.CommandContext(ctx, awsCLI, subst(args, zoneID)...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
		}
	}
	if got := left(); !slices.Equal(got, want) {
		t.Errorf("after the runbook's commands the zone holds %v, want %v", got, want)
	}
}

// allReleases are the add-ons' release names, sorted, one a line: what
// `helm list --short` shows once every add-on is installed.
func allReleases() string {
	var names []string
	for _, a := range addons.All {
		names = append(names, a.Release)
	}
	slices.Sort(names)
	return strings.Join(names, "\n")
}

func subst(args []string, zoneID string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		out[i] = strings.ReplaceAll(a, "<hosted-zone-id>", zoneID)
	}
	return out
}
