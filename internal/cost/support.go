package cost

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sovd/bootstrap/internal/config"
)

// WarnDays is how long before a version leaves standard support its warning
// starts: 90 days, one quarter, enough to schedule and rehearse an upgrade.
const WarnDays = 90

// SupportWarnings say, from WarnDays before a version of the profile leaves
// standard support (EKS for Kubernetes, RDS for PostgreSQL) and after, what
// happens then and what it costs, as the profile's supportType decides:
// STANDARD, EKS upgrades the cluster itself on that day; EXTENDED, the
// control plane bills extended support until someone upgrades it. plan,
// status, cost and doctor show them; now is the caller's clock.
func SupportWarnings(p *config.Profile, now time.Time) []string {
	var w []string
	if kv, ok := config.LookupKubeVersion(p.Cluster.KubernetesVersion); ok {
		if s := kubeWarning(kv, p.Cluster.SupportType, now); s != "" {
			w = append(w, s)
		}
	}
	if s := postgresWarning(p, now); s != "" {
		w = append(w, s)
	}
	return w
}

// days is "1 day" or "n days"'s noun.
func days(n int) string {
	if n == 1 {
		return "day"
	}
	return "days"
}

// daysUntil is the whole days from now to a day, rounded up.
func daysUntil(day, now time.Time) int { return int(math.Ceil(day.Sub(now).Hours() / 24)) }

// within says whether a day is WarnDays away or less, and not past.
func within(day, now time.Time) bool {
	return now.Before(day) && !now.Before(day.AddDate(0, 0, -WarnDays))
}

func kubeWarning(kv config.KubeVersion, supportType string, now time.Time) string {
	end := kv.EndOfStandard.Format(time.DateOnly)
	extra := fmt.Sprintf("$%s/h instead of $%s/h (%s a month more)", price(EKSExtendedHourly), price(EKSStandardHourly), Money(ExtendedSupportMonthly()))
	switch kv.SupportTier(now) {
	case "standard":
		if !within(kv.EndOfStandard, now) {
			return ""
		}
		n := daysUntil(kv.EndOfStandard, now)
		lead := fmt.Sprintf("Kubernetes %s leaves EKS standard support on %s, in %d %s", kv.Version, end, n, days(n))
		if supportType == config.SupportStandard {
			return lead + ": with supportType STANDARD, EKS then upgrades the cluster to the next version itself, add-ons and nodes untested; upgrade it first (raise cluster.kubernetesVersion and upgrade)"
		}
		return lead + ": with supportType EXTENDED, the control plane then costs " + extra + " until the cluster is upgraded; upgrade it first (raise cluster.kubernetesVersion and upgrade)"
	case "extended":
		if supportType == config.SupportStandard {
			return fmt.Sprintf("Kubernetes %s left EKS standard support on %s: with supportType STANDARD, EKS upgrades the cluster to the next version itself; set cluster.kubernetesVersion to it", kv.Version, end)
		}
		return fmt.Sprintf("Kubernetes %s is in EKS extended support since %s: the control plane costs %s until the cluster is upgraded, and EKS upgrades it itself on %s; upgrade it",
			kv.Version, end, extra, kv.EndOfExtended.Format(time.DateOnly))
	}
	return "" // unsupported: validation refuses the version
}

// postgresWarning is the same for the database's major version: RDS enrols
// a major past its end of standard support in extended support and bills
// every instance's vCPUs (there is no STANDARD choice in the profile).
func postgresWarning(p *config.Profile, now time.Time) string {
	major, _, _ := strings.Cut(p.Database.EngineVersion, ".")
	end, ok := config.PostgresMajors[major]
	if !ok {
		return ""
	}
	instances := 1
	if p.Database.MultiAZ {
		instances = 2
	}
	monthly := Money(float64(RDSVCPUs[p.Database.InstanceClass]*instances*HoursPerMonth) * RDSExtendedYear12VCPUHourly)
	day := end.Format(time.DateOnly)
	if within(end.AddDate(0, 0, 1), now) {
		n := daysUntil(end, now)
		return fmt.Sprintf("PostgreSQL %s leaves RDS standard support on %s, in %d %s: RDS then bills extended support, $%s per vCPU-hour on every instance (%s a month for this profile), until the engine is upgraded to a newer major; upgrade it first",
			major, day, n, days(n), price(RDSExtendedYear12VCPUHourly), monthly)
	}
	if now.After(end) {
		return fmt.Sprintf("PostgreSQL %s left RDS standard support on %s: RDS bills extended support per vCPU-hour on every instance until the engine is upgraded to a newer major, and upgrades it itself on %s; upgrade it",
			major, day, config.PostgresExtendedEnds[major].Format(time.DateOnly))
	}
	return ""
}

// nextSupportChange is the first day, after now, that a version of the
// profile bills differently: the day after Kubernetes or PostgreSQL leaves
// standard support.
func nextSupportChange(p *config.Profile, now time.Time) (time.Time, string, bool) {
	var day time.Time
	var what string
	consider := func(d time.Time, w string) {
		if d.After(now) && (day.IsZero() || d.Before(day)) {
			day, what = d, w
		}
	}
	if kv, ok := config.LookupKubeVersion(p.Cluster.KubernetesVersion); ok {
		consider(kv.EndOfStandard, fmt.Sprintf("Kubernetes %s leaves EKS standard support", kv.Version))
	}
	major, _, _ := strings.Cut(p.Database.EngineVersion, ".")
	if end, ok := config.PostgresMajors[major]; ok {
		consider(end.AddDate(0, 0, 1), fmt.Sprintf("PostgreSQL %s leaves RDS standard support", major))
	}
	return day, what, !day.IsZero()
}

// afterNote says why the total moves, or not, once the window closes.
func afterNote(p *config.Profile, now, later float64) string {
	if cents(later-now) == 0 {
		if p.Cluster.SupportType == config.SupportStandard {
			return "unchanged: with supportType STANDARD, EKS upgrades the cluster instead of billing extended support"
		}
		return "unchanged"
	}
	return fmt.Sprintf("%s a month more unless upgraded before then", Money(later-now))
}
