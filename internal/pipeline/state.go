package pipeline

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// State is what steps share within one run. It is the only place data lives
// between steps; nothing here is the state of record (that is the live
// cluster and the Terraform remote state), so another machine can resume.
// It is the profile and the run's mode, the Services the steps use, and the
// Facts the run has learned about the live environment.
type State struct {
	// Profile is the validated environment.
	Profile *config.Profile
	// Dir is the run directory, .bootstrap/<env>: rendered files and logs.
	Dir string

	// Live is set by plan when AWS answered: describing steps may then read
	// the live system (a real terraform plan) without changing it.
	Live bool
	// ReadOnly marks a run that changes nothing and takes no lock (plan,
	// values): Terraform works in a directory of its own, so that its init
	// never rewrites the working directory of an up or data running in the
	// same checkout.
	ReadOnly bool

	Services
	Facts

	// lane is the name of the Parallel lane this copy of the State runs.
	lane string
}

// Services are what steps use to act: programs, AWS, output. They are
// shared by every lane of a Parallel step (each lane gets its own labelled
// writers).
type Services struct {
	// Runner runs eksctl, helm, kubectl and aws.
	Runner proc.Runner
	// Tools are the programs' paths, by name ("eksctl", "helm", ...); a
	// missing entry means the bare name, looked up in PATH.
	Tools map[string]string
	// AWS is the run's AWS handle, opened on first use (LazyAWS); steps get
	// it through Cloud. One handle per run: one configuration load, one
	// credential cache.
	AWS OpenAWSFunc
	// Terraform is the run's Terraform driver for terraform/stateful,
	// opened on first use (st.Stateful) and shared by the lanes: one binary
	// lookup, one init per backend, the state read once per change. Run
	// makes a new one for each run.
	Terraform *TerraformHandle
	// Redact hides secret values in every output.
	Redact *proc.Redactor
	// Progress reports steps on stderr.
	Progress *Progress
	// Log is the run log (child output, details).
	Log io.Writer
	// Stream, with -v, also receives child output that does not go through
	// Runner (Terraform's, through terraform-exec); nil otherwise.
	Stream io.Writer
	// Hurry is closed on a second Ctrl-C: children still stopping are
	// killed at once (Runner's are; Terraform's through the driver).
	Hurry <-chan struct{}
	// Out is where results go (stdout).
	Out io.Writer
	// Now is the clock, for snapshot names and support dates.
	Now func() time.Time
	// Poll paces the steps that wait for something another lane or AWS
	// makes; zero means the defaults (pollDefaults).
	Poll Backoff
	// Trace, when set, records every step's start and end (the benchmark).
	Trace *Trace
}

// Facts are what the run has learned about the live environment, each read
// once and kept (the readers LiveAccount and LiveNetwork; ReadDataOutputs):
// a later step uses what an earlier one read instead of asking AWS again.
// A Parallel lane learns on its own copy; what it learned is merged back.
type Facts struct {
	// AccountID is the AWS account, once known.
	AccountID string
	// HostedZoneID is the Route53 zone of app.domain, once found
	// (CheckOwnership); "" without a domain.
	HostedZoneID string
	// Network is the cluster's network, read from the live cluster.
	Network *Network
	// seen is the run's cache of objects looked up by name (found.go).
	seen *foundCache
	// Data is the data tier's Terraform outputs, parsed once
	// (stateful.ParseOutputs) when the run applied or read them; nil before.
	Data *stateful.DataOutputs
}

// fork is the copy of st a Parallel lane runs on: its own findings, the
// shared streams with the lane's name on its lines.
func (st *State) fork(lane string) *State {
	f := *st
	f.lane = lane
	f.Progress = st.Progress.Lane(lane)
	if l, ok := st.Runner.(proc.Labeler); ok {
		f.Runner = l.Label(lane)
	}
	if st.Log != nil {
		// Line-buffered per lane: Terraform's output arrives in pieces, and
		// two lanes' half lines must not meet in the shared log.
		f.Log = st.Redact.Writer(proc.Prefixed(st.Log, "["+lane+"] "))
	}
	if st.Stream != nil {
		f.Stream = proc.Prefixed(st.Stream, "["+lane+"] ")
	}
	return &f
}

// merge takes a lane's findings that st does not have yet.
func (st *State) merge(f *State) {
	if st.AccountID == "" {
		st.AccountID = f.AccountID
	}
	if st.HostedZoneID == "" {
		st.HostedZoneID = f.HostedZoneID
	}
	if f.Network != nil && (st.Network == nil || complete(f.Network) && !complete(st.Network)) {
		st.Network = f.Network
	}
	if st.Data == nil {
		st.Data = f.Data
	}
}

// complete says whether a network read has everything the add-ons need:
// the data lane may have read the VPC before the cluster existed.
func complete(n *Network) bool {
	return n.VPCID != "" && len(n.PrivateSubnetIDs) > 0 && n.ClusterSecurityGroupID != "" && n.OIDCIssuer != ""
}

// Network is what the data tier and add-ons need from the cluster, as read
// from AWS.
type Network = cloud.Network

// AccountReader reads the caller's AWS account; *AWS is one.
type AccountReader interface {
	AccountID(ctx context.Context) (string, error)
}

// LiveAccount is the caller's AWS account, read with api the first time and
// kept in Facts. It refuses an account other than the one the profile pins
// (accountID): a run with another account's credentials stops before it
// reads or changes anything there.
func (st *State) LiveAccount(ctx context.Context, api AccountReader) (string, error) {
	if st.AccountID != "" {
		return st.AccountID, nil
	}
	id, err := api.AccountID(ctx)
	if err != nil {
		return "", err
	}
	if err := cloud.CheckAccount(st.Profile.Name, id, st.Profile.AccountID); err != nil {
		return "", err
	}
	st.AccountID = id
	return id, nil
}

// NetworkReader reads the cluster's network; *AWS is one.
type NetworkReader interface {
	ClusterNetwork(ctx context.Context, name string) (*cloud.Network, error)
}

// LiveNetwork is the cluster's network, read with api the first time and
// kept in Facts. A network read before the cluster had all of it (the data
// lane's WaitForSubnets) is kept too: the data tier needs only its VPC and
// subnets. The error says which command makes the cluster.
func (st *State) LiveNetwork(ctx context.Context, api NetworkReader) (*Network, error) {
	if st.Network != nil {
		return st.Network, nil
	}
	n, err := api.ClusterNetwork(ctx, st.Profile.Cluster.Name)
	if err != nil {
		return nil, fmt.Errorf("reading the network of cluster %s (run `bootstrap cluster --env %s` first): %w", st.Profile.Cluster.Name, st.Profile.Name, err)
	}
	st.Network = n
	return n, nil
}

// Tool returns the path of a program.
func (st *State) Tool(name string) string {
	if p, ok := st.Tools[name]; ok && p != "" {
		return p
	}
	return name
}

// Path returns a path inside the run directory.
func (st *State) Path(name string) string { return filepath.Join(st.Dir, name) }

// RelPath is a run-directory path as a person types it from the checkout
// (.bootstrap/<env>/<name>), for plans and the runbook.
func (st *State) RelPath(name string) string {
	return filepath.ToSlash(filepath.Join(".bootstrap", st.Profile.Name, name))
}

// Account returns the account id, or a placeholder when it is not known
// (offline plan).
func (st *State) Account() string {
	if st.AccountID == "" {
		return "<account-id>"
	}
	return st.AccountID
}
