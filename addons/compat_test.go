package addons

import "testing"

func TestCompatAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		constraint, minor string
		want              bool
		wantErr           bool
	}{
		{"", "1.35", true, false},
		{">= 1.19.0-0", "1.35", true, false},
		{">= 1.19.0-0", "1.18", false, false},
		{">= 1.25.0-0, < 1.35.0-0", "1.35", false, false},
		{">= 1.25.0-0 < 1.35.0-0", "1.34", true, false},
		{"< 1.30.0 || >= 1.34.0", "1.35", true, false},
		{"< 1.30.0 || >= 1.36.0", "1.35", false, false},
		{"~1.34", "1.35", false, true},
	}
	for _, tt := range tests {
		got, err := Compat{KubeVersion: tt.constraint}.Allows(tt.minor)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%q allows %s: %v, %v; want %v (error %v)", tt.constraint, tt.minor, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestEveryPinHasCompat: a pin moves only with its chart's facts read again.
func TestEveryPinHasCompat(t *testing.T) {
	t.Parallel()
	for _, c := range Charts() {
		cp, ok := CompatOf(c)
		if !ok || cp.Checked == "" {
			t.Errorf("pin %s has no compatibility facts (Chart.Compat read at its own version: read its Chart.yaml at the tag and say what was checked)", c.NameVersion())
		}
	}
}
