package dbrole

import (
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/testenv"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, ident, lit string }{
		{"sovd_app", `"sovd_app"`, `'sovd_app'`},
		{`we"ird`, `"we""ird"`, `'we"ird'`},
		{`it's`, `"it's"`, `'it''s'`},
		{`back\slash'`, `"back\slash'"`, `E'back\\slash'''`},
	}
	for _, tt := range tests {
		if got, err := QuoteIdent(tt.in); err != nil || got != tt.ident {
			t.Errorf("QuoteIdent(%q) = %q, %v; want %q", tt.in, got, err, tt.ident)
		}
		if got, err := QuoteLiteral(tt.in); err != nil || got != tt.lit {
			t.Errorf("QuoteLiteral(%q) = %q, %v; want %q", tt.in, got, err, tt.lit)
		}
	}
	if _, err := QuoteIdent("a\x00b"); err == nil {
		t.Error("QuoteIdent accepted a NUL")
	}
	if _, err := QuoteIdent(""); err == nil {
		t.Error("QuoteIdent accepted an empty name")
	}
	if _, err := QuoteLiteral("a\x00b"); err == nil {
		t.Error("QuoteLiteral accepted a NUL")
	}
}

// TestSCRAMVerifierShape: the verifier's form and its salt; that
// PostgreSQL accepts it is TestScriptAgainstPostgres's (the logins sign in
// with the clear password).
func TestSCRAMVerifierShape(t *testing.T) {
	t.Parallel()
	v1, err := SCRAMVerifier("pencil", "sovd_app_1/v1")
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := SCRAMVerifier("pencil", "sovd_app_1/v1")
	v3, _ := SCRAMVerifier("pencil", "sovd_app_1/v2")
	if v1 != v2 || v1 == v3 {
		t.Errorf("same salt input must give the same verifier and another a different one: %s %s %s", v1, v2, v3)
	}
	if !strings.HasPrefix(v1, "SCRAM-SHA-256$4096:") || strings.Count(v1, "$") != 2 || strings.Contains(v1, "pencil") {
		t.Errorf("verifier %q", v1)
	}
	if _, err := SCRAMVerifier("with space", "x"); err == nil {
		t.Error("a password with a space was accepted")
	}
}

func TestScriptRefuses(t *testing.T) {
	t.Parallel()
	r := Roles{Database: "db", Schema: "public", Group: "app"}
	if _, err := Script(r, "postgres", "SCRAM-SHA-256$x"); err == nil {
		t.Error("a login outside the group was accepted")
	}
	if _, err := Script(r, "app_1", "plain-password"); err == nil {
		t.Error("a clear password was accepted")
	}
	if _, err := Script(Roles{Database: "db", Schema: "public", Group: "x" + dollarTag}, "", ""); err == nil {
		t.Error("a name holding the dollar tag was accepted")
	}
}

// TestScriptAgainstPostgres runs Script, as the Job runs it, against a real
// PostgreSQL server over TLS, as a master user shaped like RDS's (LOGIN
// CREATEROLE CREATEDB, member of rds_superuser, owner of the app's database,
// not superuser): the roles are made, a re-run changes nothing, the app's
// logins can do their DML and DDL in the app's schema and nothing else.
// Names with quotes and a backslash prove the quoting.
func TestScriptAgainstPostgres(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	const master, masterPW = "sovd_admin", "master0password0of0the0test"
	pg.RDSMaster(t, master, masterPW, "sovd_staging", `we"ird'db\x`)
	pg.Superuser(t, "postgres", "CREATE DATABASE other;")
	pg.Superuser(t, "other", `CREATE TABLE private_data (x text); INSERT INTO private_data VALUES ('no');`)

	for _, tc := range []struct {
		name  string
		roles Roles
	}{
		{"seed names", Roles{Database: "sovd_staging", Schema: "public", Group: "sovd_app"}},
		{"names to quote", Roles{Database: `we"ird'db\x`, Schema: "public", Group: `app"grp'\x`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.roles
			db := r.Database
			asMaster := func(sql string) string {
				t.Helper()
				out, err := pg.As(master, masterPW, db, sql)
				if err != nil {
					t.Fatalf("as the master user: %v\n%s", err, out)
				}
				return out
			}
			// What the app made while it still connected as the master user.
			asMaster(`CREATE TABLE legacy (id serial PRIMARY KEY, v text); INSERT INTO legacy (v) VALUES ('before');`)

			logins := r.Logins()
			pw1, pw2 := "first0password0aaaaaaaaaaaa", "second0password0bbbbbbbbbbb"
			v1, err := SCRAMVerifier(pw1, logins[0]+"/version-1")
			if err != nil {
				t.Fatal(err)
			}
			script, err := Script(r, logins[0], v1)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(script, pw1) {
				t.Fatal("the script holds the clear password")
			}
			asMaster(script)
			before := snapshot(t, pg, r)
			asMaster(script)
			if after := snapshot(t, pg, r); after != before {
				t.Errorf("a re-run changed the roles:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			for _, want := range []string{"f|f|f|f|t|f|t", "SCRAM-SHA-256$4096:"} {
				if !strings.Contains(before, want) {
					t.Errorf("snapshot lacks %q:\n%s", want, before)
				}
			}

			as := func(login, pw, db, sql string) (string, error) { return pg.As(login, pw, db, sql) }
			out, err := as(logins[0], pw1, db, `
SELECT current_user = `+lit(t, r.Group)+`;
CREATE TABLE made_by_app (id int);
INSERT INTO made_by_app VALUES (1); UPDATE made_by_app SET id = 2; SELECT count(*) FROM made_by_app; DELETE FROM made_by_app;
INSERT INTO legacy (v) VALUES ('after'); UPDATE legacy SET v = v; SELECT count(*) FROM legacy; DELETE FROM legacy WHERE v = 'after';
ALTER TABLE legacy ADD COLUMN IF NOT EXISTS w int;
SELECT pg_has_role('rds_superuser', 'MEMBER');
`)
			if err != nil {
				t.Fatalf("the app's DML as %s: %v\n%s", logins[0], err, out)
			}
			if want := "t\n1\n2\nf"; out != want {
				t.Errorf("as %s: got\n%s\nwant\n%s", logins[0], out, want)
			}
			for _, denied := range []struct{ db, sql, want string }{
				{db, "CREATE ROLE intruder", "permission denied to create role"},
				{db, "CREATE DATABASE intruder", "permission denied to create database"},
				{db, "SET ROLE " + ident(t, master), "permission denied to set role"},
				{"other", "SELECT * FROM private_data", "permission denied for table private_data"},
				{"other", "CREATE TABLE intruder (x int)", "permission denied for schema public"},
			} {
				out, err := as(logins[0], pw1, denied.db, denied.sql)
				if err == nil || !strings.Contains(out, denied.want) {
					t.Errorf("%s in %s: want %q, got %v\n%s", denied.sql, denied.db, denied.want, err, out)
				}
			}
			if out, err := pg.WithoutTLS(logins[0], pw1, db, "SELECT 1"); err == nil || !strings.Contains(out, "no encryption") {
				t.Errorf("a connection without TLS: want it refused, got %v\n%s", err, out)
			}
			if out, err := as(logins[1], pw2, db, "SELECT 1"); err == nil {
				t.Errorf("%s logged in before it had a password: %s", logins[1], out)
			}

			// A rotation: the other login gets a password; the first keeps
			// its own, so pods still holding it keep connecting.
			v2, err := SCRAMVerifier(pw2, logins[1]+"/version-2")
			if err != nil {
				t.Fatal(err)
			}
			script2, err := Script(r, logins[1], v2)
			if err != nil {
				t.Fatal(err)
			}
			asMaster(script2)
			asMaster(script2)
			for _, l := range []struct{ login, pw string }{{logins[0], pw1}, {logins[1], pw2}} {
				out, err := as(l.login, l.pw, db, "INSERT INTO made_by_app VALUES (3); SELECT count(*) FROM made_by_app; DELETE FROM made_by_app;")
				if err != nil || out != "1" {
					t.Errorf("after the rotation, %s: %v\n%s", l.login, err, out)
				}
			}
			if out, err := as(logins[1], pw1, db, "SELECT 1"); err == nil {
				t.Errorf("%s logged in with the other login's password: %s", logins[1], out)
			}
		})
	}
}

func ident(t *testing.T, s string) string {
	t.Helper()
	q, err := QuoteIdent(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func lit(t *testing.T, s string) string {
	t.Helper()
	q, err := QuoteLiteral(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// snapshot is everything Script decides, read as the superuser: the
// roles' attributes and stored passwords, memberships, per-role settings,
// the database's and schema's grants, the owners of the schema's relations.
func snapshot(t *testing.T, pg *testenv.PostgresServer, r Roles) string {
	t.Helper()
	l := r.Logins()
	names := "ARRAY[" + lit(t, r.Group) + ", " + lit(t, l[0]) + ", " + lit(t, l[1]) + "]"
	return pg.Superuser(t, r.Database, `
SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolinherit, rolbypassrls, rolcanlogin = (rolname <> `+lit(t, r.Group)+`), rolconnlimit, rolvaliduntil, coalesce(rolpassword, '-')
  FROM pg_authid WHERE rolname = ANY (`+names+`) ORDER BY rolname;
SELECT r.rolname, m.rolname, g.rolname, a.admin_option FROM pg_auth_members a
  JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.grantor
  WHERE r.rolname = ANY (`+names+`) OR m.rolname = ANY (`+names+`) ORDER BY 1, 2, 3;
SELECT r.rolname, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole ORDER BY 1;
SELECT datacl FROM pg_database WHERE datname = current_database();
SELECT nspacl FROM pg_namespace WHERE nspname = `+lit(t, r.Schema)+`;
SELECT c.relname, pg_get_userbyid(c.relowner), c.relacl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = `+lit(t, r.Schema)+` ORDER BY 1;
`)
}

// TestPromptScriptIsScript: the runbook's SQL is bootstrap's, line for
// line, but for how the login's password is set (psql's \password, in the
// same transaction, with SCRAM as the session's password_encryption).
func TestPromptScriptIsScript(t *testing.T) {
	t.Parallel()
	r := Roles{Database: "sovd_staging", Schema: "public", Group: "sovd_app"}
	v, err := SCRAMVerifier("password0of0the0test", "sovd_app_1/v1")
	if err != nil {
		t.Fatal(err)
	}
	tool, err := Script(r, "sovd_app_1", v)
	if err != nil {
		t.Fatal(err)
	}
	byHand, err := PromptScript(r)
	if err != nil {
		t.Fatal(err)
	}
	toolLines, handLines := strings.Split(tool, "\n"), strings.Split(byHand, "\n")
	setTool := `ALTER ROLE "sovd_app_1" PASSWORD '` + v + `';`
	setHand := []string{"SET LOCAL password_encryption = 'scram-sha-256';", `\password :"` + PromptVariable + `"`}
	i := len(toolLines) - 3 // ..., the password, COMMIT;, ""
	if toolLines[i] != setTool {
		t.Fatalf("Script's password line is %q, want %q", toolLines[i], setTool)
	}
	want := append(append(append([]string{}, toolLines[:i]...), setHand...), toolLines[i+1:]...)
	if strings.Join(handLines, "\n") != strings.Join(want, "\n") {
		t.Errorf("PromptScript is not Script with psql's \\password:\n%s\nwant\n%s", byHand, strings.Join(want, "\n"))
	}
}
