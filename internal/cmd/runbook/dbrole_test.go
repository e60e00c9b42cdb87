package runbook

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/dbrole"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
)

// TestAppDatabaseRoleScript runs the runbook's database role step against
// moto's Secrets Manager (real aws CLI and jq) and a real PostgreSQL
// server with TLS, as TestAppDatabaseRoleRotation runs bootstrap's own:
// its first action decides as dbrole.Plan does on the same versions and
// writes the pending version; then the role Job's container command, as
// the script's manifests give it (psql -f with dbrole.PromptScript, the
// password on standard input for \password), runs for real against the
// server with the pending version's password, and that login then signs
// in with it. The Job's scheduling and the labels' move run in
// TestRunbookScript, on the local control plane.
func TestAppDatabaseRoleScript(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	testenv.Tools(t, "aws", "jq", "bash")
	m := testenv.Moto(t)
	m.Use(t)
	pg := testenv.Postgres(t)
	ctx := context.Background()
	p := config.Builtin("staging")
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	const masterPW = "master0password0of0the0script0test"
	pg.RDSMaster(t, "sovd_admin", masterPW, p.Database.Name)
	secret := p.SecretNames()[0]
	sm := c.SecretsManager()
	// What the data tier wrote before: where and as whom, no password.
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(secret), SecretString: aws.String(`{"engine":"postgres","host":"127.0.0.1","username":"sovd_admin"}`),
	}); err != nil {
		t.Fatal(err)
	}
	host, port := "127.0.0.1", strconv.Itoa(pg.Port)

	st := &pipeline.State{Profile: p, Dir: ".bootstrap/staging", Services: pipeline.Services{Redact: &proc.Redactor{}}}
	d, err := pipeline.KeepAppDatabaseRole{}.Describe(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Actions) != 2 {
		t.Fatalf("the step has %d actions, want 2 (decide and write; the Job)", len(d.Actions))
	}
	decide := pipeline.Description{Step: "deciding", Actions: d.Actions[:1]}
	// The live values the script reads with terraform output are the
	// test server's.
	reads := strings.NewReplacer(
		"DB_HOST=$(terraform -chdir=terraform/stateful output -raw db_host)", "DB_HOST="+host,
		"DB_PORT=$(terraform -chdir=terraform/stateful output -raw db_port)", "DB_PORT="+port)
	var outputs []string
	runDecide := func(step string) string {
		t.Helper()
		out, err := runStepWith(t, p, decide, reads.Replace)
		if err != nil {
			t.Fatalf("%s: %v\n%s", step, err, out)
		}
		outputs = append(outputs, out)
		return out
	}
	labelled := func() map[string]cloud.LabelledVersion {
		t.Helper()
		v, err := c.VersionsLabelled(ctx, secret, "AWSCURRENT", "AWSPENDING")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := dbrole.Secret{Engine: "postgres", Host: host, Port: port, DBName: p.Database.Name, SSLMode: "require", Group: p.Database.AppRole}
	plan := func() dbrole.Step {
		v := labelled()
		ver := func(l string) *dbrole.Version {
			if x, ok := v[l]; ok {
				return &dbrole.Version{ID: x.ID, Created: x.Created, Value: x.Value}
			}
			return nil
		}
		return dbrole.Plan(ver("AWSCURRENT"), ver("AWSPENDING"), want, time.Duration(p.Database.PasswordRotationDays)*24*time.Hour, time.Now()).Step
	}
	finish := func() {
		t.Helper()
		v := labelled()
		pend := v["AWSPENDING"].ID
		if err := c.LabelSecretVersion(ctx, secret, "AWSCURRENT", pend, v["AWSCURRENT"].ID); err != nil {
			t.Fatal(err)
		}
		if err := c.LabelSecretVersion(ctx, secret, "AWSPENDING", "", pend); err != nil {
			t.Fatal(err)
		}
	}

	// 1. The data tier's connection-only version: bootstrap would write a
	// new version; so does the script, for login _1.
	if got := plan(); got != dbrole.NewPending {
		t.Fatalf("dbrole.Plan on the data tier's version: %v, want NewPending", got)
	}
	out := runDecide("first run")
	pending, ok := dbrole.ParseSecret(labelled()["AWSPENDING"].Value)
	if !ok || pending.Username != "sovd_app_1" || !pending.SameConnection(want) || len(pending.Password) < 32 {
		t.Fatalf("after the first run the pending version is %+v (credentials: %v)\n%s", pending.Username, ok, out)
	}
	pendingID := labelled()["AWSPENDING"].ID

	// 2. A pending version: both resume it; the script writes nothing.
	if got := plan(); got != dbrole.Resume {
		t.Fatalf("dbrole.Plan with a pending version: %v, want Resume", got)
	}
	runDecide("resuming")
	if id := labelled()["AWSPENDING"].ID; id != pendingID {
		t.Errorf("resuming wrote a new pending version %s (was %s)", id, pendingID)
	}

	// 3. The role Job's container, as the script's manifests run it.
	runJob(t, pg, p, pending)
	if _, err := pg.As(pending.Username, pending.Password, p.Database.Name, "SELECT 1"); err != nil {
		t.Fatalf("%s does not sign in with the password of the pending version: %v", pending.Username, err)
	}
	if got := pg.Superuser(t, p.Database.Name, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'sovd_app'"); got != "f" {
		t.Errorf("group sovd_app can log in: %q", got)
	}
	// Run again (an interrupted run resumed): it changes nothing that
	// breaks the login.
	runJob(t, pg, p, pending)
	if _, err := pg.As(pending.Username, pending.Password, p.Database.Name, "SELECT 1"); err != nil {
		t.Fatalf("after the Job ran again, %s does not sign in: %v", pending.Username, err)
	}
	finish()

	// 4. Current and young: nothing, for both.
	if got := plan(); got != dbrole.Nothing {
		t.Fatalf("dbrole.Plan after the rotation: %v, want Nothing", got)
	}
	if out := runDecide("nothing to do"); !strings.Contains(out, "nothing to do") || labelled()["AWSPENDING"].ID != "" {
		t.Errorf("with a young current version the script did not do nothing:\n%s", out)
	}

	// 5. The database moved (another port): a new version with the same
	// login and password, for both.
	moved := pending
	moved.Port = "6543"
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secret), SecretString: aws.String(moved.JSON())}); err != nil {
		t.Fatal(err)
	}
	if got := plan(); got != dbrole.NewPending {
		t.Fatalf("dbrole.Plan after the connection changed: %v, want NewPending", got)
	}
	runDecide("the connection changed")
	next, _ := dbrole.ParseSecret(labelled()["AWSPENDING"].Value)
	if next.Username != pending.Username || next.Password != pending.Password || next.Port != port {
		t.Errorf("after the connection changed the pending version is %s on port %s (same password: %v); want %s on %s, same password",
			next.Username, next.Port, next.Password == pending.Password, pending.Username, port)
	}
	finish()

	// 6. A rotation due (the current version made by another group): the
	// other login, a new password.
	other := pending
	other.Group = "someone_else"
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secret), SecretString: aws.String(other.JSON())}); err != nil {
		t.Fatal(err)
	}
	runDecide("another group")
	rot, _ := dbrole.ParseSecret(labelled()["AWSPENDING"].Value)
	if rot.Username != "sovd_app_1" || rot.Password == pending.Password || rot.Group != "sovd_app" {
		t.Errorf("after the group changed the pending version is %s of %s (new password: %v)", rot.Username, rot.Group, rot.Password != pending.Password)
	}
	for _, pw := range []string{pending.Password, rot.Password, masterPW} {
		if pw != "" && strings.Contains(strings.Join(outputs, ""), pw) {
			t.Error("a password is in the script's output")
		}
	}
}

// runJob runs the role Job's container command as the script's manifests
// give it (addons.RoleJobManifests with the password on standard input),
// with the Job's environment against the test's server, the Secret's
// roles.sql (dbrole.PromptScript) in place of its mount, and no terminal,
// as in a pod.
func runJob(t *testing.T, pg *testenv.PostgresServer, p *config.Profile, app dbrole.Secret) {
	t.Helper()
	roles := dbrole.Roles{Database: p.Database.Name, Schema: "public", Group: p.Database.AppRole}
	sql, err := dbrole.PromptScript(roles)
	if err != nil {
		t.Fatal(err)
	}
	manifests, err := addons.RoleJobManifests(addons.RoleJobInput{Name: "job", Host: "127.0.0.1", Port: strconv.Itoa(pg.Port), DB: p.Database.Name,
		MasterUser: "sovd_admin", AppUser: app.Username, PasswordOnStdin: true})
	if err != nil {
		t.Fatal(err)
	}
	_, jobDoc, _ := strings.Cut(string(manifests), "---\n")
	var job struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Command []string
						Env     []struct{ Name, Value string }
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal([]byte(jobDoc), &job); err != nil {
		t.Fatal(err)
	}
	ctr := job.Spec.Template.Spec.Containers[0]
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "roles.sql"), []byte(sql), 0o600); err != nil {
		t.Fatal(err)
	}
	command := strings.ReplaceAll(ctr.Command[len(ctr.Command)-1], "/run/bootstrap/roles.sql", filepath.Join(dir, "roles.sql"))
	cmd := exec.Command("sh", "-ec", command)
	cmd.Env = []string{"PATH=" + pg.Bin + ":/usr/bin:/bin", "PGPASSWORD=sovd_admin-password-unset", "APP_PASSWORD=" + app.Password}
	for _, e := range ctr.Env {
		if e.Value != "" {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
	}
	cmd.Env = append(cmd.Env, "PGPASSWORD=master0password0of0the0script0test")
	// No controlling terminal, as in a pod: psql's \password then reads
	// standard input.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the role Job's command: %v\n%s", err, out)
	} else if strings.Contains(string(out), app.Password) {
		t.Errorf("the role Job printed the password:\n%s", out)
	}
}
