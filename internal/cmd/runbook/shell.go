package runbook

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	shellquote "github.com/sovd/bootstrap/internal/shell"
)

// The runbook's commands are one bash script: the markdown's sh blocks,
// extracted in order, and `bootstrap runbook --format script` are the same
// lines. A placeholder such as <vpc-id> in a step's description becomes a
// shell variable (${VPC_ID}) that the step reads with a command just before
// its first use, so every step runs in a fresh shell too; a placeholder an
// action lists in EachOf is the variable of a loop over its Each command.

// placeholderName finds a placeholder's name, as in <vpc-id>.
var placeholderName = regexp.MustCompile(`<([a-z][a-z0-9-]*)>`)

// variable is the shell variable a placeholder becomes.
func variable(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// subnetRE is the placeholder of one private subnet: data.go describes the
// data tier's subnet list as one placeholder per zone.
var subnetRE = regexp.MustCompile(`^private-subnet-id-([0-9]+)$`)

// reader says how the script reads a live value: the right-hand side of
// VAR=..., or "" when no command can (a person must choose it).
func reader(p *config.Profile, name string) string {
	r := p.Region
	c := p.Cluster.Name
	eks := func(query string) string {
		return "$(" + shellquote.Quote([]string{"aws", "eks", "describe-cluster", "--region", r, "--name", c, "--query", query, "--output", "text"}) + ")"
	}
	tfOutput := func(output string) string {
		return "$(" + shellquote.Quote([]string{"terraform", "-chdir=" + dataRoot, "output", "-raw", output}) + ")"
	}
	if m := subnetRE.FindStringSubmatch(name); m != nil {
		// The private subnets eksctl made, in zone order; the same filter
		// the data lane waits on (WaitForSubnets).
		return "$(" + shellquote.Quote([]string{"aws", "ec2", "describe-subnets", "--region", r,
			"--filters", "Name=tag:alpha.eksctl.io/cluster-name,Values=" + c, "Name=tag-key,Values=kubernetes.io/role/internal-elb",
			"--query", "sort_by(Subnets,&AvailabilityZone)[" + fmt.Sprint(atoi(m[1])-1) + "].SubnetId", "--output", "text"}) + ")"
	}
	switch name {
	case "account-id":
		return "$(" + shellquote.Quote([]string{"aws", "sts", "get-caller-identity", "--query", "Account", "--output", "text"}) + ")"
	case "cluster-vpc-id":
		// The VPC eksctl made, also once the cluster is gone (None when it is too).
		return "$(" + shellquote.Quote([]string{"aws", "ec2", "describe-vpcs", "--region", r, "--filters", "Name=tag:alpha.eksctl.io/cluster-name,Values=" + c,
			"--query", "Vpcs[0].VpcId", "--output", "text"}) + ")"
	case "vpc-id":
		return eks("cluster.resourcesVpcConfig.vpcId")
	case "cluster-security-group-id":
		return eks("cluster.resourcesVpcConfig.clusterSecurityGroupId")
	case "db-host", "db-port", "db-username", "redis-host", "db-master-user-secret-arn", "certificate-arn":
		return tfOutput(strings.ReplaceAll(name, "-", "_"))
	case "hosted-zone-id":
		// The zone ResolveHostedZone picks, by the prelude's hosted_zone_id:
		// a missing or ambiguous zone fails the read, and so the script.
		args := []string{"hosted_zone_id", p.App.Domain}
		if p.App.HostedZoneID != "" {
			args = append(args, p.App.HostedZoneID)
		}
		return "$(" + shellquote.Quote(args) + ")"
	case "yyyymmdd-hhmmss":
		return "$(date -u +%Y%m%d-%H%M%S)"
	}
	return ""
}

// dataRoot is the data tier's Terraform root, from the repository's root.
const dataRoot = "terraform/stateful"

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// shell renders the actions of one step as bash lines.
type shell struct {
	p    *config.Profile
	dirs map[string]bool // directories already made with mkdir -p
	read map[string]bool // variables this step has read
	err  error
}

// step starts a step: it reads its values again, so that it runs in a
// fresh shell as well.
func (s *shell) step() { s.read = map[string]bool{} }

// lines renders one action: the reads of the values it needs, its files,
// its command, inside its condition and loop.
func (s *shell) lines(a pipeline.Action) []string {
	loop := map[string]bool{}
	for _, ph := range a.EachOf {
		loop[strings.Trim(ph, "<>")] = true
	}
	// Values the action needs, read once per step: those of its condition
	// before it, the others inside it (a step that does not apply reads
	// nothing it cannot read, such as a deleted cluster's VPC).
	// The guard's values first, then the condition's inside the guard.
	out := s.reads(pipeline.Action{If: a.While}, loop)
	cond := s.reads(pipeline.Action{If: a.If, Unless: a.Unless}, loop)
	// A loop's list is read before the loop, its body's values in it.
	each := s.reads(pipeline.Action{Each: a.Each}, loop)
	body := s.reads(pipeline.Action{Args: append(a.Args, a.Script), Files: a.Files}, loop)
	for _, f := range a.Files {
		if dir := path.Dir(f.Path); dir != "." && dir != "/" && !s.dirs[dir] {
			body = append(body, "mkdir -p "+s.arg(dir))
			s.dirs[dir] = true
		}
		body = append(body, s.heredoc(f)...)
	}
	cmd := s.command(append([]string{a.Tool}, a.Args...))
	if a.Script != "" {
		cmd = strings.TrimSuffix(expand(a.Script, ""), "\n")
	}
	if a.Dir != "" {
		cmd = "(cd " + s.arg(a.Dir) + " && " + cmd + ")"
	}
	body = append(body, strings.Split(cmd, "\n")...)
	if len(a.Each) > 0 {
		vars := make([]string, len(a.EachOf))
		for i, ph := range a.EachOf {
			vars[i] = variable(strings.Trim(ph, "<>"))
		}
		body = append(append(each, "while read -r "+strings.Join(vars, " ")+"; do"), indent(body)...)
		body = append(body, "done < <("+s.command(a.Each)+")")
	}
	switch {
	case len(a.If) > 0:
		body = append(append([]string{"if found " + s.command(a.If) + "; then"}, indent(body)...), "fi")
	case len(a.Unless) > 0:
		body = append(append([]string{"if ! found " + s.command(a.Unless) + "; then"}, indent(body)...), "fi")
	}
	body = append(cond, body...)
	if len(a.While) > 0 {
		guarded := append([]string{"if found " + s.command(a.While) + "; then"}, indent(body)...)
		if a.Skipped != "" {
			guarded = append(guarded, "else", "  echo "+shellquote.Quote([]string{a.Skipped})+" >&2")
		}
		body = append(guarded, "fi")
	}
	return append(out, body...)
}

// reads are the lines that read the values an action's texts name and
// this step has not read yet.
func (s *shell) reads(a pipeline.Action, loop map[string]bool) []string {
	var out []string
	for _, name := range s.names(a, loop) {
		if s.read[name] {
			continue
		}
		rd := ""
		if s.p != nil {
			rd = reader(s.p, name)
		}
		if rd == "" {
			s.fail(fmt.Errorf("no command reads <%s> (in %s %s): add it to the runbook's reader", name, a.Tool, strings.Join(a.Args, " ")))
			continue
		}
		out = append(out, variable(name)+"="+rd)
		s.read[name] = true
	}
	return out
}

func (s *shell) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// names lists the placeholders an action's command, files and conditions
// use, in order of appearance, but for its loop's.
func (s *shell) names(a pipeline.Action, loop map[string]bool) []string {
	var texts []string
	texts = append(texts, a.Args...)
	texts = append(texts, a.If...)
	texts = append(texts, a.Unless...)
	texts = append(texts, a.Each...)
	for _, f := range a.Files {
		texts = append(texts, f.Path, f.Content)
	}
	seen := map[string]bool{}
	var names []string
	for _, t := range texts {
		for _, m := range placeholderName.FindAllStringSubmatch(t, -1) {
			if !seen[m[1]] && !loop[m[1]] {
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
	}
	return names
}

func indent(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + l
	}
	return out
}

// command quotes a command line for bash, placeholders as variables.
func (s *shell) command(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = s.arg(a)
	}
	return strings.Join(parts, " ")
}

// arg quotes one argument: as shellquote.Quote does when it holds no
// placeholder, else in double quotes with each placeholder a variable.
func (s *shell) arg(a string) string {
	if !placeholderName.MatchString(a) {
		return shellquote.Quote([]string{a})
	}
	return `"` + expand(a, `\$"`+"`") + `"`
}

// expand escapes the characters special in its context (double quotes or
// an unquoted heredoc) and turns placeholders into ${VAR}.
func expand(text, special string) string {
	var b strings.Builder
	last := 0
	for _, m := range placeholderName.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(escape(text[last:m[0]], special))
		b.WriteString("${" + variable(text[m[2]:m[3]]) + "}")
		last = m[1]
	}
	b.WriteString(escape(text[last:], special))
	return b.String()
}

func escape(text, special string) string {
	var b strings.Builder
	for _, r := range text {
		if strings.ContainsRune(special, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// heredoc writes a file: quoted (taken as it is) unless it holds
// placeholders, which an unquoted heredoc expands.
func (s *shell) heredoc(f pipeline.File) []string {
	content := f.Content
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	eof := delimiter(content)
	if content == "" {
		return []string{"cat > " + s.arg(f.Path) + " <<'" + eof + "'\n" + eof}
	}
	open := "'" + eof + "'"
	if placeholderName.MatchString(content) {
		content = expand(content, `\$`+"`")
		open = eof
	}
	return []string{"cat > " + s.arg(f.Path) + " <<" + open + "\n" + strings.TrimSuffix(content, "\n") + "\n" + eof}
}

// prelude is what every shell that runs the runbook's commands needs first:
// the region, and found, the condition of the steps that run only when
// something exists (or does not); with app.domain (p may be nil: none),
// hosted_zone_id.
func prelude(region string, p *config.Profile) []string {
	lines := []string{
		"export AWS_DEFAULT_REGION=" + shellquote.Quote([]string{region}),
		"# found CMD...: CMD succeeds and prints something (not None, False or []).",
		"found() {",
		"  local out",
		`  out=$("$@" 2>/dev/null) || return 1`,
		`  case "$out" in "" | None | False | "[]") return 1 ;; esac`,
		"}",
	}
	if p != nil && p.App.Domain != "" {
		lines = append(lines, strings.Split(hostedZoneFunc, "\n")...)
	}
	return lines
}

// hostedZoneFunc is ResolveHostedZone (internal/pipeline/ownership.go) and
// cloud.PickHostedZone in bash; TestHostedZoneScriptAgreesWithGo runs both
// on the same zones. The zones are read as the aws CLI's text output (id,
// name, private per line), so awk needs nothing the runbook does not
// already need.
const hostedZoneFunc = `# hosted_zone_id DOMAIN [ZONE-ID]: the Route53 zone of DOMAIN as bootstrap picks it:
# ZONE-ID (app.hostedZoneID) checked to be public and to hold DOMAIN; else the public
# zone whose name is the longest suffix of DOMAIN at a label boundary, exactly one.
hosted_zone_id() {
  local zones
  if [ -n "${2:-}" ]; then
    zones=$(aws route53 get-hosted-zone --id "$2" --query '[HostedZone.Id,HostedZone.Name,HostedZone.Config.PrivateZone]' --output text) || return 1
  else
    zones=$(aws route53 list-hosted-zones --query 'HostedZones[].[Id,Name,Config.PrivateZone]' --output text) || return 1
  fi
  printf '%s\n' "$zones" | awk -F '\t' -v domain="$1" -v configured="${2:-}" '
    function holds(d, z) { return d == z || (length(d) > length(z) && substr(d, length(d) - length(z)) == "." z) }
    BEGIN { d = domain; if (configured == "") d = tolower(d); sub(/\.$/, "", d); best = -1; n = 0 }
    NF < 3 { next }
    {
      id = $1; sub(/^\/hostedzone\//, "", id)
      name = $2; if (configured == "") name = tolower(name); sub(/\.$/, "", name)
      if (configured != "") {
        if ($3 == "True") err = "app.hostedZoneID " configured " (" name ") is a private zone: ACM validates and the internet resolves only public ones"
        else if (!holds(domain, name)) err = "app.hostedZoneID " configured " is the zone " name ", which cannot hold app.domain " domain ": name the zone of " domain " or a parent of it"
        else { n = 1; ids = id }
        exit
      }
      if ($3 == "True" || !holds(d, name)) next
      if (length(name) > best) { best = length(name); n = 1; ids = id; zone = name }
      else if (length(name) == best) { n++; ids = ids ", " id }
    }
    END {
      if (err != "") { print err > "/dev/stderr"; exit 1 }
      if (n == 1) { print ids; exit 0 }
      if (n == 0) print "no public Route53 hosted zone holds " d " (none named " d " or a parent of it): create one and delegate it, or set app.hostedZoneID" > "/dev/stderr"
      else print n " public Route53 hosted zones are named " zone " (" ids "): set app.hostedZoneID to the one that is delegated" > "/dev/stderr"
      exit 1
    }'
}`
