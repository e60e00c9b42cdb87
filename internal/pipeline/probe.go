package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
)

// ProbeLive is plan's look at the live system: it reads the account, the
// hosted zone of app.domain (ResolveHostedZone) and, when the cluster
// exists, its network, through the run's AWS handle, so
// that the data step can show a real terraform plan (State.Live). It gives
// up quickly, since plan must work without AWS, and returns the line plan
// prints about it. It changes nothing.
func ProbeLive(ctx context.Context, st *State) string {
	if !cloud.CredentialsConfigured() {
		return "offline: no AWS credentials configured; values only AWS knows are placeholders"
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := st.Cloud(pctx)
	if err == nil {
		_, err = st.LiveAccount(pctx, c)
	}
	var credErr *cloud.CredentialsError
	if errors.As(err, &credErr) {
		fmt.Fprintf(st.Log, "plan: %v (%v)\n", credErr, credErr.Err)
		st.AccountID = ""
		return "offline: " + credErr.Error() + "; values only AWS knows are placeholders"
	}
	if err != nil {
		fmt.Fprintf(st.Log, "plan: AWS not reachable: %v\n", err)
		st.AccountID = ""
		return "offline: AWS did not answer (details in the run log); values only AWS knows are placeholders"
	}
	st.Live = true
	if err := ResolveHostedZone(pctx, c, st); err != nil {
		// up would stop here too; the plan says so instead of planning
		// with a zone that does not exist.
		st.Live = false
		return "offline: " + err.Error() + "; values only AWS knows are placeholders"
	}
	if n, err := c.ClusterNetwork(pctx, st.Profile.Cluster.Name); err == nil {
		st.Network = n
		return "live: account " + st.AccountID + ", cluster " + st.Profile.Cluster.Name + " exists"
	}
	return "live: account " + st.AccountID + ", cluster " + st.Profile.Cluster.Name + " not created yet"
}
