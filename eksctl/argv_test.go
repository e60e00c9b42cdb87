package eksctl

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestArgv(t *testing.T) {
	t.Parallel()
	const f = ".bootstrap/production/cluster.yaml"
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"create cluster", CreateCluster(f), "create cluster -f " + f},
		{"create iamserviceaccount", CreateIAMServiceAccounts(f), "create iamserviceaccount -f " + f + " --approve"},
		{"update iamserviceaccount", UpdateIAMServiceAccounts(f), "update iamserviceaccount -f " + f + " --approve"},
		{"delete addon", DeleteAddon("sovd-production-cluster", "metrics-server", "us-east-1"),
			"delete addon --cluster sovd-production-cluster --name metrics-server --region us-east-1"},
		{"create nodegroup", CreateNodeGroups(f), "create nodegroup -f " + f},
		{"associate oidc", AssociateOIDCProvider(f), "utils associate-iam-oidc-provider -f " + f + " --approve"},
		{"update vpc config", UpdateClusterVPCConfig(f), "utils update-cluster-vpc-config -f " + f + " --approve"},
		{"enable secrets encryption", EnableSecretsEncryption(f), "utils enable-secrets-encryption -f " + f + " --approve"},
		{"get cluster", GetCluster("sovd-production-cluster", "us-east-1"), "get cluster --name sovd-production-cluster --region us-east-1 -o json"},
		{"delete cluster", DeleteCluster("sovd-production-cluster", "us-east-1"),
			"delete cluster --name sovd-production-cluster --region us-east-1 --wait --disable-nodegroup-eviction"},
		{"delete nodegroup", DeleteNodeGroup("sovd-production-cluster", "general", "us-east-1"),
			"delete nodegroup --cluster sovd-production-cluster --name general --region us-east-1 --wait --disable-eviction"},
		{"write kubeconfig", WriteKubeconfig("sovd-production-cluster", "us-east-1", ".bootstrap/production/kubeconfig"),
			"utils write-kubeconfig --cluster sovd-production-cluster --region us-east-1 --kubeconfig .bootstrap/production/kubeconfig"},
		{"version", Version(), "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(tt.got, " "); got != tt.want {
				t.Errorf("argv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		out     string
		wantErr string
	}{
		{"0.230.0\n", ""},
		{"0.231.1\n", ""},
		{"1.0.0\n", ""},
		{"0.230.0-dev+abc1234.2026-01-01T00:00:00Z\n", ""},
		{"0.229.9\n", "older than 0.230.0"},
		{"0.99.0\n", "older than 0.230.0"},
		{"", "no version"},
		{"eksctl: command not understood\n", "no version"},
	}
	for _, tt := range tests {
		t.Run(tt.out, func(t *testing.T) {
			t.Parallel()
			err := CheckVersion(tt.out)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckVersion(%q) = %v", tt.out, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckVersion(%q) = %v, want error with %q", tt.out, err, tt.wantErr)
			}
		})
	}
}

func TestCheckStacks(t *testing.T) {
	t.Parallel()
	const c, r = "sovd-production-cluster", "us-east-1"
	tests := []struct {
		name      string
		stacks    []Stack
		wantClear string
		wantWait  bool
		wantNil   bool
	}{
		{"healthy", []Stack{{ClusterStack(c), "CREATE_COMPLETE", ""}, {NodeGroupStack(c, "general"), "UPDATE_COMPLETE", ""}}, "", false, true},
		{"other cluster failed", []Stack{{ClusterStack("other"), "ROLLBACK_COMPLETE", ""}}, "", false, true},
		{"cluster stack rolled back", []Stack{{ClusterStack(c), "ROLLBACK_COMPLETE", "The following resource(s) failed to create: [ControlPlane]"}},
			"eksctl delete cluster --name sovd-production-cluster --region us-east-1 --wait", false, false},
		{"node group create failed", []Stack{{ClusterStack(c), "CREATE_COMPLETE", ""}, {NodeGroupStack(c, "general"), "CREATE_FAILED", ""}},
			"eksctl delete nodegroup --cluster sovd-production-cluster --region us-east-1 --name general --wait", false, false},
		{"irsa stack rolled back", []Stack{{IAMServiceAccountStack(c, "kube-system", "aws-load-balancer-controller"), "ROLLBACK_COMPLETE", ""}},
			"aws cloudformation delete-stack --region us-east-1 --stack-name eksctl-sovd-production-cluster-addon-iamserviceaccount-kube-system-aws-load-balancer-controller", false, false},
		{"update rollback failed", []Stack{{ClusterStack(c), "UPDATE_ROLLBACK_FAILED", ""}},
			"aws cloudformation continue-update-rollback --region us-east-1 --stack-name eksctl-sovd-production-cluster-cluster", false, false},
		{"delete failed", []Stack{{ClusterStack(c), "DELETE_FAILED", ""}},
			"eksctl delete cluster --name sovd-production-cluster --region us-east-1 --wait", false, false},
		{"busy", []Stack{{ClusterStack(c), "CREATE_IN_PROGRESS", ""}}, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := CheckStacks(c, r, tt.stacks)
			if tt.wantNil {
				if p != nil {
					t.Fatalf("CheckStacks = %v, want nil", p)
				}
				return
			}
			if p == nil {
				t.Fatal("CheckStacks = nil, want a problem")
			}
			if p.Wait != tt.wantWait {
				t.Errorf("Wait = %v", p.Wait)
			}
			if got := strings.Join(p.Clear, " "); got != tt.wantClear {
				t.Errorf("Clear = %q, want %q", got, tt.wantClear)
			}
			msg := p.Error()
			if !strings.Contains(msg, p.Stack.Name) || !strings.Contains(msg, p.Stack.Status) {
				t.Errorf("message does not name the stack and its state: %s", msg)
			}
			if tt.wantClear != "" && !strings.Contains(msg, tt.wantClear) {
				t.Errorf("message does not show the clearing command: %s", msg)
			}
		})
	}
}

func TestStackNames(t *testing.T) {
	t.Parallel()
	got := []string{
		ClusterStack("c"), NodeGroupStack("c", "general"), IAMServiceAccountStack("c", "kube-system", "aws-load-balancer-controller"),
	}
	want := []string{"eksctl-c-cluster", "eksctl-c-nodegroup-general", "eksctl-c-addon-iamserviceaccount-kube-system-aws-load-balancer-controller"}
	if !slices.Equal(got, want) {
		t.Errorf("stack names = %v, want %v", got, want)
	}
}
