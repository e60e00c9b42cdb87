package runbook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
)

// runStep renders one step's description as the runbook's script (the
// prelude, then the step) and runs it with bash in a directory that looks
// like the repository's root; it returns the output.
func runStep(t *testing.T, p *config.Profile, d pipeline.Description) (string, error) {
	t.Helper()
	return runStepWith(t, p, d, func(s string) string { return s })
}

// runStepWith is runStep with the script edited first (the test's own
// live values in place of their reads).
func runStepWith(t *testing.T, p *config.Profile, d pipeline.Description, edit func(string) string) (string, error) {
	t.Helper()
	var script bytes.Buffer
	if err := WriteScript(&script, Runbook{Environment: p.Name, Region: p.Region, Up: []pipeline.Description{d}, profile: p}, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, dataRoot), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", edit(script.String()))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestRedisAuthScriptAgainstMoto runs the runbook's Redis AUTH step (the
// bash SetRedisAuth describes) with the real aws CLI against moto through
// the rotation TestRedisAuthRotationAgainstMoto puts bootstrap's own step
// through: first run, re-run, a new token (generated_secrets_version
// raised: ROTATE, both valid, and the script says to run again), the next
// run (SET: only the new one), and once more. moto's ModifyReplicationGroup
// is patched to keep tokens as AWS documents (hack/moto/patches.py); its
// /moto-api/data.json shows their digests, standing in for a client's AUTH.
func TestRedisAuthScriptAgainstMoto(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	testenv.Tools(t, "aws", "jq", "bash")
	m := testenv.Moto(t)
	m.Use(t)
	ctx := context.Background()
	p := config.Builtin("staging")
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	group, secret := p.Redis.ReplicationGroupID, p.Secrets.Prefix+"/redis"
	if _, err := c.ElastiCache().CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String(group), ReplicationGroupDescription: aws.String("test"),
		Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.small"), NumCacheClusters: aws.Int32(1),
		TransitEncryptionEnabled: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	tokens := []string{"first0token0of0the0script0aaaaaaaa", "second0token0of0the0script0bbbbbbb",
		"third0token0of0the0script0ccccccccc", "fourth0token0of0the0script0dddddddd"}
	if _, err := c.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(secret), SecretString: aws.String(`{"auth_token":"` + tokens[0] + `"}`),
	}); err != nil {
		t.Fatal(err)
	}
	st := &pipeline.State{Profile: p, Services: pipeline.Services{Redact: &proc.Redactor{}}}
	d, err := pipeline.SetRedisAuth{}.Describe(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	d.Step = pipeline.SetRedisAuth{}.Name()
	var outputs []string
	run := func(step string) string {
		t.Helper()
		out, err := runStep(t, p, d)
		if err != nil {
			t.Fatalf("%s: %v\n%s", step, err, out)
		}
		outputs = append(outputs, out)
		return out
	}
	valid := func(step string, want ...string) {
		t.Helper()
		got := m.AuthDigests(t, group)
		var wantD []string
		for _, w := range want {
			sum := sha256.Sum256([]byte(w))
			wantD = append(wantD, hex.EncodeToString(sum[:]))
		}
		slices.Sort(got)
		slices.Sort(wantD)
		if !slices.Equal(got, wantD) {
			t.Errorf("%s: Redis accepts %d token(s), want %d", step, len(got), len(wantD))
		}
	}

	// bootstrap's own step, on the same group and secret: the script and
	// the tool continue each other's rotation.
	var log bytes.Buffer
	st.Progress = pipeline.NewProgress(&log, false, false)
	st.Poll = pipeline.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Limit: 30 * time.Second}
	bootstrap := func(step string) {
		t.Helper()
		if err := (pipeline.SetRedisAuth{AWS: c}).Run(ctx, st); err != nil {
			t.Fatalf("%s: bootstrap's step: %v\n%s", step, err, log.String())
		}
	}
	newToken := func(tok string) {
		t.Helper()
		// generated_secrets_version raised: Terraform writes a new version.
		if _, err := c.SecretsManager().PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(secret), SecretString: aws.String(`{"auth_token":"` + tok + `"}`),
		}); err != nil {
			t.Fatal(err)
		}
	}

	run("first run")
	valid("first run: the first token, alone", tokens[0])
	if out := run("second run"); !strings.Contains(out, "nothing to do") {
		t.Errorf("the re-run did not say it had nothing to do:\n%s", out)
	}
	valid("a re-run changes nothing", tokens[0])

	newToken(tokens[1])
	if out := run("after the rotation of the secret"); !strings.Contains(out, "run this step again to retire the old token") {
		t.Errorf("the rotation did not say how to retire the old token:\n%s", out)
	}
	valid("ROTATE: old and new both valid", tokens[0], tokens[1])
	// At once, the old token stays: pods may still hold it.
	if out := run("a run before the pods can hold the new token"); !strings.Contains(out, "the old one is retired (SET) by a run from") {
		t.Errorf("the early run did not say when the old token goes:\n%s", out)
	}
	valid("no SET before RedisSetAfter", tokens[0], tokens[1])
	// From here on it is RedisSetAfter later, for the script (its date)
	// and for bootstrap (its clock).
	stub := t.TempDir()
	realDate, err := exec.LookPath("date")
	if err != nil {
		t.Fatal(err)
	}
	dateStub := "#!/bin/sh\nif [ \"$1\" = +%s ]; then echo $(( $(" + realDate + " +%s) + " + fmt.Sprint(int((pipeline.RedisSetAfter+time.Minute)/time.Second)) + " )); else exec " + realDate + " \"$@\"; fi\n"
	if err := os.WriteFile(filepath.Join(stub, "date"), []byte(dateStub), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", stub+string(os.PathListSeparator)+os.Getenv("PATH"))
	st.Now = func() time.Time { return time.Now().Add(pipeline.RedisSetAfter + time.Minute) }
	run("the next run")
	valid("SET: only the new token", tokens[1])
	if out := run("once more"); !strings.Contains(out, "nothing to do") {
		t.Errorf("once more: not nothing to do:\n%s", out)
	}
	valid("and it stays so", tokens[1])

	// The script rotates, bootstrap finishes; bootstrap rotates, the
	// script finishes.
	newToken(tokens[2])
	run("the script's ROTATE")
	valid("the script's ROTATE", tokens[1], tokens[2])
	bootstrap("bootstrap after the script's ROTATE")
	valid("bootstrap's SET after the script's ROTATE", tokens[2])
	if out := run("after bootstrap's SET"); !strings.Contains(out, "nothing to do") {
		t.Errorf("after bootstrap's SET the script did not find nothing to do:\n%s", out)
	}
	newToken(tokens[3])
	bootstrap("bootstrap's ROTATE")
	valid("bootstrap's ROTATE", tokens[2], tokens[3])
	run("the script after bootstrap's ROTATE")
	valid("the script's SET after bootstrap's ROTATE", tokens[3])

	for _, tok := range tokens {
		if strings.Contains(strings.Join(outputs, "")+log.String(), tok) {
			t.Error("a token is in the script's output")
		}
	}
}
