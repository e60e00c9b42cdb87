package pipeline

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress reports steps on stderr: a spinner when stderr is a terminal,
// plain lines otherwise, nothing when quiet. Durations are shown for steps
// that take more than a second.
type Progress struct {
	w        io.Writer
	terminal bool
	quiet    bool
	mu       sync.Mutex
}

// NewProgress returns a reporter writing to w.
func NewProgress(w io.Writer, terminal, quiet bool) *Progress {
	return &Progress{w: w, terminal: terminal, quiet: quiet}
}

// Task is one step in progress.
type Task struct {
	p    *Progress
	name string
	stop chan struct{}
	wg   sync.WaitGroup
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Start reports a step as begun.
func (p *Progress) Start(name string) *Task {
	t := &Task{p: p, name: name}
	if p == nil || p.quiet {
		return t
	}
	if !p.terminal {
		p.printf(" • %s ...\n", name)
		return t
	}
	t.stop = make(chan struct{})
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			p.printf("\r %s %s", spinner[i%len(spinner)], name)
			select {
			case <-t.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return t
}

// Done reports a step as finished.
func (t *Task) Done(d time.Duration) { t.end("✓", d) }

// Fail reports a step as failed.
func (t *Task) Fail(d time.Duration) { t.end("✗", d) }

// Info prints a line of progress under the current step.
func (p *Progress) Info(format string, args ...any) {
	if p == nil || p.quiet {
		return
	}
	p.printf("   "+format+"\n", args...)
}

func (t *Task) end(mark string, d time.Duration) {
	p := t.p
	if p == nil || p.quiet {
		return
	}
	if t.stop != nil {
		close(t.stop)
		t.wg.Wait()
		p.printf("\r\033[K")
	}
	p.printf(" %s %s%s\n", mark, t.name, duration(d))
}

func (p *Progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

func duration(d time.Duration) string {
	if d < time.Second {
		return ""
	}
	return fmt.Sprintf(" (%s)", d.Round(100*time.Millisecond))
}
