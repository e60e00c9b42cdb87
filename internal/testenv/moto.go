package testenv

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MotoRegion is the region every moto-backed test runs in.
const MotoRegion = "us-east-1"

// MotoAccountID is the account moto answers for (sts get-caller-identity).
const MotoAccountID = "123456789012"

// motoCheckMissing is the exit code of `server.py --check` when python has no
// usable moto: the part is missing, not broken.
const motoCheckMissing = 3

// motoChecked holds the python interpreters whose moto passed the
// launcher's --check.
var motoChecked sync.Map

// MotoServer is a moto server on a free loopback port, started by Moto for
// one test with the project's launcher (hack/moto/server.py, which patches
// moto where it differs from AWS) and stopped when the test ends.
//
// It is private to the test: nothing else knows its port, and its state
// starts empty.
type MotoServer struct {
	// Endpoint is the server's base URL, http://127.0.0.1:<port>: the one
	// endpoint for every AWS service.
	Endpoint string

	dir string // holds the empty AWS config and credentials files
}

// Moto starts the project's moto launcher on a free port and waits until it
// answers. The server stops in t.Cleanup. Without python3 or moto it calls
// Missing: a failure in CI, a skip elsewhere.
//
// The python interpreter is $BOOTSTRAP_TEST_PYTHON, else python3 on PATH.
// Under -short it skips the test.
func Moto(t testing.TB) *MotoServer {
	t.Helper()
	skipShort(t, "moto")

	python := os.Getenv("BOOTSTRAP_TEST_PYTHON")
	if python == "" {
		python = "python3"
	}
	pythonPath, err := exec.LookPath(python)
	if err != nil {
		Missing(t, "moto", fmt.Sprintf("%s not found: %v", python, err))
		return nil
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
	script := filepath.Join(root, "hack", "moto", "server.py")

	// Starting moto is a python import of moto and botocore's models: seconds
	// of CPU. Process tests run side by side, and a dozen imports at once on a
	// 2-core machine each took over a minute; so only a few launchers start
	// at a time, machine-wide (a slot is held from the check until READY).
	release := startSlot(t)
	defer release()

	// Ask the launcher whether this python has the moto it was written for,
	// so a missing moto reads as missing rather than as a crash. Once per
	// process: the answer does not change, and it costs a python start.
	if _, ok := motoChecked.Load(pythonPath); !ok {
		check := exec.Command(pythonPath, script, "--check")
		if out, err := check.CombinedOutput(); err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.ExitCode() == motoCheckMissing {
				Missing(t, "moto", strings.TrimSpace(string(out)))
				return nil
			}
			t.Fatalf("moto: %s --check: %v\n%s", script, err, out)
		}
		motoChecked.Store(pythonPath, true)
	}

	dir := t.TempDir()
	logPath := filepath.Join(dir, "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("moto: %v", err)
	}

	// --stop-on-stdin-eof: if this test process dies without running its
	// cleanups, the pipe closes and the server exits with it.
	cmd := exec.Command(pythonPath, script, "0", "--stop-on-stdin-eof")
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("moto: starting %s: %v", script, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	stop := func() {
		_ = stdin.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}

	port, err := waitReady(stdout, done, 3*time.Minute)
	if err != nil {
		stop()
		log, _ := os.ReadFile(logPath)
		t.Fatalf("moto: %v\n%s", err, tail(string(log), 40))
	}
	// Anything the server prints later must not block it on a full pipe.
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	t.Cleanup(stop)

	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatalf("moto: %v", err)
		}
	}
	return &MotoServer{Endpoint: "http://127.0.0.1:" + port, dir: dir}
}

// waitReady reads the launcher's first line, "READY <port>", and returns the
// port.
func waitReady(stdout io.Reader, exited <-chan struct{}, timeout time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	lines := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		lines <- result{strings.TrimSpace(line), err}
	}()
	select {
	case r := <-lines:
		port, ok := strings.CutPrefix(r.line, "READY ")
		if !ok || port == "" {
			return "", fmt.Errorf("launcher said %q instead of READY <port> (%v)", r.line, r.err)
		}
		return port, nil
	case <-exited:
		return "", errors.New("launcher exited before it was ready")
	case <-time.After(timeout):
		return "", fmt.Errorf("launcher not ready after %s", timeout)
	}
}

// Env returns the environment entries that point AWS tools at this server
// and nowhere else: awscli, the AWS SDKs, the Terraform AWS provider and the
// Terraform S3 backend all honour AWS_ENDPOINT_URL. The endpoint's host is an
// IP address, so S3 clients use path-style addressing without being told.
// Fixed fake credentials, no instance metadata, and empty shared config and
// credentials files keep a developer's own AWS profile out of the test.
//
// Append them to an environment that has no other AWS_* entries; Environ
// does that.
func (m *MotoServer) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=" + MotoRegion,
		"AWS_DEFAULT_REGION=" + MotoRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(m.dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(m.dir, "credentials"),
	}
}

// Environ returns this process's environment without any AWS_* entry (a
// developer's AWS_PROFILE, AWS_SESSION_TOKEN or per-service
// AWS_ENDPOINT_URL_* would otherwise win over moto), followed by Env: the
// value for exec.Cmd.Env.
func (m *MotoServer) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, m.Env()...)
}

// RepoRoot returns the repository root: the nearest directory at or above
// the working directory (a test's package directory) that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Use points this process, and every program it starts, at the server and
// nowhere else for the rest of the test: the server's AWS_* entries set, any
// other AWS_* (a developer's profile, session token, per-service endpoint)
// unset. Like t.Setenv, it cannot be used in parallel tests.
func (m *MotoServer) Use(t testing.TB) {
	t.Helper()
	set := map[string]bool{}
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
		set[k] = true
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") && !set[k] {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
}

// startSlot waits for one of max(2, NumCPU) machine-wide slots for starting
// a moto server (lock files in the temporary directory, held with flock, so
// that the test processes OwnProcess starts share them) and returns its
// release.
func startSlot(t testing.TB) (release func()) {
	t.Helper()
	return slotIn(t, os.TempDir(), max(2, runtime.NumCPU()))
}

// slotIn waits for one of n slots in dir.
func slotIn(t testing.TB, dir string, n int) (release func()) {
	t.Helper()
	start := time.Now()
	for {
		for i := 0; i < n; i++ {
			f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("bootstrap-testenv-moto-start-%d.lock", i)), os.O_CREATE|os.O_RDWR, 0o666)
			if err != nil {
				t.Fatalf("moto: %v", err)
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				if waited := time.Since(start); waited > 10*time.Second {
					t.Logf("moto: waited %s for a start slot", waited.Round(time.Second))
				}
				return func() { f.Close() }
			}
			f.Close()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// AuthDigests reads the SHA-256 digests of the AUTH tokens a replication
// group accepts, from moto's own data (/moto-api/data.json): the patched
// ElastiCache (hack/moto/patches.py) keeps digests, never tokens, so a test
// can check which token Redis would take without the token itself.
func (m *MotoServer) AuthDigests(t testing.TB, group string) []string {
	t.Helper()
	resp, err := http.Get(m.Endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data map[string]map[string][]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatal(err)
	}
	for _, g := range data["elasticache"]["ReplicationGroup"] {
		if g["id"] == group || g["replication_group_id"] == group {
			var out []string
			ds, _ := g["auth_token_digests"].([]any)
			for _, d := range ds {
				out = append(out, d.(string))
			}
			return out
		}
	}
	t.Fatalf("replication group %s not in moto's data", group)
	return nil
}
