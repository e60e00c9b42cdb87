package runbook

import (
	"path"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// Verification is the runbook's checks of a built environment, as steps:
// each reads the live system and changes nothing but its own check pod.
// Names and keys are the tool's own (the add-on pins, the ExternalSecret's
// Secret and its keys), so the checks cannot drift from what up makes.
// (Issue 15's `bootstrap verify` is to run the same checks: it replaces
// this function's content.)
func Verification(p *config.Profile, dir string) []pipeline.Description {
	r, c := p.Region, p.Cluster.Name
	kc := path.Join(dir, "kubeconfig")
	ns := p.App.Namespace
	kubectl := func(args ...string) pipeline.Action {
		return pipeline.Action{Tool: "kubectl", Args: append(args, "--kubeconfig", kc)}
	}
	var releases []pipeline.Action
	for _, ch := range []addons.Chart{addons.LoadBalancerController, addons.MetricsServer, addons.ExternalSecrets} {
		releases = append(releases, kubectl("rollout", "status", "--namespace", ch.Namespace, "deployment/"+ch.Release, "--timeout", "5m"))
	}
	releases[0].Note = "the add-ons' deployments are rolled out"
	releases = append(releases, pipeline.Action{Tool: "helm", Args: []string{"list", "--all-namespaces", "--kubeconfig", kc},
		Note: "chart versions as pinned: " + addons.LoadBalancerController.NameVersion() + ", " + addons.MetricsServer.NameVersion() + ", " + addons.ExternalSecrets.NameVersion()})

	checkPod := path.Join(dir, "manifests", "connectivity-check.yaml")
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
			{Tool: "kubectl", Args: []string{"apply", "--filename", checkPod, "--kubeconfig", kc},
				Note:  "a pod in the app's namespace with the app's own variables (DATABASE_URL, REDIS_URL from the Secret " + addons.AppSecretName + "), over TLS: the security groups admit the cluster alone",
				Files: []pipeline.File{{Path: checkPod, Content: connectivityPod(ns)}}},
			kubectl("wait", "--namespace", ns, "--for=jsonpath={.status.phase}=Succeeded", "pod/sovd-connectivity-check", "--timeout", "3m"),
			kubectl("logs", "--namespace", ns, "sovd-connectivity-check", "--container", "psql"),
			kubectl("logs", "--namespace", ns, "sovd-connectivity-check", "--container", "redis"),
			kubectl("delete", "--namespace", ns, "pod/sovd-connectivity-check", "--ignore-not-found"),
		}},
	}
}

// connectivityPod runs psql and redis-cli with the app's connection URLs.
func connectivityPod(ns string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: sovd-connectivity-check
  namespace: ` + ns + `
spec:
  restartPolicy: Never
  containers:
  - name: psql
    image: postgres:15
    command: [sh, -c, 'psql "$DATABASE_URL" -c "select version(), ssl from pg_stat_ssl where pid = pg_backend_pid()"']
    env:
    - {name: DATABASE_URL, valueFrom: {secretKeyRef: {name: ` + addons.AppSecretName + `, key: DATABASE_URL}}}
  - name: redis
    image: redis:7
    # --insecure skips certificate verification only; add --cacert with Amazon's CA to verify.
    command: [sh, -c, 'redis-cli -u "$REDIS_URL" --tls --insecure PING']
    env:
    - {name: REDIS_URL, valueFrom: {secretKeyRef: {name: ` + addons.AppSecretName + `, key: REDIS_URL}}}
`
}
