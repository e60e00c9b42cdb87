package pipeline

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/dbrole"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/terraform/stateful"
)

func TestJobEnded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in           string
		succ, failed bool
	}{{",", false, false}, {"", false, false}, {"1,", true, false}, {",1", false, true}, {"0,1", false, true}, {"1,0", true, false}} {
		if s, f := jobEnded(tt.in); s != tt.succ || f != tt.failed {
			t.Errorf("jobEnded(%q) = %v, %v; want %v, %v", tt.in, s, f, tt.succ, tt.failed)
		}
	}
}

// TestRoleJobDeletesItsSecretWhenCancelled: the Secret holding the master
// password is deleted when the run is cancelled while it waits for the Job
// (a Ctrl-C), not left for the Job's deadline and TTL. proctest, as proc.Exec
// does, refuses to run a command under a cancelled context, so the delete
// only succeeds if it is run without the run's cancellation.
func TestRoleJobDeletesItsSecretWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := proctest.New(t)
	const name = "app-db-roles-0123abcd"
	r.Expect(`kubectl --kubeconfig kc delete job ` + name + ` -n bootstrap-db --ignore-not-found --wait=true`)
	r.Expect(`kubectl --kubeconfig kc apply --server-side --field-manager bootstrap -f -`)
	r.Expect(`kubectl --kubeconfig kc get job ` + name + ` -n bootstrap-db -o .*metadata.uid.*`).Stdout("uid-1")
	r.Expect(`kubectl --kubeconfig kc apply --server-side --field-manager bootstrap -f -`)
	r.Expect(`kubectl --kubeconfig kc get job ` + name + ` -n bootstrap-db -o .*status.succeeded.*`).Stdout(",").
		Do(func(proc.Cmd) error { cancel(); return nil })
	deleted := false
	r.Expect(`kubectl --kubeconfig kc delete job,secret ` + name + ` -n bootstrap-db --ignore-not-found --cascade=foreground --wait=false`).
		Do(func(proc.Cmd) error { deleted = true; return nil })
	st := &State{Profile: config.Builtin("staging"), Dir: t.TempDir(), Services: Services{Runner: r,
		Poll: Backoff{Initial: time.Millisecond, Max: time.Millisecond, Limit: time.Minute}}}
	in := addons.RoleJobInput{Name: name, Host: "db", Port: "5432", DB: "sovd_staging", MasterUser: "sovd_admin",
		MasterPassword: "m", Script: "SELECT 1;", AppUser: "sovd_app_1", AppPassword: "a"}
	err := RoleJob{Options: AddonOptions{Kubeconfig: "kc"}}.ApplyRoles(ctx, st, in)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ApplyRoles after a cancel: %v, want context.Canceled", err)
	}
	if !deleted {
		t.Errorf("the Job and its Secret were not deleted after the cancel: %v", err)
	}
}

// pgApplier stands in for the role Job: it runs the same script, as the
// master user, against the test's PostgreSQL server over TLS, then signs in
// as the pending login (what the Job's container does with psql).
type pgApplier struct {
	pg    *testenv.PostgresServer
	calls int
	fail  bool // the next call fails before running anything (the Job failed)
	seen  []string
}

func (a *pgApplier) ApplyRoles(_ context.Context, _ *State, in addons.RoleJobInput) error {
	a.calls++
	a.seen = append(a.seen, in.Name)
	if a.fail {
		a.fail = false
		return errors.New("the Job failed (test)")
	}
	if out, err := a.pg.As(in.MasterUser, in.MasterPassword, in.DB, in.Script); err != nil {
		return errors.New("script: " + out)
	}
	if out, err := a.pg.As(in.AppUser, in.AppPassword, in.DB, "SELECT 1"); err != nil {
		return errors.New("sign-in: " + out)
	}
	return nil
}

// interrupting fails the first LabelSecretVersion of a label: a run
// stopped between two of the protocol's steps.
type interrupting struct {
	DBRoleAPI
	label string
}

func (i *interrupting) LabelSecretVersion(ctx context.Context, secretID, label, versionID, fromVersionID string) error {
	if label == i.label {
		i.label = ""
		return errors.New("interrupted (test)")
	}
	return i.DBRoleAPI.LabelSecretVersion(ctx, secretID, label, versionID, fromVersionID)
}

// TestAppDatabaseRoleRotation runs the role step against moto's Secrets
// Manager and a real PostgreSQL server with TLS: the first run replaces
// the data tier's connection-only version by the app role's credentials, a
// re-run does nothing, a rotation is due after the period, and a rotation
// interrupted at each point of Secrets Manager's protocol (the Job failed;
// stopped before AWSCURRENT moved; stopped before AWSPENDING was removed)
// resumes with the same version and never leaves AWSCURRENT naming a
// password the database refuses.
func TestAppDatabaseRoleRotation(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	m := testenv.Moto(t)
	m.Use(t)
	pg := testenv.Postgres(t)
	ctx := context.Background()
	p := config.Builtin("staging")
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	const masterPW = "master0password0of0the0test"
	pg.RDSMaster(t, "sovd_admin", masterPW, p.Database.Name)
	sm := c.SecretsManager()
	master, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("rds!db-test"), SecretString: aws.String(`{"username":"sovd_admin","password":"` + masterPW + `"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	secret := p.SecretNames()[0]
	// What the data tier wrote before: where and as whom, no password.
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(secret), SecretString: aws.String(`{"engine":"postgres","host":"127.0.0.1","username":"sovd_admin"}`),
	}); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	now := time.Now()
	st := &State{Profile: p, Services: Services{Redact: &proc.Redactor{}, Progress: NewProgress(&log, false, false), Now: func() time.Time { return now }}}
	st.Data = &stateful.DataOutputs{
		DBHost: "127.0.0.1", DBPort: strconv.Itoa(pg.Port), DBName: p.Database.Name,
		DBUsername: "sovd_admin", DBMasterSecretARN: aws.ToString(master.ARN),
		RedisHost: "redis", RedisPort: "6379", ECRRepositoryURLs: map[string]string{},
	}
	out, err := dataOutputs(st, false)
	if err != nil {
		t.Fatal(err)
	}
	apply := &pgApplier{pg: pg}
	run := func(api DBRoleAPI) error { return keepAppDatabaseRole(ctx, api, apply, st, out) }
	versions := func() map[string]cloud.LabelledVersion {
		t.Helper()
		v, err := c.VersionsLabelled(ctx, secret, "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cred := func(v cloud.LabelledVersion) dbrole.Secret {
		t.Helper()
		s, ok := dbrole.ParseSecret(v.Value)
		if !ok {
			t.Fatalf("version %s holds no credentials: %s", v.ID, v.Value)
		}
		return s
	}
	signsIn := func(s dbrole.Secret) bool {
		_, err := pg.As(s.Username, s.Password, s.DBName, "SELECT 1")
		return err == nil
	}

	// 1. The first run: the app's own role, login _1.
	if err := run(c); err != nil {
		t.Fatalf("first run: %v\n%s", err, log.String())
	}
	v := versions()
	first := cred(v["AWSCURRENT"])
	if first.Username != "sovd_app_1" || first.Host != "127.0.0.1" || first.Group != "sovd_app" || !signsIn(first) {
		t.Fatalf("after the first run AWSCURRENT is %+v (signs in: %v)", first.Username, signsIn(first))
	}
	if _, ok := v["AWSPENDING"]; ok || v["AWSPREVIOUS"].Value == "" || strings.Contains(v["AWSPREVIOUS"].Value, "password") {
		t.Errorf("after the first run: pending %v, previous %q", ok, v["AWSPREVIOUS"].Value)
	}
	if strings.Contains(log.String(), first.Password) {
		t.Error("the password is in the progress output")
	}

	// 2. A re-run before the period: nothing, no Job.
	if err := run(c); err != nil || apply.calls != 1 {
		t.Fatalf("re-run: %v, %d Job runs (want 1 in all)", err, apply.calls)
	}

	// 3. Past the period, the Job fails: AWSCURRENT still names login _1,
	// which still signs in; the pending version names _2.
	now = now.Add(31 * 24 * time.Hour)
	apply.fail = true
	if err := run(c); err == nil {
		t.Fatal("a failed Job was not an error")
	}
	v = versions()
	pendingID := v["AWSPENDING"].ID
	if cred(v["AWSCURRENT"]) != first || !signsIn(first) || pendingID == "" || cred(v["AWSPENDING"]).Username != "sovd_app_2" {
		t.Fatalf("after a failed Job: current %s, pending %q", cred(v["AWSCURRENT"]).Username, pendingID)
	}
	second := cred(v["AWSPENDING"])

	// 4. Stopped after the SQL, before AWSCURRENT moved: both logins sign
	// in; the pending version is the same one.
	if err := run(&interrupting{DBRoleAPI: c, label: "AWSCURRENT"}); err == nil {
		t.Fatal("the interruption was not an error")
	}
	v = versions()
	if v["AWSPENDING"].ID != pendingID || cred(v["AWSCURRENT"]) != first || !signsIn(first) || !signsIn(second) {
		t.Fatalf("after stopping before AWSCURRENT: pending %s (want %s), current %s", v["AWSPENDING"].ID, pendingID, cred(v["AWSCURRENT"]).Username)
	}

	// 5. Stopped after AWSCURRENT moved, before AWSPENDING was removed.
	if err := run(&interrupting{DBRoleAPI: c, label: "AWSPENDING"}); err == nil {
		t.Fatal("the interruption was not an error")
	}
	v = versions()
	if v["AWSCURRENT"].ID != pendingID || v["AWSPENDING"].ID != pendingID {
		t.Fatalf("after stopping before AWSPENDING's removal: current %s, pending %s, want both %s", v["AWSCURRENT"].ID, v["AWSPENDING"].ID, pendingID)
	}
	jobs := apply.calls

	// 6. The next run sets the same version again (no change) and removes
	// AWSPENDING; the previous login keeps working, so pods still holding
	// it are not locked out.
	if err := run(c); err != nil {
		t.Fatalf("finishing: %v", err)
	}
	v = versions()
	if _, ok := v["AWSPENDING"]; ok || v["AWSCURRENT"].ID != pendingID || cred(v["AWSPREVIOUS"]) != first || apply.calls != jobs+1 {
		t.Fatalf("after finishing: pending %v, current %s, previous %s, Job runs %d (want %d)", ok, v["AWSCURRENT"].ID, v["AWSPREVIOUS"].ID, apply.calls, jobs+1)
	}
	if !signsIn(first) || !signsIn(second) {
		t.Errorf("after the rotation: %s signs in %v, %s signs in %v; both must", first.Username, signsIn(first), second.Username, signsIn(second))
	}
	for i, name := range apply.seen[1:] {
		if name != addons.RoleJobName(pendingID) {
			t.Errorf("Job %d of the rotation is %s, want %s (the same pending version)", i+1, name, addons.RoleJobName(pendingID))
		}
	}

	// 7. The next period: login _1 again, with a new password; _2 keeps
	// its own until the rotation after.
	now = now.Add(31 * 24 * time.Hour)
	if err := run(c); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	third := cred(versions()["AWSCURRENT"])
	if third.Username != "sovd_app_1" || third.Password == first.Password || !signsIn(third) || signsIn(first) || !signsIn(second) {
		t.Errorf("second rotation: current %s; new signs in %v, the first password %v (want false), %s %v", third.Username, signsIn(third), signsIn(first), second.Username, signsIn(second))
	}
	// 8. A secret without any version (what the data tier makes now): the
	// first version is AWSCURRENT as soon as it is written (PutSecretValue
	// on a secret without versions), and the run still sets it.
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(secret), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret)}); err != nil {
		t.Fatal(err)
	}
	if err := run(c); err != nil {
		t.Fatalf("first run on a secret without versions: %v", err)
	}
	v = versions()
	if _, ok := v["AWSPENDING"]; ok || !signsIn(cred(v["AWSCURRENT"])) {
		t.Errorf("on a secret without versions: pending %v, current signs in %v", ok, signsIn(cred(v["AWSCURRENT"])))
	}
	if slices.ContainsFunc([]string{first.Password, second.Password, third.Password, masterPW}, func(s string) bool { return strings.Contains(log.String(), s) }) {
		t.Error("a password is in the progress output")
	}
}

// memDBRoleAPI is an in-memory Secrets Manager for the role step in tests
// that run no moto (the transcripts, the local control plane): versions
// with labels, moved as UpdateSecretVersionStage moves them (AWSCURRENT's
// old version gets AWSPREVIOUS; Secrets Manager API reference,
// UpdateSecretVersionStage).
type memDBRoleAPI struct {
	versions map[string]*cloud.LabelledVersion
	masterPW string
}

func newMemDBRoleAPI() *memDBRoleAPI {
	return &memDBRoleAPI{versions: map[string]*cloud.LabelledVersion{}, masterPW: "master0password0in0memory"}
}

func (m *memDBRoleAPI) open(context.Context, string) (DBRoleAPI, error) { return m, nil }

func (m *memDBRoleAPI) VersionsLabelled(_ context.Context, _ string, labels ...string) (map[string]cloud.LabelledVersion, error) {
	out := map[string]cloud.LabelledVersion{}
	for _, v := range m.versions {
		for _, l := range v.Labels {
			if slices.Contains(labels, l) {
				out[l] = *v
			}
		}
	}
	return out, nil
}

func (m *memDBRoleAPI) PutSecretVersion(_ context.Context, _, id, value string, labels []string) error {
	if v, ok := m.versions[id]; ok {
		if v.Value != value {
			return errors.New("ResourceExistsException: a version with this ID and another value exists")
		}
		return nil
	}
	for _, l := range labels {
		m.unlabel(l)
	}
	// "If this operation creates the first version for the secret then
	// Secrets Manager automatically attaches the staging label AWSCURRENT
	// to the new version" (Secrets Manager API reference, PutSecretValue).
	if len(m.versions) == 0 && !slices.Contains(labels, "AWSCURRENT") {
		labels = append(slices.Clone(labels), "AWSCURRENT")
	}
	m.versions[id] = &cloud.LabelledVersion{ID: id, Labels: labels, Created: time.Now(), Value: value}
	return nil
}

func (m *memDBRoleAPI) unlabel(label string) (from string) {
	for id, v := range m.versions {
		if i := slices.Index(v.Labels, label); i >= 0 {
			v.Labels = slices.Delete(v.Labels, i, i+1)
			from = id
		}
	}
	return from
}

func (m *memDBRoleAPI) LabelSecretVersion(_ context.Context, _, label, versionID, _ string) error {
	from := m.unlabel(label)
	if versionID == "" {
		return nil
	}
	if label == "AWSCURRENT" && from != "" && from != versionID {
		m.unlabel("AWSPREVIOUS")
		m.versions[from].Labels = append(m.versions[from].Labels, "AWSPREVIOUS")
	}
	m.versions[versionID].Labels = append(m.versions[versionID].Labels, label)
	return nil
}

func (m *memDBRoleAPI) DatabaseMasterCredentials(context.Context, string) (string, string, error) {
	return "sovd_admin", m.masterPW, nil
}
