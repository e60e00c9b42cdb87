package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// The environment lock: one mutating run per environment at a time, across
// machines. It lives in the Terraform state bucket (the one place every
// machine that can change the environment already shares) at
// locks/<env>.json, taken with an S3 conditional write and released by a
// conditional delete.

// LockAPI is what the lock needs from AWS; *cloud.Clients is the real one.
type LockAPI interface {
	AccountID(ctx context.Context) (string, error)
	BucketExists(ctx context.Context, name string) (bool, error)
	PutLock(ctx context.Context, bucket, key string, body []byte) (*cloud.LockObject, error)
	GetLock(ctx context.Context, bucket, key string) (*cloud.LockObject, error)
	DeleteLock(ctx context.Context, bucket, key string, l *cloud.LockObject) error
}

// LockKey is an environment's lock object in the state bucket.
func LockKey(env string) string { return "locks/" + env + ".json" }

// LockInfo is the content of a lock object: who holds it and since when.
type LockInfo struct {
	Holder  string    `json:"holder"`
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
}

// LockedError is an environment another run holds.
type LockedError struct {
	Env, Bucket, Key, Region string
	// Info is the holder, when the object could be read as a lock.
	Info *LockInfo
	// Raw is the object's content otherwise.
	Raw string
	// Now is when it was found held.
	Now time.Time
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "environment %s is locked by another run", e.Env)
	if i := e.Info; i != nil {
		fmt.Fprintf(&b, ": %s (pid %d) has been running %q since %s", i.Holder, i.PID, i.Command, i.Started.UTC().Format(time.RFC3339))
		if !e.Now.IsZero() && e.Now.After(i.Started) {
			fmt.Fprintf(&b, " (%s ago)", e.Now.Sub(i.Started).Round(time.Second))
		}
	} else if e.Raw != "" {
		fmt.Fprintf(&b, " (lock content: %s)", e.Raw)
	}
	fmt.Fprintf(&b, "; wait for it to finish, or if it is no longer running, remove the stale lock with: %s", e.RemoveCommand())
	return b.String()
}

// RemoveCommand is the command that removes the lock by hand.
func (e *LockedError) RemoveCommand() string {
	return fmt.Sprintf("aws s3api delete-object --bucket %s --key %s --region %s", e.Bucket, e.Key, e.Region)
}

// ErrLockTaken is a release that found the lock no longer ours: someone
// removed it by hand and another run took it. That run's lock is left alone.
var ErrLockTaken = errors.New("the environment lock was taken by another run while this one held it")

// Locker takes the environment lock.
type Locker struct {
	AWS LockAPI
	// Holder is user@host; "" means this process's user and host.
	Holder string
	// PID is the holder's process id; 0 means this process's.
	PID int
}

// AcquireLock takes the environment's lock with the run's AWS clients for a run
// of command ("bootstrap teardown --env production --yes"); see
// Locker.Acquire.
func AcquireLock(ctx context.Context, st *State, command string) (release func(context.Context) error, err error) {
	return Locker{}.Acquire(ctx, st, command)
}

// Acquire takes the lock of st's environment, or fails at once with a
// *LockedError naming the holder and how to remove a stale lock. release
// deletes the lock if it is still this run's; call it when the run ends,
// whatever the outcome, with a context that is not cancelled (the run's may
// be, after Ctrl-C). Without a state bucket there is nothing to protect yet
// (an environment never created): the lock is skipped with a progress note
// and release does nothing.
func (l Locker) Acquire(ctx context.Context, st *State, command string) (release func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	p := st.Profile
	api, err := apiOf(ctx, st, l.AWS)
	if err != nil {
		return nil, err
	}
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return nil, err
	}
	bucket, key := p.StateBucketName(st.AccountID), LockKey(p.Name)
	ok, err := api.BucketExists(ctx, bucket)
	if err != nil {
		return nil, err
	}
	if !ok {
		st.Progress.Info("no state bucket s3://%s yet: nothing to lock", bucket)
		return noop, nil
	}
	info := LockInfo{Holder: l.Holder, PID: l.PID, Command: command, Started: now(st).UTC().Truncate(time.Second)}
	if info.Holder == "" {
		info.Holder = holder()
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	body, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	// Twice: the holder may release between our write and our read.
	for attempt := 0; ; attempt++ {
		obj, err := api.PutLock(ctx, bucket, key, body)
		if err == nil {
			st.Progress.Info("locked environment %s (s3://%s/%s)", p.Name, bucket, key)
			return func(ctx context.Context) error { return releaseLock(ctx, st, api, bucket, key, obj) }, nil
		}
		if !errors.Is(err, cloud.ErrLockHeld) {
			return nil, err
		}
		held, rerr := api.GetLock(ctx, bucket, key)
		if rerr != nil {
			return nil, rerr
		}
		if held == nil && attempt == 0 {
			continue
		}
		return nil, lockedError(st, bucket, key, held)
	}
}

func releaseLock(ctx context.Context, st *State, api LockAPI, bucket, key string, ours *cloud.LockObject) error {
	err := api.DeleteLock(ctx, bucket, key, ours)
	if !errors.Is(err, cloud.ErrLockChanged) {
		return err
	}
	held, rerr := api.GetLock(ctx, bucket, key)
	if rerr != nil {
		return fmt.Errorf("%w (reading it: %v)", ErrLockTaken, rerr)
	}
	if held == nil {
		st.Progress.Info("the lock s3://%s/%s was already removed", bucket, key)
		return nil
	}
	return fmt.Errorf("%w; left in place: %v", ErrLockTaken, lockedError(st, bucket, key, held))
}

func lockedError(st *State, bucket, key string, held *cloud.LockObject) *LockedError {
	e := &LockedError{Env: st.Profile.Name, Bucket: bucket, Key: key, Region: st.Profile.Region, Now: now(st)}
	if held == nil {
		return e
	}
	var info LockInfo
	if err := json.Unmarshal(held.Body, &info); err == nil && info.Holder != "" {
		e.Info = &info
	} else {
		e.Raw = strings.TrimSpace(string(held.Body))
		if len(e.Raw) > 200 {
			e.Raw = e.Raw[:200] + "..."
		}
	}
	return e
}

// holder is user@host of this process.
func holder() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}

func now(st *State) time.Time {
	if st.Now != nil {
		return st.Now()
	}
	return time.Now()
}

// terraformLockInfo is the part of Terraform's lock file (the S3 backend's
// use_lockfile object, "<key>.tflock") that says whose it is: Terraform's
// statemgr.LockInfo, marshalled with its field names; Path is the S3
// backend's lockPath(), "<bucket>/<key>".
type terraformLockInfo struct {
	ID        string
	Operation string
	Who       string
	Created   time.Time
	Path      string
}

// ReleaseKilledStateLock removes the state lock a terraform killed on a
// second Ctrl-C left behind (err wraps tfdriver.ErrKilled; for any other
// error it does nothing). Only a run that holds the environment lock calls
// it, so no other bootstrap run can be the lock's holder; it still removes
// the lock only when it names this environment's state and was taken since
// the run started, and otherwise says how to remove it by hand.
func ReleaseKilledStateLock(ctx context.Context, st *State, injected LockAPI, err error, since time.Time) error {
	if !errors.Is(err, tfdriver.ErrKilled) {
		return nil
	}
	b := backend(st)
	key := b.Key + ".tflock"
	manual := fmt.Sprintf("terraform -chdir=%s force-unlock <ID>, or aws s3api delete-object --bucket %s --key %s --region %s", StatefulRootRef, b.Bucket, key, b.Region)
	api, err := apiOf(ctx, st, injected)
	if err != nil {
		return fmt.Errorf("terraform was killed and its state lock s3://%s/%s may remain (%v); remove it with %s", b.Bucket, key, err, manual)
	}
	held, err := api.GetLock(ctx, b.Bucket, key)
	if err != nil {
		return fmt.Errorf("terraform was killed and its state lock s3://%s/%s may remain (%v); remove it with %s", b.Bucket, key, err, manual)
	}
	if held == nil {
		st.Progress.Info("terraform was killed; it left no state lock")
		return nil
	}
	var info terraformLockInfo
	if jerr := json.Unmarshal(held.Body, &info); jerr != nil || info.Path != b.Bucket+"/"+b.Key || info.Created.Before(since.Add(-time.Minute)) {
		return fmt.Errorf("terraform was killed; the state lock s3://%s/%s is not one this run took (%s): if no terraform runs on this state, remove it with %s",
			b.Bucket, key, strings.TrimSpace(string(held.Body)), strings.Replace(manual, "<ID>", info.ID, 1))
	}
	if err := api.DeleteLock(ctx, b.Bucket, key, held); err != nil {
		return fmt.Errorf("terraform was killed; removing its state lock s3://%s/%s: %w; remove it with %s", b.Bucket, key, err, strings.Replace(manual, "<ID>", info.ID, 1))
	}
	st.Progress.Info("terraform was killed; released the state lock it held (s3://%s/%s, %s)", b.Bucket, key, info.Operation)
	return nil
}
