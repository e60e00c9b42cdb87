package config

import (
	"fmt"
	"slices"
	"time"
)

// Usage is what AWS bills by use and no profile field fixes: the estimate's
// assumptions, stated as inputs a profile can change (usage: in
// bootstrap.yaml) rather than constants hidden in the estimate. Every field
// is per month unless it says otherwise; internal/cost prices them and lists
// each under the estimate, and shows the low and high end of each
// (internal/cost's LowUsage and HighUsage).
//
// The defaults (defaultUsage) are a small production web app on the seed's
// shape, reasoned below field by field; measure your own with Cost Explorer
// after a month and put them here.
type Usage struct {
	// NATGB is the data through all NAT gateways together, GB: image pulls
	// from ECR and public registries (no VPC endpoints, so ECR pulls pass
	// the NAT), OS and chart downloads, AWS API calls from the nodes.
	NATGB float64 `json:"natGB"`
	// ALBLCUs is the app load balancer's average load in LCUs (one LCU: 25
	// new connections/s, 3,000 active connections, 1 GB/h processed, or
	// 1,000 rule evaluations/s, whichever is highest).
	ALBLCUs float64 `json:"albLCUs"`
	// BucketGB is the backups bucket's size, GB, all versions counted.
	BucketGB float64 `json:"bucketGB"`
	// AccessLogGB is the access-log bucket's size, GB (S3 server access
	// logs of the backups bucket, kept storage.logRetentionDays).
	AccessLogGB float64 `json:"accessLogGB"`
	// RegistryGB is the images kept in ECR, GB (the lifecycle policy keeps
	// 10 tagged images per repository).
	RegistryGB float64 `json:"registryGB"`
	// ControlPlaneLogGB is a month of each EKS control-plane log type in
	// CloudWatch Logs, GB, by type (cluster.logging says which are on). The
	// audit log of a cluster with controllers (every add-on watches and
	// renews leases) is the largest by far.
	ControlPlaneLogGB map[string]float64 `json:"controlPlaneLogGB"`
	// DatabaseLogGB is the PostgreSQL logs RDS exports to CloudWatch Logs,
	// GB.
	DatabaseLogGB float64 `json:"databaseLogGB"`
	// MonitoringGB is RDS enhanced monitoring's OS metrics (the
	// RDSOSMetrics log group, one sample a minute), GB per DB instance.
	MonitoringGB float64 `json:"monitoringGB"`
	// NodeCPUPercent is the nodes' average CPU utilisation, 0–100. T3 and
	// T4g nodes run in unlimited mode (EC2's default for them): above the
	// type's baseline, each vCPU-hour of surplus credits is billed.
	NodeCPUPercent float64 `json:"nodeCPUPercent"`
	// DatabaseCPUPercent is the database instance's average CPU
	// utilisation, 0–100; db.t3 and db.t4g are unlimited in RDS too.
	DatabaseCPUPercent float64 `json:"databaseCPUPercent"`
	// KMSRequests is the requests to the customer-managed keys a month
	// (RDS, Secrets Manager reads by External Secrets, S3, CloudWatch Logs
	// and EKS envelope encryption), beyond KMS's 20,000 free ones.
	KMSRequests float64 `json:"kmsRequests"`
}

// defaultUsage is the expected usage of a small production web app: 100 GB
// through NAT (three nodes pulling two app images and the add-ons' on each
// deploy, a few deploys a week, plus package and API traffic); one LCU
// (about 25 new connections a second at peak, far less at night); a 50 GB
// backups bucket and 5 GB of its access logs; 10 GB of images (2
// repositories × 10 images × 0.5 GB); control-plane logs of 48 GB, where
// audit is 1 GB a day (every controller's watches and lease renewals are
// audited) and api half that, several times the 9 GB the first estimate
// assumed; 2 GB of PostgreSQL logs and 0.5 GB of OS metrics per DB
// instance; nodes at 35% CPU (the app's requests fill about 40% of three
// t3.large) and the database at 20%; 100,000 KMS requests.
func defaultUsage() Usage {
	return Usage{
		NATGB:       100,
		ALBLCUs:     1,
		BucketGB:    50,
		AccessLogGB: 5,
		RegistryGB:  10,
		ControlPlaneLogGB: map[string]float64{
			"api": 15, "audit": 30, "authenticator": 3, "controllerManager": 5, "scheduler": 2,
		},
		DatabaseLogGB:      2,
		MonitoringGB:       0.5,
		NodeCPUPercent:     35,
		DatabaseCPUPercent: 20,
		KMSRequests:        100000,
	}
}

// checkUsage refuses a negative volume, a utilisation outside 0–100 and a
// log type EKS does not have.
func checkUsage(v *validator, p *Profile, _ time.Time) {
	u := p.Usage
	for _, f := range []struct {
		key string
		val float64
	}{
		{"natGB", u.NATGB}, {"albLCUs", u.ALBLCUs}, {"bucketGB", u.BucketGB}, {"accessLogGB", u.AccessLogGB},
		{"registryGB", u.RegistryGB}, {"databaseLogGB", u.DatabaseLogGB}, {"monitoringGB", u.MonitoringGB}, {"kmsRequests", u.KMSRequests},
	} {
		v.check(f.val >= 0, "usage."+f.key, fmt.Sprintf("is %g", f.val), "a month's volume: 0 or more")
	}
	for _, f := range []struct {
		key string
		val float64
	}{{"nodeCPUPercent", u.NodeCPUPercent}, {"databaseCPUPercent", u.DatabaseCPUPercent}} {
		v.check(f.val >= 0 && f.val <= 100, "usage."+f.key, fmt.Sprintf("is %g", f.val), "an average utilisation in percent, 0–100")
	}
	for _, typ := range sortedKeysF(u.ControlPlaneLogGB) {
		if !slices.Contains(ControlPlaneLogTypes, typ) {
			v.add("usage.controlPlaneLogGB."+typ, "is not an EKS control-plane log type", "one of "+fmt.Sprint(ControlPlaneLogTypes))
			continue
		}
		if gb := u.ControlPlaneLogGB[typ]; gb < 0 {
			v.add("usage.controlPlaneLogGB."+typ, fmt.Sprintf("is %g", gb), "a month's volume: 0 or more")
		}
	}
}

func sortedKeysF(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
