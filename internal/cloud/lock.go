package cloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// A lock is an object in the state bucket written with S3's conditional
// write (If-None-Match: *): S3 takes it only when the key has no current
// object, so of two runs exactly one gets it. Release is a conditional
// delete (If-Match: <our ETag>), so a run never deletes a lock another run
// took after ours was removed by hand.

// ErrLockHeld is PutLock finding the key taken.
var ErrLockHeld = errors.New("lock object exists")

// ErrLockChanged is DeleteLock finding an object other than the one written.
var ErrLockChanged = errors.New("lock object changed")

// LockObject is a lock object as written or read.
type LockObject struct {
	Body []byte
	ETag string
	// VersionID is set in a versioned bucket.
	VersionID string
}

// PutLock writes body at key unless an object is there. A key already taken
// (HTTP 412, or 409 when another conditional write to the key is in flight)
// is ErrLockHeld.
func (c *Clients) PutLock(ctx context.Context, bucket, key string, body []byte) (*LockObject, error) {
	out, err := c.S3().PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		IfNoneMatch: aws.String("*"),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "PreconditionFailed" || apiErr.ErrorCode() == "ConditionalRequestConflict") {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrLockHeld)
		}
		return nil, fmt.Errorf("writing lock s3://%s/%s: %w", bucket, key, err)
	}
	return &LockObject{Body: body, ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId)}, nil
}

// GetLock reads the object at key; nil when there is none.
func (c *Clients) GetLock(ctx context.Context, bucket, key string) (*LockObject, error) {
	out, err := c.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		// A lock written without a checksum is fine to read without one; say
		// nothing on stderr about it.
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NotFound") {
			return nil, nil
		}
		return nil, fmt.Errorf("reading lock s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("reading lock s3://%s/%s: %w", bucket, key, err)
	}
	return &LockObject{Body: body, ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId)}, nil
}

// DeleteLock deletes the lock at key only while it is the object l (by
// ETag); otherwise ErrLockChanged. In a versioned bucket the delete leaves a
// delete marker over l's version: both are then removed by version id, so
// locks leave no history behind. That cannot touch a lock written since: by
// then neither is the current version.
func (c *Clients) DeleteLock(ctx context.Context, bucket, key string, l *LockObject) error {
	s3c := c.S3()
	out, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: aws.String(l.ETag)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode() {
			case "PreconditionFailed", "ConditionalRequestConflict":
				return fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrLockChanged)
			case "NoSuchKey", "NotFound":
				return nil
			}
		}
		return fmt.Errorf("deleting lock s3://%s/%s: %w", bucket, key, err)
	}
	// Our version first: were the marker removed first, our lock would be
	// current again.
	for _, v := range []string{l.VersionID, aws.ToString(out.VersionId)} {
		if v == "" || v == "null" {
			return nil // an unversioned bucket: the delete was final
		}
		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(v)}); err != nil {
			return fmt.Errorf("lock s3://%s/%s released, but removing its version %s failed: %w", bucket, key, v, err)
		}
	}
	return nil
}
