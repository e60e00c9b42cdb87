package main

// The commands that bring an existing cluster to its file, as eksctl 0.230.0
// does them: utils update-cluster-vpc-config and utils
// enable-secrets-encryption. Each EKS update is waited for through
// DescribeUpdate (moto's are Successful at once: waitUpdate).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// updateClusterVPCConfig is `eksctl utils update-cluster-vpc-config -f`.
// Only the file form is imitated (bootstrap's); the flags form is not.
//
//   - pkg/ctl/cmdutils/update_cluster_vpc.go NewUpdateClusterVPCLoader: with
//     a file it says that only vpc.clusterEndpoints, vpc.publicAccessCIDRs,
//     vpc.controlPlaneSubnetIDs, vpc.controlPlaneSecurityGroupIDs and
//     vpc.controlPlaneEgressMode are updated, and applies
//     SetClusterEndpointAccessDefaults to the file's endpoints (loadConfig
//     does too).
//   - pkg/ctl/utils/update_cluster_vpc_config.go doUpdateClusterVPCConfig:
//     the cluster is described once (NewProviderForExistingCluster), "using
//     region", and only an ACTIVE cluster is updated (pkg/eks/eks.go
//     CanUpdate: "cannot update cluster %q in %q region due to status %q").
//   - pkg/ctl/utils/vpc_helper.go UpdateClusterVPCConfig: the endpoint
//     access first, then the public CIDRs when the file lists some (none
//     listed: the cluster's stay), each compared with that one description
//     and, when it differs, its own UpdateClusterConfig waited for
//     (pkg/eks/update.go UpdateClusterConfig, waitForUpdateToSucceed); what
//     matches is "already up-to-date". CIDRs compare as sets, none wanted
//     equalling ["0.0.0.0/0"] (cidrsEqual). A private-only endpoint logs
//     api.ErrClusterEndpointPrivateOnly as a warning. Without --approve it
//     logs "(plan) would ..." and changes nothing (cmdutils.LogIntendedAction,
//     LogPlanModeWarning).
func updateClusterVPCConfig(ctx context.Context, e *env, cfg *api.ClusterConfig, f *flags) error {
	info("only changes to vpc.clusterEndpoints, vpc.publicAccessCIDRs, vpc.controlPlaneSubnetIDs, vpc.controlPlaneSecurityGroupIDs and vpc.controlPlaneEgressMode are updated in the EKS API, changes to any other fields will be ignored")
	name, region := cfg.Metadata.Name, cfg.Metadata.Region
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	info("using region %s", region)
	if cl.Status != ekstypes.ClusterStatusActive {
		return fmt.Errorf("cannot update cluster %q in %q region due to status %q", name, region, cl.Status)
	}
	plan := !f.approve
	intended := func(format string, args ...any) {
		prefix := "will "
		if plan {
			prefix = "(plan) would "
		}
		info(prefix+format, args...)
	}
	current := cl.ResourcesVpcConfig
	if current == nil {
		current = &ekstypes.VpcConfigResponse{}
	}
	if ep := cfg.VPC.ClusterEndpoints; ep != nil {
		private, public := current.EndpointPrivateAccess, current.EndpointPublicAccess
		if ep.PrivateAccess != nil {
			private = *ep.PrivateAccess
		}
		if ep.PublicAccess != nil {
			public = *ep.PublicAccess
		}
		if private == current.EndpointPrivateAccess && public == current.EndpointPublicAccess {
			success("Kubernetes API endpoint access for cluster %q in %q is already up-to-date", name, region)
		} else {
			intended("update Kubernetes API endpoint access for cluster %q in %q to: privateAccess=%v, publicAccess=%v", name, region, private, public)
			if private && !public {
				warn("%s", api.ErrClusterEndpointPrivateOnly.Error())
			}
			if !plan {
				if err := updateClusterConfig(ctx, e, name, &ekstypes.VpcConfigRequest{EndpointPrivateAccess: aws.Bool(private), EndpointPublicAccess: aws.Bool(public)}); err != nil {
					return err
				}
				success("Kubernetes API endpoint access for cluster %q in %q has been updated to: privateAccess=%v, publicAccess=%v", name, region, private, public)
			}
		}
	}
	if want := cfg.VPC.PublicAccessCIDRs; want != nil {
		if cidrsEqual(current.PublicAccessCidrs, want) {
			success("public access CIDRs for cluster %q in %q are already up-to-date", name, region)
		} else {
			info("current public access CIDRs: %v", current.PublicAccessCidrs)
			intended("update public access CIDRs for cluster %q in %q to: %v", name, region, want)
			if !plan {
				if err := updateClusterConfig(ctx, e, name, &ekstypes.VpcConfigRequest{PublicAccessCidrs: want}); err != nil {
					return fmt.Errorf("error updating CIDRs for public access: %w", err)
				}
				success("public access CIDRs for cluster %q in %q have been updated to: %v", name, region, want)
			}
		}
	}
	if plan {
		warn("no changes were applied, run again with '--approve' to apply the changes")
	}
	return nil
}

// updateClusterConfig is pkg/eks/update.go UpdateClusterConfig: the call,
// then a wait on its update.
func updateClusterConfig(ctx context.Context, e *env, name string, vpc *ekstypes.VpcConfigRequest) error {
	out, err := e.eks.UpdateClusterConfig(ctx, &eks.UpdateClusterConfigInput{Name: aws.String(name), ResourcesVpcConfig: vpc})
	if err != nil {
		return err
	}
	if out.Update == nil {
		return fmt.Errorf("fakeeksctl: UpdateClusterConfig of cluster %s answered without an update (is moto patched?)", name)
	}
	return waitUpdate(ctx, e, name, out.Update, "", "")
}

// cidrsEqual is pkg/ctl/utils/vpc_helper.go cidrsEqual.
func cidrsEqual(current, want []string) bool {
	if len(want) == 0 && len(current) == 1 && current[0] == "0.0.0.0/0" {
		return true
	}
	a, b := slices.Clone(current), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// enableSecretsEncryption is `eksctl utils enable-secrets-encryption -f`.
//
//   - pkg/ctl/cmdutils/kms.go NewUtilsKMSLoader: the file must have
//     secretsEncryption.keyARN ("field secretsEncryption.keyARN is
//     required").
//   - pkg/ctl/utils/enable_secrets_encryption.go: --encrypt-existing-secrets
//     defaults to true; the timeout to 1h20m. --approve is accepted but
//     never read: the command applies with or without it.
//   - pkg/eks/update.go EnableKMSEncryption: DescribeCluster; a secrets
//     encryption config with the same key is "KMS encryption is already
//     enabled on the cluster" and success, with another key the error
//     "KMS encryption is already enabled with key %q, changing the key is
//     not supported"; otherwise AssociateEncryptionConfig ("error enabling
//     KMS encryption: ..." when it fails), "initiated KMS encryption, this
//     may take up to 45 minutes to complete", a wait on the update
//     (waiter.UpdateWaiter), "KMS encryption successfully enabled on cluster
//     %q".
//   - then, encrypting existing secrets (also when encryption was already
//     on): pkg/kubernetes/kms.go RefreshSecrets lists every Secret of every
//     namespace and writes each back unchanged, so that the API server
//     stores it encrypted. The fake does that with kubectl against
//     $FAKE_EKSCTL_KUBECONFIG when it is set; without it there is no
//     Kubernetes API and nothing to rewrite.
func enableSecretsEncryption(ctx context.Context, e *env, cfg *api.ClusterConfig, _ *flags) error {
	if cfg.SecretsEncryption == nil || cfg.SecretsEncryption.KeyARN == "" {
		return fmt.Errorf("field secretsEncryption.keyARN is required")
	}
	name, key := cfg.Metadata.Name, cfg.SecretsEncryption.KeyARN
	if _, err := describeCluster(ctx, e, name); err != nil { // NewProviderForExistingCluster
		return err
	}
	out, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("error describing cluster: %w", err)
	}
	enabled := false
	for _, c := range out.Cluster.EncryptionConfig {
		if len(c.Resources) == 1 && c.Resources[0] == "secrets" {
			if existing := aws.ToString(c.Provider.KeyArn); existing != key {
				return fmt.Errorf("KMS encryption is already enabled with key %q, changing the key is not supported", existing)
			}
			info("KMS encryption is already enabled on the cluster")
			enabled = true
		}
	}
	if !enabled {
		up, err := e.eks.AssociateEncryptionConfig(ctx, &eks.AssociateEncryptionConfigInput{
			ClusterName: aws.String(name),
			EncryptionConfig: []ekstypes.EncryptionConfig{{
				Resources: []string{"secrets"},
				Provider:  &ekstypes.Provider{KeyArn: aws.String(key)},
			}},
		})
		if err != nil {
			return fmt.Errorf("error enabling KMS encryption: %w", err)
		}
		info("initiated KMS encryption, this may take up to 45 minutes to complete")
		if err := waitUpdate(ctx, e, name, up.Update, "", ""); err != nil {
			return fmt.Errorf("failed to enable KMS encryption: %w", err)
		}
		info("KMS encryption successfully enabled on cluster %q", name)
	}
	info("updating all Secret resources to apply KMS encryption")
	if err := refreshSecrets(ctx); err != nil {
		return fmt.Errorf("error updating secrets: %w", err)
	}
	info("KMS encryption applied to all Secret resources")
	return nil
}

// refreshSecrets writes every Secret back as it is (RefreshSecrets), when
// there is an API server.
func refreshSecrets(ctx context.Context) error {
	kc := os.Getenv(envKubeconfig)
	if kc == "" {
		return nil
	}
	bin := os.Getenv("FAKE_EKSCTL_KUBECTL")
	if bin == "" {
		bin = "kubectl"
	}
	list, err := exec.CommandContext(ctx, bin, "get", "secrets", "--all-namespaces", "-o", "json", "--kubeconfig", kc).Output()
	if err != nil {
		return fmt.Errorf("error listing resources: %w", err)
	}
	if !strings.Contains(string(list), `"kind": "Secret"`) {
		return nil
	}
	return kubectl(ctx, string(list), "replace", "-f", "-")
}
