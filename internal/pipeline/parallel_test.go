package pipeline

import (
	"bytes"
	"context"
	"errors"
	"github.com/sovd/bootstrap/terraform/stateful"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
)

// syncBuffer is a bytes.Buffer lanes may write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestParallelRunsLanesAtTheSameTime(t *testing.T) {
	t.Parallel()
	// Each lane's step waits until the other lane's step has started: run
	// one after the other, they would never both get past the barrier.
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	step := func(me, other string) Step {
		return Func{Title: "step " + me, Fn: func(ctx context.Context, st *State) error {
			close(started[me])
			select {
			case <-started[other]:
			case <-time.After(10 * time.Second):
				return errors.New("the other lane never started")
			}
			if me == "a" {
				st.AccountID = "111122223333"
			} else {
				st.Data = &stateful.DataOutputs{DBHost: "db"}
			}
			return nil
		}}
	}
	var out syncBuffer
	st := clusterState(t, "staging", nil)
	st.Progress = NewProgress(&out, false, false)
	st.Trace = &Trace{}
	steps := []Step{Parallel{Title: "both", Lanes: []Lane{
		{Name: "a", Steps: []Step{step("a", "b")}},
		{Name: "b", Steps: []Step{step("b", "a")}},
	}}}
	if err := Run(context.Background(), st, "bootstrap up", steps); err != nil {
		t.Fatal(err)
	}
	if st.AccountID != "111122223333" || st.Data == nil || st.Data.DBHost != "db" {
		t.Errorf("lane findings not merged back: account %q, data %v", st.AccountID, st.Data)
	}
	for _, want := range []string{" • [a] step a ...", " ✓ [a] step a", " • [b] step b ...", " ✓ [b] step b"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, out.String())
		}
	}
	if spans := st.Trace.Spans(); len(spans) != 2 || spans[0].Lane == "" || spans[0].Lane == spans[1].Lane {
		t.Errorf("trace: %+v", spans)
	}
}

func TestParallelFailureStopsTheOtherLanes(t *testing.T) {
	t.Parallel()
	cause := errors.New("eksctl: AlreadyExistsException")
	var after bool
	running := make(chan struct{})
	blocked := Func{Title: "Applying the data tier with Terraform", Fn: func(ctx context.Context, _ *State) error {
		close(running)
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(10 * time.Second):
			return errors.New("not stopped")
		}
	}}
	var out syncBuffer
	st := clusterState(t, "staging", nil)
	st.Progress = NewProgress(&out, false, false)
	steps := []Step{
		Parallel{Title: "both", Lanes: []Lane{
			{Name: "cluster", Steps: []Step{Func{Title: "Creating EKS cluster with eksctl", Fn: func(context.Context, *State) error { <-running; return cause }}}},
			{Name: "data", Steps: []Step{blocked, Func{Title: "never", Fn: func(context.Context, *State) error { after = true; return nil }}}},
		}},
		Func{Title: "after", Fn: func(context.Context, *State) error { after = true; return nil }},
	}
	start := time.Now()
	err := Run(context.Background(), st, "bootstrap up --env staging", steps)
	if time.Since(start) > 5*time.Second {
		t.Errorf("the other lane was not stopped: Run took %s", time.Since(start))
	}
	var se *StepError
	if !errors.As(err, &se) || se.Step != "Creating EKS cluster with eksctl" || !errors.Is(err, cause) || se.Next != "bootstrap up --env staging" {
		t.Fatalf("error = %#v, want the cluster lane's failure with the command that continues", err)
	}
	if after {
		t.Error("a step after the failure ran")
	}
	for _, want := range []string{" ✗ [cluster] Creating EKS cluster with eksctl", " ■ [data] Applying the data tier with Terraform"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParallelInterruptedNamesEveryRunningStep(t *testing.T) {
	t.Parallel()
	wait := func(name string) Step {
		return Func{Title: name, Fn: func(ctx context.Context, _ *State) error {
			<-ctx.Done()
			return context.Cause(ctx)
		}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	st := clusterState(t, "staging", nil)
	err := Run(ctx, st, "bootstrap up --env staging", []Step{Parallel{Title: "both", Lanes: []Lane{
		{Name: "cluster", Steps: []Step{wait("Creating EKS cluster with eksctl")}},
		{Name: "data", Steps: []Step{wait("Applying the data tier with Terraform")}},
	}}})
	var se *StepError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want an interrupted StepError", err)
	}
	if se.Step != "Creating EKS cluster with eksctl, Applying the data tier with Terraform" || se.Next == "" {
		t.Errorf("step %q, next %q", se.Step, se.Next)
	}
}

func TestMergeKeepsTheCompleteNetwork(t *testing.T) {
	t.Parallel()
	partial := &Network{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-1"}}
	full := &Network{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-1"}, ClusterSecurityGroupID: "sg-1", OIDCIssuer: "https://oidc"}
	for _, order := range [][]*Network{{partial, full}, {full, partial}} {
		st := &State{}
		for _, n := range order {
			st.merge(&State{Facts: Facts{Network: n}})
		}
		if st.Network != full {
			t.Errorf("merged %+v, want the complete network", st.Network)
		}
	}
}

func TestFlattenAndMapReachIntoLanes(t *testing.T) {
	t.Parallel()
	names := func(steps []Step) string {
		var s []string
		for _, x := range Flatten(steps) {
			s = append(s, x.Name())
		}
		return strings.Join(s, ",")
	}
	f := func(n string) Step { return Func{Title: n, Fn: func(context.Context, *State) error { return nil }} }
	steps := []Step{f("1"), Parallel{Title: "p", Lanes: []Lane{{Name: "a", Steps: []Step{f("2"), f("3")}}, {Name: "b", Steps: []Step{f("4")}}}}, f("5")}
	if got := names(steps); got != "1,2,3,4,5" {
		t.Errorf("Flatten: %s", got)
	}
	mapped := Map(steps, func(s Step) Step { return f(s.Name() + "'") })
	if got := names(mapped); got != "1',2',3',4',5'" {
		t.Errorf("Map: %s", got)
	}
	if names(steps) != "1,2,3,4,5" {
		t.Error("Map changed the list it was given")
	}
}

func TestEveryUpAndTeardownStepIsUniqueAndLanesAreNamed(t *testing.T) {
	t.Parallel()
	for what, steps := range map[string][]Step{"up": UpSteps(), "teardown": TeardownSteps()} {
		seen := map[string]bool{}
		for _, s := range Flatten(steps) {
			if seen[s.Name()] {
				t.Errorf("%s: step %q twice (progress and errors name steps)", what, s.Name())
			}
			seen[s.Name()] = true
		}
		for _, s := range steps {
			if p, ok := s.(Parallel); ok {
				for _, l := range p.Lanes {
					if l.Name == "" || len(l.Steps) == 0 {
						t.Errorf("%s: lane %+v needs a name and steps", what, l)
					}
				}
			}
		}
	}
}

func TestProgressOnATerminalShowsEveryRunningStep(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	p := NewProgress(&out, true, false)
	a := p.Lane("cluster").Start("Creating EKS cluster with eksctl")
	b := p.Lane("data").Start("Applying the data tier with Terraform")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "[cluster] Creating EKS cluster with eksctl · [data] Applying the data tier with Terraform") {
		if time.Now().After(deadline) {
			t.Fatalf("no spinner line naming both steps:\n%q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Lane("data").Info("plan: 3 to add")
	b.Done(2 * time.Second)
	a.Fail(3 * time.Second)
	got := out.String()
	for _, want := range []string{"\r\033[K   [data] plan: 3 to add\n", "\r\033[K ✓ [data] Applying the data tier with Terraform (2s)\n", "\r\033[K ✗ [cluster] Creating EKS cluster with eksctl (3s)\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	time.Sleep(250 * time.Millisecond)
	if after := out.String(); after != got {
		t.Errorf("the spinner went on after every step ended: %q", strings.TrimPrefix(after, got))
	}
}

// netAPI answers NetworkSoFar from a list of successive answers.
type netAPI struct {
	mu      sync.Mutex
	answers []*cloud.Network
	calls   int
}

func (n *netAPI) NetworkSoFar(context.Context, string) (*cloud.Network, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.answers[min(n.calls, len(n.answers)-1)]
	n.calls++
	return a, nil
}

func TestWaitForSubnetsPollsUntilEveryZoneHasOne(t *testing.T) {
	t.Parallel()
	three := []string{"subnet-1", "subnet-2", "subnet-3"}
	api := &netAPI{answers: []*cloud.Network{
		{},               // nothing yet
		{VPCID: "vpc-1"}, // the VPC, no subnet
		{VPCID: "vpc-1", PrivateSubnetIDs: three[:2]}, // CloudFormation is still making the third
		{VPCID: "vpc-1", PrivateSubnetIDs: three},
	}}
	st := clusterState(t, "staging", nil)
	st.Poll = Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}
	if err := (WaitForSubnets{AWS: api}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if api.calls != 4 || st.Network == nil || len(st.Network.PrivateSubnetIDs) != 3 {
		t.Errorf("%d calls, network %+v", api.calls, st.Network)
	}
}

func TestWaitGivesUpAfterItsLimitAndOnCancel(t *testing.T) {
	t.Parallel()
	api := &netAPI{answers: []*cloud.Network{{}}}
	st := clusterState(t, "staging", nil)
	st.Poll = Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Limit: 50 * time.Millisecond}
	err := (WaitForSubnets{AWS: api}).Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "gave up waiting for the VPC and 3 private subnets of cluster sovd-staging-cluster after 50ms") {
		t.Errorf("error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st.Poll.Limit = time.Hour
	if err := (WaitForSubnets{AWS: api}).Run(ctx, st); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

// failingNetwork fails every read.
type failingNetwork struct{}

func (failingNetwork) NetworkSoFar(context.Context, string) (*cloud.Network, error) {
	return nil, errors.New("must not poll")
}

func TestGrantClusterAccessHasNothingToDoWhenTheApplyHadTheGroup(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "staging", nil)
	var out bytes.Buffer
	st.Progress = NewProgress(&out, false, false)
	st.Network = &Network{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-1"}, ClusterSecurityGroupID: "sg-1"}
	fail := failingNetwork{}
	apply := Func{Title: "apply", Fn: func(context.Context, *State) error { return errors.New("must not apply") }}
	if err := (GrantClusterAccess{Wait: fail, Apply: apply}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied with cluster security group sg-1: nothing to add") {
		t.Errorf("progress: %s", out.String())
	}
}

func TestGrantClusterAccessWaitsForTheGroupThenAppliesWithIt(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "staging", nil)
	st.Poll = Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}
	st.Network = &Network{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-1"}}
	api := &netAPI{answers: []*cloud.Network{
		{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-1"}}, // EKS is still making the control plane
		{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-1"}, ClusterSecurityGroupID: "sg-1"},
	}}
	var appliedWith string
	apply := Func{Title: "apply", Fn: func(_ context.Context, st *State) error { appliedWith = st.Network.ClusterSecurityGroupID; return nil }}
	if err := (GrantClusterAccess{Wait: api, Apply: apply}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if appliedWith != "sg-1" || api.calls != 2 {
		t.Errorf("applied with %q after %d checks, want sg-1 after 2", appliedWith, api.calls)
	}
}

// TestLanesKeepTheirLogLinesWhole: a lane writing half a line (Terraform's
// output comes in pieces) must not have another lane's line land inside it.
func TestLanesKeepTheirLogLinesWhole(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	st := clusterState(t, "staging", nil)
	st.Log = &log
	halfWritten := make(chan struct{})
	other := make(chan struct{})
	steps := []Step{Parallel{Title: "both", Lanes: []Lane{
		{Name: "data", Steps: []Step{Func{Title: "terraform", Fn: func(_ context.Context, st *State) error {
			io.WriteString(st.Log, "aws_db_instance.this: Still ")
			close(halfWritten)
			<-other
			io.WriteString(st.Log, "creating... [10s elapsed]\n")
			return nil
		}}}},
		{Name: "cluster", Steps: []Step{Func{Title: "eksctl", Fn: func(_ context.Context, st *State) error {
			<-halfWritten
			io.WriteString(st.Log, "waiting for CloudFormation stack\n")
			close(other)
			return nil
		}}}},
	}}}
	if err := Run(context.Background(), st, "bootstrap up", steps); err != nil {
		t.Fatal(err)
	}
	got := log.String()
	for _, want := range []string{"[data] aws_db_instance.this: Still creating... [10s elapsed]\n", "[cluster] waiting for CloudFormation stack\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks the whole line %q:\n%s", want, got)
		}
	}
}

// finishing is a step that must be let finish when another lane fails.
type finishing struct{ Func }

func (finishing) FinishesWhenStopped() {}

func TestAFinisherIsLetFinishWhenAnotherLaneFails(t *testing.T) {
	t.Parallel()
	cause := errors.New("terraform init: backend unreachable")
	started, failed := make(chan struct{}), make(chan struct{})
	var finished, next bool
	eksctl := finishing{Func{Title: "Creating EKS cluster with eksctl", Fn: func(ctx context.Context, _ *State) error {
		close(started)
		<-failed
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(200 * time.Millisecond): // still running well after the other lane failed
		}
		finished = true
		return nil
	}}}
	var out syncBuffer
	st := clusterState(t, "staging", nil)
	st.Progress = NewProgress(&out, false, false)
	err := Run(context.Background(), st, "bootstrap up --env staging", []Step{Parallel{Title: "both", Lanes: []Lane{
		{Name: "cluster", Steps: []Step{eksctl, Func{Title: "Installing metrics-server", Fn: func(context.Context, *State) error { next = true; return nil }}}},
		{Name: "data", Steps: []Step{Func{Title: "Applying the data tier with Terraform", Fn: func(context.Context, *State) error {
			<-started
			defer close(failed)
			return cause
		}}}},
	}}})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "Applying the data tier with Terraform" || !errors.Is(err, cause) {
		t.Fatalf("error = %v, want the data lane's failure", err)
	}
	if !finished || next {
		t.Errorf("eksctl finished %v (want true), the step after it ran %v (want false)", finished, next)
	}
	if !strings.Contains(out.String(), `letting "Creating EKS cluster with eksctl" finish`) {
		t.Errorf("progress does not say why it waits:\n%s", out.String())
	}
}

func TestAFinisherStopsOnCtrlC(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	eksctl := finishing{Func{Title: "Creating EKS cluster with eksctl", Fn: func(ctx context.Context, _ *State) error {
		cancel()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(5 * time.Second):
			return errors.New("not stopped by Ctrl-C")
		}
	}}}
	st := clusterState(t, "staging", nil)
	err := Run(ctx, st, "bootstrap up --env staging", []Step{Parallel{Title: "both", Lanes: []Lane{{Name: "cluster", Steps: []Step{eksctl}}}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want interrupted", err)
	}
}

// TestALaneFailureOutranksALaterCtrlC: a lane fails; while the other lane
// is stopping, the user presses Ctrl-C. The failure is still what the user
// must read, not "interrupted".
func TestALaneFailureOutranksALaterCtrlC(t *testing.T) {
	t.Parallel()
	cause := errors.New("eksctl: AlreadyExistsException")
	ctx, cancel := context.WithCancel(context.Background())
	st := clusterState(t, "staging", nil)
	err := Run(ctx, st, "bootstrap up --env staging", []Step{Parallel{Title: "both", Lanes: []Lane{
		{Name: "cluster", Steps: []Step{Func{Title: "Creating EKS cluster with eksctl", Fn: func(context.Context, *State) error { return cause }}}},
		{Name: "data", Steps: []Step{Func{Title: "Applying the data tier with Terraform", Fn: func(ctx context.Context, _ *State) error {
			<-ctx.Done() // stopped because the cluster lane failed...
			cancel()     // ...and Ctrl-C while terraform is stopping
			return context.Cause(ctx)
		}}}},
	}}})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "Creating EKS cluster with eksctl" || !errors.Is(err, cause) || errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want the cluster lane's failure", err)
	}
}

func TestHasClusterRules(t *testing.T) {
	t.Parallel()
	without := []string{"aws_security_group.db", "aws_db_instance.this"}
	with := append(without, "aws_vpc_security_group_ingress_rule.db_from_cluster[0]")
	if hasClusterRules(without) || !hasClusterRules(with) {
		t.Errorf("hasClusterRules(without) = %v, (with) = %v", hasClusterRules(without), hasClusterRules(with))
	}
}

// TestReadOnlyRunsKeepOffTheWorkingDirectory: plan and values take no lock,
// so their terraform init must not rewrite the directory a running up
// works in.
func TestReadOnlyRunsKeepOffTheWorkingDirectory(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "staging", nil)
	rw := statefulWorkDir(st)
	st.ReadOnly = true
	if ro := statefulWorkDir(st); ro == rw || strings.HasPrefix(ro, rw) || strings.HasPrefix(rw, ro) {
		t.Errorf("read-only %s and read-write %s overlap", ro, rw)
	}
}
