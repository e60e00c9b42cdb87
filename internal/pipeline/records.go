package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
)

// RecordsAPI reads and deletes the records of a hosted zone (cloud/records.go).
type RecordsAPI interface {
	RecordSets(ctx context.Context, zoneID string) ([]cloud.RecordSet, error)
	DeleteRecordSets(ctx context.Context, zoneID string, sets []cloud.RecordSet) error
}

var _ RecordsAPI = (*AWS)(nil)

// DeleteOwnedRecords deletes, from the hosted zone of app.domain, the
// records external-dns made for this cluster and the TXT records that say
// so, and nothing else (OwnedRecords). It runs in teardown once the
// external-dns release is gone (nothing makes them again) and does not
// need the cluster: a teardown re-run after the cluster was deleted still
// finds and deletes them. No domain, or no zone any more: nothing to do.
// AWS nil means the run's handle.
type DeleteOwnedRecords struct{ AWS RecordsAPI }

// Name implements Step.
func (DeleteOwnedRecords) Name() string {
	return "Deleting the DNS records external-dns made for this cluster"
}

// Run implements Step.
func (s DeleteOwnedRecords) Run(ctx context.Context, st *State) error {
	p := st.Profile
	if p.App.Domain == "" {
		return nil
	}
	if st.HostedZoneID == "" {
		st.Progress.Info("the hosted zone of %s is not known (see above): no record of it to delete", p.App.Domain)
		return nil
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	sets, err := api.RecordSets(ctx, st.HostedZoneID)
	if err != nil {
		return err
	}
	owner := addons.ExternalDNSOwner(p)
	owned := OwnedRecords(sets, owner)
	if len(owned) == 0 {
		st.Progress.Info("hosted zone %s holds no record of external-dns owner %s", st.HostedZoneID, owner)
		return nil
	}
	if err := api.DeleteRecordSets(ctx, st.HostedZoneID, owned); err != nil {
		return err
	}
	names := make([]string, len(owned))
	for i, r := range owned {
		names[i] = string(r.Type) + " " + aws.ToString(r.Name)
	}
	st.Progress.Info("deleted from hosted zone %s: %s", st.HostedZoneID, strings.Join(names, ", "))
	return nil
}

// Describe implements Describer.
func (DeleteOwnedRecords) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	if p.App.Domain == "" {
		return Description{Summary: []string{"no app.domain: external-dns made no record"}}, nil
	}
	owner := addons.ExternalDNSOwner(p)
	var actions []Action
	for _, t := range []string{"A", "AAAA", "CNAME"} {
		actions = append(actions, Action{Tool: "aws",
			Args: []string{"route53", "change-resource-record-sets", "--hosted-zone-id", "<hosted-zone-id>", "--change-batch", "<change-batch>"},
			Note: fmt.Sprintf("the %s record of %s and its TXT record %s, when that TXT record says heritage=external-dns and external-dns/owner=%s (this cluster's txtOwnerId); a record another owner's TXT names, or none, is left",
				t, p.App.Domain, txtName(p.App.Domain, t), owner),
			Each:   ownedRecordBatch(p.App.Domain, t, owner),
			EachOf: []string{"<change-batch>"},
		})
	}
	return Description{Actions: actions}, nil
}

// txtName is the name of the TXT record external-dns's TXT registry writes
// for a record (no txtPrefix or txtSuffix, as bootstrap installs it):
// <type>-<first label>.<rest>, registry/mapper/mapper.go ToTXTName.
func txtName(name, recordType string) string {
	return strings.ToLower(recordType) + "-" + name
}

// ownedRecordBatch is the aws command that prints, when the TXT record
// txtName(domain, t) is owned by owner, the change batch (one line of
// JSON) deleting the record of type t at domain and that TXT record, in
// that order; nothing otherwise. The TXT record's value is
// "heritage=external-dns,external-dns/owner=<owner>,..." with the labels in
// sorted order (endpoint/labels.go SerializePlain), so the owner is
// followed by "," or by the closing quote.
func ownedRecordBatch(domain, t, owner string) []string {
	fqdn := strings.TrimSuffix(domain, ".") + "."
	txt := txtName(fqdn, t)
	ownedTXT := "ResourceRecordSets[?Type=='TXT' && Name=='" + txt + "' && contains(join('', ResourceRecords[].Value), '\"heritage=external-dns,') && " +
		"(contains(join('', ResourceRecords[].Value), 'external-dns/owner=" + owner + ",') || contains(join('', ResourceRecords[].Value), 'external-dns/owner=" + owner + "\"'))] | [0]"
	record := "ResourceRecordSets[?Type=='" + t + "' && Name=='" + fqdn + "'] | [0]"
	query := "[{Changes: [{Action: 'DELETE', ResourceRecordSet: " + record + "}, {Action: 'DELETE', ResourceRecordSet: " + ownedTXT + "}]}]" +
		"[?Changes[0].ResourceRecordSet && Changes[1].ResourceRecordSet].to_string(@)"
	return []string{"aws", "route53", "list-resource-record-sets", "--hosted-zone-id", "<hosted-zone-id>", "--query", query, "--output", "text"}
}

// OwnedRecords are the record sets of a zone that external-dns's TXT
// registry says are owner's, in the order to delete them: the records
// first, then every TXT record of the registry that names owner (its own
// record's and any left over). Ownership is read as external-dns reads it
// (registry/txt/registry.go Records, v0.21.0 line; no txtPrefix, txtSuffix,
// wildcard replacement or encryption, as bootstrap installs it):
//
//   - a TXT record is the registry's when its value, quotes trimmed and split
//     at ",", holds heritage=external-dns (endpoint/labels.go
//     NewLabelsFromStringPlain); its external-dns/owner label is the owner;
//   - its name says which record it is for (registry/mapper/mapper.go): the
//     new format <type>-<name> (a-, aaaa-, cname-, ns-, mx-, srv-, naptr-),
//     or the old format, the record's own name, which stands for any type
//     but AAAA;
//   - an A alias record is also owned through the legacy cname-<name> TXT
//     record (isAliasARecord).
//
// A record whose TXT names another owner, or that has no TXT record, is
// never returned, whatever its name.
func OwnedRecords(sets []cloud.RecordSet, owner string) []cloud.RecordSet {
	type key struct{ name, typ, set string }
	owners := map[key]string{}
	var txts []cloud.RecordSet
	for _, r := range sets {
		if r.Type != "TXT" || len(r.ResourceRecords) == 0 {
			continue
		}
		labels, ok := registryLabels(aws.ToString(r.ResourceRecords[0].Value))
		if !ok {
			continue
		}
		name, typ := endpointName(strings.ToLower(aws.ToString(r.Name)))
		owners[key{name, typ, aws.ToString(r.SetIdentifier)}] = labels["owner"]
		if labels["owner"] == owner {
			txts = append(txts, r)
		}
	}
	var out []cloud.RecordSet
	for _, r := range sets {
		if r.Type == "TXT" {
			continue
		}
		k := key{strings.ToLower(aws.ToString(r.Name)), string(r.Type), aws.ToString(r.SetIdentifier)}
		o, found := owners[k]
		if !found && r.Type == "A" && r.AliasTarget != nil {
			o, found = owners[key{k.name, "CNAME", k.set}]
		}
		if !found && r.Type != "AAAA" {
			o, found = owners[key{k.name, "", k.set}]
		}
		if found && o == owner {
			out = append(out, r)
		}
	}
	return append(out, txts...)
}

// registryLabels reads a TXT value as external-dns's registry does: false
// when it is not the registry's (no heritage=external-dns).
func registryLabels(value string) (map[string]string, bool) {
	labels := map[string]string{}
	heritage := false
	for _, tok := range strings.Split(strings.Trim(value, `"`), ",") {
		kv := strings.Split(tok, "=")
		if len(kv) != 2 {
			continue
		}
		switch {
		case kv[0] == "heritage" && kv[1] != "external-dns":
			return nil, false
		case kv[0] == "heritage":
			heritage = true
		case strings.HasPrefix(kv[0], "external-dns/"):
			labels[strings.TrimPrefix(kv[0], "external-dns/")] = kv[1]
		}
	}
	return labels, heritage
}

// registryTypes are the record types a new-format TXT name can carry
// (registry/mapper/mapper.go supportedRecords).
var registryTypes = []string{"A", "AAAA", "CNAME", "NS", "MX", "SRV", "NAPTR"}

// endpointName is the record a TXT record of the registry stands for: the
// name without its <type>- prefix and that type, or the name itself and ""
// (old format, any type), as mapper.go's extractRecordTypeDefaultPosition.
func endpointName(txt string) (name, recordType string) {
	first := strings.Split(txt, "-")[0]
	for _, t := range registryTypes {
		if first == strings.ToLower(t) {
			return strings.TrimPrefix(txt, first+"-"), t
		}
	}
	return txt, ""
}
