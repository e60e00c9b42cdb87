package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/dbrole"
	"github.com/sovd/bootstrap/internal/shell"
)

// Describe implements Describer: keepAppDatabaseRole as bash, in two
// actions. The first decides as dbrole.Plan does (a test runs both on the
// same secrets) and writes the new AWSPENDING version; the second sets
// the pending version in the database with the role Job, as bootstrap
// does, then moves AWSCURRENT to it. The SQL is dbrole's (PromptScript:
// Script's, with psql's \password setting the login's password, so psql
// computes the SCRAM verifier and the password reaches neither the server
// nor a command line); the Job and its Secret are addons' (RoleJobManifests,
// RoleJobSecret). Passwords travel only through pipes: from Secrets Manager
// into jq, into the Secret kubectl reads on standard input.
func (s KeepAppDatabaseRole) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	secret := p.SecretNames()[0]
	region := p.Region
	roles := dbrole.Roles{Database: p.Database.Name, Schema: "public", Group: p.Database.AppRole}
	logins := roles.Logins()
	kc := s.Options.describedKubeconfig(st)
	ns := addons.RoleJobNamespace
	q := func(v string) string { return shell.Quote([]string{v}) }
	aws := func(args ...string) string {
		return unquoteVars(shell.Quote(append([]string{"aws", "secretsmanager"}, append(args[:1:1], append([]string{"--region", region, "--secret-id", secret}, args[1:]...)...)...)))
	}
	kubectl := func(args ...string) string {
		return unquoteVars(shell.Quote(append(append([]string{"kubectl"}, args...), "--kubeconfig", kc)))
	}
	// What dbrole.Plan and dbrole.NextSecret decide, in jq over: the
	// secret's versions, its AWSCURRENT version (null when none) and, for
	// a new version, a new password.
	want := fmt.Sprintf(`{engine: "postgres", host: $host, port: $port, dbname: %q, sslmode: "require", group: %q}`, p.Database.Name, p.Database.AppRole)
	jqArgs := "--arg host \"<db-host>\" --arg port \"<db-port>\""
	parse := `(.[1] // {}) as $cur | ($cur.SecretString // "" | try fromjson catch {}) as $s` +
		` | (($s | type) == "object" and ($s.password // "") != "" and ($s.username // "") != "" and ($s.group // "") != "") as $ok` +
		` | ` + want + ` as $want`
	decide := parse +
		` | ([.[0].Versions[] | select(.VersionStages | index("AWSPENDING"))] | length > 0) as $pending` +
		` | ($cur.CreatedDate // null | if type == "number" then . elif type == "string" then sub("\\.[0-9]+"; "") | sub("(\\+00:00)?$"; "Z") | sub("ZZ$"; "Z") | fromdateiso8601 else null end) as $created` +
		` | if $pending then "resume"` +
		` elif ($cur | length) == 0 or ($ok | not) then "rotate"` +
		` elif ([$s.engine, $s.host, $s.port, $s.dbname, $s.sslmode, $s.group] != [$want.engine, $want.host, $want.port, $want.dbname, $want.sslmode, $want.group]) then (if $s.group != $want.group then "rotate" else "connection" end)` +
		fmt.Sprintf(` elif %d > 0 and $created != null and (now - $created) >= %d then "rotate"`, p.Database.PasswordRotationDays, p.Database.PasswordRotationDays*86400) +
		` else "nothing" end`
	next := parse +
		` | (if $ok and $s.group == $want.group then $s else {} end) as $c` +
		fmt.Sprintf(` | $want + (if $plan == "connection" then {username: $c.username, password: $c.password} else {username: (if $c.username == %q then %q else %q end), password: .[2].RandomPassword} end)`, logins[0], logins[1], logins[0])
	versions := aws("list-secret-version-ids", "--output", "json")
	current := aws("get-secret-value", "--version-stage", "AWSCURRENT", "--output", "json") + " 2>/dev/null || echo null"
	decideLines := []string{
		"# The secret's state, read once, and the plan, as bootstrap picks it (dbrole.Plan): resume a pending version; or write one when",
		fmt.Sprintf("# the current version is missing, not the app role's, connects elsewhere or is %d days old (database.passwordRotationDays).", p.Database.PasswordRotationDays),
		"DB_ROLE_PLAN=$({ " + versions + "; " + current + "; } |",
		"  jq -s -r " + jqArgs + " " + q(decide) + ")",
		`case "${DB_ROLE_PLAN}" in`,
		"  nothing) echo " + q(secret+": the current password is younger than the rotation period; nothing to do") + " ;;",
		"  rotate | connection)",
		"    # The new version: the connection of the data tier; on rotate the other login and a new password of letters and digits.",
		"    { " + versions + "; " + current + "; " + unquoteVars(shell.Quote([]string{"aws", "secretsmanager", "get-random-password", "--region", region, "--exclude-punctuation", "--password-length", "52", "--output", "json"})) + "; } |",
		"      jq -s -c " + jqArgs + ` --arg plan "${DB_ROLE_PLAN}" ` + q(next) + " |",
		"      " + aws("put-secret-value", "--secret-string", "file:///dev/stdin", "--version-stages", "AWSPENDING", "--query", "VersionId", "--output", "text"),
		"    ;;",
		"esac",
	}

	// The second action: the role Job for the pending version.
	in := addons.RoleJobInput{Name: "@JOB@", Host: "<db-host>", Port: "<db-port>", DB: p.Database.Name, MasterUser: "<db-username>", AppUser: "@APPUSER@", PasswordOnStdin: true}
	sql, err := dbrole.PromptScript(roles)
	if err != nil {
		return Description{}, err
	}
	in.Script = sql
	manifests, err := addons.RoleJobManifests(in)
	if err != nil {
		return Description{}, err
	}
	secretYAML, err := addons.RoleJobSecret(in, "@UID@")
	if err != nil {
		return Description{}, err
	}
	secretJSON, err := yaml.YAMLToJSON(secretYAML)
	if err != nil {
		return Description{}, err
	}
	// A value read into a variable stays a string (a port would be read
	// back as a number): in double quotes.
	quoted := placeholderValue.ReplaceAllString(string(manifests), `: "$1"`)
	job := strings.NewReplacer("@JOB@", "${DB_ROLE_JOB}", "@APPUSER@", "${DB_APP_USER}").Replace(heredocText(quoted))
	pending := `[.Versions[] | select(.VersionStages | index("%s")) | .VersionId][0] // empty`
	value := func(id string) string {
		return aws("get-secret-value", "--version-id", id, "--query", "SecretString", "--output", "text")
	}
	jobLines := []string{
		"DB_VERSIONS=$(" + versions + ")",
		"DB_PENDING_ID=$(jq -r " + q(fmt.Sprintf(pending, "AWSPENDING")) + ` <<<"${DB_VERSIONS}")`,
		"DB_CURRENT_ID=$(jq -r " + q(fmt.Sprintf(pending, "AWSCURRENT")) + ` <<<"${DB_VERSIONS}")`,
		`if [ -n "${DB_PENDING_ID}" ]; then`,
		"  DB_APP_USER=$(" + value("${DB_PENDING_ID}") + " | jq -r " + q(fmt.Sprintf(`if .group == %q then .username // "" else "" end`, p.Database.AppRole)) + ")",
		`  case "${DB_APP_USER}" in`,
		fmt.Sprintf("    %s | %s) ;;", logins[0], logins[1]),
		"    *)",
		"      echo \"the AWSPENDING version ${DB_PENDING_ID} of " + secret + " is not a credential of the app's role " + p.Database.AppRole + ": remove its label (aws secretsmanager update-secret-version-stage --secret-id " + secret + " --version-stage AWSPENDING --remove-from-version-id ${DB_PENDING_ID}) and run again\" >&2",
		"      exit 1",
		"      ;;",
		"  esac",
		`  DB_ROLE_JOB="app-db-roles-${DB_PENDING_ID:0:8}"`,
		"  # A Job of this name left by an interrupted run is replaced.",
		"  " + kubectl("delete", "job", "${DB_ROLE_JOB}", "-n", ns, "--ignore-not-found", "--wait=true"),
		"  # Interrupted from here on, the Job and its Secret (the master password) go at once, as",
		"  # bootstrap deletes them on Ctrl-C; otherwise the Job's deadline and TTL remove them.",
		"  trap '" + kubectl("delete", "job,secret", "${DB_ROLE_JOB}", "-n", ns, "--ignore-not-found", "--cascade=foreground", "--wait=false") + " >/dev/null 2>&1; exit 130' INT TERM",
		"  " + kubectl("apply", "--server-side", "--field-manager", "bootstrap", "-f", "-") + " <<EOF",
		strings.TrimSuffix(job, "\n"),
		"EOF",
		"  DB_ROLE_JOB_UID=$(" + kubectl("get", "job", "${DB_ROLE_JOB}", "-n", ns, "-o", "jsonpath={.metadata.uid}") + ")",
		"  # Its Secret, owned by the Job: the master password, the app's password and the SQL, through pipes only.",
		"  { " + unquoteVars(shell.Quote([]string{"aws", "secretsmanager", "get-secret-value", "--region", region, "--secret-id", "<db-master-user-secret-arn>", "--query", "SecretString", "--output", "text"})) + "; " + value("${DB_PENDING_ID}") + "; cat <<'EOF'",
		string(secretJSON),
		"EOF",
		"  } | jq -s -c --arg job \"${DB_ROLE_JOB}\" --arg uid \"${DB_ROLE_JOB_UID}\" " + q(`.[0].password as $m | .[1].password as $a | .[2]`+
			` | .metadata.name = $job | .metadata.ownerReferences[0].name = $job | .metadata.ownerReferences[0].uid = $uid`+
			` | .stringData["master-password"] = $m | .stringData["app-password"] = $a`) + " |",
		"    " + kubectl("apply", "--server-side", "--field-manager", "bootstrap", "-f", "-") + " >/dev/null",
		"  while :; do",
		"    DB_ROLE_JOB_STATUS=$(" + kubectl("get", "job", "${DB_ROLE_JOB}", "-n", ns, "-o", "jsonpath={.status.succeeded},{.status.failed}") + ")",
		`    case "${DB_ROLE_JOB_STATUS}" in`,
		"      [1-9]*) break ;;",
		"      *,[1-9]*)",
		"        " + kubectl("logs", "job/${DB_ROLE_JOB}", "-n", ns, "--tail=20") + " >&2 || true",
		"        " + kubectl("delete", "job,secret", "${DB_ROLE_JOB}", "-n", ns, "--ignore-not-found", "--cascade=foreground", "--wait=false"),
		"        echo \"the role Job " + ns + "/${DB_ROLE_JOB} failed (AWSCURRENT still names the password that works; run again to finish)\" >&2",
		"        exit 1",
		"        ;;",
		"    esac",
		"    sleep 5",
		"  done",
		"  " + kubectl("delete", "job,secret", "${DB_ROLE_JOB}", "-n", ns, "--ignore-not-found", "--cascade=foreground", "--wait=false"),
		"  trap - INT TERM",
		"  # Then AWSCURRENT moves to the pending version, and AWSPENDING goes.",
		`  if [ "${DB_CURRENT_ID}" != "${DB_PENDING_ID}" ]; then`,
		"    DB_FROM=()",
		`    if [ -n "${DB_CURRENT_ID}" ]; then DB_FROM=(--remove-from-version-id "${DB_CURRENT_ID}"); fi`,
		"    " + aws("update-secret-version-stage", "--version-stage", "AWSCURRENT", "--move-to-version-id", "${DB_PENDING_ID}") + ` "${DB_FROM[@]}" >/dev/null`,
		"  fi",
		"  " + aws("update-secret-version-stage", "--version-stage", "AWSPENDING", "--remove-from-version-id", "${DB_PENDING_ID}") + " >/dev/null",
		"  echo \"" + secret + ": the app's role now signs in as ${DB_APP_USER}; running pods keep the previous login until they restart\"",
		"fi",
	}
	return Description{Actions: []Action{{
		Tool: "bash", Script: strings.Join(decideLines, "\n") + "\n",
		Note: fmt.Sprintf("the app connects as its own role, not the RDS master user: group %s (NOLOGIN) and its logins %s and %s, used in turn (docs/layout.md, \"The app's database roles\"). Its credentials are the AWSCURRENT version of %s; a new one is written as AWSPENDING first (Secrets Manager's rotation protocol)", p.Database.AppRole, logins[0], logins[1], secret),
	}, {
		Tool: "bash", Script: strings.Join(jobLines, "\n") + "\n",
		Note: fmt.Sprintf("when a version is pending: the role SQL runs as the RDS master user from inside the VPC, as Job app-db-roles-<first 8 characters of the version id> in namespace %s (image %s) with its Secret; psql's \\password sets the login's password from standard input (psql computes the SCRAM verifier), then the Job signs in as the login; only then does AWSCURRENT move to the pending version. Needs jq, kubectl and the aws CLI", ns, addons.RoleJobImage),
	}}}, nil
}

// quotedVar is a word shell.Quote single-quoted because it holds a
// variable (${VAR}) or a placeholder (<name>, which the runbook makes a
// variable): it must be double-quoted to expand.
var quotedVar = regexp.MustCompile(`'([A-Za-z0-9/_.:=-]*(?:\$\{[A-Z_]+\}|<[a-z][a-z0-9-]*>)[A-Za-z0-9/_.:=-]*)'`)

// placeholderValue is a YAML value that is a placeholder alone.
var placeholderValue = regexp.MustCompile(`(?m): (<[a-z][a-z0-9-]*>)$`)

// unquoteVars double-quotes the words quotedVar finds.
func unquoteVars(s string) string { return quotedVar.ReplaceAllString(s, `"$1"`) }

// heredocText escapes text for an unquoted heredoc: the shell then expands
// only the variables put in afterwards.
func heredocText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "$", `\$`, "`", "\\`").Replace(s)
}
