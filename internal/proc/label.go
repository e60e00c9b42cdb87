package proc

import (
	"bytes"
	"io"
	"sync"
)

// Labeler is a Runner that can tag what its children write with a label,
// for commands running side by side (the lanes of `bootstrap up`): the run
// log and the -v stream stay whole lines, each saying whose it is.
type Labeler interface {
	Label(label string) Runner
}

// Label implements Labeler: a copy of e whose children's lines, in the run
// log and the -v stream, start with "[label] ".
func (e *Exec) Label(label string) Runner {
	c := *e
	if e.Log != nil {
		c.Log = Prefixed(e.Log, "["+label+"] ")
	}
	if e.Stream != nil {
		c.Stream = Prefixed(e.Stream, "["+label+"] ")
	}
	return &c
}

// Prefixed returns a writer that starts every line written through it with
// prefix. Writes of whole lines stay one write each, so a shared,
// line-locked writer underneath never sees half a line.
func Prefixed(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte(prefix), bol: true}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	bol    bool
}

func (p *prefixWriter) Write(in []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out bytes.Buffer
	b := in
	for len(b) > 0 {
		if p.bol {
			out.Write(p.prefix)
			p.bol = false
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out.Write(b)
			break
		}
		out.Write(b[:i+1])
		b = b[i+1:]
		p.bol = true
	}
	if _, err := p.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(in), nil
}
