package app

import (
	"os"
	"testing"
)

// TestMain keeps these tests off the network: some commands run their first
// step for real, and the AWS SDK would otherwise look for credentials at the
// instance metadata address. Every AWS call goes to a closed loopback port
// and fails at once.
func TestMain(m *testing.M) {
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		os.Unsetenv(k)
	}
	// No credentials configured, as on a fresh machine: plan stays offline.
	home, err := os.MkdirTemp("", "bootstrap-app-test-home")
	if err != nil {
		panic(err)
	}
	os.Setenv("HOME", home)
	os.Unsetenv("AWS_SHARED_CREDENTIALS_FILE")
	os.Unsetenv("AWS_CONFIG_FILE")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_MAX_ATTEMPTS", "1")
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}
