package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/eksctl"
)

// TestConvergeExistingCluster runs the fake as eksctl 0.230.0 runs on a
// cluster made with an open endpoint and no encryption: update-cluster-vpc-config
// plans without --approve, updates with it and then finds nothing to do;
// enable-secrets-encryption enables the file's key, is a no-op with the same
// key and refuses another, as moto (patched) refuses a second
// AssociateEncryptionConfig.
func TestConvergeExistingCluster(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	old := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.VPC.ClusterEndpoints = &api.ClusterEndpoints{PrivateAccess: api.Disabled(), PublicAccess: api.Enabled()}
		c.VPC.PublicAccessCIDRs = nil
		c.SecretsEncryption = nil
	})
	if out, err := f.run(t, "", eksctl.CreateCluster(old)...); err != nil {
		t.Fatalf("create cluster: %v\n%s", err, out)
	}
	desc := func() *ekstypes.Cluster {
		t.Helper()
		out, err := f.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(testCluster)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Cluster
	}
	if v := desc().ResourcesVpcConfig; v.EndpointPrivateAccess || !v.EndpointPublicAccess || !slices.Equal(v.PublicAccessCidrs, []string{"0.0.0.0/0"}) || len(desc().EncryptionConfig) != 0 {
		t.Fatalf("the old cluster: %+v, encryption %+v", v, desc().EncryptionConfig)
	}

	conf := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.VPC.ClusterEndpoints = &api.ClusterEndpoints{PrivateAccess: api.Enabled(), PublicAccess: api.Enabled()}
		c.VPC.PublicAccessCIDRs = []string{"203.0.113.0/24", "198.51.100.0/24"}
		c.SecretsEncryption = &api.SecretsEncryption{KeyARN: key}
	})
	vpc := eksctl.UpdateClusterVPCConfig(conf)
	plan := slices.DeleteFunc(slices.Clone(vpc), func(a string) bool { return a == "--approve" })
	out, err := f.run(t, "", plan...)
	if err != nil || !strings.Contains(out, "(plan) would update Kubernetes API endpoint access") || !strings.Contains(out, "no changes were applied") {
		t.Fatalf("update-cluster-vpc-config without --approve: %v\n%s", err, out)
	}
	if desc().ResourcesVpcConfig.EndpointPrivateAccess {
		t.Fatal("the plan changed the cluster")
	}
	out, err = f.run(t, "", vpc...)
	if err != nil {
		t.Fatalf("update-cluster-vpc-config: %v\n%s", err, out)
	}
	for _, want := range []string{
		`Kubernetes API endpoint access for cluster "` + testCluster + `" in "us-east-1" has been updated to: privateAccess=true, publicAccess=true`,
		"current public access CIDRs: [0.0.0.0/0]",
		"public access CIDRs for cluster",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("update-cluster-vpc-config output lacks %q:\n%s", want, out)
		}
	}
	v := desc().ResourcesVpcConfig
	cidrs := slices.Clone(v.PublicAccessCidrs)
	slices.Sort(cidrs)
	if !v.EndpointPrivateAccess || !v.EndpointPublicAccess || !slices.Equal(cidrs, []string{"198.51.100.0/24", "203.0.113.0/24"}) || aws.ToString(v.VpcId) == "" {
		t.Errorf("after update-cluster-vpc-config: %+v", v)
	}
	out, err = f.run(t, "", vpc...)
	if err != nil || strings.Count(out, "already up-to-date") != 2 || strings.Contains(out, "has been updated") {
		t.Errorf("update-cluster-vpc-config again: %v\n%s", err, out)
	}

	out, err = f.run(t, "", eksctl.EnableSecretsEncryption(conf)...)
	if err != nil || !strings.Contains(out, `KMS encryption successfully enabled on cluster "`+testCluster+`"`) {
		t.Fatalf("enable-secrets-encryption: %v\n%s", err, out)
	}
	enc := desc().EncryptionConfig
	if len(enc) != 1 || aws.ToString(enc[0].Provider.KeyArn) != key || !slices.Equal(enc[0].Resources, []string{"secrets"}) {
		t.Errorf("encryption after enable-secrets-encryption: %+v", enc)
	}
	out, err = f.run(t, "", eksctl.EnableSecretsEncryption(conf)...)
	if err != nil || !strings.Contains(out, "KMS encryption is already enabled on the cluster") || strings.Contains(out, "initiated KMS encryption") {
		t.Errorf("enable-secrets-encryption again: %v\n%s", err, out)
	}
	other := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.SecretsEncryption = &api.SecretsEncryption{KeyARN: "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"}
	})
	if out, err := f.run(t, "", eksctl.EnableSecretsEncryption(other)...); err == nil || !strings.Contains(out, `KMS encryption is already enabled with key "`+key+`", changing the key is not supported`) {
		t.Errorf("enable-secrets-encryption with another key: %v\n%s", err, out)
	}
	if out, err := f.run(t, "", eksctl.EnableSecretsEncryption(old)...); err == nil || !strings.Contains(out, "field secretsEncryption.keyARN is required") {
		t.Errorf("enable-secrets-encryption without a key: %v\n%s", err, out)
	}
	// EKS itself refuses a second encryption configuration.
	_, err = f.eks.AssociateEncryptionConfig(ctx, &eks.AssociateEncryptionConfigInput{ClusterName: aws.String(testCluster),
		EncryptionConfig: []ekstypes.EncryptionConfig{{Resources: []string{"secrets"}, Provider: &ekstypes.Provider{KeyArn: aws.String(key)}}}})
	var invalid *ekstypes.InvalidRequestException
	if !errors.As(err, &invalid) {
		t.Errorf("a second AssociateEncryptionConfig: %v, want InvalidRequestException", err)
	}
}
