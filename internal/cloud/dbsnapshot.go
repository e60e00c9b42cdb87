package cloud

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// DBSnapshotFacts is a manual DB snapshot as RDS reports it.
type DBSnapshotFacts struct {
	ID     string
	Exists bool
	// Status is creating, available, ... (DescribeDBSnapshots).
	Status string
	// Instance is the DB instance it was taken of; EngineVersion that
	// instance's version at the time.
	Instance, EngineVersion string
	Tags                    map[string]string
}

// DBSnapshot describes a DB snapshot by its identifier.
func (c *Clients) DBSnapshot(ctx context.Context, id string) (DBSnapshotFacts, error) {
	f := DBSnapshotFacts{ID: id}
	out, err := rds.NewFromConfig(c.Config).DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	var nf *rdstypes.DBSnapshotNotFoundFault
	switch {
	case errors.As(err, &nf):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing DB snapshot %s: %w", id, err)
	case len(out.DBSnapshots) == 0:
		return f, nil
	}
	s := out.DBSnapshots[0]
	f.Exists = true
	f.Status = aws.ToString(s.Status)
	f.Instance = aws.ToString(s.DBInstanceIdentifier)
	f.EngineVersion = aws.ToString(s.EngineVersion)
	f.Tags = rdsTagMap(s.TagList)
	if len(f.Tags) == 0 && s.DBSnapshotArn != nil {
		// DescribeDBSnapshots returns TagList; read them apart when it
		// did not.
		if f.Tags, err = c.rdsTags(ctx, aws.ToString(s.DBSnapshotArn)); err != nil {
			return f, err
		}
	}
	return f, nil
}

// CreateDBSnapshot takes a manual snapshot of a DB instance, tagged. It
// returns once RDS accepted it; DBSnapshot tells when it is available.
func (c *Clients) CreateDBSnapshot(ctx context.Context, instance, id string, tags map[string]string) error {
	in := &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(instance), DBSnapshotIdentifier: aws.String(id)}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Tags = append(in.Tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if _, err := rds.NewFromConfig(c.Config).CreateDBSnapshot(ctx, in); err != nil {
		return fmt.Errorf("taking DB snapshot %s of %s: %w", id, instance, err)
	}
	return nil
}
