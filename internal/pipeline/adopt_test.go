package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// keysByTags answers FindKMSKeysByTags with fixed keys and records the
// tags asked for; a method not overridden is not expected.
type keysByTags struct {
	AdoptAPI
	keys  []cloud.Found
	asked map[string]string
}

func (k *keysByTags) FindKMSKeysByTags(_ context.Context, tags map[string]string) ([]cloud.Found, error) {
	k.asked = tags
	return k.keys, nil
}

// TestUnaliasedKey: a data key made and never aliased is found by the
// root's Name tag and this environment's tags; none is nothing, two are an
// error naming both and what to do.
func TestUnaliasedKey(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	n := tfdriver.NamesOf(p)
	ctx := context.Background()

	api := &keysByTags{}
	if f, err := unaliasedKey(ctx, api, p, n); err != nil || f.Exists() {
		t.Errorf("no key: %+v %v", f, err)
	}
	want := map[string]string{"Name": "sovd-staging-data", "Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	for k, v := range want {
		if api.asked[k] != v {
			t.Errorf("asked for tags %v, want %v", api.asked, want)
			break
		}
	}
	if len(api.asked) != len(want) {
		t.Errorf("asked for tags %v, want %v", api.asked, want)
	}

	api.keys = []cloud.Found{{Kind: cloud.KindKMSKey, ID: "key-1"}}
	if f, err := unaliasedKey(ctx, api, p, n); err != nil || f.ID != "key-1" {
		t.Errorf("one key: %+v %v", f, err)
	}

	api.keys = append(api.keys, cloud.Found{Kind: cloud.KindKMSKey, ID: "key-2"})
	_, err := unaliasedKey(ctx, api, p, n)
	for _, w := range []string{"2 KMS keys", "key-1, key-2", "alias/sovd-staging-data", "aws kms schedule-key-deletion"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("two keys: %v; want it to say %q", err, w)
		}
	}
}
