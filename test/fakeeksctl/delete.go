package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"sigs.k8s.io/yaml"
)

// nameAndRegion takes the cluster from --name/--region or from -f.
func nameAndRegion(f *flags) (string, string, error) {
	if f.file != "" {
		if f.name != "" || f.region != "" {
			return "", "", errors.New("cannot use --name or --region when --config-file/-f is used")
		}
		cfg, err := loadConfig(f.file)
		if err != nil {
			return "", "", err
		}
		return cfg.Metadata.Name, cfg.Metadata.Region, nil
	}
	if f.name == "" {
		return "", "", errors.New("--name must be set")
	}
	region := f.region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		return "", "", errors.New("--region must be set (or AWS_REGION)")
	}
	return f.name, region, nil
}

// getCluster is `eksctl get cluster --name N -o json|yaml`: the EKS
// description as a one-element list.
func getCluster(ctx context.Context, f *flags) error {
	name, region, err := nameAndRegion(f)
	if err != nil {
		return err
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	list := []*ekstypes.Cluster{cl}
	switch f.output {
	case "json":
		b, err := json.MarshalIndent(list, "", "    ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
	case "yaml":
		b, err := yaml.Marshal(list)
		if err != nil {
			return err
		}
		fmt.Print(string(b))
	case "table":
		fmt.Printf("NAME\tVERSION\tSTATUS\tVPC\n%s\t%s\t%s\t%s\n", aws.ToString(cl.Name), aws.ToString(cl.Version), cl.Status,
			aws.ToString(cl.ResourcesVpcConfig.VpcId))
	default:
		return fmt.Errorf("unknown output printer type: %s", f.output)
	}
	return nil
}

// writeKubeconfig is `eksctl utils write-kubeconfig`.
func writeKubeconfig(ctx context.Context, f *flags) error {
	name, region, err := nameAndRegion(f)
	if err != nil {
		return err
	}
	if f.kubeconfig == "" {
		return errors.New("fakeeksctl: give --kubeconfig; the fake never writes ~/.kube/config")
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	if kc := os.Getenv(envKubeconfig); kc != "" {
		// The API server that stands in for the cluster's: eksctl's
		// kubeconfig reaches the cluster's endpoint with `aws eks get-token`
		// (pkg/utils/kubeconfig/kubeconfig.go at v0.230.0, below), which that
		// server does not accept; a kubeconfig that reaches the stand-in is
		// what eksctl's gives on EKS: helm and kubectl work with it.
		b, err := os.ReadFile(kc)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.kubeconfig, b, 0o600); err != nil {
			return err
		}
		success("saved kubeconfig as %q", f.kubeconfig)
		return nil
	}
	user := "eksctl@" + name + "." + region + ".eksctl.io"
	cfg := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": name + "." + region + ".eksctl.io", "cluster": map[string]any{
			"server": aws.ToString(cl.Endpoint), "certificate-authority-data": aws.ToString(cl.CertificateAuthority.Data),
		}}},
		"contexts": []any{map[string]any{"name": user, "context": map[string]any{
			"cluster": name + "." + region + ".eksctl.io", "user": user,
		}}},
		"current-context": user,
		"users": []any{map[string]any{"name": user, "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1",
			"command":    "aws",
			"args":       []string{"eks", "get-token", "--output", "json", "--cluster-name", name, "--region", region},
		}}}},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(f.kubeconfig, b, 0o600); err != nil {
		return err
	}
	success("saved kubeconfig as %q", f.kubeconfig)
	return nil
}

// deleteCluster is `eksctl delete cluster`: node groups, IRSA roles, the OIDC
// provider, the control plane, then the VPC and everything in it, each
// stack's record last. A cluster that has neither stack nor control plane
// "does not exist", as eksctl says.
func deleteCluster(ctx context.Context, f *flags) error {
	name, region, err := nameAndRegion(f)
	if err != nil {
		return err
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	stacks, err := e.stacksOf(ctx, "eksctl-"+name+"-")
	if err != nil {
		return err
	}
	cl, clErr := describeCluster(ctx, e, name)
	if clErr != nil && len(stacks) == 0 {
		return fmt.Errorf("cluster %q does not exist", name)
	}
	info("deleting EKS cluster %q", name)

	var ngs []string
	if cl != nil {
		list, err := e.eks.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String(name)})
		if err != nil {
			return err
		}
		ngs = list.Nodegroups
		for _, ng := range ngs {
			info("deleting nodegroup %q", ng)
			if _, err := e.eks.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String(name), NodegroupName: aws.String(ng)}); err != nil {
				return err
			}
		}
	}
	// Stacks other than the cluster's, then the cluster's.
	hadNodeGroups := len(ngs) > 0
	for _, s := range stacks {
		if strings.HasPrefix(s, nodeGroupStack(name, "")) {
			hadNodeGroups = true
		}
		if s == clusterStack(name) {
			continue
		}
		out, _, err := e.stackOutputs(ctx, s)
		if err != nil {
			return err
		}
		for _, key := range []string{"Role1", "NodeInstanceRoleARN"} {
			if arn := out[key]; arn != "" {
				if err := e.deleteRole(ctx, roleName(arn)); err != nil {
					return fmt.Errorf("deleting role of stack %s: %w", s, err)
				}
			}
		}
		if err := e.deleteStack(ctx, s); err != nil {
			return err
		}
	}
	// eksctl deletes the nodegroup stacks in parallel and waits for them
	// before it touches the cluster stack, --wait or not.
	if hadNodeGroups {
		if err := pause(ctx, e.delays.deleteNodeGroup, "the deletion of the nodegroup stacks"); err != nil {
			return err
		}
	}
	if cl != nil {
		if err := deleteControlPlane(ctx, e, cl, name); err != nil {
			return err
		}
	}
	out, exists, err := e.stackOutputs(ctx, clusterStack(name))
	if err != nil {
		return err
	}
	if exists {
		if err := e.deleteNetwork(ctx, out); err != nil {
			return err
		}
		if arn := out["ServiceRoleARN"]; arn != "" {
			if err := e.deleteRole(ctx, roleName(arn)); err != nil {
				return err
			}
		}
		if err := e.deleteStack(ctx, clusterStack(name)); err != nil {
			return err
		}
	}
	if f.wait {
		if err := pause(ctx, e.delays.deleteCluster, fmt.Sprintf("the deletion of stack %q", clusterStack(name))); err != nil {
			return err
		}
	}
	success("all cluster resources were deleted")
	return nil
}

// deleteControlPlane deletes the cluster's add-ons' objects, its OIDC
// provider and the EKS cluster (with its add-ons, as EKS does).
func deleteControlPlane(ctx context.Context, e *env, cl *ekstypes.Cluster, name string) error {
	if err := deleteClusterAddons(ctx, e, name); err != nil {
		return err
	}
	if arn, err := oidcProviderARN(ctx, e, cl); err != nil {
		return err
	} else if arn != "" {
		if _, err := e.iam.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
			return err
		}
	}
	if _, err := e.eks.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String(name)}); err != nil {
		return fmt.Errorf("deleting EKS cluster %q: %w", name, err)
	}
	return nil
}

// deleteNodeGroup is `eksctl delete nodegroup --cluster C --name N`: the
// nodegroup stack, that is the EKS managed node group and its node instance
// role, or, with no stack, the EKS node group alone (eksctl's "unowned").
// Like eksctl (cmdutils.PopulateNodegroup), a node group with neither stack
// nor EKS node group is EKS's ResourceNotFoundException, and a missing
// cluster is DescribeCluster's: both fail. --approve without -f is refused
// as eksctl refuses it. There is no Kubernetes API here: nothing is drained.
func deleteNodeGroup(ctx context.Context, f *flags) error {
	switch {
	case f.file != "":
		return errors.New("fakeeksctl: delete nodegroup -f is not imitated; bootstrap deletes one node group by --cluster and --name")
	case f.approve:
		return errors.New("cannot use --approve unless a config file is specified via --config-file/-f")
	case f.name == "":
		return errors.New("--cluster must be set")
	case f.nodegroup == "":
		return errors.New("--name must be set")
	}
	name, region, err := nameAndRegion(f)
	if err != nil {
		return err
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	info("eksctl version %s", Version)
	info("using region %s", region)
	if _, err := describeCluster(ctx, e, name); err != nil {
		return err
	}
	ng := f.nodegroup
	stack := nodeGroupStack(name, ng)
	out, owned, err := e.stackOutputs(ctx, stack)
	if err != nil {
		return err
	}
	if !owned {
		if _, err := e.eks.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(name), NodegroupName: aws.String(ng)}); err != nil {
			return err
		}
	}
	info("1 nodegroup (%s) was included (based on the include/exclude rules)", ng)
	if f.drain {
		info("will drain 1 nodegroup(s) in cluster %q", name)
		warn("fakeeksctl: no Kubernetes API here; nodegroup %q not drained", ng)
	}
	info("will delete 1 nodegroups from cluster %q", name)
	mode := "async"
	if f.wait {
		mode = "sync"
	}
	info("1 task: { 1 task: { delete nodegroup %q [%s] } }", ng, mode)
	// What the stack holds: the EKS node group (gone already when someone
	// deleted it by hand: CloudFormation skips it) and the node role.
	if _, err := e.eks.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String(name), NodegroupName: aws.String(ng)}); err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if !owned || !errors.As(err, &nf) {
			return fmt.Errorf("deleting nodegroup %q: %w", ng, err)
		}
	}
	if owned {
		if arn := out["NodeInstanceRoleARN"]; arn != "" {
			if err := e.deleteRole(ctx, roleName(arn)); err != nil {
				return fmt.Errorf("deleting role of stack %s: %w", stack, err)
			}
		}
		info("will delete stack %q", stack)
		if _, err := e.cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(stack)}); err != nil {
			return err
		}
	}
	if f.wait {
		if err := pause(ctx, e.delays.deleteNodeGroup, fmt.Sprintf("the deletion of nodegroup %q", ng)); err != nil {
			return err
		}
	}
	success("deleted 1 nodegroup(s) from cluster %q", name)
	return nil
}

func (e *env) deleteStack(ctx context.Context, name string) error {
	info("deleting stack %q", name)
	_, err := e.cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(name)})
	return err
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// deleteNetwork removes what createNetwork made, in dependency order.
func (e *env) deleteNetwork(ctx context.Context, out map[string]string) error {
	vpc := out["VPC"]
	for _, nat := range split(out["NATGateways"]) {
		if _, err := e.ec2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(nat)}); err != nil {
			return fmt.Errorf("deleting NAT gateway %s: %w", nat, err)
		}
	}
	for _, alloc := range split(out["EIPAllocations"]) {
		if err := retry(func() error {
			_, err := e.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(alloc)})
			return err
		}); err != nil {
			return fmt.Errorf("releasing %s: %w", alloc, err)
		}
	}
	for _, rt := range split(out["RouteTables"]) {
		desc, err := e.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rt}})
		if err != nil {
			return err
		}
		for _, t := range desc.RouteTables {
			for _, a := range t.Associations {
				if aws.ToBool(a.Main) {
					continue
				}
				if _, err := e.ec2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId}); err != nil {
					return err
				}
			}
		}
		if _, err := e.ec2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rt)}); err != nil {
			return fmt.Errorf("deleting route table %s: %w", rt, err)
		}
	}
	if igw := out["InternetGateway"]; igw != "" {
		if _, err := e.ec2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(igw), VpcId: aws.String(vpc)}); err != nil {
			return err
		}
		if _, err := e.ec2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(igw)}); err != nil {
			return err
		}
	}
	for _, s := range append(split(out["SubnetsPublic"]), split(out["SubnetsPrivate"])...) {
		if err := retry(func() error {
			_, err := e.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})
			return err
		}); err != nil {
			return fmt.Errorf("deleting subnet %s: %w", s, err)
		}
	}
	// The cluster security group is EKS's, gone with the cluster.
	for _, sg := range []string{out["SecurityGroup"], out["SharedNodeSecurityGroup"]} {
		if sg == "" {
			continue
		}
		if _, err := e.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)}); err != nil {
			return fmt.Errorf("deleting security group %s: %w", sg, err)
		}
	}
	if vpc != "" {
		if err := retry(func() error {
			_, err := e.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpc)})
			return err
		}); err != nil {
			return fmt.Errorf("deleting VPC %s: %w", vpc, err)
		}
	}
	return nil
}

// retry repeats an EC2 call that fails on a dependency still going away.
func retry(f func() error) error {
	var err error
	for i := 0; i < 10; i++ {
		if err = f(); err == nil || !strings.Contains(err.Error(), "DependencyViolation") && !strings.Contains(err.Error(), "InvalidIPAddress.InUse") {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}
