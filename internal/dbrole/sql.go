// Package dbrole is the app's own PostgreSQL roles: the SQL that makes and
// keeps them (run as the RDS master user), the SCRAM verifier of a login's
// password, and the plan of a password rotation over the versions of the
// sovd/<env>/database secret.
//
// The app does not connect as the RDS master user. It gets a group role
// (NOLOGIN) that owns its objects and holds its rights, and two login roles,
// <group>_1 and <group>_2, members of the group, used in turn: a rotation
// sets a new password on the login the app does not use, then makes the
// secret name that login. The other login keeps its password until the next
// rotation, so pods that still hold it keep connecting (AWS's "alternating
// users" strategy; docs/layout.md, "The app's database roles").
//
// How a rotation reaches the pods, and why none loses the database: the new
// version becomes AWSCURRENT only after the database holds its password;
// External Secrets rewrites the app's Secret within its refresh interval (15
// minutes); Reloader (the add-on in addons/reloader.go) then rolls the
// Deployment that reads the Secret, old pods serving until new ones are
// ready. The login the old pods hold is changed only by the next rotation,
// a rotation period (at least a day) later, long after every pod restarted.
package dbrole

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Roles names the app's roles in its database.
type Roles struct {
	// Database is the app's database (CONNECT, TEMPORARY).
	Database string
	// Schema is the app's schema (USAGE, CREATE; its relations are the
	// group's).
	Schema string
	// Group owns the app's objects; NOLOGIN.
	Group string
}

// Logins are the two login roles of the group, used in turn.
func (r Roles) Logins() [2]string { return [2]string{r.Group + "_1", r.Group + "_2"} }

// Other is the login a rotation sets next: the one login is not.
func (r Roles) Other(login string) string {
	l := r.Logins()
	if login == l[0] {
		return l[1]
	}
	return l[0]
}

// QuoteIdent quotes an SQL identifier as PostgreSQL's quote_ident does for
// any name: in double quotes, a double quote doubled (PostgreSQL manual,
// 4.1.1 "Identifiers and Key Words"). A NUL cannot be in an identifier.
func QuoteIdent(s string) (string, error) {
	if s == "" || strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("%q is not a usable SQL identifier", s)
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`, nil
}

// QuoteLiteral quotes an SQL string constant as PostgreSQL's quote_literal
// does: single quotes doubled, and with a backslash the escape-string form
// E'...' with backslashes doubled, so the value means the same whatever
// standard_conforming_strings is (manual, 4.1.2.1-4.1.2.2).
func QuoteLiteral(s string) (string, error) {
	if strings.ContainsRune(s, 0) {
		return "", errors.New("an SQL string cannot hold a NUL character")
	}
	q := strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(q, `\`) {
		return `E'` + strings.ReplaceAll(q, `\`, `\\`) + `'`, nil
	}
	return `'` + q + `'`, nil
}

// SCRAMIterations is PostgreSQL's default scram_iterations.
const SCRAMIterations = 4096

// SCRAMVerifier is the SCRAM-SHA-256 verifier PostgreSQL stores for a
// password (RFC 7677, RFC 5802 section 3; the format of
// src/common/scram-common.c, scram_build_secret:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, base64). Given
// to ALTER ROLE ... PASSWORD, it is stored as it is, so the password itself
// never reaches the server, its logs or the Job that runs the SQL.
//
// The salt is derived from salt (bootstrap passes the login and the
// secret's version ID), so the same version gives the same verifier and a
// re-run changes nothing. The password must be ASCII without control
// characters (SASLprep leaves those as they are); bootstrap's are letters
// and digits.
func SCRAMVerifier(password, salt string) (string, error) {
	for _, r := range password {
		if r < 0x21 || r > 0x7e {
			return "", errors.New("the password must be printable ASCII without spaces")
		}
	}
	if password == "" {
		return "", errors.New("the password is empty")
	}
	s := sha256.Sum256([]byte("bootstrap/scram-salt\x00" + salt))
	saltBytes := s[:16]
	salted, err := pbkdf2.Key(sha256.New, password, saltBytes, SCRAMIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", SCRAMIterations, b64(saltBytes), b64(stored[:]), b64(server)), nil
}

// dollarTag quotes the bodies of the DO blocks; Script refuses input that
// holds it.
const dollarTag = "$bootstrap_role$"

// Script is the SQL, run as the RDS master user in the app's database in
// one transaction, that makes the app's roles what they must be and gives
// login the password whose SCRAM verifier is verifier ("" leaves every
// password as it is). Running it again changes nothing:
//
//   - the group (NOLOGIN) and both logins exist, neither superuser nor able
//     to create roles or databases, replicate or bypass row security; the
//     logins inherit the group's rights and start each session as the
//     group (ALTER ROLE ... SET role), so what the app creates belongs to
//     the group whichever login made it;
//   - the group may connect to the app's database and make temporary
//     tables, use and create in the app's schema, and owns the schema's
//     relations the master user owns (what the app made while it still
//     connected as the master user), so its migrations keep working;
//   - nothing else: no right on other databases, no membership of
//     rds_superuser or of any other role.
//
// Every name and the verifier are quoted by QuoteIdent and QuoteLiteral.
func Script(r Roles, login, verifier string) (string, error) {
	logins := r.Logins()
	if login == "" {
		return script(r, nil)
	}
	if login != logins[0] && login != logins[1] {
		return "", fmt.Errorf("%q is not a login of group %q", login, r.Group)
	}
	if !strings.HasPrefix(verifier, "SCRAM-SHA-256$") {
		return "", errors.New("the password must be given as a SCRAM-SHA-256 verifier")
	}
	v, err := QuoteLiteral(verifier)
	if err != nil {
		return "", err
	}
	ident, err := QuoteIdent(login)
	if err != nil {
		return "", err
	}
	return script(r, []string{"ALTER ROLE " + ident + " PASSWORD " + v + ";"})
}

// PromptVariable is the psql variable that names, for PromptScript, the
// login whose password is set (psql -v login=...).
const PromptVariable = "login"

// PromptScript is Script for psql run by a person's script, which has no
// verifier: the same SQL, but the password of the login named by psql's
// variable login (psql -v login=<login>; it must be one of the group's
// logins) is set with psql's \password, which reads the password twice
// from the terminal or, with none, from standard input, computes its
// SCRAM-SHA-256 verifier in psql (libpq's PQencryptPasswordConn, with the
// session's password_encryption, set here) and sends ALTER ROLE ...
// PASSWORD with the verifier: the password never reaches the server or its
// log (PostgreSQL manual, psql, "\password"). Run it with psql -f, the
// password on standard input.
func PromptScript(r Roles) (string, error) {
	return script(r, []string{"SET LOCAL password_encryption = 'scram-sha-256';", `\password :"` + PromptVariable + `"`})
}

func script(r Roles, setPassword []string) (string, error) {
	logins := r.Logins()
	ident := map[string]string{}
	lit := map[string]string{}
	var errs []error
	for _, n := range []string{r.Database, r.Schema, r.Group, logins[0], logins[1]} {
		i, err := QuoteIdent(n)
		errs = append(errs, err)
		l, err := QuoteLiteral(n)
		errs = append(errs, err)
		ident[n], lit[n] = i, l
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	for _, n := range []string{r.Database, r.Schema, r.Group} {
		if strings.Contains(n, dollarTag) {
			return "", fmt.Errorf("the name %q holds %s", n, dollarTag)
		}
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("-- The app's database roles, made and kept by bootstrap (internal/dbrole).")
	w("-- Idempotent: running it again changes nothing.")
	w("BEGIN;")
	w("SET LOCAL client_min_messages = warning;")
	w("DO %s", dollarTag)
	w("BEGIN")
	w("  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = %s) THEN", lit[r.Group])
	w("    CREATE ROLE %s NOLOGIN;", ident[r.Group])
	w("  END IF;")
	for _, l := range logins {
		w("  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = %s) THEN", lit[l])
		w("    CREATE ROLE %s LOGIN;", ident[l])
		w("  END IF;")
	}
	w("END")
	w("%s;", dollarTag)
	// SUPERUSER, REPLICATION and BYPASSRLS only a superuser can give or
	// take, and RDS's master user is none (PostgreSQL refuses to let it even
	// name them): roles it made never have them.
	const limits = "NOCREATEDB NOCREATEROLE INHERIT"
	w("ALTER ROLE %s NOLOGIN %s;", ident[r.Group], limits)
	for _, l := range logins {
		w("ALTER ROLE %s LOGIN %s CONNECTION LIMIT -1 VALID UNTIL 'infinity';", ident[l], limits)
		w("GRANT %s TO %s;", ident[r.Group], ident[l])
		w("ALTER ROLE %s IN DATABASE %s SET role = %s;", ident[l], ident[r.Database], lit[r.Group])
	}
	w("GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s;", ident[r.Database], ident[r.Group])
	w("GRANT USAGE, CREATE ON SCHEMA %s TO %s;", ident[r.Schema], ident[r.Group])
	// What the master user owns in the app's schema becomes the group's
	// (the app made it while it connected as the master user). ALTER ...
	// OWNER TO needs the new owner's membership, so the master user is a
	// member of the group (it owns the database anyway).
	w("GRANT %s TO CURRENT_USER;", ident[r.Group])
	w("DO %s", dollarTag)
	w("DECLARE rel record;")
	w("BEGIN")
	w("  FOR rel IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c")
	w("      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace")
	w("      WHERE n.nspname = %s AND c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)", lit[r.Schema])
	w("        AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")
	// A sequence a column owns follows its table.
	w("        AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass")
	w("          AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i'))")
	w("  LOOP")
	w("    EXECUTE format('ALTER %%s %%I.%%I OWNER TO %%I',")
	w("      CASE rel.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,")
	w("      %s, rel.relname, %s);", lit[r.Schema], lit[r.Group])
	w("  END LOOP;")
	w("END")
	w("%s;", dollarTag)
	for _, l := range setPassword {
		w("%s", l)
	}
	w("COMMIT;")
	return b.String(), nil
}
