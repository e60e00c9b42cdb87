package cloud

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// NetworkSoFar reads as much of the cluster's network as exists while
// eksctl is still making it: the VPC and subnets eksctl tagged for the
// cluster (its CloudFormation stack makes them in the first minutes), and,
// once EKS has the cluster, its security group and OIDC issuer. Nothing
// found yet is an empty Network and no error: the caller polls.
//
// When more than one VPC carries the cluster's tag and EKS has no cluster
// yet (a failed create left one behind), that is an error naming them:
// guessing could put the databases in a VPC about to be deleted.
func (c *Clients) NetworkSoFar(ctx context.Context, cluster string) (*Network, error) {
	_, err := c.describeCluster(ctx, cluster)
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return nil, err
	default:
		// EKS has the cluster: its own description is the truth, and what
		// it lacks yet (the security group, the issuer) is left empty.
		n, err := c.ClusterNetwork(ctx, cluster)
		if n != nil {
			return n, nil
		}
		return nil, err
	}
	n := &Network{}
	tagged := []ec2types.Filter{{Name: aws.String("tag:" + TagEksctlCluster), Values: []string{cluster}}}
	{
		vpcs, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: tagged})
		if err != nil {
			return nil, fmt.Errorf("looking for the VPC of cluster %s: %w", cluster, err)
		}
		switch len(vpcs.Vpcs) {
		case 0:
			return n, nil
		case 1:
			n.VPCID = aws.ToString(vpcs.Vpcs[0].VpcId)
		default:
			var ids []string
			for _, v := range vpcs.Vpcs {
				ids = append(ids, aws.ToString(v.VpcId))
			}
			return nil, fmt.Errorf("%d VPCs are tagged %s=%s (%v): an earlier create left one behind; delete the one eksctl no longer has a stack for, then run again", len(ids), TagEksctlCluster, cluster, ids)
		}
	}
	out, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: append(tagged,
		ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{n.VPCID}})})
	if err != nil {
		return nil, fmt.Errorf("looking for the subnets of cluster %s: %w", cluster, err)
	}
	for _, s := range byZone(out.Subnets) {
		if isPrivate(s) {
			n.PrivateSubnetIDs = append(n.PrivateSubnetIDs, aws.ToString(s.SubnetId))
		} else {
			n.PublicSubnetIDs = append(n.PublicSubnetIDs, aws.ToString(s.SubnetId))
		}
	}
	return n, nil
}
