package cloud

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// RecordSet is one Route53 resource record set, as ListResourceRecordSets
// returns it: what a DELETE must name exactly.
type RecordSet = r53types.ResourceRecordSet

// RecordSets lists every record set of a hosted zone, every page.
func (c *Clients) RecordSets(ctx context.Context, zoneID string) ([]RecordSet, error) {
	r53 := route53.NewFromConfig(c.Config)
	var out []RecordSet
	p := route53.NewListResourceRecordSetsPaginator(r53, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the records of hosted zone %s: %w", zoneID, err)
		}
		out = append(out, page.ResourceRecordSets...)
	}
	return out, nil
}

// maxChanges keeps a change batch well inside Route53's limit (1,000
// changes, 32,000 characters of values per request).
const maxChanges = 100

// DeleteRecordSets deletes record sets of a hosted zone, in the order
// given, in batches (each batch is atomic in Route53: all or none). The
// sets must be as listed: Route53 deletes only an exact match.
func (c *Clients) DeleteRecordSets(ctx context.Context, zoneID string, sets []RecordSet) error {
	r53 := route53.NewFromConfig(c.Config)
	for len(sets) > 0 {
		n := min(len(sets), maxChanges)
		changes := make([]r53types.Change, n)
		for i := range changes {
			changes[i] = r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: &sets[i]}
		}
		if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch:  &r53types.ChangeBatch{Changes: changes, Comment: aws.String("bootstrap teardown: records external-dns made for this cluster")},
		}); err != nil {
			return fmt.Errorf("deleting %d records from hosted zone %s: %w", n, zoneID, err)
		}
		sets = sets[n:]
	}
	return nil
}
