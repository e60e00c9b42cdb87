package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
)

// An untagged bucket is an interrupted apply's only when the record names
// it and S3 made it at or after the record (less ClockSkew); a bucket with
// any tags, one not recorded, one made before, one whose creation date is
// unknown, and an object of another kind are not.
func TestMadeByApply(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	rec := creating{"b": at}
	bucket := func(name string, created time.Time, tags map[string]string) cloud.Found {
		return cloud.Found{Kind: cloud.KindBucket, Name: name, ID: name, Created: created, Tags: tags}
	}
	for _, tc := range []struct {
		name string
		f    cloud.Found
		want bool
	}{
		{"made after the record", bucket("b", at.Add(30*time.Second), map[string]string{}), true},
		{"made within the clock skew before it", bucket("b", at.Add(-ClockSkew), nil), true},
		{"made before it", bucket("b", at.Add(-ClockSkew-time.Second), nil), false},
		{"tagged by someone else", bucket("b", at.Add(time.Second), map[string]string{"Team": "other"}), false},
		{"not recorded", bucket("c", at.Add(time.Second), nil), false},
		{"creation date unknown", bucket("b", time.Time{}, nil), false},
		{"not a bucket", cloud.Found{Kind: cloud.KindSecret, Name: "b", ID: "b", Created: at.Add(time.Second)}, false},
	} {
		if got := rec.madeByApply(tc.f); got != tc.want {
			t.Errorf("%s: madeByApply = %t, want %t", tc.name, got, tc.want)
		}
	}
}

// The record keeps the first time a name was recorded, survives a new run
// (it is a file in the run directory), goes when cleared, and a damaged file
// is an error that says how to start over.
func TestCreatingRecord(t *testing.T) {
	t.Parallel()
	st := &State{Dir: filepath.Join(t.TempDir(), ".bootstrap", "staging")}
	first := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	c, err := readCreating(st)
	if err != nil || len(c) != 0 {
		t.Fatalf("no file: %v %v", c, err)
	}
	if err := c.record(st, []string{"a"}, first); err != nil {
		t.Fatal(err)
	}
	if err := c.record(st, []string{"a", "b"}, first.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, err := readCreating(st)
	if err != nil || !again["a"].Equal(first) || !again["b"].Equal(first.Add(time.Hour)) || len(again) != 2 {
		t.Errorf("read back %v, %v; want a at %s, b an hour later", again, err, first)
	}
	if err := clearCreating(st); err != nil {
		t.Fatal(err)
	}
	if err := clearCreating(st); err != nil {
		t.Errorf("clearing twice: %v", err)
	}
	if c, err := readCreating(st); err != nil || len(c) != 0 {
		t.Errorf("after clearing: %v %v", c, err)
	}
	if err := os.WriteFile(st.Path(CreatingFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readCreating(st); err == nil || !strings.Contains(err.Error(), "delete it to start over") {
		t.Errorf("a damaged record: %v", err)
	}
}

// TestUntaggedBucketOfAnInterruptedApply plays, against moto, the apply
// stopped between CreateBucket and the tagging that follows it (the AWS
// provider's resourceBucketCreate): the backups bucket exists with no tags.
// Recorded before it was made, the ownership check takes it as this
// environment's; the access-logs bucket, made untagged before the record,
// is refused, and so is the backups bucket once someone else has tagged it
// or the record is cleared.
func TestUntaggedBucketOfAnInterruptedApply(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	c := motoClients(t)
	ctx := context.Background()
	st, _ := processState(t, "staging", "eksctl-must-not-run")
	st.Runner = proctest.New(t) // the check runs nothing
	st.Progress = NewProgress(&strings.Builder{}, false, false)
	p := st.Profile
	backups, logs := p.StorageBucketName(testenv.MotoAccountID), p.AccessLogBucketName(testenv.MotoAccountID)
	mk := func(name string) {
		t.Helper()
		if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	check := func() []string {
		t.Helper()
		st.seen = nil // each check a new run, reading afresh
		err := (CheckOwnership{}).Run(ctx, st)
		var oe *OwnershipError
		if err != nil && !errors.As(err, &oe) {
			t.Fatal(err)
		}
		var names []string
		if oe != nil {
			for _, o := range oe.Objects {
				names = append(names, o.Name)
			}
		}
		return names
	}

	mk(logs) // before the record: not the apply's
	// The record as the apply writes it: the backups bucket recorded now,
	// just before it makes it; the logs bucket recorded after it was made.
	rec := creating{}
	if err := rec.record(st, []string{backups}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := rec.record(st, []string{logs}, time.Now().Add(ClockSkew+time.Minute)); err != nil {
		t.Fatal(err)
	}
	mk(backups) // the interrupted apply's, untagged
	if got := check(); strings.Join(got, " ") != logs {
		t.Errorf("refused %v, want only %s (made before the record)", got, logs)
	}

	// Someone tags the backups bucket: its tags decide.
	if _, err := c.S3().PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(backups),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("Team"), Value: aws.String("other")}}}}); err != nil {
		t.Fatal(err)
	}
	if got := check(); len(got) != 2 {
		t.Errorf("refused %v, want both buckets", got)
	}
	if _, err := c.S3().DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(backups)}); err != nil {
		t.Fatal(err)
	}

	// Without the record an untagged bucket proves nothing.
	if err := clearCreating(st); err != nil {
		t.Fatal(err)
	}
	if got := check(); len(got) != 2 {
		t.Errorf("refused %v without the record, want both buckets", got)
	}
}
