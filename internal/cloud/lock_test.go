package cloud

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sovd/bootstrap/internal/testenv"
)

// TestLockObjectsAgainstMoto: the conditional write and delete the
// environment lock is made of, in a versioned bucket (the state bucket) and
// in a plain one.
func TestLockObjectsAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureStateBucket(ctx, "lock-versioned", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lock-plain")}); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{"lock-versioned", "lock-plain"} {
		t.Run(bucket, func(t *testing.T) {
			const key = "locks/staging.json"
			if got, err := c.GetLock(ctx, bucket, key); err != nil || got != nil {
				t.Fatalf("GetLock of nothing = %+v, %v", got, err)
			}
			mine, err := c.PutLock(ctx, bucket, key, []byte(`{"holder":"a"}`))
			if err != nil {
				t.Fatal(err)
			}
			// S3 refuses the second write with 412: the key is taken.
			if _, err := c.PutLock(ctx, bucket, key, []byte(`{"holder":"b"}`)); !errors.Is(err, ErrLockHeld) {
				t.Fatalf("second PutLock: %v, want ErrLockHeld", err)
			}
			got, err := c.GetLock(ctx, bucket, key)
			if err != nil || got == nil || string(got.Body) != `{"holder":"a"}` || got.ETag != mine.ETag {
				t.Fatalf("GetLock = %+v, %v", got, err)
			}
			// A delete of some other object than ours is refused.
			if err := c.DeleteLock(ctx, bucket, key, &LockObject{ETag: `"0123456789abcdef0123456789abcdef"`}); !errors.Is(err, ErrLockChanged) {
				t.Fatalf("DeleteLock with another ETag: %v, want ErrLockChanged", err)
			}
			if err := c.DeleteLock(ctx, bucket, key, mine); err != nil {
				t.Fatal(err)
			}
			if got, err := c.GetLock(ctx, bucket, key); err != nil || got != nil {
				t.Fatalf("GetLock after release = %+v, %v", got, err)
			}
			// No version or delete marker is left behind.
			v, err := c.S3().ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Versions)+len(v.DeleteMarkers) != 0 {
				t.Errorf("left %d versions and %d delete markers", len(v.Versions), len(v.DeleteMarkers))
			}
			// Taken again once released.
			again, err := c.PutLock(ctx, bucket, key, []byte(`{"holder":"b"}`))
			if err != nil {
				t.Fatalf("PutLock after release: %v", err)
			}
			if err := c.DeleteLock(ctx, bucket, key, again); err != nil {
				t.Fatal(err)
			}
		})
	}
}
