package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sovd/bootstrap/internal/testenv"
)

func TestLockedErrorMessage(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	e := &LockedError{Env: "production", Bucket: "bootstrap-tfstate-123456789012-us-east-1", Key: "locks/production.json", Region: "us-east-1",
		Info: &LockInfo{Holder: "alice@laptop", PID: 4242, Command: "bootstrap teardown --env production --yes", Started: started},
		Now:  started.Add(35 * time.Minute)}
	want := `environment production is locked by another run: alice@laptop (pid 4242) has been running "bootstrap teardown --env production --yes" since 2026-11-24T12:00:00Z (35m0s ago); ` +
		`wait for it to finish, or if it is no longer running, remove the stale lock with: aws s3api delete-object --bucket bootstrap-tfstate-123456789012-us-east-1 --key locks/production.json --region us-east-1`
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e, want)
	}
	raw := &LockedError{Env: "staging", Bucket: "b", Key: "locks/staging.json", Region: "eu-west-1", Raw: "not json"}
	if !strings.Contains(raw.Error(), "(lock content: not json)") {
		t.Errorf("raw: %s", raw)
	}
}

// lockState is a staging State against moto with a fixed clock.
func lockState(t *testing.T, now time.Time) *State {
	t.Helper()
	st, _, _ := teardownState(t, nil)
	st.Now = func() time.Time { return now }
	return st
}

// TestLockWithoutStateBucket: an environment never created has nothing to
// protect: no lock, and release does nothing.
func TestLockWithoutStateBucket(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	motoClients(t)
	st, progress, _ := teardownState(t, nil)
	release, err := AcquireLock(context.Background(), st, "bootstrap teardown --env staging --yes")
	if err != nil {
		t.Fatal(err)
	}
	if err := release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "no state bucket s3://bootstrap-tfstate-"+testenv.MotoAccountID+"-us-east-1 yet: nothing to lock") {
		t.Errorf("progress:\n%s", progress)
	}
}

// TestLockAgainstMoto: a second run fails at once naming the holder; after
// release the environment can be locked again; a run whose lock was removed
// by hand and taken by another does not delete the other's.
func TestLockAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	c := motoClients(t)
	ctx := context.Background()
	bucket := "bootstrap-tfstate-" + testenv.MotoAccountID + "-us-east-1"
	if _, err := c.EnsureStateBucket(ctx, bucket, nil); err != nil {
		t.Fatal(err)
	}
	const key = "locks/staging.json"
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	alice := Locker{Holder: "alice@laptop", PID: 111}
	bob := Locker{Holder: "bob@ci", PID: 222}

	releaseA, err := alice.Acquire(ctx, lockState(t, t0), "bootstrap up --env staging")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.Acquire(ctx, lockState(t, t0.Add(5*time.Minute)), "bootstrap teardown --env staging --yes")
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second acquisition: %v, want a LockedError", err)
	}
	for _, want := range []string{
		`alice@laptop (pid 111) has been running "bootstrap up --env staging" since 2026-11-24T12:00:00Z (5m0s ago)`,
		"aws s3api delete-object --bucket " + bucket + " --key " + key + " --region us-east-1",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	// Released, it can be taken again.
	if err := releaseA(ctx); err != nil {
		t.Fatal(err)
	}
	releaseB, err := bob.Acquire(ctx, lockState(t, t0.Add(6*time.Minute)), "bootstrap teardown --env staging --yes")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := releaseB(ctx); err != nil {
		t.Fatal(err)
	}

	// Alice's lock is removed by hand (the command the error gives: a plain
	// delete, a delete marker in the versioned bucket) while her run goes on,
	// and Bob takes the environment. Alice's release leaves Bob's lock.
	releaseA, err = alice.Acquire(ctx, lockState(t, t0.Add(time.Hour)), "bootstrap up --env staging")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	releaseB, err = bob.Acquire(ctx, lockState(t, t0.Add(2*time.Hour)), "bootstrap teardown --env staging --yes")
	if err != nil {
		t.Fatalf("after removing the stale lock: %v", err)
	}
	err = releaseA(ctx)
	if !errors.Is(err, ErrLockTaken) || !strings.Contains(err.Error(), "bob@ci") {
		t.Fatalf("releasing a lock taken over: %v, want ErrLockTaken naming bob@ci", err)
	}
	held, err := c.GetLock(ctx, bucket, key)
	if err != nil || held == nil || !strings.Contains(string(held.Body), `"holder": "bob@ci"`) {
		t.Fatalf("Bob's lock after Alice's release: %+v, %v", held, err)
	}
	if err := releaseB(ctx); err != nil {
		t.Fatal(err)
	}
	if held, err := c.GetLock(ctx, bucket, key); err != nil || held != nil {
		t.Fatalf("after the last release: %+v, %v", held, err)
	}
	// A release that finds the lock already gone is not an error.
	if err := releaseB(ctx); err != nil {
		t.Errorf("second release: %v", err)
	}
}

// TestLockRecordsTheRun: the lock says who, which process, what and when.
func TestLockRecordsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	c := motoClients(t)
	ctx := context.Background()
	bucket := "bootstrap-tfstate-" + testenv.MotoAccountID + "-us-east-1"
	if _, err := c.EnsureStateBucket(ctx, bucket, nil); err != nil {
		t.Fatal(err)
	}
	st := lockState(t, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	release, err := AcquireLock(ctx, st, "bootstrap data --env staging")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := release(ctx); err != nil {
			t.Error(err)
		}
	}()
	held, err := c.GetLock(ctx, bucket, LockKey("staging"))
	if err != nil || held == nil {
		t.Fatalf("%+v, %v", held, err)
	}
	e := lockedError(st, bucket, LockKey("staging"), held)
	if e.Info == nil || !strings.Contains(e.Info.Holder, "@") || e.Info.PID <= 0 ||
		e.Info.Command != "bootstrap data --env staging" || !e.Info.Started.Equal(st.Now()) {
		t.Errorf("lock content %s", held.Body)
	}
	if st.AccountID != testenv.MotoAccountID {
		t.Errorf("AccountID = %q", st.AccountID)
	}
}
