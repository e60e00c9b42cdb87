package pipeline

import (
	"context"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// What the commands use of the packages behind the pipeline (proc, cloud,
// tfdriver), under the pipeline's names: a command imports the pipeline,
// never those (docs/layout.md, "Imports"; internal/layout). The names are
// aliases, so a value is the same on both sides.

// Cmd is a program to run with its arguments and streams (proc.Cmd).
type Cmd = proc.Cmd

// Runner runs a Cmd; the run's is State.Runner (proc.Runner).
type Runner = proc.Runner

// Redactor hides secret values in output (proc.Redactor).
type Redactor = proc.Redactor

// ToolRunner runs programs outside any run, giving each grace to stop after
// an interrupt (doctor's version checks).
func ToolRunner(grace time.Duration) Runner { return &proc.Exec{Grace: grace} }

// The facts `bootstrap status` reads of each component (internal/cloud).
type (
	ClusterFacts    = cloud.ClusterFacts
	NodeGroupFacts  = cloud.NodeGroupFacts
	RoleFacts       = cloud.RoleFacts
	DBFacts         = cloud.DBFacts
	RedisFacts      = cloud.RedisFacts
	BucketFacts     = cloud.BucketFacts
	RepositoryFacts = cloud.RepositoryFacts
	SecretFacts     = cloud.SecretFacts
	AddonFacts      = cloud.AddonFacts
)

// CheckAccount refuses an account other than the one a profile pins (the
// check LiveAccount makes).
func CheckAccount(env, got, want string) error { return cloud.CheckAccount(env, got, want) }

// TerraformPinned is the Terraform release bootstrap installs and runs;
// TerraformMin the oldest a user may choose instead (tfdriver).
var (
	TerraformPinned = tfdriver.PinnedVersion
	TerraformMin    = tfdriver.MinVersion
)

// LocateTerraform is the Terraform binary a run would use, without
// installing it (BOOTSTRAP_TERRAFORM, else the pinned release installed).
func LocateTerraform(ctx context.Context) (string, error) {
	return tfdriver.Locate(ctx, tfdriver.DefaultInstallDir())
}
