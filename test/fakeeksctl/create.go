package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

func clusterStack(name string) string { return "eksctl-" + name + "-cluster" }

func nodeGroupStack(cluster, ng string) string { return "eksctl-" + cluster + "-nodegroup-" + ng }

func irsaStack(cluster string, sa *api.ClusterIAMServiceAccount) string {
	return "eksctl-" + cluster + "-addon-iamserviceaccount-" + sa.Namespace + "-" + sa.Name
}

// createCluster is `eksctl create cluster -f`: everything in one go, and
// CloudFormation's AlreadyExists when the cluster stack is there.
func createCluster(ctx context.Context, e *env, cfg *api.ClusterConfig, _ *flags) error {
	name := cfg.Metadata.Name
	if len(cfg.AvailabilityZones) < api.MinRequiredAvailabilityZones {
		return fmt.Errorf("fakeeksctl: availabilityZones must be listed (eksctl would pick %d zones itself)", api.MinRequiredAvailabilityZones)
	}
	info("eksctl version %s", Version)
	info("using region %s", e.region)
	info("setting availability zones to %v", cfg.AvailabilityZones)
	stack := clusterStack(name)
	if _, exists, err := e.stackOutputs(ctx, stack); err != nil {
		return err
	} else if exists {
		logf("✖", "creating CloudFormation stack %q: operation error CloudFormation: CreateStack, https response error StatusCode: 400, AlreadyExistsException: Stack [%s] already exists", stack, stack)
		return fmt.Errorf("failed to create cluster %q", name)
	}
	if _, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)}); err == nil {
		logf("✖", "creating EKS cluster %q: ResourceInUseException: Cluster already exists with name: %s", name, name)
		return fmt.Errorf("failed to create cluster %q", name)
	}
	info("building cluster stack %q", stack)

	// From here CloudFormation makes the stack, whatever becomes of
	// eksctl: SIGINT or SIGTERM ends the waits at once, but the stack's
	// content is made all the same, without waiting, on a context the
	// signal does not cancel (bounded by stackGrace, lest a stuck moto hold
	// the fake past bootstrap's grace). Then the fake exits 1 before the
	// steps eksctl itself drives: OIDC provider, IRSA roles, node groups.
	stackCtx, cancelStack := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStack()
	stopGuard := context.AfterFunc(ctx, func() { time.AfterFunc(stackGrace, cancelStack) })
	defer stopGuard()

	// With $FAKE_EKSCTL_DELAYS each stage appears when AWS would have it
	// ready (moto has no CREATING state): the network at t = network, the
	// control plane at + controlplane, the IRSA roles at + iam, the node
	// groups at + nodegroup, when the command returns.
	var interrupted error
	wait := func(d time.Duration, what string) {
		if interrupted != nil {
			return // no more waiting
		}
		if interrupted = pause(ctx, d, what); interrupted != nil {
			warn("fakeeksctl: interrupted; CloudFormation completes stack %q all the same, without waiting", stack)
		}
	}
	wait(e.delays.network, "the VPC, subnets and gateways of stack "+stack)
	net, err := createNetwork(stackCtx, e, cfg)
	if err != nil {
		return err
	}
	wait(e.delays.controlPlane, fmt.Sprintf("EKS cluster %q control plane", name))
	if err := createControlPlane(stackCtx, e, cfg, net); err != nil {
		return err
	}
	if interrupted == nil && ctx.Err() != nil {
		// The signal came during the AWS calls rather than during a wait.
		interrupted = fmt.Errorf("interrupted while waiting for CloudFormation stack %q: %w", stack, context.Cause(ctx))
	}
	if interrupted != nil {
		return interrupted
	}
	success("EKS cluster %q control plane is ready", name)

	// What eksctl does after the cluster stack, in the order of
	// pkg/ctl/create/cluster.go and pkg/eks/tasks.go
	// CreateExtraClusterConfigTasks: the add-ons created before node groups
	// (CreateAddonTasks), the OIDC provider and IRSA roles, the vpc-cni
	// add-on's IRSA role (see createAddons), the log retention; then the
	// node groups; then the other add-ons (metrics-server).
	pre, post := addonsToCreate(cfg, e.region)
	if api.IsEnabled(cfg.IAM.WithOIDC) {
		if err := associateOIDC(ctx, e, cfg, &flags{approve: true}); err != nil {
			return err
		}
	}
	if err := createAddons(ctx, e, cfg, pre); err != nil {
		return err
	}
	if api.IsEnabled(cfg.IAM.WithOIDC) && len(cfg.IAM.ServiceAccounts) > 0 {
		if err := createIAMServiceAccounts(ctx, e, cfg, &flags{approve: true}); err != nil {
			return err
		}
	}
	if err := setLogRetention(ctx, e, cfg); err != nil {
		return err
	}
	if err := createNodeGroups(ctx, e, cfg, nil); err != nil {
		return err
	}
	if err := createAddons(ctx, e, cfg, post); err != nil {
		return err
	}
	success("EKS cluster %q in %q region is ready", name, e.region)
	return nil
}

// setLogRetention is pkg/eks/tasks.go's "update CloudWatch log retention"
// task: with control-plane logging on and logRetentionInDays set, the
// retention of the log group EKS made, /aws/eks/<cluster>/cluster. eksctl
// never tags it and `delete cluster` never deletes it (no DeleteLogGroup
// anywhere in eksctl's source).
func setLogRetention(ctx context.Context, e *env, cfg *api.ClusterConfig) error {
	if !cfg.HasClusterCloudWatchLogging() || cfg.CloudWatch.ClusterLogging.LogRetentionInDays == 0 {
		return nil
	}
	days := cfg.CloudWatch.ClusterLogging.LogRetentionInDays
	if _, err := e.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
		LogGroupName:    aws.String("/aws/eks/" + cfg.Metadata.Name + "/cluster"),
		RetentionInDays: aws.Int32(int32(days)),
	}); err != nil {
		return fmt.Errorf("error updating log retention settings: %w", err)
	}
	info("set log retention to %d days for CloudWatch logging", days)
	return nil
}

// stackGrace bounds the cluster stack's completion after SIGINT or
// SIGTERM: moto makes it in well under a second on a quiet machine, several
// seconds when the whole suite runs on two cores; bootstrap kills the fake
// 10 s after its signal, so the grace stays just under that.
const stackGrace = 9 * time.Second

// createControlPlane is the cluster stack's second half: the EKS service
// role, the EKS cluster (EKS adds its cluster security group) and the
// stack record, whose outputs say what the whole stack holds.
func createControlPlane(ctx context.Context, e *env, cfg *api.ClusterConfig, net *network) error {
	name := cfg.Metadata.Name
	stack := clusterStack(name)
	tags := clusterTags(cfg, map[string]string{api.ClusterOIDCEnabledTag: fmt.Sprint(api.IsEnabled(cfg.IAM.WithOIDC))})
	serviceRole, err := e.createRole(ctx, stack+"-ServiceRole-"+suffix(), trustService("eks.amazonaws.com"), tags)
	if err != nil {
		return err
	}
	if err := e.attachManaged(ctx, roleName(serviceRole), "AmazonEKSClusterPolicy"); err != nil {
		return err
	}

	in := &eks.CreateClusterInput{
		Name:    aws.String(name),
		Version: aws.String(cfg.Metadata.Version),
		RoleArn: aws.String(serviceRole),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{
			SubnetIds:             append(append([]string(nil), net.public...), net.private...),
			SecurityGroupIds:      []string{net.controlPlaneSG},
			EndpointPublicAccess:  cfg.VPC.ClusterEndpoints.PublicAccess,
			EndpointPrivateAccess: cfg.VPC.ClusterEndpoints.PrivateAccess,
			// pkg/cfn/builder/cluster.go addResourcesForControlPlane:
			// the file's publicAccessCIDRs (none: EKS's 0.0.0.0/0).
			PublicAccessCidrs: cfg.VPC.PublicAccessCIDRs,
		},
		Tags: cfg.Metadata.Tags,
	}
	if cfg.HasClusterCloudWatchLogging() {
		var types []ekstypes.LogType
		for _, t := range cfg.CloudWatch.ClusterLogging.EnableTypes {
			types = append(types, ekstypes.LogType(t))
		}
		in.Logging = &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Types: types, Enabled: aws.Bool(true)}}}
	}
	// pkg/cfn/builder/cluster.go: upgradePolicy.supportType goes to the
	// cluster as given; unset, EKS applies its own default (EXTENDED).
	if cfg.UpgradePolicy != nil && cfg.UpgradePolicy.SupportType != "" {
		in.UpgradePolicy = &ekstypes.UpgradePolicyRequest{SupportType: ekstypes.SupportType(cfg.UpgradePolicy.SupportType)}
	}
	if cfg.SecretsEncryption != nil && cfg.SecretsEncryption.KeyARN != "" {
		in.EncryptionConfig = []ekstypes.EncryptionConfig{{
			Resources: []string{"secrets"},
			Provider:  &ekstypes.Provider{KeyArn: aws.String(cfg.SecretsEncryption.KeyARN)},
		}}
	}
	info("creating EKS cluster %q in %q region with managed nodes", name, e.region)
	created, err := e.eks.CreateCluster(ctx, in)
	if err != nil {
		return fmt.Errorf("creating EKS cluster %q: %w", name, err)
	}
	// EKS makes the cluster security group itself (moto through the
	// harness's patch, hack/moto/patches.py) and deletes it with the cluster.
	if vc := created.Cluster.ResourcesVpcConfig; vc != nil {
		net.clusterSG = aws.ToString(vc.ClusterSecurityGroupId)
	}
	outputs := map[string]string{
		"ARN":                     aws.ToString(created.Cluster.Arn),
		"Endpoint":                aws.ToString(created.Cluster.Endpoint),
		"ClusterStackName":        stack,
		"FeatureNATMode":          *cfg.VPC.NAT.Gateway,
		"VPC":                     net.vpc,
		"SubnetsPublic":           strings.Join(net.public, ","),
		"SubnetsPrivate":          strings.Join(net.private, ","),
		"SecurityGroup":           net.controlPlaneSG,
		"SharedNodeSecurityGroup": net.sharedNodeSG,
		"ClusterSecurityGroupId":  net.clusterSG,
		"ServiceRoleARN":          serviceRole,
		// Not in eksctl's outputs, which leave these to CloudFormation's
		// resource list; the fake's delete needs them.
		"InternetGateway": net.igw,
		"NATGateways":     strings.Join(net.nats, ","),
		"EIPAllocations":  strings.Join(net.eips, ","),
		"RouteTables":     strings.Join(net.routeTables, ","),
	}
	if err := e.createStackRecord(ctx, stack, fmt.Sprintf("EKS cluster (dedicated VPC: true, dedicated IAM: true)"), tags, outputs); err != nil {
		return err
	}
	return nil
}

// network is what the cluster stack's VPC part holds.
type network struct {
	vpc, igw, controlPlaneSG, sharedNodeSG, clusterSG string
	public, private, nats, eips, routeTables          []string
}

// azTag is eksctl's logical-id spelling of a zone: us-east-1a -> USEAST1A.
func azTag(az string) string { return strings.ToUpper(strings.ReplaceAll(az, "-", "")) }

// createNetwork makes eksctl's dedicated VPC: the CIDR cut into eighths,
// public subnets from the first, private from the fourth, one of each per
// zone; an internet gateway; NAT gateways per vpc.nat.gateway; route tables;
// and the control-plane and shared node security groups.
func createNetwork(ctx context.Context, e *env, cfg *api.ClusterConfig) (*network, error) {
	prefix, err := netip.ParsePrefix(cfg.VPC.CIDR.String())
	if err != nil {
		return nil, err
	}
	if len(cfg.AvailabilityZones) > 4 {
		return nil, fmt.Errorf("fakeeksctl: %d zones; eksctl cuts the VPC into eighths, at most 4 zones", len(cfg.AvailabilityZones))
	}
	b := &netBuilder{e: e, cfg: cfg, stack: clusterStack(cfg.Metadata.Name), n: &network{}}
	for _, part := range []func(context.Context) error{
		func(ctx context.Context) error { return b.vpc(ctx, prefix) },
		func(ctx context.Context) error { return b.subnets(ctx, eighths(prefix)) },
		b.publicRouting,
		b.natGateways,
		b.privateRouting,
		b.securityGroups,
	} {
		if err := part(ctx); err != nil {
			return nil, err
		}
	}
	return b.n, nil
}

// netBuilder holds what createNetwork's parts share while they make the
// cluster stack's VPC part, in eksctl's order.
type netBuilder struct {
	e      *env
	cfg    *api.ClusterConfig
	stack  string
	n      *network
	vpcID  *string
	natFor []string // the NAT gateway each zone's private route goes to
}

// tags are the cluster stack's tags with the resource's logical name.
func (b *netBuilder) tags(res string, extra map[string]string) map[string]string {
	t := clusterTags(b.cfg, extra)
	t["Name"] = b.stack + "/" + res
	return t
}

func (b *netBuilder) vpc(ctx context.Context, prefix netip.Prefix) error {
	vpc, err := b.e.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(prefix.String()),
		TagSpecifications: ec2Tags(ec2types.ResourceTypeVpc, b.tags("VPC", nil)),
	})
	if err != nil {
		return fmt.Errorf("creating VPC: %w", err)
	}
	b.vpcID = vpc.Vpc.VpcId
	b.n.vpc = aws.ToString(vpc.Vpc.VpcId)
	for _, attr := range []*ec2.ModifyVpcAttributeInput{
		{VpcId: b.vpcID, EnableDnsSupport: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}},
		{VpcId: b.vpcID, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}},
	} {
		if _, err := b.e.ec2.ModifyVpcAttribute(ctx, attr); err != nil {
			return err
		}
	}
	return nil
}

// subnets makes one public and one private subnet per zone: public from the
// first eighth, private after the public ones.
func (b *netBuilder) subnets(ctx context.Context, cuts []string) error {
	zones := b.cfg.AvailabilityZones
	for i, az := range zones {
		for _, kind := range []string{"Public", "Private"} {
			role, cidr := "kubernetes.io/role/elb", cuts[i]
			if kind == "Private" {
				role, cidr = "kubernetes.io/role/internal-elb", cuts[len(zones)+i]
			}
			info("subnet for %s - %s:%s", az, strings.ToLower(kind), cidr)
			s, err := b.e.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
				VpcId: b.vpcID, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az),
				TagSpecifications: ec2Tags(ec2types.ResourceTypeSubnet, b.tags("Subnet"+kind+azTag(az), map[string]string{
					role: "1", "kubernetes.io/cluster/" + b.cfg.Metadata.Name: "shared",
				})),
			})
			if err != nil {
				return fmt.Errorf("creating %s subnet in %s: %w", strings.ToLower(kind), az, err)
			}
			id := aws.ToString(s.Subnet.SubnetId)
			if kind == "Private" {
				b.n.private = append(b.n.private, id)
				continue
			}
			b.n.public = append(b.n.public, id)
			if _, err := b.e.ec2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{
				SubnetId: s.Subnet.SubnetId, MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)},
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// publicRouting is the internet gateway and the public subnets' route table.
func (b *netBuilder) publicRouting(ctx context.Context) error {
	e := b.e
	igw, err := e.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: ec2Tags(ec2types.ResourceTypeInternetGateway, b.tags("InternetGateway", nil)),
	})
	if err != nil {
		return err
	}
	b.n.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	if _, err := e.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: b.vpcID}); err != nil {
		return err
	}
	publicRT, err := e.routeTable(ctx, b.n, b.vpcID, b.tags("PublicRouteTable", nil))
	if err != nil {
		return err
	}
	if _, err := e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: publicRT, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		return err
	}
	for _, s := range b.n.public {
		if _, err := e.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: publicRT, SubnetId: aws.String(s)}); err != nil {
			return err
		}
	}
	return nil
}

// natGateways makes one NAT gateway per zone (HighlyAvailable), one in the
// first zone (Single) or none (Disable), each with its Elastic IP.
func (b *netBuilder) natGateways(ctx context.Context) error {
	zones := b.cfg.AvailabilityZones
	mode := *b.cfg.VPC.NAT.Gateway
	info("NAT gateway mode %s", mode)
	count := 0
	switch mode {
	case api.ClusterHighlyAvailableNAT:
		count = len(zones)
	case api.ClusterSingleNAT:
		count = 1
	case api.ClusterDisableNAT:
		return nil
	default:
		return fmt.Errorf("invalid NAT gateway mode %q", mode)
	}
	for i := 0; i < count; i++ {
		az := zones[i]
		res := "NATGateway"
		if mode == api.ClusterHighlyAvailableNAT {
			res += azTag(az)
		}
		eip, err := b.e.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{
			Domain: ec2types.DomainTypeVpc, TagSpecifications: ec2Tags(ec2types.ResourceTypeElasticIp, b.tags("NATIP"+azTag(az), nil)),
		})
		if err != nil {
			return err
		}
		b.n.eips = append(b.n.eips, aws.ToString(eip.AllocationId))
		nat, err := b.e.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
			SubnetId: aws.String(b.n.public[i]), AllocationId: eip.AllocationId,
			TagSpecifications: ec2Tags(ec2types.ResourceTypeNatgateway, b.tags(res, nil)),
		})
		if err != nil {
			return err
		}
		b.n.nats = append(b.n.nats, aws.ToString(nat.NatGateway.NatGatewayId))
	}
	for i := range zones {
		b.natFor = append(b.natFor, b.n.nats[min(i, len(b.n.nats)-1)])
	}
	return nil
}

// privateRouting is a route table per private subnet, through its zone's
// NAT gateway when there is one.
func (b *netBuilder) privateRouting(ctx context.Context) error {
	e := b.e
	for i, az := range b.cfg.AvailabilityZones {
		rt, err := e.routeTable(ctx, b.n, b.vpcID, b.tags("PrivateRouteTable"+azTag(az), nil))
		if err != nil {
			return err
		}
		if b.natFor != nil {
			if _, err := e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(b.natFor[i])}); err != nil {
				return err
			}
		}
		if _, err := e.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt, SubnetId: aws.String(b.n.private[i])}); err != nil {
			return err
		}
	}
	return nil
}

// securityGroups are the control plane's and the nodes' shared group.
func (b *netBuilder) securityGroups(ctx context.Context) error {
	sg := func(groupName, desc string, t map[string]string) (string, error) {
		out, err := b.e.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(groupName), Description: aws.String(desc), VpcId: b.vpcID,
			TagSpecifications: ec2Tags(ec2types.ResourceTypeSecurityGroup, t),
		})
		if err != nil {
			return "", fmt.Errorf("creating security group %s: %w", groupName, err)
		}
		return aws.ToString(out.GroupId), nil
	}
	var err error
	if b.n.controlPlaneSG, err = sg(b.stack+"-ControlPlaneSecurityGroup-"+suffix(), "Communication between the control plane and worker nodegroups", b.tags("ControlPlaneSecurityGroup", nil)); err != nil {
		return err
	}
	b.n.sharedNodeSG, err = sg(b.stack+"-ClusterSharedNodeSecurityGroup-"+suffix(), "Communication between all nodes in the cluster", b.tags("ClusterSharedNodeSecurityGroup", nil))
	return err
}

func (e *env) routeTable(ctx context.Context, n *network, vpc *string, t map[string]string) (*string, error) {
	rt, err := e.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc, TagSpecifications: ec2Tags(ec2types.ResourceTypeRouteTable, t)})
	if err != nil {
		return nil, err
	}
	n.routeTables = append(n.routeTables, aws.ToString(rt.RouteTable.RouteTableId))
	return rt.RouteTable.RouteTableId, nil
}

// eighths cuts a prefix into eight equal subnets, in address order.
func eighths(p netip.Prefix) []string {
	bits := p.Bits() + 3
	size := uint32(1) << (32 - bits)
	a := p.Masked().Addr().As4()
	base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	out := make([]string, 8)
	for i := range out {
		v := base + uint32(i)*size
		addr := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		out[i] = netip.PrefixFrom(addr, bits).String()
	}
	return out
}

// describeCluster is the cluster, or an eksctl-like error.
func describeCluster(ctx context.Context, e *env, name string) (*ekstypes.Cluster, error) {
	out, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("unable to describe cluster control plane: operation error EKS: DescribeCluster, ResourceNotFoundException: No cluster found for name: %s.", name)
		}
		return nil, err
	}
	return out.Cluster, nil
}

func issuerHost(cl *ekstypes.Cluster) string {
	if cl.Identity == nil || cl.Identity.Oidc == nil {
		return ""
	}
	return strings.TrimPrefix(aws.ToString(cl.Identity.Oidc.Issuer), "https://")
}

// oidcProviderARN is the cluster's provider, or "" when not associated.
func oidcProviderARN(ctx context.Context, e *env, cl *ekstypes.Cluster) (string, error) {
	host := issuerHost(cl)
	out, err := e.iam.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return "", err
	}
	for _, p := range out.OpenIDConnectProviderList {
		if strings.HasSuffix(aws.ToString(p.Arn), ":oidc-provider/"+host) {
			return aws.ToString(p.Arn), nil
		}
	}
	return "", nil
}

// associateOIDC is `eksctl utils associate-iam-oidc-provider`.
func associateOIDC(ctx context.Context, e *env, cfg *api.ClusterConfig, f *flags) error {
	name := cfg.Metadata.Name
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	arn, err := oidcProviderARN(ctx, e, cl)
	if err != nil {
		return err
	}
	if arn != "" {
		info("IAM Open ID Connect provider is already associated with cluster %q in %q", name, e.region)
		return nil
	}
	if !f.approve {
		info("(plan) would create IAM Open ID Connect provider for cluster %q in %q", name, e.region)
		warn("no changes were applied, run again with '--approve' to apply the changes")
		return nil
	}
	_, err = e.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url:            cl.Identity.Oidc.Issuer,
		ClientIDList:   []string{"sts.amazonaws.com"},
		ThumbprintList: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
		Tags:           iamTags(clusterTags(cfg, nil)),
	})
	if err != nil {
		return fmt.Errorf("creating OIDC provider: %w", err)
	}
	success("created IAM Open ID Connect provider for cluster %q in %q", name, e.region)
	return nil
}

// createIAMServiceAccounts is `eksctl create iamserviceaccount -f`: roles
// whose stack exists are excluded and left as they are, their policies not
// updated even when the file's differ (pkg/ctl/create/iamserviceaccount.go,
// filter.SetExcludeExistingFilter; `eksctl update iamserviceaccount` is the
// command that changes them); the rest get a role (createIRSARole).
func createIAMServiceAccounts(ctx context.Context, e *env, cfg *api.ClusterConfig, f *flags) error {
	name := cfg.Metadata.Name
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	provider, err := oidcProviderARN(ctx, e, cl)
	if err != nil {
		return err
	}
	if provider == "" {
		warn("no IAM OIDC provider associated with cluster, try 'eksctl utils associate-iam-oidc-provider --region=%s --cluster=%s'", e.region, name)
		return errors.New("unable to create iamserviceaccount(s) without IAM OIDC provider enabled")
	}
	var todo []*api.ClusterIAMServiceAccount
	var existing []string
	for _, sa := range cfg.IAM.ServiceAccounts {
		_, exists, err := e.stackOutputs(ctx, irsaStack(name, sa))
		if err != nil {
			return err
		}
		if exists {
			existing = append(existing, sa.Namespace+"/"+sa.Name)
			continue
		}
		todo = append(todo, sa)
	}
	if len(existing) > 0 {
		info("%d existing iamserviceaccount(s) (%s) will be excluded", len(existing), strings.Join(existing, ","))
	}
	if !f.approve {
		for _, sa := range todo {
			info("(plan) would create IAM role for serviceaccount %q", sa.Namespace+"/"+sa.Name)
		}
		warn("no tasks were applied, run again with '--approve' to apply the changes")
		return nil
	}
	if len(todo) > 0 {
		// eksctl creates the stacks in parallel and waits for them all.
		if err := pause(ctx, e.delays.iam, fmt.Sprintf("%d iamserviceaccount stack(s)", len(todo))); err != nil {
			return err
		}
	}
	for _, sa := range todo {
		stack := irsaStack(name, sa)
		info("creating IAM role for serviceaccount %q (stack %q)", sa.Namespace+"/"+sa.Name, stack)
		arn, err := createIRSARole(ctx, e, cfg, sa, stack, map[string]string{api.IAMServiceAccountNameTag: sa.Namespace + "/" + sa.Name})
		if err != nil {
			return fmt.Errorf("failed to create iamserviceaccount %q: %w", sa.Namespace+"/"+sa.Name, err)
		}
		if !api.IsEnabled(sa.RoleOnly) {
			warn("fakeeksctl: no Kubernetes API here; serviceaccount %q not created", sa.Namespace+"/"+sa.Name)
		}
		success("created IAM role %s for serviceaccount %q", arn, sa.Namespace+"/"+sa.Name)
	}
	return nil
}

// irsaTrust is the trust policy of an IRSA role: the cluster's OIDC
// provider, for the one service account (pkg/cfn/builder/iam.go).
func irsaTrust(provider, host, namespace, name string) any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": provider},
			"Action":    []string{"sts:AssumeRoleWithWebIdentity"},
			"Condition": map[string]any{"StringEquals": map[string]string{
				host + ":aud": "sts.amazonaws.com",
				host + ":sub": "system:serviceaccount:" + namespace + ":" + name,
			}},
		}},
	}
}

// createIRSARole makes what one IRSA stack holds: a role (named roleName, or
// generated) trusting the cluster's OIDC provider for the service account,
// the inline policy as <stack>-Policy1, the policy ARNs attached, and the
// stack record with the role as output Role1 (pkg/cfn/builder/iam.go,
// IAMRoleResourceSet).
func createIRSARole(ctx context.Context, e *env, cfg *api.ClusterConfig, sa *api.ClusterIAMServiceAccount, stack string, extraTags map[string]string) (string, error) {
	cl, err := describeCluster(ctx, e, cfg.Metadata.Name)
	if err != nil {
		return "", err
	}
	provider, err := oidcProviderARN(ctx, e, cl)
	if err != nil {
		return "", err
	}
	role := sa.RoleName
	if role == "" {
		role = stack + "-Role1-" + suffix()
	}
	tags := clusterTags(cfg, extraTags)
	for k, v := range sa.Tags {
		tags[k] = v
	}
	arn, err := e.createRole(ctx, role, irsaTrust(provider, issuerHost(cl), sa.Namespace, sa.Name), tags)
	if err != nil {
		logf("✖", "waiting for CloudFormation stack %q: ResourceNotReady: failed waiting for successful resource state", stack)
		return "", err
	}
	if err := putIRSAPolicies(ctx, e, sa, role, stack); err != nil {
		return "", err
	}
	if err := e.createStackRecord(ctx, stack, fmt.Sprintf("IAM role for serviceaccount %q", sa.Namespace+"/"+sa.Name), tags,
		map[string]string{"Role1": arn}); err != nil {
		return "", err
	}
	return arn, nil
}

// putIRSAPolicies sets a role's policies from the config: the inline
// policy <stack>-Policy1 (replaced when it is there) and the policy ARNs.
func putIRSAPolicies(ctx context.Context, e *env, sa *api.ClusterIAMServiceAccount, role, stack string) error {
	if sa.WellKnownPolicies.HasPolicy() {
		return errors.New("fakeeksctl: wellKnownPolicies are not imitated")
	}
	if len(sa.AttachPolicy) > 0 {
		doc, _ := json.Marshal(sa.AttachPolicy)
		if _, err := e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: aws.String(role), PolicyName: aws.String(stack + "-Policy1"), PolicyDocument: aws.String(string(doc)),
		}); err != nil {
			return fmt.Errorf("attaching the inline policy of %s: %w", role, err)
		}
	}
	for _, p := range sa.AttachPolicyARNs {
		if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(p)}); err != nil {
			var missing *iamtypes.NoSuchEntityException
			if errors.As(err, &missing) && strings.HasPrefix(p, "arn:aws:iam::aws:policy/") {
				warn("fakeeksctl: %s does not exist here (moto without MOTO_IAM_LOAD_MANAGED_POLICIES=true); not attached to %s", p, role)
				continue
			}
			return fmt.Errorf("attaching %s to %s: %w", p, role, err)
		}
	}
	return nil
}

// updateIAMServiceAccounts is `eksctl update iamserviceaccount -f
// [--approve]` (pkg/ctl/update/iamserviceaccount.go, pkg/actions/irsa/
// update.go): each service account of the file whose stack exists gets its
// stack updated to the file's policies, keeping the role name the stack was
// created with; one without a stack "cannot be updated as it does not
// exist" and is skipped, not an error. Without --approve nothing changes.
func updateIAMServiceAccounts(ctx context.Context, e *env, cfg *api.ClusterConfig, f *flags) error {
	name := cfg.Metadata.Name
	if _, err := describeCluster(ctx, e, name); err != nil {
		return err
	}
	var missing []string
	for _, sa := range cfg.IAM.ServiceAccounts {
		stack := irsaStack(name, sa)
		out, exists, err := e.stackOutputs(ctx, stack)
		if err != nil {
			return err
		}
		if !exists {
			info("cannot update IAMServiceAccount %s/%s as it does not exist", sa.Namespace, sa.Name)
			missing = append(missing, sa.Namespace+"/"+sa.Name)
			continue
		}
		role := roleName(out["Role1"])
		if !f.approve {
			info("(plan) would update IAM role for serviceaccount %q (stack %q)", sa.Namespace+"/"+sa.Name, stack)
			continue
		}
		if err := pause(ctx, e.delays.iam, fmt.Sprintf("updating stack %q", stack)); err != nil {
			return err
		}
		// CloudFormation replaces the policies with the template's: the
		// inline policy's document, and the attached ARNs.
		attached, err := e.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
		if err != nil {
			return err
		}
		for _, p := range attached.AttachedPolicies {
			if !slices.Contains(sa.AttachPolicyARNs, aws.ToString(p.PolicyArn)) {
				if _, err := e.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: p.PolicyArn}); err != nil {
					return err
				}
			}
		}
		if len(sa.AttachPolicy) == 0 {
			_, _ = e.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(stack + "-Policy1")})
		}
		if err := putIRSAPolicies(ctx, e, sa, role, stack); err != nil {
			return err
		}
		success("updated IAM role %s for serviceaccount %q", role, sa.Namespace+"/"+sa.Name)
	}
	if len(missing) > 0 {
		info("the following IAMServiceAccounts will not be updated as they do not exist: %v", strings.Join(missing, ", "))
	}
	if !f.approve {
		warn("no changes were applied, run again with '--approve' to apply the changes")
	}
	return nil
}

// createNodeGroups is `eksctl create nodegroup -f`: managed node groups that
// exist are excluded, the rest are created in the private subnets when
// privateNetworking is set, else in the public ones.
func createNodeGroups(ctx context.Context, e *env, cfg *api.ClusterConfig, _ *flags) error {
	name := cfg.Metadata.Name
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	outputs, owned, err := e.stackOutputs(ctx, clusterStack(name))
	if err != nil {
		return err
	}
	if !owned {
		return fmt.Errorf("getting existing configuration for cluster %q: no eksctl-managed CloudFormation stacks found for %q", name, name)
	}
	list, err := e.eks.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String(name)})
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, ng := range list.Nodegroups {
		have[ng] = true
	}
	var existing []string
	for _, ng := range cfg.ManagedNodeGroups {
		if have[ng.Name] {
			existing = append(existing, ng.Name)
		}
	}
	if len(existing) > 0 {
		info("%d existing nodegroup(s) (%s) will be excluded", len(existing), strings.Join(existing, ","))
	}
	if n := len(cfg.ManagedNodeGroups) - len(existing); n > 0 {
		// eksctl creates the stacks in parallel and waits for them all.
		if err := pause(ctx, e.delays.nodeGroup, fmt.Sprintf("%d managed nodegroup stack(s)", n)); err != nil {
			return err
		}
	}
	for _, ng := range cfg.ManagedNodeGroups {
		if have[ng.Name] {
			continue
		}
		stack := nodeGroupStack(name, ng.Name)
		tags := clusterTags(cfg, map[string]string{api.NodeGroupNameTag: ng.Name, api.NodeGroupTypeTag: string(api.NodeGroupTypeManaged)})
		for k, v := range ng.Tags {
			tags[k] = v
		}
		nodeRole, err := e.createRole(ctx, stack+"-NodeInstanceRole-"+suffix(), trustService("ec2.amazonaws.com"), tags)
		if err != nil {
			return err
		}
		for _, p := range []string{"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly", "AmazonSSMManagedInstanceCore"} {
			if err := e.attachManaged(ctx, roleName(nodeRole), p); err != nil {
				return err
			}
		}
		subnets := strings.Split(outputs["SubnetsPublic"], ",")
		if ng.PrivateNetworking {
			subnets = strings.Split(outputs["SubnetsPrivate"], ",")
		}
		in := &eks.CreateNodegroupInput{
			ClusterName:   aws.String(name),
			NodegroupName: aws.String(ng.Name),
			NodeRole:      aws.String(nodeRole),
			Subnets:       subnets,
			ScalingConfig: &ekstypes.NodegroupScalingConfig{
				DesiredSize: int32p(ng.DesiredCapacity), MinSize: int32p(ng.MinSize), MaxSize: int32p(ng.MaxSize),
			},
			Labels: ng.Labels,
			Tags:   ng.Tags,
			// A managed node group is made at the control plane's version,
			// on the newest AMI release of it, which eksctl reads from SSM
			// (pkg/actions/nodegroup/upgrade.go getLatestReleaseVersion;
			// amiRelease stands in for the SSM parameter).
			Version:        cl.Version,
			ReleaseVersion: aws.String(amiRelease(aws.ToString(cl.Version))),
		}
		if ng.InstanceType != "" {
			in.InstanceTypes = []string{ng.InstanceType}
		} else {
			in.InstanceTypes = ng.InstanceTypes
		}
		if ng.VolumeSize != nil {
			in.DiskSize = aws.Int32(int32(*ng.VolumeSize))
		}
		if ng.AMIFamily == api.NodeImageFamilyAmazonLinux2023 {
			in.AmiType = ekstypes.AMITypesAl2023X8664Standard
		}
		info("creating managed nodegroup %q (stack %q)", ng.Name, stack)
		if _, err := e.eks.CreateNodegroup(ctx, in); err != nil {
			return fmt.Errorf("creating nodegroup %q: %w", ng.Name, err)
		}
		if err := e.createStackRecord(ctx, stack, fmt.Sprintf("EKS Managed Nodes (SSH access: false)"), tags,
			map[string]string{"NodeInstanceRoleARN": nodeRole}); err != nil {
			return err
		}
		success("created managed nodegroup %q in cluster %q (version %s)", ng.Name, aws.ToString(cl.Name), aws.ToString(cl.Version))
	}
	return nil
}

func int32p(p *int) *int32 {
	if p == nil {
		return nil
	}
	return aws.Int32(int32(*p))
}
