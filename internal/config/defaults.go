package config

import "fmt"

// Builtin returns the built-in profile for an environment: the seed's values
// for production and staging (names such as sovd-production-cluster, database
// sovd_production, user sovd_admin), and a staging-shaped profile named after
// any other environment.
//
// Protection: every built-in profile is protected (deletion protection, final
// snapshot, typed confirmation, a 30-day secret recovery window) except the
// built-in staging, which turns it off. That exception holds only where the
// built-in profiles are used as they are: with no bootstrap.yaml (BuiltinFile,
// e.g. `--env staging` with no file). An environment a file names starts from
// FileBase, protected whatever its name, so a file's `staging: {}` is
// protected; `bootstrap init` writes staging's protection-off keys out.
func Builtin(env string) *Profile {
	p := &Profile{
		Name:              env,
		Region:            "us-east-1",
		AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		// x86_64 as the seed says (t3.large nodes); arm64 with the Graviton
		// types is the cheaper option `bootstrap cost` prices beside it.
		Architecture: ArchX86,
		Cluster: Cluster{
			Name:              "sovd-" + env + "-cluster",
			KubernetesVersion: "1.35",
			VPCCIDR:           "10.2.0.0/16",
			NAT:               "Single",
			NodeGroup: NodeGroup{
				Name: "general", InstanceType: "t3.medium",
				Desired: 2, Min: 2, Max: 4, VolumeSizeGB: 30,
			},
			Logging:     []string{"api", "audit", "authenticator"},
			SupportType: SupportStandard,
			// Nodes reach the API server inside the VPC; operators over the
			// public endpoint, which a protected profile must limit to its
			// CIDRs before the cluster is made (no default can know them).
			EndpointAccess: EndpointAccess{Private: true, Public: true},
		},
		Database: Database{
			Identifier:            "sovd-" + env,
			EngineVersion:         "15",
			InstanceClass:         "db.t3.medium",
			MultiAZ:               false,
			AllocatedStorageGB:    20,
			MaxAllocatedStorageGB: 100,
			BackupRetentionDays:   1,
			Name:                  "sovd_" + sqlName(env),
			Username:              "sovd_admin",
			Port:                  5432,
			AppRole:               "sovd_app",
			PasswordRotationDays:  30,
		},
		Redis: Redis{
			ReplicationGroupID: "sovd-" + env,
			EngineVersion:      "7.1",
			NodeType:           "cache.t3.small",
			NumCacheClusters:   1,
			Port:               6379,
		},
		// Each environment owns its repositories (docs/layout.md, "Design:
		// ownership"): its teardown deletes them with their images, so no
		// two environments may share one.
		Registry: Registry{Repositories: []string{"sovd-" + env + "-backend", "sovd-" + env + "-frontend"}},
		Secrets:  Secrets{Prefix: "sovd/" + env, RecoveryWindowDays: protectedRecoveryWindowDays, Generation: 1},
		App: App{
			Namespace:      env,
			ServiceAccount: "sovd-webapp-" + env + "-sa",
			RoleName:       "sovd-webapp-" + env,
		},
		Budget:     Budget{MonthlyMin: 150, MonthlyMax: 400},
		Usage:      defaultUsage(),
		Protection: fullProtection,
	}
	switch env {
	case "staging":
		// The seed's staging: cheap, and torn down and rebuilt at will, so
		// the built-in profile turns its protection off. A file's staging
		// does not inherit this (FileBase): it says so in its own keys.
		p.Cluster.VPCCIDR = "10.1.0.0/16"
		// A test bed: a fraction of production's traffic, logs and images
		// in flux.
		p.Usage.NATGB = 50
		p.Usage.ALBLCUs = 0.5
		p.Usage.BucketGB = 10
		p.Usage.AccessLogGB = 1
		p.Usage.ControlPlaneLogGB = map[string]float64{"api": 5, "audit": 10, "authenticator": 1, "controllerManager": 2, "scheduler": 1}
		p.Usage.NodeCPUPercent = 25
		p.Usage.DatabaseCPUPercent = 10
		p.Usage.KMSRequests = 30000
		p.Protection = Protection{}
		p.Secrets.RecoveryWindowDays = 0
	case "production":
		// The seed: 3 AZs with a NAT gateway each, 3 × t3.large, RDS Multi-AZ
		// with 7-day backups and deletion protection, Redis with a replica and
		// automatic failover, inside $500–800 a month.
		p.Cluster.VPCCIDR = "10.0.0.0/16"
		p.Cluster.NAT = "HighlyAvailable"
		p.Cluster.NodeGroup = NodeGroup{
			Name: "general", InstanceType: "t3.large",
			Desired: 3, Min: 3, Max: 6, VolumeSizeGB: 50,
		}
		p.Database.InstanceClass = "db.t3.large"
		p.Database.MultiAZ = true
		p.Database.AllocatedStorageGB = 100
		p.Database.MaxAllocatedStorageGB = 500
		p.Database.BackupRetentionDays = 7
		p.Redis.NodeType = "cache.t3.medium"
		p.Redis.NumCacheClusters = 2
		p.Redis.AutomaticFailover = true
		p.Redis.MultiAZ = true
		// The seed's names, which the app's values-production.yaml uses.
		p.Registry.Repositories = []string{"sovd-backend", "sovd-frontend"}
		// The seed's global.domain (values-production.yaml); its hosted
		// zone is found by name in Route53.
		p.App.Domain = "sovd.production.com"
		p.Budget = Budget{MonthlyMin: 500, MonthlyMax: 800}
	}
	return p
}

// fullProtection is every part of Protection on: what a profile has unless it
// turns parts off.
var fullProtection = Protection{DeletionProtection: true, FinalSnapshot: true, TypedConfirmation: true}

// protectedRecoveryWindowDays is a protected profile's secret recovery
// window: the longest Secrets Manager allows.
const protectedRecoveryWindowDays = 30

// FileBase is what an environment a file names starts from before the file's
// keys are laid over it: Builtin's sizes and names, with protection fully on
// and a 30-day secret recovery window whatever the environment is called. A
// file turns protection off only with its own keys (protection.* false,
// secrets.recoveryWindowDays: 0), so no name, "staging" included, leaves an
// environment unprotected by accident.
func FileBase(env string) *Profile {
	p := Builtin(env)
	p.Protection = fullProtection
	p.Secrets.RecoveryWindowDays = protectedRecoveryWindowDays
	return p
}

// BuiltinEnvironments are the environments that exist with no file.
var BuiltinEnvironments = []string{"staging", "production"}

// BuiltinFile is the configuration used when there is no bootstrap.yaml, and
// what `bootstrap init` writes for editing.
func BuiltinFile() *File {
	f := &File{APIVersion: APIVersion, Kind: Kind, Environments: map[string]*Profile{}}
	for _, env := range BuiltinEnvironments {
		f.Environments[env] = Builtin(env)
	}
	return f
}

// sqlName turns an environment name into a PostgreSQL identifier part.
func sqlName(env string) string {
	b := []byte(env)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// String names a profile in messages.
func (p *Profile) String() string { return fmt.Sprintf("environment %q", p.Name) }
