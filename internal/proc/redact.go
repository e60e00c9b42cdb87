package proc

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"sync"
)

// Redactor replaces secret values with a marker wherever bootstrap writes:
// run logs, streamed child output, errors. Values are added as soon as they
// are known (a generated password, an auth token read from Secrets Manager).
// The zero of *Redactor (nil) redacts nothing. Safe for concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	values []string
}

// Marker is what a secret value is replaced with.
const Marker = "[REDACTED]"

// Add registers secret values; empty and very short values are ignored, since
// replacing every "a" would make the logs unreadable without hiding anything.
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= 4 {
			r.values = append(r.values, v)
		}
	}
	// Longest first, so a value containing another is replaced whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

// String returns s with every secret value replaced.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Marker)
	}
	return s
}

// Writer wraps w so that whole lines are redacted before they reach it.
func (r *Redactor) Writer(w io.Writer) *LineWriter { return newLineWriter(r, w) }

// LineWriter buffers output into lines and redacts each one before passing it
// on, so a secret split across two writes is still caught. Call Flush at the
// end for an unterminated last line.
type LineWriter struct {
	mu  sync.Mutex
	r   *Redactor
	w   io.Writer
	buf []byte
}

func newLineWriter(r *Redactor, w io.Writer) *LineWriter { return &LineWriter{r: r, w: w} }

func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := l.r.String(string(l.buf[:i+1]))
		l.buf = l.buf[i+1:]
		if _, err := io.WriteString(l.w, line); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// Flush writes out an unterminated last line.
func (l *LineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		_, _ = io.WriteString(l.w, l.r.String(string(l.buf))+"\n")
		l.buf = nil
	}
}
