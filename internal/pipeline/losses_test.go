package pipeline

import (
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/config"
)

// TestTeardownLosses: the confirmation says what the teardown variables
// do, from the profile's protection, not the environment's name.
func TestTeardownLosses(t *testing.T) {
	t.Parallel()
	protected := config.Builtin("staging")
	protected.Protection = config.Protection{DeletionProtection: true, FinalSnapshot: true}
	protected.Secrets.RecoveryWindowDays = 7
	for _, c := range []struct {
		name string
		p    *config.Profile
		want []string
	}{
		{"staging", config.Builtin("staging"), []string{
			"RDS database sovd-staging: deleted with its automated backups, no final snapshot: its data is lost",
			"S3 bucket sovd-staging-backups-123456789012: emptied, every object and every old version deleted, then deleted",
			"ECR repositories sovd-staging-backend, sovd-staging-frontend (this environment's own): deleted with every image in them",
			"secrets sovd/staging/database, sovd/staging/jwt, sovd/staging/redis: deleted at once, no recovery window",
			"kept: the Terraform state bucket bootstrap-tfstate-123456789012-us-east-1",
		}},
		{"production", config.Builtin("production"), []string{
			"its data is KEPT in the final snapshot sovd-production-final-",
			"ECR repositories sovd-backend, sovd-frontend (this environment's own)",
			"with a 30-day recovery window",
		}},
		{"staging with protection on", protected, []string{
			"RDS database sovd-staging: deleted (deletion protection lifted first); its data is KEPT in the final snapshot sovd-staging-final-",
			"with a 7-day recovery window",
		}},
	} {
		got := strings.Join(TeardownLosses(c.p, "123456789012"), "\n")
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, got)
			}
		}
	}
}
