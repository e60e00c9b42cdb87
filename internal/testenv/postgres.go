package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PostgresServer is a PostgreSQL server of the test's own on loopback,
// reachable only over TLS with SCRAM passwords (as RDS with rds.force_ssl),
// plus a superuser reachable over its Unix socket for the test's set-up and
// inspection.
type PostgresServer struct {
	Bin  string // the server's bin directory (psql, initdb, postgres)
	Port int
	// RootCert verifies the server's certificate (sslmode=verify-full).
	RootCert string
	socket   string
}

// EnvPostgresBin overrides where PostgreSQL's binaries are
// (default: the newest /usr/lib/postgresql/<major>/bin).
const EnvPostgresBin = "BOOTSTRAP_POSTGRES_BIN"

func postgresBin() (string, error) {
	if d := os.Getenv(EnvPostgresBin); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a < b
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if isExecutable(filepath.Join(dirs[i], "postgres")) && isExecutable(filepath.Join(dirs[i], "psql")) {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server under /usr/lib/postgresql/*/bin (set %s)", EnvPostgresBin)
}

// Postgres starts a PostgreSQL server for the test and stops it when the
// test ends: initdb, a self-signed certificate made with openssl for
// localhost and 127.0.0.1, ssl on, and pg_hba allowing TCP only with TLS
// and scram-sha-256. Run as root, the server runs as the postgres (or
// nobody) user, since PostgreSQL refuses to run as root.
func Postgres(t testing.TB) *PostgresServer {
	t.Helper()
	skipShort(t, "PostgreSQL")
	bin, err := postgresBin()
	if err != nil {
		Missing(t, "PostgreSQL", err.Error())
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		Missing(t, "openssl", err.Error())
	}
	dir, err := os.MkdirTemp("", "bootstrap-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			Missing(t, "PostgreSQL", "running as root and no postgres or nobody user to run the server as")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if cred != nil && filepath.Dir(name) == bin {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
	}
	data, socket := filepath.Join(dir, "data"), filepath.Join(dir, "socket")
	cert, key := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
		"-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
	for _, d := range []string{data, socket} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		for _, p := range []string{data, socket, key, cert} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=reject", "-E", "UTF8", "--no-sync")
	hba := "local all postgres trust\n" +
		"hostnossl all all 0.0.0.0/0 reject\n" +
		"hostssl all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(filepath.Join(data, "pg_hba.conf"), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+socket, "-c", "ssl=on",
		"-c", "ssl_cert_file="+cert, "-c", "ssl_key_file="+key,
		"-c", "password_encryption=scram-sha-256", "-c", "fsync=off",
		"-c", "log_min_messages=warning")
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if cred != nil {
		srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { srv.Wait(); close(exited) }()
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			srv.Process.Kill()
			<-exited
		}
	})
	s := &PostgresServer{Bin: bin, Port: port, RootCert: cert, socket: socket}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := exec.Command(filepath.Join(bin, "pg_isready"), "-h", socket, "-p", strconv.Itoa(port), "-q").Run()
		if err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("postgres exited:\n%s", tail(logs.String(), 2000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres not ready after 30s:\n%s", tail(logs.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// Superuser runs SQL as the superuser postgres over the Unix socket (the
// test's set-up and inspection), stopping at the first error; it returns
// psql's unaligned, tuples-only output.
func (s *PostgresServer) Superuser(t testing.TB, db, sql string) string {
	t.Helper()
	out, err := s.psql(db, []string{"-h", s.socket, "-U", "postgres"}, nil, sql)
	if err != nil {
		t.Fatalf("psql as postgres in %s: %v\n%s", db, err, out)
	}
	return out
}

// RDSMaster makes the server look as an RDS for PostgreSQL instance does to
// its master user: the rds_superuser role, the master user (LOGIN
// CREATEROLE CREATEDB, member of rds_superuser, not superuser) with
// password, and each database of dbs owned by it.
func (s *PostgresServer) RDSMaster(t testing.TB, user, password string, dbs ...string) {
	t.Helper()
	sql := "CREATE ROLE rds_superuser NOLOGIN;\n" +
		"CREATE ROLE " + ident(user) + " LOGIN CREATEROLE CREATEDB PASSWORD '" + strings.ReplaceAll(password, "'", "''") + "';\n" +
		"GRANT rds_superuser TO " + ident(user) + ";\n"
	for _, db := range dbs {
		sql += "CREATE DATABASE " + ident(db) + " OWNER " + ident(user) + ";\n"
	}
	s.Superuser(t, "postgres", sql)
}

// ident quotes an SQL identifier.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// As runs SQL as user with password over TCP with TLS (sslmode=verify-full
// against the server's certificate) and returns psql's output and error.
func (s *PostgresServer) As(user, password, db, sql string) (string, error) {
	conn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=verify-full sslrootcert=%s",
		s.Port, connValue(db), connValue(user), connValue(s.RootCert))
	return s.psql("", []string{"-d", conn}, []string{"PGPASSWORD=" + password}, sql)
}

// WithoutTLS is As with sslmode=disable: the server must refuse it.
func (s *PostgresServer) WithoutTLS(user, password, db, sql string) (string, error) {
	conn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=disable", s.Port, connValue(db), connValue(user))
	return s.psql("", []string{"-d", conn}, []string{"PGPASSWORD=" + password}, sql)
}

// connValue quotes a libpq connection-string value (libpq's "Connection
// Strings": single quotes, backslash escapes ' and \).
func connValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func (s *PostgresServer) psql(db string, conn, env []string, sql string) (string, error) {
	args := append([]string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-p", strconv.Itoa(s.Port)}, conn...)
	if db != "" {
		args = append(args, "-d", db)
	}
	args = append(args, "-f", "-")
	cmd := exec.Command(filepath.Join(s.Bin, "psql"), args...)
	cmd.Env = append(append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGAPPNAME=bootstrap-test"), env...)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
