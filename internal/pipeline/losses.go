package pipeline

import (
	"fmt"
	"strings"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// TeardownLosses is what `bootstrap teardown` of an environment deletes and
// what it keeps, one line each, read from the very variables DestroyData
// applies before it destroys (tfdriver.Vars with the teardown settings),
// so the confirmation cannot say other than what the steps do. The final
// snapshot's name ends in the time DestroyData runs; the run prints it.
func TeardownLosses(p *config.Profile, accountID string) []string {
	snapshot := p.Database.Identifier + "-final-<yyyymmdd-hhmmss of the destroy, UTC>"
	v := tfdriver.Vars(p, tfdriver.Inputs{AccountID: accountID}, &tfdriver.Teardown{FinalSnapshotID: snapshot})
	var out []string
	out = append(out, fmt.Sprintf("EKS cluster %s, its node group and VPC: deleted (eksctl delete cluster)", p.Cluster.Name))
	if skip, _ := v["db_skip_final_snapshot"].(bool); skip {
		out = append(out, fmt.Sprintf("RDS database %s: deleted with its automated backups, no final snapshot: its data is lost", p.Database.Identifier))
	} else {
		lifted := ""
		if p.Protection.DeletionProtection {
			lifted = " (deletion protection lifted first)"
		}
		out = append(out, fmt.Sprintf("RDS database %s: deleted%s; its data is KEPT in the final snapshot %v", p.Database.Identifier, lifted, v["db_final_snapshot_identifier"]))
	}
	out = append(out, fmt.Sprintf("ElastiCache Redis %s: deleted with its data and snapshots", p.Redis.ReplicationGroupID))
	bucket, _ := v["bucket_name"].(string)
	if force, _ := v["bucket_force_destroy"].(bool); force {
		out = append(out, fmt.Sprintf("S3 bucket %s: emptied, every object and every old version deleted, then deleted", bucket))
	} else {
		out = append(out, fmt.Sprintf("S3 bucket %s: deleted only if empty, else the teardown stops there", bucket))
	}
	repos := strings.Join(p.Registry.Repositories, ", ")
	if force, _ := v["ecr_force_delete"].(bool); force {
		out = append(out, fmt.Sprintf("ECR repositories %s (this environment's own): deleted with every image in them", repos))
	} else {
		out = append(out, fmt.Sprintf("ECR repositories %s: deleted only if empty", repos))
	}
	secrets := strings.Join(p.SecretNames(), ", ")
	if days, _ := v["secret_recovery_window_days"].(int); days == 0 {
		out = append(out, fmt.Sprintf("secrets %s: deleted at once, no recovery window", secrets))
	} else {
		out = append(out, fmt.Sprintf("secrets %s: scheduled for deletion with a %d-day recovery window (aws secretsmanager restore-secret brings one back)", secrets, days))
	}
	out = append(out, fmt.Sprintf("IRSA roles %s: deleted", strings.Join(appFirst(p), ", ")))
	out = append(out, fmt.Sprintf("kept: the Terraform state bucket %s (shared by the account's environments; this environment's key in it is emptied)", p.StateBucketName(orAccount(accountID))))
	return out
}

func orAccount(id string) string {
	if id == "" {
		return "<account-id>"
	}
	return id
}
