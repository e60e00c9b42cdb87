// Package config is bootstrap.yaml: its types, the built-in staging and
// production profiles, strict loading and validation.
//
// Loading follows kind's order: read apiVersion and kind, decode strictly
// (unknown keys are errors), apply defaults, then validate and report every
// problem at once, each with its path and a hint. Invalid input is found here,
// before any process starts or any AWS resource is touched.
package config

import (
	"fmt"
	"strings"
)

// APIVersion and Kind identify a bootstrap.yaml.
const (
	APIVersion = "bootstrap.sovd.io/v1alpha1"
	Kind       = "Config"
)

// File is the whole of bootstrap.yaml.
type File struct {
	APIVersion   string              `json:"apiVersion"`
	Kind         string              `json:"kind"`
	Environments map[string]*Profile `json:"environments"`

	// decodeProblems are the file's unknown keys and values of the wrong
	// kind; Validate reports them with its own.
	decodeProblems Problems
	// path is the file read ("" for the built-in profiles); lines maps a
	// value's path to its line in the file.
	path  string
	lines map[string]int
}

// Profile is everything bootstrap needs to build one environment.
type Profile struct {
	// Name is the environment's name (the key under environments); not in YAML.
	Name string `json:"-"`

	// AccountID, when set, is the only AWS account this environment may be
	// built in: a run with another account's credentials stops at once.
	AccountID         string   `json:"accountID,omitempty"`
	Region            string   `json:"region"`
	AvailabilityZones []string `json:"availabilityZones"`
	// Architecture is the processor architecture of the nodes, the
	// database and the cache together: x86_64, or arm64 for Graviton (t4g
	// or m7g nodes, db.t4g, cache.t4g). Every instance type must be of it.
	Architecture string   `json:"architecture"`
	Cluster      Cluster  `json:"cluster"`
	Database     Database `json:"database"`
	Redis        Redis    `json:"redis"`
	Storage      Storage  `json:"storage"`
	Registry     Registry `json:"registry"`
	Secrets      Secrets  `json:"secrets"`
	App          App      `json:"app"`
	State        State    `json:"state"`
	Budget       Budget   `json:"budget"`
	// Usage is what the cost estimate assumes AWS bills by use.
	Usage      Usage             `json:"usage"`
	Protection Protection        `json:"protection"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// Protection is what keeps an environment's data from being lost by a
// teardown or a mistake. It is on in every built-in profile but staging's,
// so a new environment (whatever its name) is protected until its profile
// says otherwise; nothing else decides it. secrets.recoveryWindowDays is the
// fourth part: how long a deleted secret can be restored.
type Protection struct {
	// DeletionProtection keeps RDS from deleting the database; teardown
	// lifts it, after asking, just before destroying.
	DeletionProtection bool `json:"deletionProtection"`
	// FinalSnapshot makes teardown leave a final RDS snapshot.
	FinalSnapshot bool `json:"finalSnapshot"`
	// TypedConfirmation makes teardown ask for the environment's name (or
	// --confirm=<name>) besides --yes.
	TypedConfirmation bool `json:"typedConfirmation"`
}

// Cluster is the EKS cluster eksctl creates.
type Cluster struct {
	Name              string `json:"name"`
	KubernetesVersion string `json:"kubernetesVersion"`
	VPCCIDR           string `json:"vpcCIDR"`
	// NAT is eksctl's NAT mode: HighlyAvailable (one per AZ) or Single.
	NAT       string    `json:"nat"`
	NodeGroup NodeGroup `json:"nodeGroup"`
	// Logging lists the control-plane log types sent to CloudWatch.
	Logging []string `json:"logging"`
	// KMSKeyARN, when set, enables envelope encryption of Kubernetes Secrets:
	// at create, or on an existing cluster without a key (the cluster step
	// runs eksctl utils enable-secrets-encryption). EKS cannot change or
	// remove a cluster's key. Protected profiles need one (ReadyToCreate).
	KMSKeyARN string `json:"kmsKeyARN,omitempty"`
	// SupportType is the cluster's EKS upgrade policy (eksctl's
	// upgradePolicy.supportType): STANDARD, and EKS upgrades the cluster
	// when its Kubernetes version leaves standard support; EXTENDED, and
	// the control plane is billed at the extended-support rate from then
	// until someone upgrades it. eksctl's own default is EXTENDED; the
	// built-in profiles say STANDARD.
	SupportType string `json:"supportType"`
	// EndpointAccess is who reaches the Kubernetes API server.
	EndpointAccess EndpointAccess `json:"endpointAccess"`
}

// EndpointAccess is the EKS API server endpoint's access: from inside the
// VPC (private), from the internet (public), limited to PublicCIDRs. It
// applies at create and, on an existing cluster, through eksctl utils
// update-cluster-vpc-config. A protected profile with public access needs
// PublicCIDRs (ReadyToCreate).
type EndpointAccess struct {
	Private     bool     `json:"private"`
	Public      bool     `json:"public"`
	PublicCIDRs []string `json:"publicCIDRs,omitempty"`
}

// NodeGroup is the managed node group, placed in the private subnets.
type NodeGroup struct {
	Name         string `json:"name"`
	InstanceType string `json:"instanceType"`
	Desired      int    `json:"desired"`
	Min          int    `json:"min"`
	Max          int    `json:"max"`
	VolumeSizeGB int    `json:"volumeSizeGB"`
}

// Database is the RDS PostgreSQL instance.
type Database struct {
	Identifier            string `json:"identifier"`
	EngineVersion         string `json:"engineVersion"`
	InstanceClass         string `json:"instanceClass"`
	MultiAZ               bool   `json:"multiAZ"`
	AllocatedStorageGB    int    `json:"allocatedStorageGB"`
	MaxAllocatedStorageGB int    `json:"maxAllocatedStorageGB"`
	BackupRetentionDays   int    `json:"backupRetentionDays"`
	Name                  string `json:"name"`
	// Username is the RDS master user; only bootstrap's role Job connects
	// as it.
	Username string `json:"username"`
	Port     int    `json:"port"`
	// AppRole is the app's own role (a NOLOGIN group owning its objects)
	// and the prefix of its two logins, <appRole>_1 and <appRole>_2
	// (internal/dbrole).
	AppRole string `json:"appRole"`
	// PasswordRotationDays: bootstrap up or addons rotates the app's
	// database password when the current one is at least this old; 0
	// never rotates on age.
	PasswordRotationDays int `json:"passwordRotationDays"`
}

// Redis is the ElastiCache Redis replication group.
type Redis struct {
	ReplicationGroupID string `json:"replicationGroupId"`
	EngineVersion      string `json:"engineVersion"`
	NodeType           string `json:"nodeType"`
	NumCacheClusters   int    `json:"numCacheClusters"`
	AutomaticFailover  bool   `json:"automaticFailover"`
	MultiAZ            bool   `json:"multiAZ"`
	Port               int    `json:"port"`
}

// Storage is the S3 bucket for backups and logs.
type Storage struct {
	// Bucket defaults to <prefix>-backups-<account-id>, resolved when the
	// account is known (S3 names are global).
	Bucket string `json:"bucket,omitempty"`
}

// Registry is the ECR repositories the app's images go to.
type Registry struct {
	Repositories []string `json:"repositories"`
}

// Secrets is where the app's secrets live in Secrets Manager.
type Secrets struct {
	// Prefix is the path under which database, jwt and redis live.
	Prefix string `json:"prefix"`
	// RecoveryWindowDays is 0 (delete at once) or 7–30.
	RecoveryWindowDays int `json:"recoveryWindowDays"`
	// Generation of the generated JWT and Redis secrets, 1 or more (the
	// root's generated_secrets_version): raising it by one makes the next
	// `bootstrap data` write new random values, and hand Redis its new
	// AUTH token beside the old one (ElastiCache ROTATE) in the same run.
	Generation int `json:"generation"`
}

// App is what the SOVD web app's Helm chart needs from the platform.
type App struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	// RoleName is the fixed IRSA role name, so its ARN is known in advance.
	RoleName string `json:"roleName"`
	// Domain is the app's host name (global.domain and the ingress host);
	// with it the data tier makes an ACM certificate validated through
	// Route53. Empty: no certificate, no host name.
	Domain string `json:"domain,omitempty"`
	// HostedZoneID is the public Route53 zone that holds Domain. Optional:
	// when empty, the zone is found by name (the public zone whose name is
	// the longest suffix of Domain); a missing or ambiguous zone stops the
	// run before anything is made.
	HostedZoneID string `json:"hostedZoneID,omitempty"`
}

// State is the Terraform state backend.
type State struct {
	// Bucket defaults to bootstrap-tfstate-<account-id>-<region>.
	Bucket string `json:"bucket,omitempty"`
}

// Budget is the monthly band the cost estimate is checked against, in USD.
type Budget struct {
	MonthlyMin float64 `json:"monthlyMin"`
	MonthlyMax float64 `json:"monthlyMax"`
}

// Prefix is the stem of this environment's resource names: sovd-<env>.
func (p *Profile) Prefix() string { return "sovd-" + p.Name }

// Protected reports whether the profile asks to keep this environment's data
// (any part of its protection on): its changes then wait for the maintenance
// window, and destroy does not empty the bucket or the repositories unasked.
func (p *Profile) Protected() bool {
	pr := p.Protection
	return pr.DeletionProtection || pr.FinalSnapshot || pr.TypedConfirmation
}

// SecretNames are the app's three secrets, in a fixed order.
func (p *Profile) SecretNames() []string {
	return []string{p.Secrets.Prefix + "/database", p.Secrets.Prefix + "/jwt", p.Secrets.Prefix + "/redis"}
}

// StateBucketName is the Terraform state bucket for an account.
func (p *Profile) StateBucketName(accountID string) string {
	if p.State.Bucket != "" {
		return p.State.Bucket
	}
	return "bootstrap-tfstate-" + accountID + "-" + p.Region
}

// StateKey is this environment's key in the state bucket.
func (p *Profile) StateKey() string { return "sovd/" + p.Name + "/stateful.tfstate" }

// StorageBucketName is the backups and logs bucket for an account.
func (p *Profile) StorageBucketName(accountID string) string {
	if p.Storage.Bucket != "" {
		return p.Storage.Bucket
	}
	return p.Prefix() + "-backups-" + accountID
}

// AccessLogSuffix makes the name of the bucket that receives the storage
// bucket's server access logs: <storage bucket>-access-logs, as
// terraform/stateful/s3.tf's local.access_log_bucket names it.
const AccessLogSuffix = "-access-logs"

// MaxStorageBucketLen is the longest storage bucket name whose access-log
// bucket still fits S3's 63 characters (terraform/stateful/variables.tf
// bucket_name's second validation says the same; agree_test proves it).
const MaxStorageBucketLen = 63 - len(AccessLogSuffix)

// AccessLogBucketName is the bucket of the storage bucket's access logs.
func (p *Profile) AccessLogBucketName(accountID string) string {
	return p.StorageBucketName(accountID) + AccessLogSuffix
}

// AddonRole is the IRSA role an add-on (addons/) has eksctl make for it:
// <prefix>-<Suffix>, fixed so that its ARN is known before it exists. The
// roles are listed here, in AddonRoles, because the checks of a profile
// (the role name's length, names two environments share) need them and
// config imports nothing of the project; the add-on's record in addons/
// names its entry, and a test there fails for an entry no record uses or a
// record whose entry is missing.
type AddonRole struct {
	// Suffix makes the role's name: <prefix>-<Suffix>.
	Suffix string
	// What names the role in problems: "IRSA role of External Secrets".
	What string
}

// The add-on roles. A new add-on with an IRSA role adds one line here and
// names it in its record (addons.IRSA.Role).
var (
	RoleLoadBalancerController = AddonRole{"aws-load-balancer-controller", "IRSA role of the load balancer controller"}
	RoleExternalSecrets        = AddonRole{"external-secrets", "IRSA role of External Secrets"}
	RoleExternalDNS            = AddonRole{"external-dns", "IRSA role of external-dns"}
)

// AddonRoles are every add-on's IRSA role, in the add-ons' install order.
func AddonRoles() []AddonRole {
	return []AddonRole{RoleLoadBalancerController, RoleExternalSecrets, RoleExternalDNS}
}

// Role is the name of an add-on's IRSA role in this environment.
func (p *Profile) Role(r AddonRole) string { return p.Prefix() + "-" + r.Suffix }

// AllTags are the tags every AWS resource carries.
func (p *Profile) AllTags() map[string]string {
	t := map[string]string{
		"Environment": p.Name,
		"Application": "sovd",
		"ManagedBy":   "bootstrap",
	}
	for k, v := range p.Tags {
		t[k] = v
	}
	return t
}

// DescribeProtection says in one line what the profile's protection keeps,
// for plan: each part on or off.
func (p *Profile) DescribeProtection() string {
	pr := p.Protection
	part := func(on bool, what string) string {
		if on {
			return what + " on"
		}
		return what + " OFF"
	}
	window := "secrets deleted at once"
	if p.Secrets.RecoveryWindowDays > 0 {
		window = fmt.Sprintf("secrets recoverable for %d days", p.Secrets.RecoveryWindowDays)
	}
	return strings.Join([]string{
		part(pr.DeletionProtection, "deletion protection"),
		part(pr.FinalSnapshot, "final snapshot at teardown"),
		part(pr.TypedConfirmation, "typed confirmation at teardown"),
		window,
	}, ", ")
}
