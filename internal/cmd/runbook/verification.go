package runbook

import (
	"path"
	"strings"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/verify"
)

// Verification is the runbook's checks of a built environment, as steps:
// each reads the live system and changes nothing but its own check pod.
// Names and keys are the tool's own (the add-on pins, the ExternalSecret's
// Secret and its keys), so the checks cannot drift from what up makes.
// The in-cluster check is `bootstrap verify`'s own Job (verify.JobManifest,
// running verify.Script), so the runbook and the command cannot disagree.
func Verification(p *config.Profile, dir string) ([]pipeline.Description, error) {
	r, c := p.Region, p.Cluster.Name
	kc := path.Join(dir, "kubeconfig")
	ns := p.App.Namespace
	kubectl := func(args ...string) pipeline.Action {
		return pipeline.Action{Tool: "kubectl", Args: append(args, "--kubeconfig", kc)}
	}
	// Each release's workloads, found by Helm's release annotation (a
	// chart names its Deployments as it likes: Reloader's is
	// <release>-reloader, External Secrets makes three), as the verify
	// row finds them.
	var releases []pipeline.Action
	var pins []string
	for _, ch := range addons.Charts() {
		releases = append(releases, pipeline.Action{Tool: "kubectl", Script: verify.RolloutScript(ch, kc, "5m")})
		pins = append(pins, ch.NameVersion())
	}
	releases[0].Note = "every Deployment, StatefulSet and DaemonSet of each add-on's release is rolled out"
	releases = append(releases, pipeline.Action{Tool: "helm", Args: []string{"list", "--all-namespaces", "--kubeconfig", kc},
		Note: "chart versions as pinned: " + strings.Join(pins, ", ")})

	checkJob := path.Join(dir, "manifests", verifyJob+".yaml")
	job, err := verify.JobManifest(p, verifyJob)
	if err != nil {
		return nil, err
	}
	return []pipeline.Description{
		{Step: "Checking the cluster", Actions: []pipeline.Action{
			{Tool: "aws", Args: []string{"eks", "describe-cluster", "--region", r, "--name", c,
				"--query", "cluster.[status,version,resourcesVpcConfig.endpointPrivateAccess]", "--output", "text"},
				Note: "ACTIVE, Kubernetes " + p.Cluster.KubernetesVersion + ", private endpoint on"},
			kubectl("get", "nodes", "--label-columns", "topology.kubernetes.io/zone,node.kubernetes.io/instance-type"),
		}},
		{Step: "Checking the network", Actions: []pipeline.Action{
			{Tool: "aws", Args: []string{"ec2", "describe-subnets", "--region", r, "--filters", "Name=vpc-id,Values=<vpc-id>",
				"--query", "Subnets[].[AvailabilityZone,CidrBlock,MapPublicIpOnLaunch]", "--output", "text"},
				Note: "a public and a private subnet in each zone"},
			{Tool: "aws", Args: []string{"ec2", "describe-nat-gateways", "--region", r, "--filter", "Name=vpc-id,Values=<vpc-id>",
				"--query", "NatGateways[].[SubnetId,State]", "--output", "text"},
				Note: "the NAT gateways available"},
		}},
		{Step: "Checking the add-ons", Actions: releases},
		{Step: "Checking the data tier", Actions: []pipeline.Action{
			{Tool: "aws", Args: []string{"rds", "describe-db-instances", "--region", r, "--db-instance-identifier", p.Database.Identifier,
				"--query", "DBInstances[0].[DBInstanceStatus,Engine,EngineVersion,MultiAZ,DeletionProtection,BackupRetentionPeriod]", "--output", "text"}},
			{Tool: "aws", Args: []string{"elasticache", "describe-replication-groups", "--region", r, "--replication-group-id", p.Redis.ReplicationGroupID,
				"--query", "ReplicationGroups[0].[Status,AutomaticFailover,MultiAZ,TransitEncryptionEnabled,AuthTokenEnabled]", "--output", "text"}},
		}},
		{Step: "Checking that the secrets are synced", Actions: []pipeline.Action{
			kubectl("wait", "--for=condition=Ready", "clustersecretstore/"+addons.SecretStoreName, "--timeout", "2m"),
			kubectl("wait", "--for=condition=Ready", "--namespace", ns, "externalsecret/"+addons.AppSecretName, "--timeout", "2m"),
		}},
		{Step: "Reaching PostgreSQL and Redis from the cluster", Actions: []pipeline.Action{
			{Tool: "kubectl", Args: []string{"apply", "--filename", checkJob, "--kubeconfig", kc},
				Note: "the Job `bootstrap verify` runs, in the app's namespace with the app's service account and Secret " + addons.AppSecretName +
					": PostgreSQL over TLS answers `select 1` and refuses plaintext; Redis answers PING over TLS with AUTH and refuses without; each container's termination message holds its rows",
				Files: []pipeline.File{{Path: checkJob, Content: string(job)}}},
			kubectl("wait", "--namespace", ns, "--for=jsonpath={.status.succeeded}=1", "job/"+verifyJob, "--timeout", "3m"),
			kubectl("get", "pods", "--namespace", ns, "--selector", "job-name="+verifyJob, "--output",
				"jsonpath={range .items[0].status.containerStatuses[*]}{.state.terminated.message}{end}"),
			kubectl("delete", "--namespace", ns, "job/"+verifyJob, "--cascade=foreground", "--ignore-not-found"),
		}},
	}, nil
}

// verifyJob is the check Job's name, as `bootstrap verify --commands` names it.
const verifyJob = "bootstrap-verify"
