package dbrole

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"
)

// Secret is the value of a version of the <prefix>/database secret: where
// and as whom the app connects. External Secrets builds DATABASE_URL from
// it.
type Secret struct {
	Engine   string `json:"engine"`
	Host     string `json:"host"`
	Port     string `json:"port"`
	DBName   string `json:"dbname"`
	Username string `json:"username"`
	Password string `json:"password"`
	SSLMode  string `json:"sslmode"`
	// Group is the role the logins act as (Roles.Group).
	Group string `json:"group"`
}

// ParseSecret reads a version's value; a version that is not one of
// bootstrap's app credentials (the connection-only value the data tier
// wrote before, or no password) gives ok false.
func ParseSecret(value string) (s Secret, ok bool) {
	if err := json.Unmarshal([]byte(value), &s); err != nil {
		return Secret{}, false
	}
	return s, s.Password != "" && s.Username != "" && s.Group != ""
}

// JSON is the value to store.
func (s Secret) JSON() string {
	b, _ := json.Marshal(s) // plain strings: cannot fail
	return string(b)
}

// SameConnection reports whether s connects where want does, as the same
// group.
func (s Secret) SameConnection(want Secret) bool {
	return s.Engine == want.Engine && s.Host == want.Host && s.Port == want.Port && s.DBName == want.DBName &&
		s.SSLMode == want.SSLMode && s.Group == want.Group
}

// Version is a version of the secret with Secrets Manager's staging labels.
type Version struct {
	ID      string
	Created time.Time
	Value   string
}

// Step is what the next run of the rotation does.
type Step int

const (
	// Nothing: the current version is bootstrap's, connects where the data
	// tier is, and is younger than the rotation period.
	Nothing Step = iota
	// NewPending: write a new version labelled AWSPENDING (then set it and
	// finish, as for Resume).
	NewPending
	// Resume: a version is AWSPENDING (this run's or an interrupted one's):
	// set its password in the database, then move AWSCURRENT to it.
	Resume
)

// Decision is the plan of one run.
type Decision struct {
	Step Step
	// Reason says why, for the progress line.
	Reason string
	// Rotate: the new version gets the other login and a new password
	// (false: only the connection changed; same login, same password).
	Rotate bool
}

// Plan decides from the current and pending versions (nil when there is
// none), the connection the data tier has (want: every field but Username
// and Password), the rotation period (0: never) and the time.
//
// This is Secrets Manager's rotation protocol (createSecret, setSecret,
// testSecret, finishSecret; "How rotation works", Secrets Manager User
// Guide): a new value is written as AWSPENDING, set in the database, and
// only then labelled AWSCURRENT, so the app's secret never names a password
// the database does not hold. A run stopped anywhere resumes with the same
// pending version (same password, same verifier).
func Plan(current, pending *Version, want Secret, period time.Duration, now time.Time) Decision {
	if pending != nil {
		// Also when AWSCURRENT is on the pending version already: a run
		// stopped before removing AWSPENDING, or the secret's first version
		// (PutSecretValue labels a secret's first version AWSCURRENT
		// whatever it is asked; Secrets Manager API reference). The labels
		// cannot tell the two apart, and setting the password again changes
		// nothing, so the role SQL runs again.
		return Decision{Step: Resume, Reason: "a rotation is pending (version " + pending.ID + ")"}
	}
	if current == nil {
		return Decision{NewPending, "the secret has no current version", true}
	}
	cur, ok := ParseSecret(current.Value)
	switch {
	case !ok:
		return Decision{NewPending, "the current version holds no credentials of the app's own role", true}
	case !cur.SameConnection(want):
		return Decision{Step: NewPending, Reason: "the database's address, name or group changed", Rotate: cur.Group != want.Group}
	case period > 0 && now.Sub(current.Created) >= period:
		return Decision{NewPending, fmt.Sprintf("the current password is %s old; the rotation period is %s", now.Sub(current.Created).Round(time.Hour), period), true}
	}
	return Decision{Step: Nothing, Reason: "the current password is younger than the rotation period"}
}

// NextSecret is the value of a new pending version: the connection of want,
// and, when the password rotates, the login the current version does not
// name with a new password; otherwise (only the connection changed) the
// current login and password.
func NextSecret(current *Version, want Secret, r Roles, rotate bool) (Secret, error) {
	next := want
	if current != nil {
		if cur, ok := ParseSecret(current.Value); ok && cur.Group == want.Group {
			next.Username, next.Password = cur.Username, cur.Password
			if !rotate {
				return next, nil
			}
			next.Username = r.Other(cur.Username)
		}
	}
	if next.Username == "" {
		next.Username = r.Logins()[0]
	}
	pw, err := NewPassword()
	if err != nil {
		return Secret{}, err
	}
	next.Password = pw
	return next, nil
}

// NewPassword is two of crypto/rand's Text (base32 letters and digits, 52
// characters, 260 bits): nothing a URL, a connection string or a shell
// would need to escape.
func NewPassword() (string, error) {
	return rand.Text() + rand.Text(), nil
}

// NewVersionID is a fresh ClientRequestToken for a version (a UUID v4;
// Secrets Manager takes 32-64 characters).
func NewVersionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
