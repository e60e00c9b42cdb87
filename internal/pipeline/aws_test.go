package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/sovd/bootstrap/internal/config"
)

// The run's handle opens once, on first use, and again only after a failed
// open: one configuration load and one credential cache per run.
func TestLazyAWSOpensOnce(t *testing.T) {
	t.Parallel()
	opens := 0
	fail := true
	h := LazyAWS(func(context.Context) (*AWS, error) {
		opens++
		if fail {
			return nil, errors.New("no credentials yet")
		}
		return &AWS{Region: "eu-central-1"}, nil
	})
	if opens != 0 {
		t.Fatalf("opened %d times before first use", opens)
	}
	if _, err := h(context.Background()); err == nil {
		t.Fatal("a failed open gave clients")
	}
	fail = false
	a, err := h(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h(context.Background())
	if a != b || opens != 2 {
		t.Errorf("same clients %v, opens %d (want 2: the failure, then one)", a == b, opens)
	}
}

// A step without an injected fake uses the run's handle; one with a fake
// never opens it; a State without a handle says so instead of opening one.
func TestStepsUseTheRunsHandle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &State{Profile: config.Builtin("staging")}
	if _, err := st.Cloud(ctx); !errors.Is(err, errNoAWS) {
		t.Fatalf("no handle: %v", err)
	}
	opened := &AWS{Region: "x"}
	st.AWS = func(context.Context) (*AWS, error) { return opened, nil }
	got, err := apiOf[ClusterAPI](ctx, st, nil)
	if err != nil || got != ClusterAPI(opened) {
		t.Errorf("nil step field: %v, %v", got, err)
	}
	fake := &fakeAWS{}
	st.AWS = noAWS(t)
	if got, err := apiOf[ClusterAPI](ctx, st, fake); err != nil || got != ClusterAPI(fake) {
		t.Errorf("injected fake: %v, %v", got, err)
	}
	// Lanes share the handle: a fork carries the same function.
	st.AWS = func(context.Context) (*AWS, error) { return opened, nil }
	f := st.fork("data")
	if c, _ := f.Cloud(ctx); c != opened {
		t.Error("a lane opened clients of its own")
	}
}
