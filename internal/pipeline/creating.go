package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
)

// Objects born untagged. Every object of the data tier carries this
// environment's tags from the call that makes it, except S3 buckets: the
// AWS provider's aws_s3_bucket create (internal/service/s3/bucket.go,
// resourceBucketCreate) calls CreateBucket, which takes no tags, waits for
// the bucket, and only then tags it (bucketCreateTags). An apply stopped
// between the two leaves a bucket of this environment's name with no tags
// and no place in the state, which no tag can prove this environment's: the
// ownership rule would stop every later run on it.
//
// The proof is kept instead by the run that makes them: before an apply
// that will create a bucket, the data step writes the bucket's name and the
// time into CreatingFile in the run directory; a later run adopts an
// untagged bucket of that name only when S3 says it was made at or after
// that time (less ClockSkew), that is, while this environment's apply was
// making it. The apply's own configuration then tags it. A successful apply
// removes the file. A bucket with any tags is judged by its tags alone.

// CreatingFile is the record of buckets an apply was about to make, in the
// run directory (.bootstrap/<env>/).
const CreatingFile = "creating.json"

// ClockSkew is how far this machine's clock may run ahead of S3's
// CreationDate for a bucket still to count as made by the recorded apply.
const ClockSkew = 2 * time.Minute

// creating maps a bucket's name to when an apply of this environment was
// about to make it.
type creating map[string]time.Time

func readCreating(st *State) (creating, error) {
	b, err := os.ReadFile(st.Path(CreatingFile))
	if errors.Is(err, fs.ErrNotExist) {
		return creating{}, nil
	}
	if err != nil {
		return nil, err
	}
	c := creating{}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to start over: an untagged bucket is then refused, as any object that does not carry this environment's tags)", st.Path(CreatingFile), err)
	}
	return c, nil
}

// record adds the names at now, keeping an earlier time for a name already
// recorded (the apply that made it may have been that earlier one), and
// writes the file when it changed.
func (c creating) record(st *State, names []string, now time.Time) error {
	changed := false
	for _, n := range names {
		if _, ok := c[n]; !ok {
			c[n] = now.UTC()
			changed = true
		}
	}
	if !changed {
		return nil
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(st.Path(CreatingFile), append(b, '\n'), 0o644)
}

// madeByApply reports whether f is a bucket an apply of this environment
// made and had not tagged yet: untagged, recorded, and made at or after the
// record (less ClockSkew).
func (c creating) madeByApply(f cloud.Found) bool {
	if f.Kind != cloud.KindBucket || len(f.Tags) != 0 || f.Created.IsZero() {
		return false
	}
	at, ok := c[f.Name]
	return ok && !f.Created.Before(at.Add(-ClockSkew))
}

// clearCreating removes the record after an apply that finished: every
// bucket it made is in the state and tagged.
func clearCreating(st *State) error {
	err := os.Remove(st.Path(CreatingFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
