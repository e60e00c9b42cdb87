package golden

import (
	"fmt"
	"strings"
	"testing"
)

func TestDiffShowsOnlyTheChangeWithContext(t *testing.T) {
	t.Parallel()
	var want []string
	for i := 1; i <= 600; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	got := append([]string{}, want...)
	got[299] = "line 300 changed"
	got = append(got[:500], got[501:]...) // line 501 removed
	d := Diff(strings.Join(want, "\n"), strings.Join(got, "\n"))
	for _, w := range []string{"- line 300\n", "+ line 300 changed\n", "  line 298\n", "  line 302\n", "- line 501\n", "@@ want line 298 @@\n"} {
		if !strings.Contains(d, w) {
			t.Errorf("diff lacks %q:\n%s", w, d)
		}
	}
	if n := strings.Count(d, "\n"); n > 20 {
		t.Errorf("diff of two changes in 600 lines is %d lines long:\n%s", n, d)
	}
	if strings.Contains(d, "line 100\n") || strings.Contains(d, "line 305\n") {
		t.Errorf("diff shows lines far from the changes:\n%s", d)
	}
}

func TestDiffOfEqualTextsIsEmpty(t *testing.T) {
	t.Parallel()
	if d := Diff("a\nb\n", "a\nb\n"); d != "" {
		t.Errorf("diff of equal texts: %q", d)
	}
}
