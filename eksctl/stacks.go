package eksctl

import (
	"fmt"
	"strings"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/internal/shell"
)

// eksctl keeps everything it makes in CloudFormation stacks named after the
// cluster. A stack left in a failed state blocks the next `eksctl create`
// (CloudFormation refuses a second stack of the same name) until it is
// cleared, so bootstrap looks for them first and says how to clear them.

// ClusterNameTag is the tag eksctl puts the cluster's name under on what
// its stacks make (v1alpha5.ClusterNameTag).
const ClusterNameTag = api.ClusterNameTag

// StackPrefix is the start of every stack eksctl makes for a cluster.
func StackPrefix(cluster string) string { return "eksctl-" + cluster + "-" }

// ClusterStack is the stack of the VPC and control plane.
func ClusterStack(cluster string) string { return StackPrefix(cluster) + "cluster" }

// NodeGroupStack is the stack of one node group.
func NodeGroupStack(cluster, nodeGroup string) string {
	return StackPrefix(cluster) + "nodegroup-" + nodeGroup
}

// IAMServiceAccountStack is the stack of one IRSA role.
func IAMServiceAccountStack(cluster, namespace, name string) string {
	return StackPrefix(cluster) + "addon-iamserviceaccount-" + namespace + "-" + name
}

// Stack is a CloudFormation stack's name and status.
type Stack struct {
	Name   string
	Status string
	Reason string
}

// StackProblem is a stack that stops eksctl from converging, with the
// command that clears it.
type StackProblem struct {
	Stack   Stack
	Cluster string
	Region  string
	// Clear is the command that clears the state, as argv with the program.
	Clear []string
	// Wait is true when the stack is busy rather than broken: another run
	// is changing it, and waiting is the fix.
	Wait bool
}

func (p *StackProblem) Error() string {
	s := p.Stack
	what := fmt.Sprintf("CloudFormation stack %s is %s", s.Name, s.Status)
	if s.Reason != "" {
		what += " (" + s.Reason + ")"
	}
	if p.Wait {
		return what + ": another eksctl run is changing it; wait until it finishes, then run bootstrap again"
	}
	return what + ", left by an earlier failed run; eksctl cannot continue until it is cleared. Clear it with:\n  " +
		shell.Quote(p.Clear) + "\nthen run bootstrap again"
}

// CheckStacks returns the first stack of the cluster that blocks eksctl, or
// nil. Stacks of other clusters are ignored.
func CheckStacks(cluster, region string, stacks []Stack) *StackProblem {
	for _, s := range stacks {
		if !strings.HasPrefix(s.Name, StackPrefix(cluster)) {
			continue
		}
		switch {
		case strings.HasSuffix(s.Status, "_IN_PROGRESS"):
			return &StackProblem{Stack: s, Cluster: cluster, Region: region, Wait: true}
		case s.Status == "UPDATE_ROLLBACK_FAILED":
			return &StackProblem{Stack: s, Cluster: cluster, Region: region,
				Clear: []string{"aws", "cloudformation", "continue-update-rollback", "--region", region, "--stack-name", s.Name}}
		case s.Status == "ROLLBACK_COMPLETE", s.Status == "ROLLBACK_FAILED", s.Status == "CREATE_FAILED", s.Status == "DELETE_FAILED":
			return &StackProblem{Stack: s, Cluster: cluster, Region: region, Clear: ClearStack(cluster, region, s.Name)}
		}
	}
	return nil
}

// ClearStack is the eksctl command that deletes a failed stack and what it
// holds: the whole cluster for the cluster stack (eksctl deletes a cluster
// whose control plane never came up from its stack alone), the node group or
// IRSA role for theirs, CloudFormation directly for anything else.
func ClearStack(cluster, region, stack string) []string {
	rest := strings.TrimPrefix(stack, StackPrefix(cluster))
	switch {
	case rest == "cluster":
		return []string{"eksctl", "delete", "cluster", "--name", cluster, "--region", region, "--wait"}
	case strings.HasPrefix(rest, "nodegroup-"):
		return []string{"eksctl", "delete", "nodegroup", "--cluster", cluster, "--region", region,
			"--name", strings.TrimPrefix(rest, "nodegroup-"), "--wait"}
	}
	return []string{"aws", "cloudformation", "delete-stack", "--region", region, "--stack-name", stack}
}
