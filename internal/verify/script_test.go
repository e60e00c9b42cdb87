package verify

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScriptAgainstLocalServers runs the script the Job runs (Script) with
// the machine's psql and redis-cli against a real PostgreSQL server started
// with TLS and a real Redis server started with TLS and AUTH, on loopback,
// standing in for RDS and ElastiCache. Every check passes on the healthy
// set-up; each breakage fails its own check and no other.
func TestScriptAgainstLocalServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and Redis")
	}
	t.Parallel()
	tools := needTools(t)
	dir := t.TempDir()
	// PostgreSQL runs as its own user (asPostgresUser): it must reach dir.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ca, cert, key := makeCerts(t, dir)
	script := filepath.Join(dir, "verify.sh")
	if err := os.WriteFile(script, []byte(Script()), 0o755); err != nil {
		t.Fatal(err)
	}

	pg := startPostgres(t, tools, dir, cert, key)
	redis := startRedis(t, tools, dir, ca, cert, key, "t0k:en/1")

	dbURL := func(user, pass string, port int) string {
		// Escaped as the app's ExternalSecret escapes it (urlquery).
		return fmt.Sprintf("postgresql://%s:%s@127.0.0.1:%d/sovd_test?sslmode=require", user, url.QueryEscape(pass), port)
	}
	run := func(group string, env map[string]string) map[string]Check {
		t.Helper()
		results := filepath.Join(t.TempDir(), "termination-log")
		cmd := exec.Command("sh", script, group)
		cmd.Env = append(os.Environ(), "VERIFY_RESULTS="+results, "VERIFY_CA_FILE="+ca, "PGPASSFILE=/dev/null", "VERIFY_TIMEOUT=3")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("script %s: %v\n%s", group, err, out)
		}
		msg, err := os.ReadFile(results)
		if err != nil {
			t.Fatalf("script %s wrote no results: %v\n%s", group, err, out)
		}
		if string(msg) != string(out) {
			t.Errorf("the termination message differs from the output:\n%s\n---\n%s", msg, out)
		}
		rows := map[string]Check{}
		for _, c := range ParseResults(group, string(msg)) {
			rows[c.ID] = c
		}
		return rows
	}
	healthy := map[string]string{"DATABASE_URL": dbURL("sovd_admin", "p@ss:w/rd#1", pg.port), "REDIS_URL": fmt.Sprintf("rediss://:%s@localhost:%d/0", "t0k%3Aen%2F1", redis.tlsPort)}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range healthy {
			m[a] = b
		}
		m[k] = v
		return m
	}
	expect := func(what string, got map[string]Check, failing ...string) {
		t.Helper()
		for id, c := range got {
			want := Passed
			for _, f := range failing {
				if f == id {
					want = Failed
				}
			}
			if c.Status != want {
				t.Errorf("%s: %s is %s (%s), want %s", what, id, c.Status, c.Detail, want)
			}
			if c.Status == Failed && c.Next == "" {
				t.Errorf("%s: %s failed without naming what to look at", what, id)
			}
			for _, secret := range []string{"p@ss:w/rd#1", "t0k:en/1", "t0k%3Aen%2F1", "p%40ss%3Aw%2Frd%231", "wrong-pass"} {
				if strings.Contains(c.Detail, secret) {
					t.Errorf("%s: %s's detail carries a secret: %s", what, id, c.Detail)
				}
			}
		}
	}

	all := func(env map[string]string) map[string]Check {
		rows := run("postgres", env)
		for k, v := range run("redis", env) {
			rows[k] = v
		}
		return rows
	}
	got := all(healthy)
	if len(got) != 4 {
		t.Fatalf("rows: %v", got)
	}
	expect("healthy", got)

	// Wrong database password: only the TLS connection fails (pg_hba
	// refuses the plain one before any password is asked).
	got = all(with("DATABASE_URL", dbURL("sovd_admin", "wrong-pass", pg.port)))
	expect("wrong password", got, PostgresTLS)
	if d := got[PostgresTLS].Detail; !strings.Contains(d, "password authentication failed") {
		t.Errorf("wrong password: %q", d)
	}

	// The server accepts connections without TLS.
	pg.hba(t, "host all all 127.0.0.1/32 scram-sha-256\n")
	got = all(healthy)
	expect("TLS not enforced", got, PostgresNoTLS)
	if d := got[PostgresNoTLS].Detail; !strings.Contains(d, "without TLS was accepted") {
		t.Errorf("TLS not enforced: %q", d)
	}
	pg.hba(t, "hostssl all all 127.0.0.1/32 scram-sha-256\n")

	// PostgreSQL with TLS off altogether: no TLS connection, and a
	// plaintext one refused too (pg_hba hostssl), so the TLS check alone fails.
	off := startPostgresNoSSL(t, tools, dir)
	got = all(with("DATABASE_URL", dbURL("sovd_admin", "p@ss:w/rd#1", off.port)))
	expect("TLS off", got, PostgresTLS)
	if d := got[PostgresTLS].Detail; !strings.Contains(d, "SSL") {
		t.Errorf("TLS off: %q", d)
	}

	// Wrong Redis token.
	got = all(with("REDIS_URL", fmt.Sprintf("rediss://:wrong-pass@localhost:%d/0", redis.tlsPort)))
	expect("wrong token", got, RedisTLSAuth)

	// Redis without AUTH.
	noauth := startRedis(t, tools, dir, ca, cert, key, "")
	got = all(with("REDIS_URL", fmt.Sprintf("rediss://:t0k%%3Aen%%2F1@localhost:%d/0", noauth.tlsPort)))
	expect("AUTH off", got, RedisNoAuth)

	// Redis without TLS (plain port only): neither TLS check gets an answer.
	got = all(with("REDIS_URL", fmt.Sprintf("rediss://:t0k%%3Aen%%2F1@localhost:%d/0", redis.plainPort)))
	expect("Redis TLS off", got, RedisTLSAuth, RedisNoAuth)

	// The secret not synced: no URLs at all.
	got = all(map[string]string{"DATABASE_URL": "", "REDIS_URL": ""})
	expect("secret not synced", got, PostgresTLS, PostgresNoTLS, RedisTLSAuth, RedisNoAuth)
}

func TestParseResults(t *testing.T) {
	t.Parallel()
	rows := ParseResults("postgres", "noise\nverify-check postgres-tls passed select 1 answered 1 over TLS\nverify-check redis-tls-auth passed x\n")
	if len(rows) != 2 || rows[0].ID != PostgresTLS || rows[0].Status != Passed || rows[0].Detail != "select 1 answered 1 over TLS" {
		t.Fatalf("rows: %+v", rows)
	}
	if rows[1].ID != PostgresNoTLS || rows[1].Status != Failed || !strings.Contains(rows[1].Detail, "did not run") || rows[1].Next == "" {
		t.Errorf("a missing result: %+v", rows[1])
	}
	if r := ParseResults("redis", "verify-check redis-no-auth maybe x"); r[1].Status != Failed || !strings.Contains(r[1].Detail, "unreadable") {
		t.Errorf("an unreadable result: %+v", r)
	}
}

type tools struct{ pgBin, redisServer string }

func needTools(t *testing.T) tools {
	t.Helper()
	var tl tools
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	missing := []string{}
	if len(bins) == 0 {
		missing = append(missing, "PostgreSQL's server (/usr/lib/postgresql/<v>/bin)")
	} else {
		tl.pgBin = filepath.Dir(bins[len(bins)-1])
	}
	for _, name := range []string{"psql", "redis-cli", "openssl"} {
		if _, err := exec.LookPath(name); err != nil {
			missing = append(missing, name)
		}
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		tl.redisServer = p
	} else {
		missing = append(missing, "redis-server (Debian package redis-server)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("missing: %s", strings.Join(missing, ", "))
		}
		t.Skipf("missing: %s", strings.Join(missing, ", "))
	}
	return tl
}

func makeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	ca, cert, key = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	caKey := filepath.Join(dir, "ca.key")
	csr := filepath.Join(dir, "server.csr")
	ext := filepath.Join(dir, "ext.cnf")
	if err := os.WriteFile(ext, []byte("subjectAltName=DNS:localhost,IP:127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "1", "-subj", "/CN=verify-test-ca"},
		{"req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost"},
		{"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", args[0], err, out)
		}
	}
	return ca, cert, key
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// asPostgresUser runs PostgreSQL's programs as the postgres user when the
// test runs as root (the server refuses root).
func asPostgresUser(cmd *exec.Cmd) *exec.Cmd {
	if os.Geteuid() != 0 {
		return cmd
	}
	args := append([]string{"--reuid=postgres", "--regid=postgres", "--clear-groups", cmd.Path}, cmd.Args[1:]...)
	c := exec.Command("setpriv", args...)
	c.Env, c.Dir = cmd.Env, cmd.Dir
	return c
}

type postgres struct {
	port int
	data string
	bin  string
}

func (p postgres) hba(t *testing.T, rule string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.data, "pg_hba.conf"), []byte("local all all trust\n"+rule), 0o600); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, filepath.Join(p.data, "pg_hba.conf"))
	if out, err := asPostgresUser(exec.Command(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "reload")).CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl reload: %v\n%s", err, out)
	}
	time.Sleep(300 * time.Millisecond) // the postmaster rereads pg_hba.conf on SIGHUP
}

func chownPostgres(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	args := append([]string{"-R", "postgres:postgres"}, paths...)
	if out, err := exec.Command("chown", args...).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
}

// startPostgres is RDS's stand-in: TLS on, plaintext refused by pg_hba
// (what rds.force_ssl=1 does), a database and a user with a password
// that needs URL-escaping, as the app's Secret escapes it.
func startPostgres(t *testing.T, tl tools, dir, cert, key string) postgres {
	t.Helper()
	p := newPostgres(t, tl, dir, "pg")
	copyFile(t, cert, filepath.Join(p.data, "server.crt"), 0o644)
	copyFile(t, key, filepath.Join(p.data, "server.key"), 0o600)
	chownPostgres(t, p.data)
	p.start(t, "-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key")
	p.hba(t, "hostssl all all 127.0.0.1/32 scram-sha-256\n")
	return p
}

// startPostgresNoSSL is a server with TLS off and plaintext connections
// refused (hostssl only): nothing can connect.
func startPostgresNoSSL(t *testing.T, tl tools, dir string) postgres {
	t.Helper()
	p := newPostgres(t, tl, dir, "pg-nossl")
	p.start(t, "-c", "ssl=off")
	p.hba(t, "hostssl all all 127.0.0.1/32 scram-sha-256\n")
	return p
}

func newPostgres(t *testing.T, tl tools, dir, name string) postgres {
	t.Helper()
	p := postgres{port: freePort(t), data: filepath.Join(dir, name), bin: tl.pgBin}
	if err := os.Mkdir(p.data, 0o700); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, p.data)
	if out, err := asPostgresUser(exec.Command(filepath.Join(p.bin, "initdb"), "-D", p.data, "-U", "postgres", "-A", "trust", "--no-sync")).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	return p
}

func (p postgres) start(t *testing.T, opts ...string) {
	t.Helper()
	sock := filepath.Join(p.data, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, sock)
	o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off %s", p.port, sock, strings.Join(opts, " "))
	if out, err := asPostgresUser(exec.Command(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-o", o, "-w", "-l", filepath.Join(p.data, "log"), "start")).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.data, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		_ = asPostgresUser(exec.Command(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-m", "immediate", "stop")).Run()
	})
	for _, sql := range []string{"create user sovd_admin password 'p@ss:w/rd#1'", "create database sovd_test owner sovd_admin"} {
		if out, err := asPostgresUser(exec.Command("psql", "-h", sock, "-p", fmt.Sprint(p.port), "-U", "postgres", "-X", "-q", "-c", sql)).CombinedOutput(); err != nil {
			t.Fatalf("psql setup: %v\n%s", err, out)
		}
	}
}

type redisServer struct{ tlsPort, plainPort int }

// startRedis is ElastiCache's stand-in: a TLS port and, beside it, a
// plaintext one (to stand for transit encryption off); with password
// non-empty, AUTH required.
func startRedis(t *testing.T, tl tools, dir, ca, cert, key, password string) redisServer {
	t.Helper()
	r := redisServer{tlsPort: freePort(t), plainPort: freePort(t)}
	rdir, err := os.MkdirTemp(dir, "redis")
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("port %d\ntls-port %d\nbind 127.0.0.1\ntls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\ntls-auth-clients no\nsave \"\"\nappendonly no\ndir %s\n",
		r.plainPort, r.tlsPort, cert, key, ca, rdir)
	if password != "" {
		conf += fmt.Sprintf("requirepass %q\n", password)
	}
	path := filepath.Join(rdir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tl.redisServer, path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.tlsPort)); err == nil {
			c.Close()
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not listen")
	return r
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestScriptShellcheck: the generated script is clean POSIX sh.
func TestScriptShellcheck(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("shellcheck is not installed (Debian package shellcheck)")
		}
		t.Skip("shellcheck is not installed")
	}
	path := filepath.Join(t.TempDir(), "verify.sh")
	if err := os.WriteFile(path, []byte(Script()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("shellcheck", "--shell=sh", path).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
