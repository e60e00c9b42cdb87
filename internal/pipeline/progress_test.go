package pipeline

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStreamLinesNeverGlueOntoTheSpinner: with -v on a terminal, child
// lines go through the progress display, each clearing the spinner line
// first, whole even when a child writes a line in pieces.
func TestStreamLinesNeverGlueOntoTheSpinner(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	p := NewProgress(&out, true, false)
	task := p.Start("Applying the data tier with Terraform")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "Applying the data tier with Terraform") {
		if time.Now().After(deadline) {
			t.Fatalf("no spinner line:\n%q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	w := p.Stream()
	fmt.Fprint(w, "aws_db_instance.this: Creat")
	time.Sleep(250 * time.Millisecond) // the spinner redraws meanwhile
	fmt.Fprint(w, "ing...\nsecond line\r\nthird")
	fmt.Fprint(w, " line\n")
	task.Done(0)
	got := out.String()
	for _, want := range []string{
		"\r\033[Kaws_db_instance.this: Creating...\n",
		"\r\033[Ksecond line\n",
		"\r\033[Kthird line\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	// Every child line starts at the beginning of a cleared line: no
	// spinner text before it.
	for _, l := range regexp.MustCompile(`[^\n]*(Creating\.\.\.|second line|third line)`).FindAllString(got, -1) {
		i := strings.LastIndex(l, "\r\033[K")
		if i < 0 {
			t.Errorf("child line printed without clearing the spinner line: %q", l)
			continue
		}
		if rest := l[i+len("\r\033[K"):]; strings.Contains(rest, "Applying") || strings.ContainsAny(rest, strings.Join(spinner, "")) {
			t.Errorf("child line glued onto the spinner: %q", rest)
		}
	}
}

func TestStreamIsNilWhenQuiet(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	if w := NewProgress(&out, true, true).Stream(); w != nil {
		t.Errorf("a quiet progress gave a stream %T", w)
	}
}
