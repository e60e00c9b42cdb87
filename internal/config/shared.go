package config

import (
	"fmt"
	"sort"
	"strings"
)

// Names one environment's teardown deletes must not be another's. Within one
// file, environments are taken to share the AWS account unless both pin
// different ones (accountID), so two of them in one region must not name the same secrets,
// database, replication group, repositories or state key; IAM role names
// and S3 bucket names are global, so those must differ across regions too.
// The cluster name is checked with the profile (Validate); namespaces need
// not differ: each environment has a cluster of its own, and a namespace
// lives inside it. The Terraform state key (sovd/<env>/...) is made of the
// environment's name, which the file's keys keep unique.

// sharedName is one name an environment owns, with the field it comes from.
type sharedName struct {
	env, field, name string
	// key is what makes two names the same object: the region for
	// regional services, "" for global ones; names are compared folded
	// when AWS compares them so (IAM).
	key string
	// account is the profile's accountID ("" when it pins none); S3 bucket
	// names are one namespace for every account, so theirs is "".
	account string
}

// sameAccount reports whether two environments may be in one account: yes
// unless both pin an account and the two differ.
func sameAccount(a, b string) bool { return a == "" || b == "" || a == b }

// ownedNames lists the names p's teardown deletes (or, for the state key,
// overwrites), by field.
func ownedNames(p *Profile) []sharedName {
	const acct = "<account-id>" // the same account for every environment of a file
	r := p.Region
	out := []sharedName{
		{p.Name, "secrets.prefix", p.Secrets.Prefix, r, ""},
		{p.Name, "database.identifier", p.Database.Identifier, r, ""},
		{p.Name, "redis.replicationGroupId", p.Redis.ReplicationGroupID, r, ""},
		{p.Name, "storage.bucket", p.StorageBucketName(acct), "", ""},
		{p.Name, "app.roleName", strings.ToLower(p.App.RoleName), "", ""},
	}
	for _, role := range AddonRoles() {
		out = append(out, sharedName{p.Name, role.What, strings.ToLower(p.Role(role)), "", ""})
	}
	for i, repo := range p.Registry.Repositories {
		out = append(out, sharedName{p.Name, fmt.Sprintf("registry.repositories[%d]", i), repo, r, ""})
	}
	for i := range out {
		if out[i].field != "storage.bucket" {
			out[i].account = p.AccountID
		}
	}
	return out
}

// kind groups the fields whose names can collide with each other: any two
// IAM roles, any two repositories.
func kind(field string) string {
	switch {
	case strings.HasPrefix(field, "registry.repositories"):
		return "repository"
	case strings.Contains(field, "role"):
		return "role"
	}
	return field
}

// fieldPath is where a problem with a field is reported.
func fieldPath(env, field string) string {
	for _, role := range AddonRoles() {
		if field == role.What {
			return envPath(env, "") // made of the environment's name, not a field
		}
	}
	return envPath(env, field)
}

// SharedNames reports every name one environment of the file owns that
// another also uses, at the later environment's path, naming both. A
// secrets prefix that is a path prefix of another's is a collision too:
// External Secrets' policy for <prefix>/* would reach the other's secrets.
func SharedNames(f *File) Problems {
	envs := make([]string, 0, len(f.Environments))
	for n := range f.Environments {
		envs = append(envs, n)
	}
	sort.Strings(envs)
	seen := map[string][]sharedName{} // kind|key|name -> its owners so far
	var prefixes []sharedName
	var probs Problems
	for _, env := range envs {
		p := f.Environments[env]
		if p == nil {
			continue
		}
		for _, n := range ownedNames(p) {
			if n.name == "" {
				continue
			}
			if n.field == "secrets.prefix" {
				for _, o := range prefixes {
					if o.key == n.key && o.env != n.env && sameAccount(o.account, n.account) && o.name != n.name && (strings.HasPrefix(n.name, o.name+"/") || strings.HasPrefix(o.name, n.name+"/")) {
						probs = append(probs, Problem{Path: fieldPath(n.env, n.field), Message: fmt.Sprintf("%q and %s (%q) nest: one environment's External Secrets policy and teardown would reach the other's secrets", n.name, fieldPath(o.env, o.field), o.name),
							Hint: "give each environment a secrets prefix that is not inside another's"})
					}
				}
				prefixes = append(prefixes, n)
			}
			k := kind(n.field) + "|" + n.key + "|" + n.name
			var o sharedName
			dup := false
			for _, prev := range seen[k] {
				// Within one environment: the profile's own checks.
				if prev.env != n.env && sameAccount(prev.account, n.account) {
					o, dup = prev, true
					break
				}
			}
			seen[k] = append(seen[k], n)
			if !dup {
				continue
			}
			where := "in the account"
			if n.key != "" {
				where = "in " + n.key
			}
			probs = append(probs, Problem{Path: fieldPath(n.env, n.field), Message: fmt.Sprintf("%q is also %s of environment %s (%s) %s: either environment's teardown would delete what the other uses", n.name, describeField(o.field), o.env, fieldPath(o.env, o.field), where),
				Hint: "give each environment its own " + describeField(n.field)})
		}
	}
	return probs
}

func describeField(field string) string {
	switch {
	case strings.HasPrefix(field, "registry.repositories"):
		return "ECR repository"
	case field == "app.roleName":
		return "IAM role name"
	}
	return field
}
