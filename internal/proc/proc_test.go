package proc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRunCapturesOutputAndTail(t *testing.T) {
	t.Parallel()
	var log, stdout bytes.Buffer
	e := &Exec{Log: &log, TailLines: 3}
	err := e.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo data; sleep 0.3; for i in 1 2 3 4 5; do echo line$i >&2; done; exit 3"}, Stdout: &stdout})
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("want *RunError, got %v", err)
	}
	if re.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", re.ExitCode)
	}
	if got := strings.Join(re.Tail, ","); got != "line3,line4,line5" {
		t.Errorf("tail = %s, want the last three lines", got)
	}
	if !strings.Contains(re.Cmd, "sh -c") {
		t.Errorf("error should carry the command, got %q", re.Cmd)
	}
	if stdout.String() != "data\n" {
		t.Errorf("stdout = %q", stdout.String())
	}
	if !strings.Contains(log.String(), "$ sh -c") || !strings.Contains(log.String(), "line1") {
		t.Errorf("run log lacks the command or output:\n%s", log.String())
	}
}

func TestRedactionEverywhere(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-Value-42"
	r := &Redactor{}
	r.Add(secret, "ab") // too short to redact
	var log, stream bytes.Buffer
	e := &Exec{Log: r.Writer(&log), Stream: &stream, Redact: r}
	err := e.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "printf 's3cr3t-'; printf 'Value-42 ab\\n'; echo " + secret + " >&2; exit 1", secret}})
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("want *RunError, got %v", err)
	}
	for name, s := range map[string]string{"log": log.String(), "stream": stream.String(), "error": re.Error(), "tail": strings.Join(re.Tail, "\n")} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the secret:\n%s", name, s)
		}
	}
	if !strings.Contains(stream.String(), Marker+" ab") {
		t.Errorf("a secret split over two writes should be redacted whole, stream:\n%s", stream.String())
	}
}

func TestCancelSendsSIGINTFirst(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	e := &Exec{Log: &log, Grace: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	start := time.Now()
	err := e.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "trap 'echo got-int; exit 130' INT; while :; do sleep 0.05; done"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want an error wrapping context.Canceled, got %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("a child that handles SIGINT should stop at once, took %s", time.Since(start))
	}
	if !strings.Contains(log.String(), "got-int") {
		t.Errorf("child did not receive SIGINT; log:\n%s", log.String())
	}
}

func TestCancelKillsAChildThatIgnoresSIGINT(t *testing.T) {
	t.Parallel()
	e := &Exec{Grace: 500 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	done := make(chan error, 1)
	go func() {
		done <- e.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "trap '' INT; while :; do sleep 0.05; done"}})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "killed after not stopping") {
			t.Fatalf("want a kill after the grace period, got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a child ignoring SIGINT was never killed")
	}
}

func TestHurryKillsAtOnce(t *testing.T) {
	t.Parallel()
	hurry := make(chan struct{})
	e := &Exec{Grace: time.Hour, Hurry: hurry}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel()
		time.Sleep(200 * time.Millisecond)
		close(hurry)
	}()
	done := make(chan error, 1)
	go func() {
		done <- e.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "trap '' INT; while :; do sleep 0.05; done"}})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "second interrupt") {
			t.Fatalf("want a kill on the second interrupt, got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("second interrupt did not kill the child")
	}
}

func TestCancelledContextStartsNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var log bytes.Buffer
	err := (&Exec{Log: &log}).Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "echo ran"}})
	if !errors.Is(err, context.Canceled) || strings.Contains(log.String(), "ran") {
		t.Fatalf("want nothing run and context.Canceled, got %v, log %q", err, log.String())
	}
}

func TestKillReachesGrandchildren(t *testing.T) {
	t.Parallel()
	// The child runs in its own process group, and the group is signalled:
	// a grandchild (terraform's provider plugins, say) must not outlive it.
	dir := t.TempDir()
	e := &Exec{Grace: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	_ = e.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "sh -c 'trap \"\" INT; sleep 3; touch " + dir + "/survived' & trap '' INT; wait"}})
	time.Sleep(3500 * time.Millisecond)
	if _, err := os.Stat(dir + "/survived"); err == nil {
		t.Fatal("a grandchild survived the kill")
	}
}

func TestPrefixedKeepsLinesWhole(t *testing.T) {
	t.Parallel()
	var got bytes.Buffer
	w := Prefixed(&got, "[data] ")
	for _, s := range []string{"one\n", "two", " halves\nthree\n", ""} {
		if n, err := io.WriteString(w, s); err != nil || n != len(s) {
			t.Fatalf("write %q: %d, %v", s, n, err)
		}
	}
	if want := "[data] one\n[data] two halves\n[data] three\n"; got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
}

func TestLabelTagsTheLogAndTheStream(t *testing.T) {
	t.Parallel()
	var log, stream bytes.Buffer
	e := &Exec{Log: &log, Stream: &stream, Redact: &Redactor{}}
	r := e.Label("cluster")
	if err := r.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo hello; echo world >&2"}}); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*bytes.Buffer{"log": &log, "stream": &stream} {
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if !strings.HasPrefix(l, "[cluster] ") {
				t.Errorf("%s line %q has no lane label", name, l)
			}
		}
	}
	if e.Log != &log || e.Stream != &stream {
		t.Error("Label changed the runner it was called on")
	}
}
