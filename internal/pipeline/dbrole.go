package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/dbrole"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// DBRoleAPI is what the app's database role step needs from AWS;
// *cloud.Clients is the real one.
type DBRoleAPI interface {
	VersionsLabelled(ctx context.Context, secretID string, labels ...string) (map[string]cloud.LabelledVersion, error)
	PutSecretVersion(ctx context.Context, secretID, versionID, value string, labels []string) error
	LabelSecretVersion(ctx context.Context, secretID, label, versionID, fromVersionID string) error
	DatabaseMasterCredentials(ctx context.Context, secretARN string) (user, password string, err error)
}

// RoleApplier runs the role script against the database as the master user
// and then signs in as the app's login with its new password.
type RoleApplier interface {
	ApplyRoles(ctx context.Context, st *State, in addons.RoleJobInput) error
}

// Secrets Manager's staging labels (the rotation protocol's).
const (
	labelCurrent = "AWSCURRENT"
	labelPending = "AWSPENDING"
)

// KeepAppDatabaseRole makes and keeps the app's own database roles and
// rotates their password (internal/dbrole): it writes a new version of
// <prefix>/database as AWSPENDING when the current one is missing, not the
// app's own role's, connects elsewhere, or is older than
// database.passwordRotationDays; sets it in the database with the role Job;
// and only then makes it AWSCURRENT. Nothing to do: no Job runs. A run
// stopped anywhere resumes with the same pending version.
type KeepAppDatabaseRole struct {
	// AWS nil means the run's AWS handle.
	AWS DBRoleAPI
	// Apply runs the SQL; nil means the Job on the cluster (RoleJob).
	Apply   RoleApplier
	Options AddonOptions
}

// Name implements Step.
func (KeepAppDatabaseRole) Name() string {
	return "Keeping the app's database role and rotating its password"
}

// Run implements Step.
func (s KeepAppDatabaseRole) Run(ctx context.Context, st *State) error {
	out, err := dataOutputs(st, false)
	if err != nil {
		return err
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	apply := s.Apply
	if apply == nil {
		apply = RoleJob{Options: s.Options}
	}
	return keepAppDatabaseRole(ctx, api, apply, st, out)
}

func appRoles(st *State, out stateful.DataOutputs) dbrole.Roles {
	return dbrole.Roles{Database: out.DBName, Schema: "public", Group: st.Profile.Database.AppRole}
}

// wantSecret is the connection the data tier has, as the secret holds it.
func wantSecret(st *State, out stateful.DataOutputs) dbrole.Secret {
	return dbrole.Secret{Engine: "postgres", Host: out.DBHost, Port: out.DBPort, DBName: out.DBName, SSLMode: "require", Group: st.Profile.Database.AppRole}
}

func keepAppDatabaseRole(ctx context.Context, api DBRoleAPI, apply RoleApplier, st *State, out stateful.DataOutputs) error {
	secretID := st.Profile.SecretNames()[0] // <prefix>/database
	versions, err := api.VersionsLabelled(ctx, secretID, labelCurrent, labelPending)
	if err != nil {
		return err
	}
	ver := func(label string) *dbrole.Version {
		v, ok := versions[label]
		if !ok {
			return nil
		}
		if s, ok := dbrole.ParseSecret(v.Value); ok {
			st.Redact.Add(s.Password)
		}
		return &dbrole.Version{ID: v.ID, Created: v.Created, Value: v.Value}
	}
	current, pending := ver(labelCurrent), ver(labelPending)
	want := wantSecret(st, out)
	period := time.Duration(st.Profile.Database.PasswordRotationDays) * 24 * time.Hour
	now := time.Now
	if st.Now != nil {
		now = st.Now
	}
	d := dbrole.Plan(current, pending, want, period, now())
	switch d.Step {
	case dbrole.Nothing:
		st.Progress.Info("%s: %s (%d days); nothing to do", secretID, d.Reason, st.Profile.Database.PasswordRotationDays)
		return nil
	case dbrole.NewPending:
		next, err := dbrole.NextSecret(current, want, appRoles(st, out), d.Rotate)
		if err != nil {
			return err
		}
		st.Redact.Add(next.Password)
		id := dbrole.NewVersionID()
		if err := api.PutSecretVersion(ctx, secretID, id, next.JSON(), []string{labelPending}); err != nil {
			return err
		}
		pending = &dbrole.Version{ID: id, Value: next.JSON()}
		if current == nil {
			current = pending // a secret's first version is AWSCURRENT at once
		}
	}
	st.Progress.Info("%s: %s; setting version %s in the database", secretID, d.Reason, pending.ID)
	sec, ok := dbrole.ParseSecret(pending.Value)
	if !ok || sec.Group != want.Group {
		return fmt.Errorf("the AWSPENDING version %s of %s is not a credential of the app's role %s: remove its label (aws secretsmanager update-secret-version-stage --secret-id %s --version-stage AWSPENDING --remove-from-version-id %s) and run again",
			pending.ID, secretID, want.Group, secretID, pending.ID)
	}
	verifier, err := dbrole.SCRAMVerifier(sec.Password, sec.Username+"/"+pending.ID)
	if err != nil {
		return err
	}
	st.Redact.Add(verifier)
	script, err := dbrole.Script(appRoles(st, out), sec.Username, verifier)
	if err != nil {
		return err
	}
	master, masterPW, err := api.DatabaseMasterCredentials(ctx, out.DBMasterSecretARN)
	if err != nil {
		return err
	}
	st.Redact.Add(masterPW)
	in := addons.RoleJobInputFor(st.Profile, out)
	in.Name, in.MasterUser, in.MasterPassword = addons.RoleJobName(pending.ID), master, masterPW
	in.Script, in.AppUser, in.AppPassword = script, sec.Username, sec.Password
	if err := apply.ApplyRoles(ctx, st, in); err != nil {
		return fmt.Errorf("setting version %s of %s in the database (AWSCURRENT still names the password that works; run again to finish): %w", pending.ID, secretID, err)
	}
	// Who holds AWSCURRENT now: the version read at the start, or the
	// pending one itself (the secret's first version).
	fromID := ""
	if current != nil {
		fromID = current.ID
	}
	if fromID != pending.ID {
		if err := api.LabelSecretVersion(ctx, secretID, labelCurrent, pending.ID, fromID); err != nil {
			return err
		}
	}
	if err := api.LabelSecretVersion(ctx, secretID, labelPending, "", pending.ID); err != nil {
		return err
	}
	st.Progress.Info("%s: the app's role now signs in as %s; running pods keep the previous login until they restart", secretID, sec.Username)
	return nil
}

// RoleJob runs the role SQL in the cluster: the Job and its namespace, then
// the Secret owned by the Job, then waits until the Job ends, and deletes
// both whatever happened. The Secret goes to kubectl on standard input.
type RoleJob struct {
	Options AddonOptions
}

// ApplyRoles implements RoleApplier.
func (j RoleJob) ApplyRoles(ctx context.Context, st *State, in addons.RoleJobInput) (err error) {
	kc := j.Options.kubeconfig(st)
	kubectlCtx := func(ctx context.Context, stdin []byte, stdout *bytes.Buffer, args ...string) error {
		c := kubectlCmd(st, append([]string{"--kubeconfig", kc}, args...))
		if stdin != nil {
			c.Stdin = bytes.NewReader(stdin)
		}
		if stdout != nil {
			c.Stdout = stdout
		}
		return st.Runner.Run(ctx, c)
	}
	kubectl := func(stdin []byte, stdout *bytes.Buffer, args ...string) error {
		return kubectlCtx(ctx, stdin, stdout, args...)
	}
	ns := addons.RoleJobNamespace
	// A Job of this name left by an interrupted run is replaced.
	if err := kubectl(nil, nil, "delete", "job", in.Name, "-n", ns, "--ignore-not-found", "--wait=true"); err != nil {
		return err
	}
	manifests, err := addons.RoleJobManifests(in)
	if err != nil {
		return err
	}
	if err := kubectl(manifests, nil, "apply", "--server-side", "--field-manager", "bootstrap", "-f", "-"); err != nil {
		return err
	}
	defer func() {
		// The Secret goes with the Job (its owner); deleting both here is
		// the fast path, ttlSecondsAfterFinished the fallback. Not
		// cancelled with the run: after a Ctrl-C the master password
		// would otherwise stay in the cluster until the Job's deadline
		// and TTL (up to 15 minutes) instead of going now.
		derr := kubectlCtx(context.WithoutCancel(ctx), nil, nil, "delete", "job,secret", in.Name, "-n", ns, "--ignore-not-found", "--cascade=foreground", "--wait=false")
		err = errors.Join(err, derr)
	}()
	var uid bytes.Buffer
	if err := kubectl(nil, &uid, "get", "job", in.Name, "-n", ns, "-o", "jsonpath={.metadata.uid}"); err != nil {
		return err
	}
	secret, err := addons.RoleJobSecret(in, strings.TrimSpace(uid.String()))
	if err != nil {
		return err
	}
	if err := kubectl(secret, nil, "apply", "--server-side", "--field-manager", "bootstrap", "-f", "-"); err != nil {
		return err
	}
	b := st.Poll
	if b.Limit == 0 {
		b.Limit = (addons.RoleJobDeadlineSeconds + 60) * time.Second
	}
	var failed bool
	err = poll(ctx, b, "the role Job "+ns+"/"+in.Name+" to finish", func(ctx context.Context) (bool, error) {
		var status bytes.Buffer
		if err := kubectl(nil, &status, "get", "job", in.Name, "-n", ns, "-o", "jsonpath={.status.succeeded},{.status.failed}"); err != nil {
			return false, err
		}
		var succeeded bool
		succeeded, failed = jobEnded(status.String())
		return succeeded || failed, nil
	})
	if err != nil {
		return err
	}
	if failed {
		var logs bytes.Buffer
		_ = kubectl(nil, &logs, "logs", "job/"+in.Name, "-n", ns, "--tail=20")
		return fmt.Errorf("the role Job %s/%s failed: %s", ns, in.Name, strings.TrimSpace(st.Redact.String(logs.String())))
	}
	return nil
}

// jobEnded reads "<succeeded>,<failed>" (a Job's status counts; a count
// Kubernetes has not set is empty).
func jobEnded(status string) (succeeded, failed bool) {
	succ, fail, _ := strings.Cut(strings.TrimSpace(status), ",")
	return succ != "" && succ != "0", fail != "" && fail != "0"
}
