package shell

import "testing"

func TestQuote(t *testing.T) {
	t.Parallel()
	cases := []struct {
		argv []string
		want string
	}{
		{[]string{"eksctl", "create", "cluster", "-f", ".bootstrap/production/cluster.yaml"}, "eksctl create cluster -f .bootstrap/production/cluster.yaml"},
		{[]string{"echo", "two words"}, "echo 'two words'"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"echo", ""}, "echo ''"},
		{[]string{"helm", "--set", "a=b,c=d"}, "helm --set a=b,c=d"},
	}
	for _, c := range cases {
		if got := Quote(c.argv); got != c.want {
			t.Errorf("Quote(%q) = %s, want %s", c.argv, got, c.want)
		}
	}
}
