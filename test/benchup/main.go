// Command benchup measures how long `bootstrap up` and `bootstrap teardown`
// take against how long they must take: it runs the real step lists
// (pipeline.UpSteps, pipeline.TeardownSteps) through the real runner, lanes
// and waiting steps, with every step that would call AWS, eksctl, Terraform
// or Helm replaced by a fake that replays that step's duration on AWS,
// scaled down (by default one minute replays as one second). The fake eksctl
// makes the VPC's subnets and the cluster security group at the moments the
// real one's CloudFormation stack does, in an in-memory world the real
// waiting steps poll, with the same backoff as on AWS, scaled alike.
//
// It prints the wall time, the sum of the phases (what running them one
// after the other, as the runbook does, costs) and the critical path (the
// longest chain of work the dependencies allow), and fails when the wall
// time is more than 5% over the critical path. It is `make bench-up`; it is
// a benchmark, not a test: timing on a busy machine varies.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// Minutes on AWS, from the runbook's measured phases: eksctl about 16
// (VPC in the first 2, control plane with its security group by 12, node
// group ready at 16), the data tier about 18 (RDS Multi-AZ), the add-ons
// about 3. Teardown: load balancers 1, add-ons 1, the data tier's destroy
// 10 (final snapshot, Multi-AZ delete), the node group 5, the control plane
// and VPC 8.
const (
	eksctlNetwork      = 2.0
	eksctlControlPlane = 10.0
	eksctlNodeGroup    = 4.0
	grantApply         = 0.5
)

var upMinutes = map[string]float64{
	pipeline.ReadAccount{}.Name():          0.02,
	pipeline.CheckOwnership{}.Name():       0.2,
	pipeline.CheckEksctl{}.Name():          0.02,
	pipeline.CreateCluster{}.Name():        eksctlNetwork + eksctlControlPlane + eksctlNodeGroup,
	pipeline.ReadNetwork{}.Name():          0.02,
	pipeline.ClaimLogGroup{}.Name():        0.02,
	pipeline.RemoveReplacedAddons{}.Name(): 0.02, // nothing to remove on a new cluster
	pipeline.WriteKubeconfig{}.Name():      0.02,
	pipeline.AddChartRepos{}.Name():        0.1,
	pipeline.ApplyChartCRDs{}.Name():       0.1,
	pipeline.EnsureStateBucket{}.Name():    0.05,
	pipeline.ApplyData{}.Name():            18,
	pipeline.SetRedisAuth{}.Name():         0.05,
	pipeline.ReadDataOutputs{}.Name():      0.02,
	pipeline.KeepAppDatabaseRole{}.Name():  0.5, // first run: the role Job (image pull, psql), estimated, not measured
	pipeline.ApplySecretManifests{}.Name(): 0.05,
	pipeline.WriteAppValues{}.Name():       0.01,

	pipeline.DeleteLoadBalancers{}.Name():   1,
	pipeline.DeleteSecretManifests{}.Name(): 0.1,
	pipeline.DeleteChartCRDs{}.Name():       0.05,
	pipeline.DeleteOwnedRecords{}.Name():    0.05, // one list and one change batch in Route53, estimated, not measured
	pipeline.DestroyData{}.Name():           10,
	pipeline.DeleteNodeGroups{}.Name():      5,
	pipeline.DeleteCluster{}.Name():         8,
	pipeline.SweepLeftovers{}.Name():        0.5,
	pipeline.DeleteLogGroup{}.Name():        0.02,
}

func init() {
	for _, c := range addons.All {
		upMinutes[pipeline.InstallRelease{Chart: c}.Name()] = 0.9
		upMinutes[pipeline.UninstallRelease{Chart: c}.Name()] = 0.25
	}
}

// world is what the replayed eksctl has made so far.
type world struct {
	mu               sync.Mutex
	network, sg      bool
	grantApplyLasted time.Duration
}

func (w *world) NetworkSoFar(context.Context, string) (*cloud.Network, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := &cloud.Network{}
	if w.network {
		n.VPCID = "vpc-0bench"
		n.PrivateSubnetIDs = []string{"subnet-0a", "subnet-0b", "subnet-0c"}
		n.PublicSubnetIDs = []string{"subnet-1a", "subnet-1b", "subnet-1c"}
	}
	if w.sg {
		n.ClusterSecurityGroupID = "sg-0bench"
		n.OIDCIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/BENCH"
	}
	return n, nil
}

// replay is a step that takes its AWS duration, scaled, doing at given
// moments what the real tool does then.
type replay struct {
	name   string
	d      time.Duration
	events []event
}

type event struct {
	at time.Duration
	do func()
}

func (r replay) Name() string { return r.name }

func (r replay) Run(ctx context.Context, _ *pipeline.State) error {
	start := time.Now()
	for _, e := range r.events {
		if err := sleepUntil(ctx, start.Add(e.at)); err != nil {
			return err
		}
		e.do()
	}
	return sleepUntil(ctx, start.Add(r.d))
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

type bench struct {
	scale time.Duration // what one minute on AWS replays as
	w     *world
}

func (b *bench) of(minutes float64) time.Duration {
	return time.Duration(minutes * float64(b.scale))
}

// fake replaces a step by its replay; the waiting steps stay real, reading
// the world.
func (b *bench) fake(s pipeline.Step) (pipeline.Step, error) {
	switch s := s.(type) {
	case pipeline.WaitForSubnets:
		s.AWS = b.w
		return s, nil
	case pipeline.GrantClusterAccess:
		s.Wait = b.w
		s.Apply = pipeline.Func{Title: "apply", Fn: func(ctx context.Context, st *pipeline.State) error {
			start := time.Now()
			err := replay{name: "apply", d: b.of(grantApply)}.Run(ctx, st)
			b.w.mu.Lock()
			b.w.grantApplyLasted = time.Since(start)
			b.w.mu.Unlock()
			return err
		}}
		return s, nil
	case pipeline.CreateCluster:
		return replay{name: s.Name(), d: b.of(eksctlNetwork + eksctlControlPlane + eksctlNodeGroup), events: []event{
			{at: b.of(eksctlNetwork), do: func() { b.w.mu.Lock(); b.w.network = true; b.w.mu.Unlock() }},
			{at: b.of(eksctlNetwork + eksctlControlPlane), do: func() { b.w.mu.Lock(); b.w.sg = true; b.w.mu.Unlock() }},
		}}, nil
	}
	m, ok := upMinutes[s.Name()]
	if !ok {
		return nil, fmt.Errorf("no AWS duration for step %q: add it to upMinutes", s.Name())
	}
	return replay{name: s.Name(), d: b.of(m)}, nil
}

func (b *bench) steps(list []pipeline.Step) ([]pipeline.Step, error) {
	var errs []string
	out := pipeline.Map(list, func(s pipeline.Step) pipeline.Step {
		f, err := b.fake(s)
		if err != nil {
			errs = append(errs, err.Error())
			return s
		}
		return f
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// result is one measured run.
type result struct {
	what            string
	wall, sum, path time.Duration
	spans           []pipeline.Span
	start           time.Time
}

func (b *bench) run(ctx context.Context, what string, list []pipeline.Step, progress io.Writer) (result, error) {
	steps, err := b.steps(list)
	if err != nil {
		return result{}, err
	}
	dir, err := os.MkdirTemp("", "benchup-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	f := b.scale.Seconds() / time.Minute.Seconds()
	st := &pipeline.State{
		Profile: config.Builtin("production"),
		Dir:     dir,
		Services: pipeline.Services{
			Progress: pipeline.NewProgress(progress, false, false),
			Log:      io.Discard,
			Out:      io.Discard,
			Now:      time.Now,
			Trace:    &pipeline.Trace{},
			Poll: pipeline.Backoff{
				Initial: time.Duration(5 * float64(time.Second) * f),
				Max:     time.Duration(20 * float64(time.Second) * f),
				Limit:   time.Duration(45 * float64(time.Minute) * f),
			},
		},
		Facts: pipeline.Facts{
			AccountID: "123456789012",
		},
	}
	start := time.Now()
	if err := pipeline.Run(ctx, st, "make bench-up", steps); err != nil {
		return result{}, err
	}
	r := result{what: what, wall: time.Since(start), spans: st.Trace.Spans(), start: start}
	r.sum, r.path = b.measure(list, r.spans)
	return r, nil
}

// measure computes, from the measured step durations, the sum of the work
// and the critical path through the list's dependencies. Waiting steps are
// not work: the data lane's wait for the subnets is the dependency on the
// moment eksctl made them, the grant's wait the one on the security group.
func (b *bench) measure(list []pipeline.Step, spans []pipeline.Span) (sum, path time.Duration) {
	took := map[string]time.Duration{}
	for _, s := range spans {
		took[s.Step] = s.End.Sub(s.Start)
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	work := func(s pipeline.Step) time.Duration {
		switch s.(type) {
		case pipeline.WaitForSubnets:
			return 0
		case pipeline.GrantClusterAccess:
			return b.w.grantApplyLasted
		}
		return took[s.Name()]
	}
	var at time.Duration // when the next step of the main list may start
	for _, s := range list {
		p, ok := s.(pipeline.Parallel)
		if !ok {
			sum += work(s)
			at += work(s)
			continue
		}
		end := at
		for _, l := range p.Lanes {
			t := at
			for _, ls := range l.Steps {
				sum += work(ls)
				switch ls.(type) {
				case pipeline.WaitForSubnets:
					// The data lane can start no sooner than eksctl made the
					// subnets: the lane before this one started eksctl after
					// its own first steps.
					t = max(t, at+b.eksctlOffset(p, took)+b.of(eksctlNetwork))
				case pipeline.GrantClusterAccess:
					t = max(t, at+b.eksctlOffset(p, took)+b.of(eksctlNetwork+eksctlControlPlane))
				}
				t += work(ls)
			}
			end = max(end, t)
		}
		at = end
	}
	return sum, at
}

// eksctlOffset is how long after the lanes start eksctl starts: the steps
// before it in its lane.
func (b *bench) eksctlOffset(p pipeline.Parallel, took map[string]time.Duration) time.Duration {
	for _, l := range p.Lanes {
		var t time.Duration
		for _, s := range l.Steps {
			if _, ok := s.(pipeline.CreateCluster); ok {
				return t
			}
			t += took[s.Name()]
		}
	}
	return 0
}

func main() {
	scale := flag.Duration("scale", time.Second, "what one minute on AWS replays as")
	quiet := flag.Bool("q", false, "no per-step progress")
	flag.Parse()
	var progress io.Writer = os.Stderr
	if *quiet {
		progress = io.Discard
	}
	ctx := context.Background()
	fmt.Printf("bootstrap up and teardown, production, durations replayed at 1 minute = %s\n\n", *scale)
	var results []result
	for _, c := range []struct {
		what string
		list []pipeline.Step
	}{{"up", pipeline.UpSteps()}, {"teardown", pipeline.TeardownSteps()}} {
		b := &bench{scale: *scale, w: &world{}}
		r, err := b.run(ctx, c.what, c.list, progress)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-up: %s: %v\n", c.what, err)
			os.Exit(1)
		}
		results = append(results, r)
	}
	fmt.Println()
	ok := true
	for _, r := range results {
		over := float64(r.wall-r.path) / float64(r.path) * 100
		fmt.Printf("%s\n", r.what)
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  wall time\t%s\t\n", secs(r.wall))
		fmt.Fprintf(tw, "  sum of phases\t%s\t\n", secs(r.sum))
		fmt.Fprintf(tw, "  critical path\t%s\t\n", secs(r.path))
		fmt.Fprintf(tw, "  wall over critical path\t%+.1f%%\t\n", over)
		fmt.Fprintf(tw, "  saved against one phase after another\t%.0f%%\t\n", float64(r.sum-r.wall)/float64(r.sum)*100)
		tw.Flush()
		timeline(os.Stdout, r)
		if over > 5 {
			ok = false
		}
	}
	if !ok {
		fmt.Println("goal missed: wall time more than 5% over the critical path")
		os.Exit(1)
	}
	fmt.Println("goal met: wall time within 5% of the critical path")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// timeline prints each step's start and end, by lane.
func timeline(w io.Writer, r result) {
	spans := append([]pipeline.Span(nil), r.spans...)
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start.Before(spans[j].Start) })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    start\tend\tlane\tstep")
	for _, s := range spans {
		lane := s.Lane
		if lane == "" {
			lane = "-"
		}
		fmt.Fprintf(tw, "    %6.2f\t%6.2f\t%s\t%s\n", s.Start.Sub(r.start).Seconds(), s.End.Sub(r.start).Seconds(), lane, s.Step)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
