package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress reports steps on stderr: one spinner line naming every running
// step when stderr is a terminal, plain lines otherwise, nothing when quiet.
// Durations are shown for steps that take more than a second. Steps of a
// Parallel lane report through the lane's view (Lane), whose lines carry
// the lane's name, so that lanes running at once stay readable. Child output
// never goes here (it is in the run log, and streamed with -v).
type Progress struct {
	out  *progressOut
	lane string
}

// progressOut is the stream the views of one Progress share.
type progressOut struct {
	w        io.Writer
	terminal bool
	quiet    bool

	mu       sync.Mutex
	active   []*Task
	spinning bool
}

// NewProgress returns a reporter writing to w.
func NewProgress(w io.Writer, terminal, quiet bool) *Progress {
	return &Progress{out: &progressOut{w: w, terminal: terminal, quiet: quiet}}
}

// Lane returns a view of p whose lines are tagged with the lane's name.
func (p *Progress) Lane(name string) *Progress {
	if p == nil {
		return nil
	}
	return &Progress{out: p.out, lane: name}
}

// Task is one step in progress.
type Task struct {
	p    *Progress
	name string
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *Progress) off() bool { return p == nil || p.out == nil || p.out.quiet }

func (p *Progress) tag(s string) string {
	if p.lane == "" {
		return s
	}
	return "[" + p.lane + "] " + s
}

// Start reports a step as begun.
func (p *Progress) Start(name string) *Task {
	t := &Task{p: p, name: name}
	if p.off() {
		return t
	}
	o := p.out
	if !o.terminal {
		o.printf(" • %s ...\n", p.tag(name))
		return t
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.active = append(o.active, t)
	if !o.spinning {
		o.spinning = true
		go o.spin()
	}
	return t
}

// spin redraws the spinner line until no step runs.
func (o *progressOut) spin() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		o.mu.Lock()
		if len(o.active) == 0 {
			o.spinning = false
			o.mu.Unlock()
			return
		}
		names := make([]string, len(o.active))
		for j, t := range o.active {
			names[j] = t.p.tag(t.name)
		}
		fmt.Fprintf(o.w, "\r\033[K %s %s", spinner[i%len(spinner)], strings.Join(names, " · "))
		o.mu.Unlock()
		<-tick.C
	}
}

// Done reports a step as finished.
func (t *Task) Done(d time.Duration) { t.end("✓", d) }

// Fail reports a step as failed.
func (t *Task) Fail(d time.Duration) { t.end("✗", d) }

// Stop reports a step stopped before it finished: by Ctrl-C, or because a
// step beside it failed.
func (t *Task) Stop(d time.Duration) { t.end("■", d) }

// Info prints a line of progress under the current step.
func (p *Progress) Info(format string, args ...any) {
	if p.off() {
		return
	}
	p.out.line("   " + p.tag(fmt.Sprintf(format, args...)))
}

func (t *Task) end(mark string, d time.Duration) {
	p := t.p
	if p.off() {
		return
	}
	o := p.out
	if o.terminal {
		o.mu.Lock()
		for i, a := range o.active {
			if a == t {
				o.active = append(o.active[:i], o.active[i+1:]...)
				break
			}
		}
		o.mu.Unlock()
	}
	o.line(fmt.Sprintf(" %s %s%s", mark, p.tag(t.name), duration(d)))
}

// line prints a whole line, clearing the spinner first on a terminal; the
// spinner redraws itself on its next tick.
func (o *progressOut) line(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.terminal {
		fmt.Fprint(o.w, "\r\033[K")
	}
	fmt.Fprintln(o.w, s)
}

func (o *progressOut) printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format, args...)
}

func duration(d time.Duration) string {
	if d < time.Second {
		return ""
	}
	return fmt.Sprintf(" (%s)", d.Round(100*time.Millisecond))
}

// Stream returns the writer for child output streamed with -v: every whole
// line written to it is printed as a line of progress, so that on a
// terminal it clears the spinner line first instead of gluing onto it (the
// spinner redraws below it on its next tick). A line's unterminated end is
// kept until its newline comes. Nil when quiet.
func (p *Progress) Stream() io.Writer {
	if p.off() {
		return nil
	}
	return &streamWriter{o: p.out}
}

type streamWriter struct {
	o    *progressOut
	mu   sync.Mutex
	part []byte
}

func (s *streamWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			s.part = append(s.part, b...)
			break
		}
		line := string(append(s.part, b[:i]...))
		s.part = s.part[:0]
		s.o.line(strings.TrimSuffix(line, "\r"))
		b = b[i+1:]
	}
	return n, nil
}
