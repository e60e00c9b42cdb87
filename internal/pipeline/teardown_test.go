package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
)

// fakeTeardown is a TeardownAPI answering from fields. exists and lbs are
// answered in turn, the last answer repeating.
type fakeTeardown struct {
	mu         sync.Mutex
	exists     []bool
	lbs        [][]cloud.Leftover
	deleteErrs map[string][]error // by ID, in turn; then success
	deleted    []string
}

func (f *fakeTeardown) ClusterExists(context.Context, string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.exists[0]
	if len(f.exists) > 1 {
		f.exists = f.exists[1:]
	}
	return v, nil
}

func (f *fakeTeardown) ClusterLoadBalancers(context.Context, string) ([]cloud.Leftover, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lbs) == 0 {
		return nil, nil
	}
	v := f.lbs[0]
	if len(f.lbs) > 1 {
		f.lbs = f.lbs[1:]
	}
	return v, nil
}

func (f *fakeTeardown) FindTagged(_ context.Context, o cloud.Owner) (cloud.Tagged, error) {
	return cloud.Tagged{Owner: o}, nil
}

func (f *fakeTeardown) DeleteLeftover(_ context.Context, l cloud.Leftover) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if errs := f.deleteErrs[l.ID]; len(errs) > 0 {
		f.deleteErrs[l.ID] = errs[1:]
		return errs[0]
	}
	f.deleted = append(f.deleted, l.ID)
	return nil
}

// teardownState is a staging State whose progress and results are kept.
func teardownState(t *testing.T, r proc.Runner) (st *State, progress, out *bytes.Buffer) {
	t.Helper()
	progress, out = &bytes.Buffer{}, &bytes.Buffer{}
	p := config.Builtin("staging")
	return &State{
		Profile: p,
		Dir:     filepath.Join(t.TempDir(), ".bootstrap", "staging"),
		Services: Services{
			Runner:   r,
			Tools:    map[string]string{},
			Progress: NewProgress(&syncWriter{w: progress}, false, false),
			Out:      out,
			AWS:      RegionAWS(p.Region), // opened only by the tests against moto
		},
	}, progress, out
}

// syncWriter lets a waiting step and the test share a buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

const lbObjectsJSON = `{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"namespace":"production","name":"sovd-webapp","finalizers":["ingress.k8s.aws/resources"]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"namespace":"production","name":"web"},"spec":{"type":"LoadBalancer"}},
 {"apiVersion":"v1","kind":"Service","metadata":{"namespace":"production","name":"api"},"spec":{"type":"LoadBalancer"}},
 {"apiVersion":"v1","kind":"Service","metadata":{"namespace":"production","name":"redis"},"spec":{"type":"ClusterIP"}},
 {"apiVersion":"v1","kind":"Service","metadata":{"namespace":"tools","name":"grafana"},"spec":{"type":"LoadBalancer"}},
 {"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default","name":"kubernetes"},"spec":{"type":"ClusterIP"}}
]}`

func TestParseLBObjects(t *testing.T) {
	t.Parallel()
	objs, err := parseLBObjects([]byte(lbObjectsJSON))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.String())
	}
	want := []string{
		"Ingress production/sovd-webapp (finalizers: ingress.k8s.aws/resources)",
		"Service production/api",
		"Service production/web",
		"Service tools/grafana",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parsed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := parseLBObjects([]byte("error: the server doesn't have a resource type")); err == nil {
		t.Error("parsed what is not a list")
	}
}

func TestKubectlArgv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got  []string
		want string
	}{
		{KubectlListLBObjects("kc"), "get ingresses,services --all-namespaces --output json --kubeconfig kc"},
		{KubectlDeleteIngresses("kc"), "delete ingresses --all --all-namespaces --ignore-not-found --wait=false --kubeconfig kc"},
		{KubectlDeleteServices("ns", []string{"a", "b"}, "kc"), "delete services --namespace ns a b --ignore-not-found --wait=false --kubeconfig kc"},
		{KubectlListLBServices("kc"), `get services --all-namespaces --output jsonpath={range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace} {.metadata.name}{"\n"}{end} --kubeconfig kc`},
		{TaggedLoadBalancersCheck("c1", "eu-west-1"), "resourcegroupstaggingapi get-resources --region eu-west-1 --tag-filters Key=elbv2.k8s.aws/cluster,Values=c1 " +
			"--resource-type-filters elasticloadbalancing:loadbalancer elasticloadbalancing:targetgroup --query ResourceTagMappingList[].ResourceARN"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("argv %q\nwant   %q", got, tt.want)
		}
	}
}

// TestDeleteLoadBalancersTranscript: with the cluster there, the kubeconfig
// is written, every Ingress and each LoadBalancer Service is deleted, and the
// step waits for AWS and then for the objects' finalizers.
func TestDeleteLoadBalancersTranscript(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st, progress, _ := teardownState(t, r)
	kc := st.Path(KubeconfigFile)
	r.Expect(`eksctl utils write-kubeconfig --cluster sovd-staging-cluster --region us-east-1 --kubeconfig ` + kc)
	list := `kubectl get ingresses,services --all-namespaces --output json --kubeconfig ` + kc
	r.Expect(list).Stdout(lbObjectsJSON)
	r.Expect(`kubectl delete ingresses --all --all-namespaces --ignore-not-found --wait=false --kubeconfig ` + kc)
	r.Expect(`kubectl delete services --namespace production api web --ignore-not-found --wait=false --kubeconfig ` + kc)
	r.Expect(`kubectl delete services --namespace tools grafana --ignore-not-found --wait=false --kubeconfig ` + kc)
	// The finalizer is still there once AWS is clean, then it is gone.
	r.Expect(list).Stdout(`{"items":[{"kind":"Ingress","metadata":{"namespace":"production","name":"sovd-webapp","deletionTimestamp":"2026-11-24T12:00:00Z","finalizers":["ingress.k8s.aws/resources"]}}]}`)
	r.Expect(list).Stdout(`{"items":[]}`)
	lb := cloud.Leftover{Kind: cloud.KindLoadBalancer, ID: "k8s-production-sovdweba-0123456789"}
	tg := cloud.Leftover{Kind: cloud.KindTargetGroup, ID: "k8s-producti-web-0123456789"}
	aws := &fakeTeardown{exists: []bool{true}, lbs: [][]cloud.Leftover{{lb, tg}, {tg}, {}}}
	step := DeleteLoadBalancers{AWS: aws, Poll: time.Millisecond, Every: time.Nanosecond}
	if err := step.Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(aws.deleted) != 0 {
		t.Errorf("deleted %v itself while the controller runs", aws.deleted)
	}
	for _, want := range []string{
		"deleting 1 Ingress and 3 LoadBalancer Services",
		"waiting for 1 load balancer, 1 target group to go",
		"waiting for 1 Ingress to go",
	} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
}

// TestDeleteLoadBalancersClusterGone: with no cluster there is nothing to
// run kubectl against and no controller: the step deletes what the
// controller left, and a re-run finds nothing.
func TestDeleteLoadBalancersClusterGone(t *testing.T) {
	t.Parallel()
	st, _, _ := teardownState(t, proctest.New(t)) // runs nothing
	lb := cloud.Leftover{Kind: cloud.KindLoadBalancer, ID: "k8s-lb"}
	tg := cloud.Leftover{Kind: cloud.KindTargetGroup, ID: "k8s-tg"}
	aws := &fakeTeardown{exists: []bool{false}, lbs: [][]cloud.Leftover{{lb, tg}, {tg}, {}},
		// The listener holds the target group a moment after its load balancer went.
		deleteErrs: map[string][]error{"k8s-tg": {fmt.Errorf("deleting target group k8s-tg: %w", cloud.ErrInUse)}}}
	step := DeleteLoadBalancers{AWS: aws, Poll: time.Millisecond}
	if err := step.Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if strings.Join(aws.deleted, " ") != "k8s-lb k8s-tg" {
		t.Errorf("deleted %v", aws.deleted)
	}
	if err := step.Run(context.Background(), st); err != nil {
		t.Fatalf("re-run: %v", err)
	}
}

// TestDeleteLoadBalancersClusterGoneMeanwhile: kubectl fails because EKS
// deleted the cluster in between: already gone.
func TestDeleteLoadBalancersClusterGoneMeanwhile(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st, _, _ := teardownState(t, r)
	r.Expect(`kubectl get ingresses,services .*`).Exit(1).Stdout("Unable to connect to the server: dial tcp: lookup ABC.gr7.us-east-1.eks.amazonaws.com: no such host")
	aws := &fakeTeardown{exists: []bool{true, false}}
	if err := (DeleteLoadBalancers{AWS: aws, Kubeconfig: "/kc"}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteLoadBalancersUnreachable: kubectl fails and the cluster is
// there: the step stops and says how to check access.
func TestDeleteLoadBalancersUnreachable(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st, _, _ := teardownState(t, r)
	r.Expect(`kubectl get ingresses,services .*`).Exit(1).Stdout("error: You must be logged in to the server (Unauthorized)")
	aws := &fakeTeardown{exists: []bool{true}}
	err := (DeleteLoadBalancers{AWS: aws, Kubeconfig: "/kc"}).Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "check access with: kubectl --kubeconfig /kc get namespaces") {
		t.Fatalf("err = %v", err)
	}
}

// TestDeleteLoadBalancersTimeout: the wait is bounded and says what is left
// and where to look.
func TestDeleteLoadBalancersTimeout(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st, progress, _ := teardownState(t, r)
	r.Expect(`kubectl get ingresses,services .*`).Stdout(`{"items":[]}`)
	r.Expect(`kubectl delete ingresses .*`)
	lb := cloud.Leftover{Kind: cloud.KindLoadBalancer, ID: "k8s-stuck"}
	aws := &fakeTeardown{exists: []bool{true}, lbs: [][]cloud.Leftover{{lb}}}
	start := time.Now()
	err := (DeleteLoadBalancers{AWS: aws, Kubeconfig: "/kc", Wait: 300 * time.Millisecond, Poll: 20 * time.Millisecond, Every: 40 * time.Millisecond}).Run(context.Background(), st)
	if err == nil {
		t.Fatal("no error after the wait")
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %s, want about 300ms", d)
	}
	for _, want := range []string{"after 300ms, still there: load balancer k8s-stuck",
		"kubectl --kubeconfig /kc --namespace kube-system logs deployment/aws-load-balancer-controller"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if n := strings.Count(progress.String(), "waiting for 1 load balancer to go"); n < 2 {
		t.Errorf("%d progress lines while waiting, want some:\n%s", n, progress)
	}
}

func TestDeleteLoadBalancersCancelled(t *testing.T) {
	t.Parallel()
	st, _, _ := teardownState(t, proctest.New(t))
	aws := &fakeTeardown{exists: []bool{false}, lbs: [][]cloud.Leftover{{{Kind: cloud.KindTargetGroup, ID: "k8s-tg"}}},
		deleteErrs: map[string][]error{"k8s-tg": make([]error, 1000)}}
	for i := range aws.deleteErrs["k8s-tg"] {
		aws.deleteErrs["k8s-tg"][i] = cloud.ErrInUse
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(errors.New("interrupted")) })
	err := (DeleteLoadBalancers{AWS: aws, Poll: 10 * time.Millisecond}).Run(ctx, st)
	if err == nil || err.Error() != "interrupted" {
		t.Fatalf("err = %v, want the context's cause", err)
	}
}

// TestSweepReport: what is safe is deleted (retrying while something going
// still holds it), what is not is reported, and a delete that fails fails
// the step.
func TestSweepReport(t *testing.T) {
	t.Parallel()
	st, progress, out := teardownState(t, nil)
	tags := map[string]string{"kubernetes.io/cluster/sovd-staging-cluster": "owned"}
	leftovers := []cloud.Leftover{
		{Kind: cloud.KindLoadBalancer, ID: "k8s-web", Tags: map[string]string{cloud.TagELBv2Cluster: "sovd-staging-cluster"}, Safe: true, Why: "made by the load balancer controller for this cluster"},
		{Kind: cloud.KindENI, ID: "eni-1", Tags: tags, Why: "in use (in-use, attached to i-1)"},
		{Kind: cloud.KindSecurityGroup, ID: "sg-1", Tags: tags, Safe: true, Why: "not used by anything that stays (k8s-web)"},
		{Kind: cloud.KindSecurityGroup, ID: "sg-2", Tags: tags, Safe: true, Why: "not used by anything that stays (other)"},
	}
	aws := &fakeTeardown{
		deleteErrs: map[string][]error{
			"sg-1": {fmt.Errorf("deleting security group sg-1: %w", cloud.ErrInUse), fmt.Errorf("deleting security group sg-1: %w", cloud.ErrInUse)},
			"sg-2": {errors.New("deleting security group sg-2: UnauthorizedOperation")},
		},
	}
	// What the policy found (classify's own test covers the verdicts).
	err := (SweepLeftovers{Poll: time.Millisecond}).sweep(context.Background(), st, aws, leftovers)
	if err == nil || !strings.Contains(err.Error(), "1 of 4 leftovers could not be deleted") || !strings.Contains(err.Error(), "UnauthorizedOperation") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(aws.deleted, " ") != "k8s-web sg-1" {
		t.Errorf("deleted %v", aws.deleted)
	}
	want := `TYPE               ID       TAGS                                              RESULT
load balancer      k8s-web  elbv2.k8s.aws/cluster=sovd-staging-cluster        deleted: made by the load balancer controller for this cluster
network interface  eni-1    kubernetes.io/cluster/sovd-staging-cluster=owned  kept: in use (in-use, attached to i-1)
security group     sg-1     kubernetes.io/cluster/sovd-staging-cluster=owned  deleted: not used by anything that stays (k8s-web)
security group     sg-2     kubernetes.io/cluster/sovd-staging-cluster=owned  delete failed: deleting security group sg-2: UnauthorizedOperation
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(progress.String(), "1 leftover kept (table above): check each, then delete it by hand, e.g. aws ec2 delete-network-interface --region us-east-1 --network-interface-id eni-1") {
		t.Errorf("progress:\n%s", progress)
	}
}

func TestSweepNothingLeft(t *testing.T) {
	t.Parallel()
	st, progress, out := teardownState(t, nil)
	if err := (SweepLeftovers{AWS: &fakeTeardown{}}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || !strings.Contains(progress.String(), "nothing tagged for cluster sovd-staging-cluster or environment staging is left") {
		t.Errorf("out %q, progress %q", out, progress)
	}
}

// TestTeardownStepsDescribeOffline: plan and runbook need no AWS and no
// cluster.
func TestTeardownStepsDescribeOffline(t *testing.T) {
	t.Parallel()
	st, _, _ := teardownState(t, nil)
	st.AWS = noAWS(t)
	descs, err := Describe(context.Background(), st, []Step{DeleteLoadBalancers{}, SweepLeftovers{}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range descs {
		for _, a := range d.Actions {
			if a.Script != "" {
				// A script's first deletion names it (sweepscript.go).
				del := regexp.MustCompile(`aws ec2 delete-[a-z-]+`).FindString(a.Script)
				lines = append(lines, a.Tool+" script: "+del)
				continue
			}
			lines = append(lines, a.Tool+" "+strings.Join(a.Args, " "))
		}
	}
	kc := st.Path(KubeconfigFile)
	want := []string{
		"eksctl utils write-kubeconfig --cluster sovd-staging-cluster --region us-east-1 --kubeconfig " + kc,
		"kubectl delete ingresses --all --all-namespaces --ignore-not-found --wait=false --kubeconfig " + kc,
		"kubectl delete services --namespace <namespace> <name> --ignore-not-found --wait=false --kubeconfig " + kc,
		"aws resourcegroupstaggingapi get-resources --region us-east-1 --tag-filters Key=elbv2.k8s.aws/cluster,Values=sovd-staging-cluster --resource-type-filters elasticloadbalancing:loadbalancer elasticloadbalancing:targetgroup --query ResourceTagMappingList[].ResourceARN",
		"aws resourcegroupstaggingapi get-resources --region us-east-1 --tag-filters Key=kubernetes.io/cluster/sovd-staging-cluster",
		"aws resourcegroupstaggingapi get-resources --region us-east-1 --tag-filters Key=elbv2.k8s.aws/cluster,Values=sovd-staging-cluster",
		"aws resourcegroupstaggingapi get-resources --region us-east-1 --tag-filters Key=alpha.eksctl.io/cluster-name,Values=sovd-staging-cluster",
		"aws resourcegroupstaggingapi get-resources --region us-east-1 --tag-filters Key=cluster.k8s.amazonaws.com/name,Values=sovd-staging-cluster",
		"aws resourcegroupstaggingapi get-resources --region us-east-1 --tag-filters Key=Environment,Values=staging Key=Application,Values=sovd Key=ManagedBy,Values=bootstrap",
		"aws elbv2 delete-load-balancer --region us-east-1 --load-balancer-arn <arn>",
		"aws elbv2 delete-target-group --region us-east-1 --target-group-arn <arn>",
		"aws ec2 release-address --region us-east-1 --allocation-id <eipalloc-id>",
		"bash script: aws ec2 delete-network-interface",
		"bash script: aws ec2 delete-security-group",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// With a kubeconfig given, nothing is written.
	d, err := (DeleteLoadBalancers{Kubeconfig: "/kc"}).Describe(context.Background(), st)
	if err != nil || d.Actions[0].Tool != "kubectl" {
		t.Errorf("with a kubeconfig: %+v, %v", d.Actions[0], err)
	}
}

// --- Against moto (and the local control plane); skipped with -short. ---

// mkCluster makes an EKS cluster in moto: the step then takes the cluster as
// there and runs kubectl.
func mkCluster(t *testing.T, c *cloud.Clients, name string, subnets []string) {
	t.Helper()
	_, err := c.EKS.CreateCluster(context.Background(), &eks.CreateClusterInput{Name: aws.String(name),
		RoleArn:            aws.String("arn:aws:iam::" + testenv.MotoAccountID + ":role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: subnets}})
	if err != nil {
		t.Fatal(err)
	}
}

func mkVPC(t *testing.T, c *cloud.Clients, cidr string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	v, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	vpc := aws.ToString(v.Vpc.VpcId)
	prefix := strings.TrimSuffix(cidr, ".0.0/16")
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc),
			CidrBlock: aws.String(fmt.Sprintf("%s.%d.0/24", prefix, i+1)), AvailabilityZone: aws.String(az)})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	return vpc, subnets
}

// mkLoadBalancer makes what the controller makes for an Ingress: an ALB with
// a security group, a target group and a listener, tagged for the cluster.
func mkLoadBalancer(t *testing.T, c *cloud.Clients, cluster, name, vpc string, subnets []string) (lbARN, tgARN, sg string) {
	t.Helper()
	ctx := context.Background()
	tags := []elbv2types.Tag{{Key: aws.String(cloud.TagELBv2Cluster), Value: aws.String(cluster)}}
	g, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String(name), Description: aws.String(name),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags: []ec2types.Tag{{Key: aws.String(cloud.TagELBv2Cluster), Value: aws.String(cluster)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	sg = aws.ToString(g.GroupId)
	lb, err := c.ELBv2().CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets, SecurityGroups: []string{sg}, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := c.ELBv2().CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name + "-80"), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(vpc), TargetType: elbv2types.TargetTypeEnumIp, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	lbARN, tgARN = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := c.ELBv2().CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}); err != nil {
		t.Fatal(err)
	}
	return lbARN, tgARN, sg
}

func motoClients(t *testing.T) *cloud.Clients {
	t.Helper()
	testenv.Moto(t).Use(t)
	c, err := cloud.New(context.Background(), testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeleteLoadBalancersWaitAgainstMoto: while the cluster is there the
// step waits for the controller; here a goroutine plays the controller and
// deletes the load balancer and target group after a while. With nobody
// deleting them, the wait ends in a clear error.
func TestDeleteLoadBalancersWaitAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	c := motoClients(t)
	ctx := context.Background()
	vpc, subnets := mkVPC(t, c, "10.40.0.0/16")
	cluster := config.Builtin("staging").Cluster.Name
	mkCluster(t, c, cluster, subnets)
	lb, tg, _ := mkLoadBalancer(t, c, cluster, "k8s-production-sovdweba", vpc, subnets)
	// Another cluster's load balancer is none of this step's business.
	mkLoadBalancer(t, c, "other-cluster", "k8s-other", vpc, subnets)

	t.Run("times out", func(t *testing.T) {
		r := proctest.New(t)
		st, _, _ := teardownState(t, r)
		r.Expect(`kubectl get ingresses,services .*`).Stdout(`{"items":[]}`)
		r.Expect(`kubectl delete ingresses .*`)
		err := (DeleteLoadBalancers{Kubeconfig: "/kc", Wait: 1500 * time.Millisecond, Poll: 200 * time.Millisecond}).Run(ctx, st)
		if err == nil || !strings.Contains(err.Error(), "after 1.5s, still there: load balancer k8s-production-sovdweba; target group k8s-production-sovdweba-80") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "k8s-other") {
			t.Errorf("waits for another cluster's load balancer: %v", err)
		}
	})

	t.Run("returns once they are gone", func(t *testing.T) {
		r := proctest.New(t)
		st, _, _ := teardownState(t, r)
		r.Expect(`kubectl get ingresses,services .*`).Stdout(`{"items":[]}`)
		r.Expect(`kubectl delete ingresses .*`)
		r.Expect(`kubectl get ingresses,services .*`).Stdout(`{"items":[]}`)
		const delay = 1500 * time.Millisecond
		done := make(chan error, 1)
		go func() {
			time.Sleep(delay)
			_, err := c.ELBv2().DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lb)})
			if err == nil {
				_, err = c.ELBv2().DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)})
			}
			done <- err
		}()
		start := time.Now()
		if err := (DeleteLoadBalancers{Kubeconfig: "/kc", Wait: time.Minute, Poll: 200 * time.Millisecond}).Run(ctx, st); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < delay || d > 30*time.Second {
			t.Errorf("returned after %s; the controller took %s", d, delay)
		}
	})
}

// TestDeleteLoadBalancersClusterGoneAgainstMoto: with the cluster gone, the
// step deletes what the controller left for it, and nothing else.
func TestDeleteLoadBalancersClusterGoneAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	c := motoClients(t)
	ctx := context.Background()
	vpc, subnets := mkVPC(t, c, "10.41.0.0/16")
	cluster := config.Builtin("staging").Cluster.Name
	mkLoadBalancer(t, c, cluster, "k8s-left", vpc, subnets)
	other, _, _ := mkLoadBalancer(t, c, "other-cluster", "k8s-other", vpc, subnets)
	st, _, _ := teardownState(t, proctest.New(t)) // runs nothing
	step := DeleteLoadBalancers{Wait: 30 * time.Second, Poll: 200 * time.Millisecond}
	for i := 0; i < 2; i++ {
		if err := step.Run(ctx, st); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if left, err := c.ClusterLoadBalancers(ctx, cluster); err != nil || len(left) != 0 {
		t.Errorf("left %+v, %v", left, err)
	}
	if left, err := c.ClusterLoadBalancers(ctx, "other-cluster"); err != nil || len(left) != 2 || left[0].ARN != other {
		t.Errorf("the other cluster's: %+v, %v", left, err)
	}
}

// TestSweepAgainstMoto: after eksctl, what is tagged for the cluster (in its
// VPC, or an address with the cluster's and all three of the environment's
// tags) and safe to delete is deleted and the rest reported; a second run deletes
// nothing more; once a person has freed what was kept, the sweep deletes it
// and then finds nothing.
func TestSweepAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	c := motoClients(t)
	ctx := context.Background()
	p := config.Builtin("staging")
	cluster := p.Cluster.Name
	vpc, subnets := mkVPC(t, c, "10.42.0.0/16")
	ec2Tags := func(rt ec2types.ResourceType, kv ...string) []ec2types.TagSpecification {
		var tags []ec2types.Tag
		for i := 0; i < len(kv); i += 2 {
			tags = append(tags, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return []ec2types.TagSpecification{{ResourceType: rt, Tags: tags}}
	}
	owned := []string{"kubernetes.io/cluster/" + cluster, "owned"}

	lb, tg, lbSG := mkLoadBalancer(t, c, cluster, "k8s-left", vpc, subnets)
	n, err := c.EC2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnets[0]),
		TagSpecifications: ec2Tags(ec2types.ResourceTypeNetworkInterface, cloud.TagCNICluster, cluster)})
	if err != nil {
		t.Fatal(err)
	}
	freeENI := aws.ToString(n.NetworkInterface.NetworkInterfaceId)
	g, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String("node"), Description: aws.String("node"),
		TagSpecifications: ec2Tags(ec2types.ResourceTypeSecurityGroup, owned...)})
	if err != nil {
		t.Fatal(err)
	}
	busySG := aws.ToString(g.GroupId)
	n, err = c.EC2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnets[0]), Groups: []string{busySG},
		TagSpecifications: ec2Tags(ec2types.ResourceTypeNetworkInterface, owned...)})
	if err != nil {
		t.Fatal(err)
	}
	busyENI := aws.ToString(n.NetworkInterface.NetworkInterfaceId)
	inst, err := c.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnets[0])})
	if err != nil {
		t.Fatal(err)
	}
	att, err := c.EC2.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(busyENI), InstanceId: inst.Instances[0].InstanceId, DeviceIndex: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	var eips []string
	for i := 0; i < 2; i++ {
		a, err := c.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc,
			TagSpecifications: ec2Tags(ec2types.ResourceTypeElasticIp, "Environment", "staging", "Application", "sovd", "ManagedBy", "bootstrap", "alpha.eksctl.io/cluster-name", cluster)})
		if err != nil {
			t.Fatal(err)
		}
		eips = append(eips, aws.ToString(a.AllocationId))
	}
	freeEIP, usedEIP := eips[0], eips[1]
	assoc, err := c.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(usedEIP), NetworkInterfaceId: aws.String(busyENI)})
	if err != nil {
		t.Fatal(err)
	}
	// Production's are not staging's (the sweep does not even list it).
	if _, err := c.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc,
		TagSpecifications: ec2Tags(ec2types.ResourceTypeElasticIp, "Environment", "production", "Application", "sovd", "ManagedBy", "bootstrap")}); err != nil {
		t.Fatal(err)
	}

	sweep := SweepLeftovers{Settle: 10 * time.Second, Poll: 200 * time.Millisecond}
	run := func() (table, progress string) {
		t.Helper()
		st, prog, out := teardownState(t, nil)
		// Teardown read the cluster's network before eksctl deleted it; the
		// sweep keeps to that VPC (docs/layout.md, "Design: ownership").
		st.Network = &Network{VPCID: vpc}
		if err := sweep.Run(ctx, st); err != nil {
			t.Fatalf("sweep: %v\n%s", err, out)
		}
		return out.String(), prog.String()
	}
	// Rows by ID: every kind's name is two words, then ID, TAGS, RESULT.
	rows := func(table string) map[string]string {
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
			f := strings.Fields(line)
			m[f[2]] = strings.Join(f[4:], " ")
		}
		return m
	}

	table, _ := run()
	t.Logf("first sweep:\n%s", table)
	got := rows(table)
	for id, want := range map[string]string{
		"k8s-left": "deleted", "k8s-left-80": "deleted", lbSG: "deleted", freeENI: "deleted", freeEIP: "deleted",
		busyENI: "kept: in use", busySG: "kept: used by " + busyENI, usedEIP: "kept: associated with",
	} {
		if !strings.HasPrefix(got[id], want) {
			t.Errorf("%s: %q, want %q...\n%s", id, got[id], want, table)
		}
	}
	if len(got) != 8 {
		t.Errorf("%d rows, want 8:\n%s", len(got), table)
	}
	if left, err := c.ClusterLoadBalancers(ctx, cluster); err != nil || len(left) != 0 {
		t.Errorf("load balancers left: %+v, %v (%s, %s)", left, err, lb, tg)
	}

	// Again: the kept ones, reported, nothing deleted.
	table, _ = run()
	got = rows(table)
	if len(got) != 3 || strings.Contains(table, "deleted") {
		t.Errorf("second run:\n%s", table)
	}

	// A person frees what was kept; the sweep then deletes it, in order.
	if _, err := c.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EC2.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: att.AttachmentId}); err != nil {
		t.Fatal(err)
	}
	table, _ = run()
	if strings.Count(table, "deleted") != 3 {
		t.Errorf("third run:\n%s", table)
	}
	table, progress := run()
	if table != "" || !strings.Contains(progress, "nothing tagged for cluster "+cluster+" or environment staging is left") {
		t.Errorf("fourth run: table %q, progress %q", table, progress)
	}
}

// TestDeleteLoadBalancersOnLocalControlPlane: kubectl for real against a
// real API server: the Ingress and the LoadBalancer Service go, a ClusterIP
// Service stays. No controller runs there and moto has no load balancer, so
// the wait ends at once.
func TestDeleteLoadBalancersOnLocalControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local control plane and moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	kc := testenv.Kube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", err.Error())
	}
	c := motoClients(t)
	ctx := context.Background()
	_, subnets := mkVPC(t, c, "10.43.0.0/16")
	mkCluster(t, c, config.Builtin("staging").Cluster.Name, subnets)

	ns := fmt.Sprintf("teardown-%d", time.Now().UnixNano()%1e9)
	apply := func(manifest string) {
		t.Helper()
		cmd := exec.Command(kubectl, "--kubeconfig", kc, "apply", "-f", "-")
		cmd.Stdin = strings.NewReader(manifest)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
	}
	apply(`apiVersion: v1
kind: Namespace
metadata:
  name: ` + ns + `
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: ` + ns + `
spec:
  defaultBackend:
    service:
      name: web
      port:
        number: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ` + ns + `
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: internal
  namespace: ` + ns + `
spec:
  selector: {app: web}
  ports: [{port: 80}]
`)
	t.Cleanup(func() {
		_ = exec.Command(kubectl, "--kubeconfig", kc, "delete", "namespace", ns, "--wait=false").Run()
	})

	log := &bytes.Buffer{}
	st, progress, _ := teardownState(t, &proc.Exec{Log: log})
	st.Tools["kubectl"] = kubectl
	if err := (DeleteLoadBalancers{Kubeconfig: kc, Wait: time.Minute, Poll: 200 * time.Millisecond}).Run(ctx, st); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if !strings.Contains(progress.String(), "deleting 1 Ingress and 1 LoadBalancer Service") {
		t.Errorf("progress:\n%s", progress)
	}
	out, err := exec.Command(kubectl, "--kubeconfig", kc, "get", "ingresses,services", "--namespace", ns,
		"--output", "jsonpath={range .items[*]}{.kind}/{.metadata.name} {end}").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "Service/internal" {
		t.Errorf("left in %s: %q, want only Service/internal", ns, got)
	}
	if _, err := os.Stat(st.Path(KubeconfigFile)); err == nil {
		t.Error("wrote a kubeconfig though one was given")
	}
}
